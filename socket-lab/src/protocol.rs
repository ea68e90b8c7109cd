//! The JSON-lines wire format, and the pure step from one request line to its reply.
//!
//! A request is `{"message": "<text>"}`, optionally with an `"id"` (any JSON scalar)
//! that the reply echoes untouched. A reply is `{"status":"ok","message":"<TEXT>"}` or
//! `{"status":"error","error":"<reason>"}`, plus the `id` when one could be read.
//! Unknown fields in a request are ignored.
//!
//! The server side ([`respond`]) borrows from the input line and writes into buffers
//! the caller reuses, so a steady stream of requests allocates nothing. The client side
//! uses the owned [`Request`] and [`Reply`] types.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Default limit on one request line, in bytes, not counting the newline.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// A request as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request<'a> {
    /// The text to upper-case.
    pub message: &'a str,
    /// Optional correlation id, echoed in the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a serde_json::Value>,
}

/// Whether a reply reports success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The request was served.
    Ok,
    /// The request was refused; `error` says why.
    Error,
}

/// A reply as a client reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Reply {
    /// `ok` or `error`.
    pub status: Status,
    /// The upper-cased text, on success.
    #[serde(default)]
    pub message: Option<String>,
    /// The reason, on error.
    #[serde(default)]
    pub error: Option<String>,
    /// The request's id, when it had one the server could read.
    #[serde(default, deserialize_with = "present")]
    pub id: Option<serde_json::Value>,
}

/// The request as the server reads it: every field borrowed, each checked afterwards so
/// the error can name the field and still echo the id.
#[derive(Deserialize)]
struct WireRequest<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    message: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
}

/// A JSON string, borrowed from the line when it holds no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// Deserializes a field that is present as `Some`, even when its value is `null`, so an
/// `"id": null` is echoed rather than dropped.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// How every successful reply line starts.
pub const OK_PREFIX: &[u8] = br#"{"status":"ok""#;

/// Reads one request line and appends the reply line (newline included) to `out`.
///
/// `scratch` is a buffer the caller keeps between calls so the upper-cased text needs no
/// fresh allocation. Never fails: every bad input becomes an error reply.
pub fn respond(line: &[u8], out: &mut Vec<u8>, scratch: &mut String) {
    match parse(line) {
        Ok((text, id)) => {
            uppercase_into(&text, scratch);
            out.extend_from_slice(OK_PREFIX);
            out.extend_from_slice(br#","message":"#);
            write_json_string(out, scratch);
            finish_reply(out, id);
        }
        Err((reason, id)) => encode_error(out, &reason, id),
    }
}

type Parsed<'a> = (Cow<'a, str>, Option<&'a RawValue>);
type Refused<'a> = (Cow<'static, str>, Option<&'a RawValue>);

fn parse(line: &[u8]) -> Result<Parsed<'_>, Refused<'_>> {
    // serde would accept `["text"]` as a struct written as a sequence; the contract wants
    // an object, so look at the first byte before handing the line over.
    let first = line.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        let reason = match serde_json::from_slice::<serde::de::IgnoredAny>(line) {
            Ok(_) => Cow::Borrowed(r#"request must be a JSON object, like {"message": "hello"}"#),
            Err(e) => Cow::Owned(format!("invalid JSON: {e}")),
        };
        return Err((reason, None));
    }
    let request: WireRequest<'_> = serde_json::from_slice(line)
        .map_err(|e| (Cow::Owned(format!("invalid JSON: {e}")), None))?;
    let id = request.id;
    if id.is_some_and(|raw| matches!(raw.get().as_bytes().first(), Some(b'{' | b'['))) {
        return Err((
            Cow::Borrowed("\"id\" must be a JSON scalar (string, number, boolean or null)"),
            None,
        ));
    }
    let Some(raw) = request.message else {
        return Err((Cow::Borrowed(r#"missing field "message" (a string)"#), id));
    };
    match serde_json::from_str::<Text<'_>>(raw.get()) {
        Ok(Text(text)) => Ok((text, id)),
        Err(_) => Err((Cow::Borrowed(r#"field "message" must be a string"#), id)),
    }
}

/// Appends an error reply line with `reason` (and `id`, when known) to `out`.
pub fn encode_error(out: &mut Vec<u8>, reason: &str, id: Option<&RawValue>) {
    out.extend_from_slice(br#"{"status":"error","error":"#);
    write_json_string(out, reason);
    finish_reply(out, id);
}

fn finish_reply(out: &mut Vec<u8>, id: Option<&RawValue>) {
    if let Some(id) = id {
        out.extend_from_slice(br#","id":"#);
        out.extend_from_slice(id.get().as_bytes());
    }
    out.extend_from_slice(b"}\n");
}

fn write_json_string(out: &mut Vec<u8>, text: &str) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Upper-cases `text` into `out` with full Unicode rules (`ß` becomes `SS`).
pub fn uppercase_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        out.push_str(text);
        out.make_ascii_uppercase();
    } else {
        out.extend(text.chars().flat_map(char::to_uppercase));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply_to(line: &str) -> serde_json::Value {
        let mut out = Vec::new();
        respond(line.as_bytes(), &mut out, &mut String::new());
        assert_eq!(out.last(), Some(&b'\n'), "reply ends with a newline");
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
        serde_json::from_slice(&out).expect("reply is JSON")
    }

    #[test]
    fn uppercases_ascii_and_unicode() {
        let reply = reply_to(r#"{"message":"hello straße ǆ"}"#);
        assert_eq!(
            reply,
            serde_json::json!({"status":"ok","message":"HELLO STRASSE Ǆ"})
        );
    }

    #[test]
    fn decodes_escapes() {
        let reply = reply_to(r#"{"message":"tab\there \u00e9 \"q\""}"#);
        assert_eq!(reply["message"], "TAB\tHERE É \"Q\"");
    }

    #[test]
    fn echoes_scalar_ids_verbatim() {
        for id in ["7", "\"abc\"", "true", "null", "1.5e3"] {
            let mut out = Vec::new();
            let line = format!(r#"{{"id":{id},"message":"x"}}"#);
            respond(line.as_bytes(), &mut out, &mut String::new());
            let text = String::from_utf8(out).unwrap();
            assert_eq!(
                text,
                format!("{{\"status\":\"ok\",\"message\":\"X\",\"id\":{id}}}\n")
            );
        }
    }

    #[test]
    fn rejects_structured_ids() {
        let reply = reply_to(r#"{"id":[1],"message":"x"}"#);
        assert_eq!(reply["status"], "error");
        assert!(reply["error"].as_str().unwrap().contains("scalar"));
    }

    #[test]
    fn ignores_unknown_fields() {
        let reply = reply_to(r#"{"message":"a","extra":{"deep":[1,2]}}"#);
        assert_eq!(reply["message"], "A");
    }

    #[test]
    fn empty_message_is_fine() {
        assert_eq!(reply_to(r#"{"message":""}"#)["message"], "");
    }

    #[test]
    fn errors_name_the_problem_and_keep_the_id() {
        let missing = reply_to(r#"{"id":3}"#);
        assert_eq!(missing["status"], "error");
        assert_eq!(missing["id"], 3);
        assert!(missing["error"].as_str().unwrap().contains("missing field"));

        let wrong_type = reply_to(r#"{"message":42,"id":"x"}"#);
        assert_eq!(wrong_type["id"], "x");
        assert!(
            wrong_type["error"]
                .as_str()
                .unwrap()
                .contains("must be a string")
        );
    }

    #[test]
    fn non_objects_and_garbage_are_refused() {
        for line in [r#"["hello"]"#, "42", r#""text""#] {
            let reply = reply_to(line);
            assert_eq!(reply["status"], "error");
            assert!(
                reply["error"].as_str().unwrap().contains("JSON object"),
                "{line}"
            );
            assert!(reply.get("id").is_none());
        }
        for line in ["", "{", "not json", r#"{"message":"a"} trailing"#] {
            let reply = reply_to(line);
            assert!(
                reply["error"].as_str().unwrap().starts_with("invalid JSON"),
                "{line}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let mut out = Vec::new();
        respond(b"{\"message\":\"\xff\xfe\"}", &mut out, &mut String::new());
        let reply: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(reply["error"].as_str().unwrap().starts_with("invalid JSON"));
    }

    #[test]
    fn client_reply_type_reads_both_shapes() {
        let ok: Reply = serde_json::from_str(r#"{"status":"ok","message":"A","id":null}"#).unwrap();
        assert_eq!(ok.status, Status::Ok);
        assert_eq!(ok.id, Some(serde_json::Value::Null));
        let err: Reply = serde_json::from_str(r#"{"status":"error","error":"no"}"#).unwrap();
        assert_eq!(err.status, Status::Error);
        assert_eq!(err.id, None);
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::Value;

        use super::super::*;

        /// Lines from the pieces that matter to the parser, and plain bytes.
        fn line() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop::sample::select(vec![
                "{",
                "}",
                "[",
                "]",
                "\"",
                ":",
                ",",
                "message",
                "id",
                "null",
                "1",
                "-",
                "\\",
                "\\u00e9",
                "\\ud800",
                "ß",
                "ΐ",
                " ",
                "\r",
                "true",
                "{\"message\":",
            ]);
            prop_oneof![
                prop::collection::vec(piece, 0..24).prop_map(|p| p.concat().into_bytes()),
                prop::collection::vec(
                    any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
                    0..64
                ),
            ]
        }

        proptest! {
            #[test]
            fn any_line_gets_exactly_one_json_reply_line(line in line()) {
                let (mut out, mut scratch) = (Vec::new(), String::new());
                respond(&line, &mut out, &mut scratch);
                prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
                prop_assert_eq!(out.last(), Some(&b'\n'));
                let reply: Value = serde_json::from_slice(&out).unwrap();
                let status = reply["status"].as_str().unwrap_or_default();
                prop_assert!(status == "ok" || status == "error", "{}", reply);
            }

            #[test]
            fn any_message_comes_back_upper_cased(text in any::<String>(), id in any::<Option<i64>>()) {
                let request = match id {
                    Some(id) => serde_json::json!({ "message": text, "id": id }),
                    None => serde_json::json!({ "message": text }),
                };
                let (mut out, mut scratch) = (Vec::new(), String::new());
                respond(request.to_string().as_bytes(), &mut out, &mut scratch);
                let reply: Value = serde_json::from_slice(&out).unwrap();
                prop_assert_eq!(&reply["status"], "ok");
                let upper = text.to_uppercase();
                prop_assert_eq!(reply["message"].as_str(), Some(upper.as_str()));
                prop_assert_eq!(reply.get("id").and_then(Value::as_i64), id);
            }
        }
    }
}
