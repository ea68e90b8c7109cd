//! TLS 1.3 records read back from a recording: each record's header and what it
//! carries, decrypted with the session's own secrets (rustls hands them over through
//! its `KeyLog`, as `SSLKEYLOGFILE` does for Wireshark), so the protocol inside can be
//! annotated exactly as in cleartext.
//!
//! Every record is 5 bytes of header (type, version, length); an encrypted one ends
//! with a 16-byte AEAD tag and hides its real type in one byte after the content
//! (RFC 8446, section 5.2). Keys and IVs come from the traffic secrets by
//! HKDF-Expand-Label (section 7.1); each record's nonce is the IV xored with its
//! sequence number (section 5.3).

use std::sync::{Mutex, PoisonError};

use ring::{aead, hkdf};

use super::annotate::{Direction, Layer, Part, part};

/// The secrets rustls logged for a connection, by label.
#[derive(Debug, Default)]
pub(crate) struct Secrets(Mutex<Vec<(String, Vec<u8>)>>);

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        let mut logged = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        logged.push((label.to_owned(), secret.to_vec()));
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

impl Secrets {
    fn get(&self, label: &str) -> Option<Vec<u8>> {
        let logged = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        logged
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, s)| s.clone())
    }
}

/// One direction of a TLS connection read back: the parts TLS itself adds (record
/// headers, tags, inner types, handshake messages, alerts) and the application's bytes
/// it carried, in order.
#[derive(Debug, Default)]
pub(crate) struct Unwrapped {
    /// What TLS added.
    pub parts: Vec<Part>,
    /// The application data, decrypted.
    pub plaintext: Vec<u8>,
}

/// Why records could not be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    /// The session used a cipher suite this reader does not know.
    #[error("cipher suite {0:#06x} is not one of TLS 1.3's three")]
    Suite(u16),
    /// A secret was not logged.
    #[error("rustls did not log the {0}")]
    Secret(&'static str),
    /// A record did not decrypt.
    #[error("record {0} did not decrypt with the session's keys")]
    Decrypt(usize),
}

/// A TLS 1.3 cipher suite's hash and AEAD.
#[derive(Debug, Clone, Copy)]
struct Suite {
    hash: hkdf::Algorithm,
    aead: &'static aead::Algorithm,
}

impl Suite {
    fn of(id: u16) -> Result<Suite, RecordError> {
        match id {
            0x1301 => Ok(Suite {
                hash: hkdf::HKDF_SHA256,
                aead: &aead::AES_128_GCM,
            }),
            0x1302 => Ok(Suite {
                hash: hkdf::HKDF_SHA384,
                aead: &aead::AES_256_GCM,
            }),
            0x1303 => Ok(Suite {
                hash: hkdf::HKDF_SHA256,
                aead: &aead::CHACHA20_POLY1305,
            }),
            other => Err(RecordError::Suite(other)),
        }
    }
}

/// A length for ring's HKDF output.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label(secret, label, "", length).
fn expand_label(suite: Suite, secret: &[u8], label: &str, length: usize) -> Vec<u8> {
    let full = format!("tls13 {label}");
    let length_bytes = u16::try_from(length).unwrap_or(u16::MAX).to_be_bytes();
    let label_length = [u8::try_from(full.len()).unwrap_or(u8::MAX)];
    let info: [&[u8]; 4] = [&length_bytes, &label_length, full.as_bytes(), &[0]];
    let prk = hkdf::Prk::new_less_safe(suite.hash, secret);
    let mut out = vec![0u8; length];
    // The lengths asked for (a key, a 12-byte IV) are far below HKDF's limit.
    if let Ok(okm) = prk.expand(&info, Len(length)) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// The keys of one direction in one epoch, and the next record's sequence number.
struct Keys {
    key: aead::LessSafeKey,
    iv: [u8; 12],
    sequence: u64,
}

impl Keys {
    fn new(suite: Suite, secret: &[u8]) -> Result<Keys, RecordError> {
        let key = expand_label(suite, secret, "key", suite.aead.key_len());
        let iv_bytes = expand_label(suite, secret, "iv", 12);
        let mut iv = [0u8; 12];
        iv.copy_from_slice(&iv_bytes);
        let key = aead::UnboundKey::new(suite.aead, &key).map_err(|_| RecordError::Decrypt(0))?;
        Ok(Keys {
            key: aead::LessSafeKey::new(key),
            iv,
            sequence: 0,
        })
    }

    /// The record's content and inner type, or `None` when it does not decrypt.
    fn open(&mut self, header: &[u8], body: &[u8]) -> Option<(Vec<u8>, u8)> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.sequence.to_be_bytes()) {
            *n ^= s;
        }
        self.sequence += 1;
        let mut buffer = body.to_vec();
        let plain = self
            .key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(header),
                &mut buffer,
            )
            .ok()?;
        // The content, then its real type, then zero padding.
        let end = plain.iter().rposition(|&b| b != 0)?;
        let kind = plain[end];
        Some((plain[..end].to_vec(), kind))
    }
}

/// The cipher suite a ServerHello chose, from the server's first bytes.
pub(crate) fn chosen_suite(received: &[u8]) -> Option<u16> {
    // Record header (5), handshake header (4), version (2), random (32).
    let session_id = usize::from(*received.get(5 + 4 + 2 + 32)?);
    let at = 5 + 4 + 2 + 32 + 1 + session_id;
    Some(u16::from_be_bytes([
        *received.get(at)?,
        *received.get(at + 1)?,
    ]))
}

fn suite_name(id: u16) -> &'static str {
    match id {
        0x1301 => "TLS13_AES_128_GCM_SHA256",
        0x1302 => "TLS13_AES_256_GCM_SHA384",
        0x1303 => "TLS13_CHACHA20_POLY1305_SHA256",
        _ => "an unknown suite",
    }
}

fn handshake_name(kind: u8) -> String {
    match kind {
        1 => "ClientHello".into(),
        2 => "ServerHello".into(),
        4 => "NewSessionTicket".into(),
        8 => "EncryptedExtensions".into(),
        11 => "Certificate".into(),
        13 => "CertificateRequest".into(),
        15 => "CertificateVerify".into(),
        20 => "Finished".into(),
        24 => "KeyUpdate".into(),
        other => format!("handshake message {other}"),
    }
}

/// The handshake messages in `content`, as `Name (N B)`, and whether one is Finished.
fn handshake_messages(content: &[u8]) -> (String, bool) {
    let mut names = Vec::new();
    let mut finished = false;
    let mut at = 0;
    while at + 4 <= content.len() {
        let kind = content[at];
        let length = usize::from(content[at + 1]) << 16
            | usize::from(content[at + 2]) << 8
            | usize::from(content[at + 3]);
        finished |= kind == 20;
        names.push(format!("{} ({} B)", handshake_name(kind), 4 + length));
        at += 4 + length;
    }
    (names.join(", "), finished)
}

fn alert_name(content: &[u8]) -> String {
    match content.get(1) {
        Some(0) => "alert close_notify".into(),
        Some(code) => format!("alert {code}"),
        None => "alert".into(),
    }
}

/// Reads back one direction's records, `bytes` as they went over the connection,
/// decrypting with the secrets the session logged; `suite` is the ServerHello's.
///
/// # Errors
///
/// An unknown suite, a missing secret, or a record that does not decrypt.
pub(crate) fn unwrap(
    bytes: &[u8],
    direction: Direction,
    suite: u16,
    secrets: &Secrets,
) -> Result<Unwrapped, RecordError> {
    let suite_id = suite;
    let suite = Suite::of(suite)?;
    let (handshake_label, traffic_label) = match direction {
        Direction::Out => ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0"),
        Direction::In => ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0"),
    };
    let secret = |label: &'static str| secrets.get(label).ok_or(RecordError::Secret(label));
    let mut keys = Keys::new(suite, &secret(handshake_label)?)?;
    let mut application = false;
    let mut out = Unwrapped::default();
    let mut at = 0;
    let mut index = 0;
    while at + 5 <= bytes.len() {
        let header = &bytes[at..at + 5];
        let length = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let Some(body) = bytes.get(at + 5..at + 5 + length) else {
            out.parts.push(part(
                direction,
                Layer::Framing,
                bytes.len() - at,
                "incomplete TLS record",
            ));
            return Ok(out);
        };
        index += 1;
        at += 5 + length;
        match header[0] {
            23 => {
                let (content, kind) = keys.open(header, body).ok_or(RecordError::Decrypt(index))?;
                let overhead = 5 + body.len() - content.len();
                match kind {
                    23 => {
                        out.parts.push(part(
                            direction,
                            Layer::Framing,
                            overhead,
                            format!(
                                "TLS record: 5-byte header, 16-byte tag, inner type, carrying {} B \
                                 of application data",
                                content.len()
                            ),
                        ));
                        out.plaintext.extend_from_slice(&content);
                    }
                    22 => {
                        let (messages, finished) = handshake_messages(&content);
                        out.parts.push(part(
                            direction,
                            Layer::Framing,
                            overhead,
                            "TLS record (encrypted handshake): header, tag, inner type",
                        ));
                        out.parts
                            .push(part(direction, Layer::Headers, content.len(), messages));
                        if finished && !application {
                            keys = Keys::new(suite, &secret(traffic_label)?)?;
                            application = true;
                        }
                    }
                    21 => {
                        out.parts.push(part(
                            direction,
                            Layer::Framing,
                            overhead,
                            "TLS record: header, tag, inner type",
                        ));
                        out.parts.push(part(
                            direction,
                            Layer::Headers,
                            content.len(),
                            alert_name(&content),
                        ));
                    }
                    other => out.parts.push(part(
                        direction,
                        Layer::Framing,
                        5 + body.len(),
                        format!("TLS record of inner type {other}"),
                    )),
                }
            }
            22 => {
                let (mut messages, _) = handshake_messages(body);
                if body.first() == Some(&2) {
                    messages.push_str(&format!(": chose {}", suite_name(suite_id)));
                }
                out.parts
                    .push(part(direction, Layer::Framing, 5, "TLS record header"));
                out.parts
                    .push(part(direction, Layer::Headers, body.len(), messages));
            }
            20 => out.parts.push(part(
                direction,
                Layer::Framing,
                5 + body.len(),
                "TLS ChangeCipherSpec (for middleboxes; TLS 1.3 ignores it)",
            )),
            21 => out.parts.push(part(
                direction,
                Layer::Headers,
                5 + body.len(),
                alert_name(body),
            )),
            other => out.parts.push(part(
                direction,
                Layer::Framing,
                5 + body.len(),
                format!("TLS record of type {other}"),
            )),
        }
    }
    if at < bytes.len() {
        out.parts.push(part(
            direction,
            Layer::Framing,
            bytes.len() - at,
            "incomplete TLS record",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8448's simple 1-RTT handshake: the server handshake traffic secret, and the
    /// key and IV it gives (section 3, "derive write traffic keys for handshake data").
    #[test]
    fn keys_come_from_secrets_as_rfc_8448_shows() {
        let hex = |s: &str| -> Vec<u8> {
            let s: String = s.split_whitespace().collect();
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect()
        };
        let secret = hex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 \
             d3 91 ad 38",
        );
        let suite = Suite::of(0x1301).unwrap();
        assert_eq!(
            expand_label(suite, &secret, "key", 16),
            hex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(
            expand_label(suite, &secret, "iv", 12),
            hex("5d 31 3e b2 67 12 76 ee 13 00 0b 30")
        );
    }

    #[test]
    fn the_suite_is_read_from_the_server_hello() {
        let mut hello = vec![22, 3, 3, 0, 90, 2, 0, 0, 86, 3, 3];
        hello.extend([7u8; 32]);
        hello.push(32);
        hello.extend([9u8; 32]);
        hello.extend([0x13, 0x02]);
        assert_eq!(chosen_suite(&hello), Some(0x1302));
        assert_eq!(chosen_suite(&hello[..40]), None);
        assert!(matches!(Suite::of(0xc02f), Err(RecordError::Suite(0xc02f))));
    }
}
