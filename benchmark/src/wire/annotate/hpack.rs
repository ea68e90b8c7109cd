//! HPACK header blocks (RFC 7541): which fields went by index and which literally, and
//! the fields themselves, decoded with the connection's dynamic table.

use serde::Serialize;

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
    /// How the field went, for people: `indexed 2`, `literal, new index`...
    pub(crate) fn describe(self) -> String {
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
