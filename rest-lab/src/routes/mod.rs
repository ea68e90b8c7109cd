//! The route handlers, one file per group, and the fallbacks for unknown routes.

pub mod health;
pub mod users;

use axum::Json;
use axum::http::{Method, Uri};
use serde::Serialize;

use crate::error::ApiError;

/// The success envelope: `{"status": "success", "data": ...}`.
#[derive(Debug, Serialize)]
pub struct Success<T> {
    /// Always `"success"`.
    pub status: &'static str,
    /// The payload.
    pub data: T,
}

/// Wraps `data` in the success envelope.
pub fn success<T: Serialize>(data: T) -> Json<Success<T>> {
    Json(Success {
        status: "success",
        data,
    })
}

/// 404 for any path no route knows, in the JSON envelope.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// 405 for a known path with a method it does not serve, in the JSON envelope.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
