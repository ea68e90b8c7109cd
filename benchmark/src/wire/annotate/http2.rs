//! HTTP/2 frames (RFC 9113) with their header blocks and, for gRPC, the
//! length-prefixed protobuf messages inside DATA frames, read without a schema.

use std::fmt::Write as _;

use super::hpack::decode_block;
use super::{Direction, Layer, Part, incomplete_frame, part, printable};

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
    parts.extend(incomplete_frame(direction, rest));
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
