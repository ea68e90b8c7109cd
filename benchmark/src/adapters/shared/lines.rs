//! The stream workload over a line protocol (the socket lab and the floor): N request
//! lines written back to back while the replies are read as they come, each reply
//! checked against the one expected. Writing and reading at once keeps both sides'
//! buffers draining, so no count of lines can wedge the connection.

use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind};

/// Bytes written per write call at most.
const BATCH_BYTES: usize = 64 * 1024;

/// N copies of one request line, and the reply line each must get.
#[derive(Debug, Clone)]
pub(crate) struct LineStream {
    /// Whole request lines, as many as fit in one batch (at most `count`).
    batch: Vec<u8>,
    line_len: usize,
    reply: Vec<u8>,
    count: usize,
}

impl LineStream {
    /// `count` copies of `request`, each answered by `reply` (both newline-terminated).
    pub(crate) fn new(request: &[u8], reply: &[u8], count: usize) -> Self {
        let per_batch = (BATCH_BYTES / request.len().max(1)).clamp(1, count.max(1));
        LineStream {
            batch: request.repeat(per_batch),
            line_len: request.len(),
            reply: reply.to_vec(),
            count,
        }
    }

    /// Lines in the stream.
    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Sends every request while reading every reply; returns how long after the start
    /// the first whole reply had arrived.
    ///
    /// # Errors
    ///
    /// A transport error when the connection fails, a wrong reply for any reply byte
    /// that differs from the expected.
    pub(crate) async fn exchange<S>(&self, stream: &mut S) -> Result<Option<Duration>, CallError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let started = Instant::now();
        let (mut reader, mut writer) = tokio::io::split(stream);
        let failed = |e: std::io::Error| CallError::new(ErrorKind::Transport, e.to_string());
        let writing = async {
            let mut left = self.count;
            while left > 0 {
                let lines = left.min(self.batch.len() / self.line_len.max(1));
                writer
                    .write_all(&self.batch[..lines * self.line_len])
                    .await
                    .map_err(failed)?;
                left -= lines;
            }
            Ok::<(), CallError>(())
        };
        let reading = async {
            let mut chunk = vec![0u8; 16 * 1024];
            let (mut done, mut at, mut first) = (0, 0, None);
            while done < self.count {
                let n = reader.read(&mut chunk).await.map_err(failed)?;
                if n == 0 {
                    return Err(CallError::new(
                        ErrorKind::Transport,
                        format!("the server closed after {done} of {} replies", self.count),
                    ));
                }
                let mut got = &chunk[..n];
                while !got.is_empty() {
                    if done == self.count {
                        return Err(CallError::new(
                            ErrorKind::WrongReply,
                            "more replies than requests",
                        ));
                    }
                    let take = got.len().min(self.reply.len() - at);
                    if got[..take] != self.reply[at..at + take] {
                        return Err(CallError::new(
                            ErrorKind::WrongReply,
                            format!("reply {} differs from the expected", done + 1),
                        ));
                    }
                    (got, at) = (&got[take..], at + take);
                    if at == self.reply.len() {
                        (at, done) = (0, done + 1);
                        first.get_or_insert_with(|| started.elapsed());
                    }
                }
            }
            Ok(first)
        };
        let ((), first) = tokio::try_join!(writing, reading)?;
        Ok(first)
    }
}

/// Runs `lines` on `kept`, or on a new connection to `addr`, within `timeout`; returns
/// when the first reply came and the connection, to keep.
///
/// # Errors
///
/// A connect, timeout, transport or wrong-reply [`CallError`].
pub(crate) async fn over_tcp(
    lines: &LineStream,
    kept: Option<Conn>,
    addr: &str,
    timeout: Duration,
    dial: &Dial,
) -> Result<(Option<Duration>, Conn), CallError> {
    let mut stream = match kept {
        Some(stream) => stream,
        None => crate::adapters::shared::dial::connect(addr, timeout, dial).await?,
    };
    match tokio::time::timeout(timeout, lines.exchange(&mut stream)).await {
        Ok(first) => Ok((first?, stream)),
        Err(_) => Err(CallError::new(
            ErrorKind::Timeout,
            "not every reply in time",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn thousands_of_lines_through_an_echo_are_all_counted_and_checked() {
        let (mut client, server) = tokio::io::duplex(4096);
        let (mut read, mut write) = tokio::io::split(server);
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut read, &mut write).await;
        });
        let line = b"{\"message\":\"x\"}\n";
        let stream = LineStream::new(line, line, 10_000);
        assert_eq!(stream.count(), 10_000);
        let first = stream.exchange(&mut client).await.unwrap();
        assert!(first.is_some());

        // A server that changes a byte is caught.
        let (mut client, mut server) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let mut buffer = [0u8; 64];
            while let Ok(n) = server.read(&mut buffer).await {
                if n == 0
                    || server
                        .write_all(&buffer[..n].to_ascii_uppercase())
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
        let error = LineStream::new(line, line, 3)
            .exchange(&mut client)
            .await
            .unwrap_err();
        assert_eq!(error.kind, ErrorKind::WrongReply);
    }
}
