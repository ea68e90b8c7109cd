//! Every error response the REST server sends, built in one place.
//!
//! The body is always the envelope `{"status": "error", "message": "..."}` with
//! `Content-Type: application/json`, whatever went wrong: a store rule, a rejected body,
//! an unknown route or a timeout.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use user_store::StoreError;

use crate::envelope::ErrorBody;

/// An error on its way to the client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The store refused the operation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the server accepts (413).
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The body is not declared as JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No route has this path (404).
    #[error("no route for {method} {path}")]
    RouteNotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The path exists but not with this method (405).
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// The request took longer than the server allows (408).
    #[error("request took longer than {secs} s and was abandoned")]
    Timeout {
        /// The limit, in seconds.
        secs: f64,
    },
    /// A write without the server's bearer token (401), when it has one.
    #[error(
        "this server needs a bearer token for writes: send `Authorization: Bearer TOKEN` \
         (rest-client --token TOKEN)"
    )]
    Unauthorized,
}

impl ApiError {
    /// The HTTP status this error is sent with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Store(StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
            ApiError::Store(StoreError::Invalid(_)) => StatusCode::BAD_REQUEST,
            ApiError::Store(StoreError::DuplicateEmail { .. }) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            status: "error",
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750: what the client must send.
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(r#"Bearer realm="commlab""#),
            );
        }
        response
    }
}
