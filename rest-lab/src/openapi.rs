//! The OpenAPI 3 document of the API, generated from the handlers' annotations and
//! served at `GET /api/openapi.json` so tools (schemathesis, Postman, code generators)
//! can test and call the API.
//!
//! The envelope types below exist only to describe responses; the handlers build the
//! same shapes from [`Success`](crate::routes::Success) and [`ErrorBody`](crate::error::ErrorBody).

use axum::Json;
use chrono::{DateTime, Utc};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::routes::{health, users};

/// The OpenAPI description of every route.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "commlab REST lab", description = "User CRUD over HTTP/JSON."),
    paths(
        users::list_users,
        users::get_user,
        users::create_user,
        users::update_user,
        users::delete_user,
        users::search_users,
        health::health,
    ),
    components(schemas(
        UserDoc,
        UserEnvelope,
        UserListEnvelope,
        ErrorEnvelope,
        users::CreateUserRequest,
        users::UpdateUserRequest,
        users::Deleted,
    )),
    tags((name = "users", description = "User management"), (name = "health", description = "Liveness"))
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A user, as the API sends it.
#[derive(Debug, ToSchema)]
#[schema(as = User)]
pub struct UserDoc {
    /// Random (v4) UUID.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Creation time, RFC 3339 in UTC.
    pub created_at: DateTime<Utc>,
}

/// `{"status": "success", "data": <user>}`.
#[derive(Debug, ToSchema)]
pub struct UserEnvelope {
    /// Always `"success"`.
    #[schema(example = "success")]
    pub status: String,
    /// The user.
    pub data: UserDoc,
}

/// `{"status": "success", "data": [<user>, ...]}`.
#[derive(Debug, ToSchema)]
pub struct UserListEnvelope {
    /// Always `"success"`.
    #[schema(example = "success")]
    pub status: String,
    /// The users.
    pub data: Vec<UserDoc>,
}

/// `{"status": "error", "message": "..."}`.
#[derive(Debug, ToSchema)]
pub struct ErrorEnvelope {
    /// Always `"error"`.
    #[schema(example = "error")]
    pub status: String,
    /// What went wrong.
    pub message: String,
}

/// `{"status": "success", "data": {"status": "healthy", "users": n}}`.
#[derive(Debug, ToSchema)]
pub struct HealthEnvelope {
    /// Always `"success"`.
    pub status: String,
    /// The health report.
    pub data: health::Health,
}
