//! The raw client's HTTP/2: the least a client can do and stay correct on one
//! connection with one stream at a time, as h2load does. Requests are encoded once (two
//! HPACK blocks: the first request's, then every later one's, only the stream id
//! patched); a reply is accepted by its first header
//! byte (`:status 200` as static index 8) and its body bytes against the expected ones,
//! never decoded. SETTINGS and PING are answered, flow control kept both ways.
//!
//! The request's headers enter the server's HPACK table once, on a connection's first
//! request (well under the table's default 4,096 bytes), and are named by index after.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// The largest window HTTP/2 allows.
const MAX_WINDOW: u32 = (1 << 31) - 1;
/// The connection-level window every connection starts with.
const DEFAULT_WINDOW: u32 = 65_535;
/// Frames we accept are at most this long: the default SETTINGS_MAX_FRAME_SIZE, which
/// we never raise.
const MAX_FRAME: usize = 16_384;
/// `:status 200`, HPACK's static table entry 8, as an indexed header field.
const STATUS_200: u8 = 0x88;

/// One request, encoded once: its HEADERS frame (and DATA frame, when it has a body)
/// with the stream id patched in per request. The first request on a connection adds
/// its headers to the server's HPACK table; every later one names them by index, a
/// byte each, as h2load does.
#[derive(Debug, Clone)]
pub(crate) struct RequestFrames {
    /// The first request's frames, and every later one's.
    first: Template,
    later: Template,
    /// Bytes of DATA payload, which the server's flow-control window must allow.
    data_len: u32,
}

#[derive(Debug, Clone)]
struct Template {
    bytes: Vec<u8>,
    /// Where each frame's stream id sits.
    id_offsets: Vec<usize>,
}

impl Template {
    fn new(block: &[u8], body: Option<&[u8]>) -> Self {
        let mut bytes = Vec::new();
        let mut id_offsets = Vec::new();
        let flags = END_HEADERS | if body.is_none() { END_STREAM } else { 0 };
        id_offsets.push(frame_header(&mut bytes, block.len(), HEADERS, flags, 0));
        bytes.extend_from_slice(block);
        if let Some(body) = body {
            id_offsets.push(frame_header(&mut bytes, body.len(), DATA, END_STREAM, 0));
            bytes.extend_from_slice(body);
        }
        Template { bytes, id_offsets }
    }
}

impl RequestFrames {
    /// A request of `headers` (pseudo-headers first), and `body` as one DATA frame
    /// when there is one.
    pub(crate) fn new(headers: &[(&str, &str)], body: Option<&[u8]>) -> Self {
        let mut first = Vec::new();
        for (name, value) in headers {
            // Literal header field with incremental indexing, new name (0x40).
            first.push(0x40);
            encode_string(&mut first, name.as_bytes());
            encode_string(&mut first, value.as_bytes());
        }
        // The dynamic table's newest entry is index 62: the last header added.
        let mut later = Vec::new();
        for i in 0..headers.len() {
            encode_integer(&mut later, 62 + headers.len() - 1 - i, 7, 0x80);
        }
        RequestFrames {
            first: Template::new(&first, body),
            later: Template::new(&later, body),
            data_len: u32::try_from(body.map_or(0, <[u8]>::len)).unwrap_or(u32::MAX),
        }
    }

    /// The frames for stream `id`: the first form on a connection's first request.
    fn for_stream(&mut self, id: u32, first: bool) -> &[u8] {
        let template = if first {
            &mut self.first
        } else {
            &mut self.later
        };
        for &at in &template.id_offsets {
            template.bytes[at..at + 4].copy_from_slice(&(id & MAX_WINDOW).to_be_bytes());
        }
        &template.bytes
    }
}

/// An HPACK string literal, not Huffman-coded.
fn encode_string(out: &mut Vec<u8>, text: &[u8]) {
    encode_integer(out, text.len(), 7, 0x00);
    out.extend_from_slice(text);
}

/// An HPACK integer with an `prefix`-bit prefix, the first byte's high bits `flags`.
fn encode_integer(out: &mut Vec<u8>, mut value: usize, prefix: u32, flags: u8) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128 + 128) as u8);
        value /= 128;
    }
    out.push(value as u8);
}

/// Appends a frame header; returns where its stream id sits.
fn frame_header(out: &mut Vec<u8>, len: usize, kind: u8, flags: u8, stream: u32) -> usize {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    let at = out.len();
    out.extend_from_slice(&stream.to_be_bytes());
    at
}

/// One HTTP/2 connection, one stream at a time.
#[derive(Debug)]
pub(crate) struct RawH2 {
    stream: Conn,
    /// Bytes read and not yet consumed: `buffer[start..end]`.
    buffer: Vec<u8>,
    start: usize,
    end: usize,
    next_stream: u32,
    /// What the server still lets us send on the connection.
    send_window: i64,
    /// What we received since we last gave the window back.
    unacknowledged: u32,
    /// Frames to send before the next request: acknowledgements, window updates.
    pending: Vec<u8>,
    /// The reply's body.
    body: Vec<u8>,
}

/// How a raw HTTP/2 exchange went wrong.
fn transport(message: impl Into<String>) -> CallError {
    CallError::new(ErrorKind::Transport, message)
}

impl RawH2 {
    /// Connects and opens the session: the preface, our settings (no push, the largest
    /// stream window) and the largest connection window.
    ///
    /// # Errors
    ///
    /// When the connection cannot be made or written.
    pub(crate) async fn connect(
        addr: &str,
        timeout: std::time::Duration,
        dial: &Dial,
    ) -> Result<Self, CallError> {
        let mut stream = crate::adapters::shared::dial::connect(addr, timeout, dial).await?;
        let mut hello = PREFACE.to_vec();
        frame_header(&mut hello, 12, SETTINGS, 0, 0);
        // SETTINGS_ENABLE_PUSH = 0, SETTINGS_INITIAL_WINDOW_SIZE = 2^31 - 1.
        hello.extend_from_slice(&[0, 2, 0, 0, 0, 0]);
        hello.extend_from_slice(&[0, 4]);
        hello.extend_from_slice(&MAX_WINDOW.to_be_bytes());
        frame_header(&mut hello, 4, WINDOW_UPDATE, 0, 0);
        hello.extend_from_slice(&(MAX_WINDOW - DEFAULT_WINDOW).to_be_bytes());
        stream
            .write_all(&hello)
            .await
            .map_err(|e| transport(e.to_string()))?;
        Ok(RawH2 {
            stream,
            buffer: vec![0; 4 * (MAX_FRAME + 9)],
            start: 0,
            end: 0,
            next_stream: 1,
            send_window: i64::from(DEFAULT_WINDOW),
            unacknowledged: 0,
            pending: Vec::new(),
            body: Vec::new(),
        })
    }

    /// Sends `request` on a new stream and reads its reply: status 200 and a body equal
    /// to `expected`, or, when `expected` is empty, any body, which becomes `expected`
    /// (the first reply teaches what every later one must be).
    ///
    /// # Errors
    ///
    /// A transport error, a reset stream or GOAWAY, another status, or another body.
    pub(crate) async fn exchange(
        &mut self,
        request: &mut RequestFrames,
        expected: &mut Vec<u8>,
    ) -> Result<(), CallError> {
        while self.send_window < i64::from(request.data_len) {
            self.read_frame(0).await?;
        }
        let id = self.next_stream;
        self.next_stream += 2;
        self.send_window -= i64::from(request.data_len);
        // The server's HPACK table holds the headers from the first request on.
        let frames = request.for_stream(id, id == 1);
        if self.pending.is_empty() {
            self.stream.write_all(frames).await
        } else {
            self.pending.extend_from_slice(frames);
            let out = std::mem::take(&mut self.pending);
            self.stream.write_all(&out).await
        }
        .map_err(|e| transport(e.to_string()))?;
        self.body.clear();
        let mut status_seen = false;
        loop {
            match self.read_frame(id).await? {
                Reply::Headers { first_byte, end } => {
                    if !status_seen {
                        status_seen = true;
                        if first_byte != Some(STATUS_200) {
                            return Err(CallError::new(
                                ErrorKind::WrongReply,
                                "the reply's status is not 200",
                            ));
                        }
                    }
                    if end {
                        break;
                    }
                }
                Reply::Data { end } => {
                    if end {
                        break;
                    }
                }
                Reply::Other => {}
            }
        }
        if !status_seen {
            return Err(CallError::new(
                ErrorKind::WrongReply,
                "a reply without headers",
            ));
        }
        if expected.is_empty() {
            expected.extend_from_slice(&self.body);
            Ok(())
        } else if self.body == *expected {
            Ok(())
        } else {
            Err(CallError::new(
                ErrorKind::WrongReply,
                format!(
                    "the reply's body differs from the first ({} bytes, not {})",
                    self.body.len(),
                    expected.len()
                ),
            ))
        }
    }

    /// Reads one frame and handles it; what it meant for stream `id`.
    async fn read_frame(&mut self, id: u32) -> Result<Reply, CallError> {
        self.fill(9).await?;
        let header = &self.buffer[self.start..self.start + 9];
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let (kind, flags) = (header[3], header[4]);
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & MAX_WINDOW;
        if len > MAX_FRAME {
            return Err(transport(format!(
                "a {len}-byte frame, past the {MAX_FRAME} allowed"
            )));
        }
        self.fill(9 + len).await?;
        let payload_at = self.start + 9;
        self.start += 9 + len;
        let payload = payload_at..payload_at + len;
        let reply = match kind {
            DATA => {
                self.unacknowledged = self.unacknowledged.saturating_add(len as u32);
                if self.unacknowledged >= MAX_WINDOW / 2 {
                    frame_header(&mut self.pending, 4, WINDOW_UPDATE, 0, 0);
                    self.pending
                        .extend_from_slice(&self.unacknowledged.to_be_bytes());
                    self.unacknowledged = 0;
                }
                if stream != id {
                    return Ok(Reply::Other);
                }
                let data = unpadded(&self.buffer[payload], flags)?;
                self.body.extend_from_slice(data);
                Reply::Data {
                    end: flags & END_STREAM != 0,
                }
            }
            HEADERS if stream == id => {
                let mut block = unpadded(&self.buffer[payload], flags)?;
                if flags & PRIORITY != 0 {
                    block = block
                        .get(5..)
                        .ok_or_else(|| transport("a short HEADERS frame"))?;
                }
                let first_byte = block.first().copied();
                if flags & END_HEADERS == 0 {
                    self.skip_continuations().await?;
                }
                Reply::Headers {
                    first_byte,
                    end: flags & END_STREAM != 0,
                }
            }
            SETTINGS if flags & ACK == 0 => {
                frame_header(&mut self.pending, 0, SETTINGS, ACK, 0);
                Reply::Other
            }
            PING if flags & ACK == 0 => {
                let opaque = self.buffer[payload].to_vec();
                frame_header(&mut self.pending, opaque.len(), PING, ACK, 0);
                self.pending.extend_from_slice(&opaque);
                Reply::Other
            }
            WINDOW_UPDATE if stream == 0 && len == 4 => {
                let p = &self.buffer[payload];
                let increment = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & MAX_WINDOW;
                self.send_window += i64::from(increment);
                Reply::Other
            }
            RST_STREAM if stream == id => {
                return Err(transport("the server reset the stream"));
            }
            GOAWAY => return Err(transport("the server sent GOAWAY")),
            _ => Reply::Other,
        };
        // Acknowledgements and window updates go out with the next request, or before
        // the next read that would wait (`fill`).
        Ok(reply)
    }

    /// Reads CONTINUATION frames up to the one that ends the header block.
    async fn skip_continuations(&mut self) -> Result<(), CallError> {
        loop {
            self.fill(9).await?;
            let header = &self.buffer[self.start..self.start + 9];
            let len =
                usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
            let (kind, flags) = (header[3], header[4]);
            if kind != CONTINUATION || len > MAX_FRAME {
                return Err(transport("a header block broken off"));
            }
            self.fill(9 + len).await?;
            self.start += 9 + len;
            if flags & END_HEADERS != 0 {
                return Ok(());
            }
        }
    }

    /// Reads until `want` bytes are buffered past `start`.
    async fn fill(&mut self, want: usize) -> Result<(), CallError> {
        if self.end - self.start >= want {
            return Ok(());
        }
        if self.start + want > self.buffer.len() {
            self.buffer.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end - self.start < want {
            if !self.pending.is_empty() {
                // The server may wait for our acknowledgement before it goes on.
                let out = std::mem::take(&mut self.pending);
                self.stream
                    .write_all(&out)
                    .await
                    .map_err(|e| transport(e.to_string()))?;
            }
            let n = self
                .stream
                .read(&mut self.buffer[self.end..])
                .await
                .map_err(|e| transport(e.to_string()))?;
            if n == 0 {
                return Err(transport("the server closed the connection"));
            }
            self.end += n;
        }
        Ok(())
    }
}

/// What a frame meant for the stream being read.
#[derive(Debug)]
enum Reply {
    /// Its HEADERS: the block's first byte, and whether the stream ended.
    Headers { first_byte: Option<u8>, end: bool },
    /// Its DATA, and whether the stream ended.
    Data { end: bool },
    /// Anything else.
    Other,
}

/// A DATA or HEADERS payload without its padding.
fn unpadded(payload: &[u8], flags: u8) -> Result<&[u8], CallError> {
    if flags & PADDED == 0 {
        return Ok(payload);
    }
    let pad = usize::from(
        *payload
            .first()
            .ok_or_else(|| transport("an empty padded frame"))?,
    );
    payload
        .get(1..payload.len().saturating_sub(pad))
        .filter(|_| pad < payload.len())
        .ok_or_else(|| transport("padding longer than its frame"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_indexes_its_headers_and_later_ones_name_them() {
        let mut frames = RequestFrames::new(&[(":method", "GET"), (":path", "/a")], None);
        let one = frames.for_stream(1, true).to_vec();
        // 9-byte header, then 0x40 len ":method" len "GET" 0x40 len ":path" len "/a".
        assert_eq!(&one[..3], &[0, 0, 23]);
        assert_eq!((one[3], one[4]), (HEADERS, END_HEADERS | END_STREAM));
        assert_eq!(&one[5..9], &[0, 0, 0, 1]);
        assert_eq!(&one[9..12], &[0x40, 7, b':']);
        // Later: :method is the older entry (63), :path the newer (62).
        let three = frames.for_stream(3, false).to_vec();
        assert_eq!(
            &three[..],
            &[0, 0, 2, HEADERS, 0x5, 0, 0, 0, 3, 0x80 | 63, 0x80 | 62]
        );
        let five = frames.for_stream(5, false).to_vec();
        assert_eq!(&five[5..9], &[0, 0, 0, 5]);
        assert_eq!(five[9..], three[9..]);
        let mut with_body = RequestFrames::new(&[(":method", "POST")], Some(b"hello"));
        let bytes = with_body.for_stream(5, false).to_vec();
        let data = &bytes[bytes.len() - 14..];
        assert_eq!(&data[..9], &[0, 0, 5, DATA, END_STREAM, 0, 0, 0, 5]);
        assert_eq!(&data[9..], b"hello");
    }

    #[test]
    fn hpack_integers_by_the_rfc_examples() {
        // RFC 7541 C.1.1 and C.1.2: 10 in a 5-bit prefix, 1337 in a 5-bit prefix.
        let mut out = Vec::new();
        encode_integer(&mut out, 10, 5, 0);
        assert_eq!(out, [0b01010]);
        out.clear();
        encode_integer(&mut out, 1337, 5, 0);
        assert_eq!(out, [31, 154, 10]);
    }

    #[test]
    fn padding_is_stripped_and_bad_padding_refused() {
        assert_eq!(unpadded(b"\x02abcXY", PADDED).unwrap(), b"abc");
        assert_eq!(unpadded(b"abc", 0).unwrap(), b"abc");
        assert!(unpadded(b"\x09ab", PADDED).is_err());
        assert!(unpadded(b"", PADDED).is_err());
    }
}
