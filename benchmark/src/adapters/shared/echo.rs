//! What the echo rows (the floor, the socket lab, the WebSocket) send and expect: the
//! socket lab's request, or with `--payload` a text of that many bytes, so the cost of
//! carrying it in JSON shows beside gRPC carrying it in protobuf.

use std::sync::Arc;

use socket_lab::protocol::{Request, respond};

use super::lines::LineStream;
use crate::adapters::{Prepared, SetUp};
use crate::engine::probe::{CallError, ErrorKind};
use crate::settings::Workload;

/// The text each echo request sends, unless `--payload` gives its own: the socket
/// lab's own greeting.
pub(crate) const TEXT: &str = "Hello Socket Server";

/// One echo request and its reply, in every form the rows need.
#[derive(Debug, Clone)]
pub(crate) struct Echo {
    /// The text sent.
    pub text: Arc<str>,
    /// The upper-cased text the reply must carry.
    pub expected: Arc<str>,
    /// The request as a JSON line, newline included (what the floor echoes).
    pub line: Arc<[u8]>,
    /// The socket lab's reply line to it, newline included.
    pub reply_line: Arc<[u8]>,
}

impl Echo {
    /// The socket lab's request, or a text of `payload` bytes.
    pub(crate) fn new(payload: Option<usize>) -> Self {
        let text = payload.map_or_else(|| TEXT.to_owned(), payload_text);
        let request = Request {
            message: &text,
            id: None,
        };
        let mut line = serde_json::to_vec(&request).unwrap_or_default();
        let mut reply_line = Vec::with_capacity(line.len() + 32);
        respond(&line, &mut reply_line, &mut String::new());
        line.push(b'\n');
        Echo {
            expected: text.to_uppercase().into(),
            text: text.into(),
            line: line.into(),
            reply_line: reply_line.into(),
        }
    }

    /// `count` of these requests as one pipelined stream; `echoed`: the reply is the
    /// request itself (the floor), not the socket lab's reply.
    pub(crate) fn lines(&self, count: usize, echoed: bool) -> LineStream {
        let reply = if echoed { &self.line } else { &self.reply_line };
        LineStream::new(&self.line, reply, count)
    }
}

/// Set-up of a line-echo row (the floor, the socket lab): its request, the stream
/// workload's lines (`echoed`: the reply is the request itself), and the operation,
/// `single` or "N `pipelined`".
pub(crate) fn prepare_lines(
    setup: &SetUp,
    echoed: bool,
    single: &str,
    pipelined: &str,
) -> Prepared<(Echo, Option<LineStream>)> {
    let echo = Echo::new(setup.payload);
    let lines = (setup.workload == Workload::Stream).then(|| echo.lines(setup.list_size, echoed));
    let operation = match &lines {
        Some(lines) => format!("{} {pipelined}", lines.count()),
        None => single.to_owned(),
    };
    Prepared {
        operation: crate::adapters::with_payload(operation, setup.payload),
        items: lines.as_ref().map(LineStream::count),
        plan: (echo, lines),
        created: Vec::new(),
        server_id: None,
    }
}

/// `bytes` bytes of plain words (no escapes in JSON, nothing trimmed at the ends).
pub(crate) fn payload_text(bytes: usize) -> String {
    const WORDS: &str = "hello socket server and every protocol ";
    let mut text: String = WORDS.chars().cycle().take(bytes.max(1)).collect();
    if text.ends_with(' ') {
        text.pop();
        text.push('x');
    }
    text
}

/// Checks an echo's text.
pub(crate) fn check_echo(reply: String, expected: &str) -> Result<(), CallError> {
    if reply == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("echo was {:?}", reply.get(..80).unwrap_or(&reply)),
        ))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The socket lab request the floor echoes, as the socket client sends it.
    pub(crate) const REQUEST: &[u8] = b"{\"message\":\"Hello Socket Server\"}\n";

    #[test]
    fn a_payload_is_exactly_that_many_bytes_of_plain_text() {
        for bytes in [1, 100, 10_000] {
            let text = payload_text(bytes);
            assert_eq!(text.len(), bytes);
            assert_eq!(text.trim(), text);
        }
        let echo = Echo::new(Some(100));
        assert_eq!(echo.line.len(), 100 + r#"{"message":""}"#.len() + 1);
        assert!(echo.reply_line.ends_with(b"\"}\n"));
        assert_eq!(&*echo.expected, echo.text.to_uppercase());
        // Without a payload, the socket lab's own request.
        assert_eq!(&*Echo::new(None).line, REQUEST);
    }
}
