//! Reading recorded bytes back as the protocols see them, layer by layer: JSON lines,
//! HTTP/1.1 heads and bodies, HTTP/2 frames with their HPACK header blocks and gRPC
//! messages, WebSocket frames. Pure functions over byte slices, so each is tested
//! against byte sequences with known contents.
//!
//! Every byte lands in exactly one [`Part`], so the parts of a recording add up to the
//! bytes the connection counted.

use std::fmt::Write as _;

use serde::Serialize;

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

fn part(direction: Direction, layer: Layer, bytes: usize, note: impl Into<String>) -> Part {
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

/// How HPACK sent one header field (RFC 7541, section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Representation {
    /// The whole field by its index in the static (1-61) or dynamic (62-) table.
    Indexed(usize),
    /// A literal value, added to the dynamic table; the name by index (0: literal).
    LiteralIndexed(usize),
    /// A literal value, not added to the table; the name by index (0: literal).
    LiteralNotIndexed(usize),
    /// A literal that must never be indexed (a secret); the name by index.
    NeverIndexed(usize),
    /// A change of the dynamic table's size (no field).
    SizeUpdate(usize),
}

impl Representation {
    fn describe(self) -> String {
        let name = |index: usize| {
            if index == 0 {
                "literal name".to_owned()
            } else {
                format!("name by index {index}")
            }
        };
        match self {
            Representation::Indexed(i) if i > 61 => format!("by index {i} (dynamic table)"),
            Representation::Indexed(i) => format!("by index {i} (static table)"),
            Representation::LiteralIndexed(i) => {
                format!("literal, {}, added to the table", name(i))
            }
            Representation::LiteralNotIndexed(i) => format!("literal, {}, not indexed", name(i)),
            Representation::NeverIndexed(i) => format!("literal, {}, never indexed", name(i)),
            Representation::SizeUpdate(size) => format!("table size update to {size}"),
        }
    }
}

/// Walks an HPACK block and says how each field was sent: the first byte's pattern, then
/// the integers and string lengths that follow (the strings themselves are skipped;
/// [`decode_block`] reads them).
///
/// # Errors
///
/// When the block ends in the middle of a field.
pub fn representations(block: &[u8]) -> Result<Vec<Representation>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < block.len() {
        let first = block[at];
        let (kind, prefix): (fn(usize) -> Representation, u8) = if first & 0x80 != 0 {
            (Representation::Indexed, 7)
        } else if first & 0xc0 == 0x40 {
            (Representation::LiteralIndexed, 6)
        } else if first & 0xe0 == 0x20 {
            (Representation::SizeUpdate, 5)
        } else if first & 0xf0 == 0x10 {
            (Representation::NeverIndexed, 4)
        } else {
            (Representation::LiteralNotIndexed, 4)
        };
        let (index, used) = integer(&block[at..], prefix)?;
        at += used;
        let representation = kind(index);
        if !matches!(
            representation,
            Representation::Indexed(_) | Representation::SizeUpdate(_)
        ) {
            let rest = |at: usize| block.get(at..).ok_or("the block ends inside a string");
            if index == 0 {
                at += string_length(rest(at)?)?;
            }
            at += string_length(rest(at)?)?;
        }
        out.push(representation);
    }
    if at > block.len() {
        return Err("the block ends inside a string".into());
    }
    Ok(out)
}

fn integer(bytes: &[u8], prefix: u8) -> Result<(usize, usize), String> {
    let first = *bytes.first().ok_or("the block ends inside an integer")?;
    let max = (1usize << prefix) - 1;
    let mut value = usize::from(first) & max;
    if value < max {
        return Ok((value, 1));
    }
    let mut shift = 0;
    for (i, &b) in bytes[1..].iter().enumerate() {
        value += usize::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            return Ok((value, i + 2));
        }
        if shift > 28 {
            break;
        }
    }
    Err("a malformed integer".into())
}

/// The bytes a string literal takes (its length prefix and its octets).
fn string_length(bytes: &[u8]) -> Result<usize, String> {
    let (length, used) = integer(bytes, 7)?;
    Ok(used + length)
}

/// Decodes an HPACK block with `decoder` (whose dynamic table carries over between
/// blocks of one direction) and pairs each field with how it was sent.
///
/// # Errors
///
/// When the block does not decode.
pub fn decode_block(
    decoder: &mut loona_hpack::Decoder<'_>,
    block: &[u8],
) -> Result<Vec<(String, String, Representation)>, String> {
    let kinds = representations(block)?;
    let fields = decoder.decode(block).map_err(|e| format!("HPACK: {e}"))?;
    let kinds = kinds
        .into_iter()
        .filter(|k| !matches!(k, Representation::SizeUpdate(_)));
    Ok(fields
        .into_iter()
        .zip(kinds)
        .map(|((name, value), kind)| {
            (
                String::from_utf8_lossy(&name).into_owned(),
                String::from_utf8_lossy(&value).into_owned(),
                kind,
            )
        })
        .collect())
}

/// The client's HTTP/2 connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

fn frame_type(kind: u8) -> &'static str {
    match kind {
        0x0 => "DATA",
        0x1 => "HEADERS",
        0x2 => "PRIORITY",
        0x3 => "RST_STREAM",
        0x4 => "SETTINGS",
        0x5 => "PUSH_PROMISE",
        0x6 => "PING",
        0x7 => "GOAWAY",
        0x8 => "WINDOW_UPDATE",
        0x9 => "CONTINUATION",
        _ => "unknown",
    }
}

fn flags(kind: u8, flags: u8) -> String {
    let mut names = Vec::new();
    if matches!(kind, DATA | HEADERS) && flags & END_STREAM != 0 {
        names.push("END_STREAM");
    }
    if (kind == 0x4 || kind == 0x6) && flags & 0x1 != 0 {
        names.push("ACK");
    }
    if matches!(kind, HEADERS | CONTINUATION) && flags & END_HEADERS != 0 {
        names.push("END_HEADERS");
    }
    if flags & PADDED != 0 && matches!(kind, DATA | HEADERS) {
        names.push("PADDED");
    }
    if kind == HEADERS && flags & PRIORITY != 0 {
        names.push("PRIORITY");
    }
    if names.is_empty() {
        "-".into()
    } else {
        names.join("|")
    }
}

/// HTTP/2 as one direction sent it: the preface (client), then frames. Frame headers
/// are framing; header blocks are headers, decoded with `decoder`; DATA is payload,
/// or with `grpc`, a 5-byte length prefix (framing) and protobuf messages (payload);
/// connection frames (SETTINGS, WINDOW_UPDATE, PING, ...) are framing.
pub fn http2(
    bytes: &[u8],
    direction: Direction,
    decoder: &mut loona_hpack::Decoder<'_>,
    grpc: bool,
) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    if let Some(after) = rest.strip_prefix(PREFACE) {
        let mut preface = part(
            direction,
            Layer::Framing,
            PREFACE.len(),
            format!("connection preface \"{}\"", printable(PREFACE, 40)),
        );
        preface.stream = Some(0);
        parts.push(preface);
        rest = after;
    }
    let mut block = Vec::new();
    let mut ended_streams = std::collections::HashSet::new();
    while rest.len() >= 9 {
        let length = usize::from(rest[0]) << 16 | usize::from(rest[1]) << 8 | usize::from(rest[2]);
        let (kind, flag_bits) = (rest[3], rest[4]);
        let stream = u32::from_be_bytes([rest[5] & 0x7f, rest[6], rest[7], rest[8]]);
        let length = length.min(rest.len() - 9);
        let payload = &rest[9..9 + length];
        let mut header = part(
            direction,
            Layer::Framing,
            9,
            format!(
                "{} frame, stream {stream}, flags {}, length {length}",
                frame_type(kind),
                flags(kind, flag_bits)
            ),
        );
        header.stream = Some(stream);
        parts.push(header);
        let mut add = |layer: Layer, bytes: usize, note: String| {
            if bytes > 0 {
                let mut p = part(direction, layer, bytes, note);
                p.stream = Some(stream);
                parts.push(p);
            }
        };
        match kind {
            HEADERS | CONTINUATION => {
                let (mut body, mut skipped) = (payload, 0);
                if kind == HEADERS && flag_bits & PADDED != 0 && !body.is_empty() {
                    let pad = usize::from(body[0]).min(body.len() - 1);
                    skipped += 1 + pad;
                    body = &body[1..body.len() - pad];
                }
                if kind == HEADERS && flag_bits & PRIORITY != 0 && body.len() >= 5 {
                    skipped += 5;
                    body = &body[5..];
                }
                add(Layer::Framing, skipped, "padding and priority".into());
                block.extend_from_slice(body);
                let trailers = ended_streams.contains(&stream)
                    || (kind == HEADERS
                        && flag_bits & END_STREAM != 0
                        && direction == Direction::In
                        && grpc);
                if flag_bits & END_HEADERS != 0 {
                    let what = if trailers { "trailers" } else { "header block" };
                    let note = match decode_block(decoder, &block) {
                        Ok(fields) => {
                            let mut text = format!("{what} (HPACK, {} bytes):", block.len());
                            for (name, value, how) in fields {
                                let _ = write!(text, "\n{name}: {value}   [{}]", how.describe());
                            }
                            text
                        }
                        Err(e) => format!("{what}: {e}"),
                    };
                    add(Layer::Headers, body.len(), note);
                    block.clear();
                } else {
                    add(Layer::Headers, body.len(), "header block, continued".into());
                }
            }
            DATA => {
                if flag_bits & END_STREAM != 0 {
                    ended_streams.insert(stream);
                }
                if grpc {
                    let mut message = payload;
                    while message.len() >= 5 {
                        let size =
                            u32::from_be_bytes([message[1], message[2], message[3], message[4]])
                                as usize;
                        let size = size.min(message.len() - 5);
                        let compressed = if message[0] == 1 {
                            "compressed"
                        } else {
                            "not compressed"
                        };
                        add(
                            Layer::Framing,
                            5,
                            format!("gRPC message prefix: {compressed}, {size} bytes"),
                        );
                        let body = &message[5..5 + size];
                        add(
                            Layer::Payload,
                            size,
                            format!("protobuf: {}", protobuf(body, 0)),
                        );
                        message = &message[5 + size..];
                    }
                    add(
                        Layer::Payload,
                        message.len(),
                        "rest of a gRPC message".into(),
                    );
                } else {
                    add(
                        Layer::Payload,
                        payload.len(),
                        format!("body: {}", printable(payload, 200)),
                    );
                }
            }
            0x4 => add(Layer::Framing, payload.len(), settings(payload)),
            0x8 if payload.len() == 4 => {
                let increment =
                    u32::from_be_bytes([payload[0] & 0x7f, payload[1], payload[2], payload[3]]);
                add(Layer::Framing, 4, format!("window grows by {increment}"));
            }
            _ => add(
                Layer::Framing,
                payload.len(),
                format!("{} payload", frame_type(kind)),
            ),
        }
        if kind == HEADERS && flag_bits & END_STREAM != 0 {
            ended_streams.insert(stream);
        }
        rest = &rest[9 + length..];
    }
    if !rest.is_empty() {
        parts.push(part(
            direction,
            Layer::Framing,
            rest.len(),
            "incomplete frame",
        ));
    }
    parts
}

fn settings(payload: &[u8]) -> String {
    let names = [
        "",
        "HEADER_TABLE_SIZE",
        "ENABLE_PUSH",
        "MAX_CONCURRENT_STREAMS",
        "INITIAL_WINDOW_SIZE",
        "MAX_FRAME_SIZE",
        "MAX_HEADER_LIST_SIZE",
    ];
    let values: Vec<String> = payload
        .chunks_exact(6)
        .map(|s| {
            let id = usize::from(u16::from_be_bytes([s[0], s[1]]));
            let value = u32::from_be_bytes([s[2], s[3], s[4], s[5]]);
            format!(
                "{}={value}",
                names
                    .get(id)
                    .copied()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("other")
            )
        })
        .collect();
    if values.is_empty() {
        "no settings (an acknowledgement, or defaults)".into()
    } else {
        values.join(", ")
    }
}

/// A protobuf message read without its schema: each field's number, wire type and
/// value; a length-delimited field shown as text when it is printable, as a nested
/// message when it parses as one.
pub fn protobuf(bytes: &[u8], depth: usize) -> String {
    fn varint(bytes: &[u8]) -> Option<(u64, usize)> {
        let mut value = 0u64;
        for (i, &b) in bytes.iter().enumerate().take(10) {
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some((value, i + 1));
            }
        }
        None
    }
    let mut fields = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let Some((key, used)) = varint(&bytes[at..]) else {
            return format!("{} bytes that are not protobuf", bytes.len());
        };
        at += used;
        let number = key >> 3;
        match key & 7 {
            0 => {
                let Some((value, used)) = varint(&bytes[at..]) else {
                    break;
                };
                at += used;
                fields.push(format!("{number}: varint {value}"));
            }
            1 if at + 8 <= bytes.len() => {
                fields.push(format!("{number}: fixed64"));
                at += 8;
            }
            5 if at + 4 <= bytes.len() => {
                fields.push(format!("{number}: fixed32"));
                at += 4;
            }
            2 => {
                let Some((length, used)) = varint(&bytes[at..]) else {
                    break;
                };
                at += used;
                let end = at.saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
                if end > bytes.len() {
                    return format!("{} bytes that are not protobuf", bytes.len());
                }
                let value = &bytes[at..end];
                at = end;
                let text = std::str::from_utf8(value)
                    .ok()
                    .filter(|t| t.chars().all(|c| !c.is_control()));
                fields.push(match text {
                    Some(text) => format!("{number}: string {text:?}"),
                    None if depth < 4 => {
                        format!("{number}: message {{ {} }}", protobuf(value, depth + 1))
                    }
                    None => format!("{number}: {} bytes", value.len()),
                });
            }
            _ => return format!("{} bytes that are not protobuf", bytes.len()),
        }
    }
    if fields.is_empty() {
        "(empty message)".into()
    } else {
        fields.join(", ")
    }
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
    if !rest.is_empty() {
        parts.push(part(
            direction,
            Layer::Framing,
            rest.len(),
            "incomplete frame",
        ));
    }
    parts
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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
