//! A JSON body extractor that answers in the API's envelope.
//!
//! axum's own `Json` rejects with plain text, uses 422 for a body of the wrong shape,
//! and (through serde) accepts a JSON array where a struct is expected. The contract
//! wants JSON errors, 400, and objects only, so [`AppJson`] does the steps itself:
//!
//! 1. no JSON `Content-Type` (`application/json` or `application/*+json`): 415;
//! 2. body over the limit: 413;
//! 3. not a JSON object, invalid JSON, or a field of the wrong type: 400.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::error::ApiError;

/// A request body parsed as a JSON object into `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Config> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Config) -> Result<Self, Self::Rejection> {
        if !has_json_content_type(&request) {
            return Err(ApiError::UnsupportedMediaType(
                "request body must be JSON, sent with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit: state.max_body_bytes,
                    }
                } else {
                    ApiError::BadRequest(format!(
                        "cannot read request body: {}",
                        rejection.body_text()
                    ))
                }
            })?;
        parse_object(&bytes).map(AppJson)
    }
}

/// Parses `bytes` as a JSON object into `T`, with a 400 that says what to fix.
///
/// # Errors
///
/// [`ApiError::BadRequest`] when the body is not JSON, not an object, or has a field of
/// the wrong type.
pub fn parse_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => {
            return Err(ApiError::BadRequest(
                "request body is empty; send a JSON object".into(),
            ));
        }
        Some(_) => {
            return Err(ApiError::BadRequest(
                "request body must be a JSON object, like {\"name\": \"Ada\", \"email\": \"ada@example.com\"}"
                    .into(),
            ));
        }
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let what = if e.is_data() {
            "request body has a field of the wrong type"
        } else {
            "request body is not valid JSON"
        };
        ApiError::BadRequest(format!("{what}: {e}"))
    })
}

fn has_json_content_type(request: &Request) -> bool {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[allow(dead_code)]
        name: Option<String>,
    }

    #[test]
    fn only_objects_pass() {
        assert!(parse_object::<Body>(br#"{"name":"a"}"#).is_ok());
        assert!(parse_object::<Body>(b"  {}").is_ok());
        for bad in [
            &b"[\"a\"]"[..],
            b"\"a\"",
            b"1",
            b"",
            b"   ",
            b"{",
            b"{\"name\":5}",
        ] {
            let err = parse_object::<Body>(bad).unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn recognises_json_content_types() {
        let with = |ct: &str| {
            let request = Request::builder()
                .header(header::CONTENT_TYPE, ct)
                .body(axum::body::Body::empty())
                .unwrap();
            has_json_content_type(&request)
        };
        assert!(with("application/json"));
        assert!(with("application/json; charset=utf-8"));
        assert!(with("Application/JSON"));
        assert!(with("application/merge-patch+json"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("application/jsonx"));
    }
}
