//! Reading recorded bytes back as the protocols see them, layer by layer: JSON lines,
//! HTTP/1.1 heads and bodies, HTTP/2 frames with their HPACK header blocks and gRPC
//! messages, WebSocket frames. Pure functions over byte slices, so each is tested
//! against byte sequences with known contents.
//!
//! Every byte lands in exactly one [`Part`], so the parts of a recording add up to the
//! bytes the connection counted.

use std::fmt::Write as _;

use serde::Serialize;

pub mod hpack;
pub mod http2;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client to server.
    Out,
    /// Server to client.
    In,
}

impl Direction {
    /// `->` or `<-`.
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::Out => "->",
            Direction::In => "<-",
        }
    }
}

/// What a run of bytes is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Delimiting: newlines, frame headers, length prefixes, chunk sizes.
    Framing,
    /// Metadata: HTTP heads, HPACK header blocks, trailers.
    Headers,
    /// What the application asked to send.
    Payload,
}

/// One annotated run of bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    /// Which way.
    pub direction: Direction,
    /// What for.
    pub layer: Layer,
    /// How many bytes.
    pub bytes: usize,
    /// What they say, for a person (several lines for a header block).
    pub note: String,
    /// The HTTP/2 stream it belongs to (0: the connection), where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
}

/// The bytes after the last whole frame, if any: a frame cut off by the end of the
/// recording (or of what the peer sent).
fn incomplete_frame(direction: Direction, rest: &[u8]) -> Option<Part> {
    (!rest.is_empty()).then(|| part(direction, Layer::Framing, rest.len(), "incomplete frame"))
}

/// A part with no HTTP/2 stream.
pub(crate) fn part(
    direction: Direction,
    layer: Layer,
    bytes: usize,
    note: impl Into<String>,
) -> Part {
    Part {
        direction,
        layer,
        bytes,
        note: note.into(),
        stream: None,
    }
}

/// Text for a person: printable ASCII kept, the rest escaped, cut at `max` characters.
pub fn printable(bytes: &[u8], max: usize) -> String {
    let mut text = String::new();
    for &b in bytes.iter().take(max) {
        match b {
            b'\r' => text.push_str("\\r"),
            b'\n' => text.push_str("\\n"),
            0x20..=0x7e => text.push(char::from(b)),
            other => {
                let _ = write!(text, "\\x{other:02x}");
            }
        }
    }
    if bytes.len() > max {
        text.push_str("...");
    }
    text
}

/// JSON lines (the socket lab): each line's text is payload, its newline framing.
pub fn lines(bytes: &[u8], direction: Direction) -> Vec<Part> {
    let mut parts = Vec::new();
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        parts.push(part(
            direction,
            Layer::Payload,
            text.len(),
            printable(text, 200),
        ));
        if text.len() < line.len() {
            parts.push(part(
                direction,
                Layer::Framing,
                1,
                "newline ending the line",
            ));
        }
    }
    parts
}

/// HTTP/1.1 messages one after another: each head (request or status line and header
/// lines, up to the blank line) and its body (by `content-length`, or chunked).
pub fn http1(bytes: &[u8], direction: Direction) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some(end) = find(rest, b"\r\n\r\n") else {
            parts.push(part(
                direction,
                Layer::Headers,
                rest.len(),
                format!("incomplete head: {}", printable(rest, 80)),
            ));
            break;
        };
        let head = &rest[..end + 4];
        let text = String::from_utf8_lossy(head);
        parts.push(part(
            direction,
            Layer::Headers,
            head.len(),
            text.trim_end().replace("\r\n", "\n"),
        ));
        rest = &rest[end + 4..];
        let header = |name: &str| {
            text.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            rest = chunks(rest, direction, &mut parts);
        } else {
            let length = header("content-length")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            let length = length.min(rest.len());
            if length > 0 {
                parts.push(part(
                    direction,
                    Layer::Payload,
                    length,
                    format!("body: {}", printable(&rest[..length], 200)),
                ));
            }
            rest = &rest[length..];
        }
    }
    parts
}

fn chunks<'a>(mut rest: &'a [u8], direction: Direction, parts: &mut Vec<Part>) -> &'a [u8] {
    while let Some(end) = find(rest, b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16).unwrap_or(0);
        let available = rest.len() - end - 2;
        let size = size.min(available);
        parts.push(part(
            direction,
            Layer::Framing,
            end + 2,
            format!("chunk size {size}"),
        ));
        rest = &rest[end + 2..];
        if size > 0 {
            parts.push(part(
                direction,
                Layer::Payload,
                size,
                format!("chunk: {}", printable(&rest[..size], 200)),
            ));
        }
        rest = &rest[size..];
        let crlf = rest.len().min(2);
        parts.push(part(direction, Layer::Framing, crlf, "chunk end"));
        rest = &rest[crlf..];
        if size == 0 {
            break;
        }
    }
    rest
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// WebSocket frames as one direction sent them: each frame's header (FIN, opcode,
/// mask, length; framing) and its payload (unmasked).
pub fn websocket(bytes: &[u8], direction: Direction) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 2 {
        let fin = rest[0] & 0x80 != 0;
        let opcode = rest[0] & 0x0f;
        let masked = rest[1] & 0x80 != 0;
        let (length, mut header) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (usize::from(u16::from_be_bytes([rest[2], rest[3]])), 4),
            127 if rest.len() >= 10 => {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(&rest[2..10]);
                (
                    usize::try_from(u64::from_be_bytes(eight)).unwrap_or(usize::MAX),
                    10,
                )
            }
            short => (usize::from(short), 2),
        };
        let mask = if masked && rest.len() >= header + 4 {
            let key = [
                rest[header],
                rest[header + 1],
                rest[header + 2],
                rest[header + 3],
            ];
            header += 4;
            Some(key)
        } else {
            None
        };
        let length = length.min(rest.len() - header.min(rest.len()));
        let kind = match opcode {
            0x0 => "continuation",
            0x1 => "text",
            0x2 => "binary",
            0x8 => "close",
            0x9 => "ping",
            0xa => "pong",
            _ => "reserved",
        };
        parts.push(part(
            direction,
            Layer::Framing,
            header.min(rest.len()),
            format!(
                "frame header: FIN={}, opcode {opcode} ({kind}), {}, length {length}",
                u8::from(fin),
                if mask.is_some() {
                    "masked (client to server)"
                } else {
                    "not masked"
                }
            ),
        ));
        let start = header.min(rest.len());
        let mut payload = rest[start..start + length].to_vec();
        if let Some(key) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        if length > 0 {
            parts.push(part(
                direction,
                Layer::Payload,
                length,
                format!("{kind}: {}", printable(&payload, 200)),
            ));
        }
        rest = &rest[start + length..];
    }
    parts.extend(incomplete_frame(direction, rest));
    parts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::hpack::*;
    use super::http2::*;
    use super::*;

    proptest! {
        /// Whatever a peer sends, every annotator accounts for each byte once and never
        /// panics (the bytes come from the network).
        #[test]
        fn any_bytes_are_annotated_whole(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut decoder = loona_hpack::Decoder::new();
            for (direction, grpc) in [(Direction::Out, true), (Direction::In, false)] {
                prop_assert_eq!(total(&http2(&bytes, direction, &mut decoder, grpc)), bytes.len());
            }
            prop_assert_eq!(total(&http1(&bytes, Direction::In)), bytes.len());
            prop_assert_eq!(total(&websocket(&bytes, Direction::Out)), bytes.len());
            prop_assert_eq!(total(&lines(&bytes, Direction::In)), bytes.len());
            let _ = protobuf(&bytes, 0);
            let _ = representations(&bytes);
        }
    }

    fn total(parts: &[Part]) -> usize {
        parts.iter().map(|p| p.bytes).sum()
    }

    #[test]
    fn json_lines_split_text_and_newline() {
        let parts = lines(b"{\"message\":\"hi\"}\n", Direction::Out);
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].layer, parts[0].bytes), (Layer::Payload, 16));
        assert_eq!((parts[1].layer, parts[1].bytes), (Layer::Framing, 1));
    }

    #[test]
    fn http1_heads_and_bodies_by_length_and_chunks() {
        let bytes = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let parts = http1(bytes, Direction::In);
        assert_eq!(total(&parts), bytes.len());
        let payload: usize = parts
            .iter()
            .filter(|p| p.layer == Layer::Payload)
            .map(|p| p.bytes)
            .sum();
        assert_eq!(payload, 5 + 3);
        assert!(
            parts[0]
                .note
                .starts_with("HTTP/1.1 200 OK\ncontent-length: 5")
        );
    }

    /// RFC 7541, appendix C.3: two requests on one connection, no Huffman. The second
    /// sends `:authority` by its index in the dynamic table, where the first put it.
    #[test]
    fn hpack_sends_a_header_by_index_the_second_time() {
        let first = [
            0x82, 0x86, 0x84, 0x41, 0x0f, b'w', b'w', b'w', b'.', b'e', b'x', b'a', b'm', b'p',
            b'l', b'e', b'.', b'c', b'o', b'm',
        ];
        let second = [
            0x82, 0x86, 0x84, 0xbe, 0x58, 0x08, b'n', b'o', b'-', b'c', b'a', b'c', b'h', b'e',
        ];
        let mut decoder = loona_hpack::Decoder::new();
        let one = decode_block(&mut decoder, &first).unwrap();
        assert_eq!(
            one[0],
            (":method".into(), "GET".into(), Representation::Indexed(2))
        );
        assert_eq!(
            one[3],
            (
                ":authority".into(),
                "www.example.com".into(),
                Representation::LiteralIndexed(1)
            )
        );
        let two = decode_block(&mut decoder, &second).unwrap();
        assert_eq!(
            two[3],
            (
                ":authority".into(),
                "www.example.com".into(),
                Representation::Indexed(62)
            )
        );
        assert_eq!(
            two[4],
            (
                "cache-control".into(),
                "no-cache".into(),
                Representation::LiteralIndexed(24)
            )
        );
        assert!(Representation::Indexed(62).describe().contains("dynamic"));
    }

    #[test]
    fn http2_frames_with_a_grpc_message_and_trailers() {
        let mut bytes = PREFACE.to_vec();
        // SETTINGS with MAX_CONCURRENT_STREAMS=100.
        bytes.extend_from_slice(&[0, 0, 6, 0x4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100]);
        // HEADERS on stream 1: :method POST (static index 3), END_HEADERS.
        bytes.extend_from_slice(&[0, 0, 1, 0x1, 0x4, 0, 0, 0, 1, 0x83]);
        // DATA on stream 1, END_STREAM: gRPC prefix + protobuf {1: "ab"}.
        bytes.extend_from_slice(&[
            0, 0, 9, 0x0, 0x1, 0, 0, 0, 1, 0, 0, 0, 0, 4, 0x0a, 2, b'a', b'b',
        ]);
        let mut decoder = loona_hpack::Decoder::new();
        let parts = http2(&bytes, Direction::Out, &mut decoder, true);
        assert_eq!(total(&parts), bytes.len());
        assert!(parts[0].note.starts_with("connection preface"));
        assert!(
            parts
                .iter()
                .any(|p| p.note.contains("MAX_CONCURRENT_STREAMS=100"))
        );
        assert!(
            parts
                .iter()
                .any(|p| p.note.contains(":method: POST") && p.note.contains("static table"))
        );
        assert!(
            parts
                .iter()
                .any(|p| p.note == "gRPC message prefix: not compressed, 4 bytes"
                    && p.layer == Layer::Framing)
        );
        assert!(
            parts
                .iter()
                .any(|p| p.note == "protobuf: 1: string \"ab\"" && p.layer == Layer::Payload)
        );
    }

    #[test]
    fn protobuf_fields_nest_and_name_their_types() {
        // {1: {1: "id", 2: 7}}
        let bytes = [0x0a, 6, 0x0a, 2, b'i', b'd', 0x10, 7];
        assert_eq!(
            protobuf(&bytes, 0),
            "1: message { 1: string \"id\", 2: varint 7 }"
        );
        assert!(protobuf(&[0xff], 0).contains("not protobuf"));
    }

    #[test]
    fn websocket_frames_unmask_the_clients_payload() {
        // A masked text frame "Hi" (mask 1,2,3,4) and an unmasked reply "HI".
        let out = [0x81, 0x82, 1, 2, 3, 4, b'H' ^ 1, b'i' ^ 2];
        let parts = websocket(&out, Direction::Out);
        assert_eq!(total(&parts), out.len());
        assert_eq!(parts[0].bytes, 6);
        assert!(parts[0].note.contains("masked"));
        assert_eq!(parts[1].note, "text: Hi");
        let back = websocket(&[0x81, 0x02, b'H', b'I'], Direction::In);
        assert_eq!((back[0].bytes, back[1].note.as_str()), (2, "text: HI"));
    }
}
