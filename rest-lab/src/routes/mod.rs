//! The route handlers, one file per group, and the fallbacks for unknown routes.

pub(crate) mod health;
pub(crate) mod users;

use axum::http::{Method, Uri};

use crate::error::ApiError;

/// 404 for any path no route knows, in the JSON envelope.
pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// 405 for a known path with a method it does not serve, in the JSON envelope.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}
