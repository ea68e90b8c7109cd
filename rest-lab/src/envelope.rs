//! The JSON envelopes every response is wrapped in: `{"status": "success", "data": ...}`
//! and `{"status": "error", "message": "..."}`. A leaf: it imports nothing from the
//! rest of the crate. The OpenAPI document is derived from these very types.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The success envelope: `{"status": "success", "data": ...}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Success<T> {
    /// Always `"success"`.
    #[schema(value_type = String, example = "success")]
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

/// The error envelope: `{"status": "error", "message": "..."}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always `"error"`.
    #[schema(value_type = String, example = "error")]
    pub status: &'static str,
    /// What went wrong, for a person.
    pub message: String,
}

/// Body of a successful `DELETE`: `{"status": "success", "message": "User <id> deleted"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// Always `"success"`.
    #[schema(value_type = String, example = "success")]
    pub status: &'static str,
    /// `User <id> deleted`.
    pub message: String,
}
