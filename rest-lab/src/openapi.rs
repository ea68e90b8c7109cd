//! The OpenAPI 3 document of the API, generated from the handlers' annotations and
//! served at `GET /api/openapi.json` so tools (schemathesis, Postman, code generators)
//! can test and call the API.
//!
//! The document states every rule the server enforces: schemathesis with `--checks all`
//! finds nothing (see `.ci/schemathesis.sh`).
//!
//! The envelope types below exist only to describe responses; the handlers build the
//! same shapes from [`Success`](crate::routes::Success) and [`ErrorBody`](crate::error::ErrorBody).

use std::sync::OnceLock;

use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use user_store::validate;
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
pub async fn openapi_json() -> Json<&'static Value> {
    Json(document())
}

/// The document served at `/api/openapi.json`: what the handlers' annotations say, and
/// the rules the annotations cannot state (see [`state_the_rules`]). Built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        // Serializing utoipa's own types cannot fail.
        let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        state_the_rules(&mut document);
        document
    })
}

/// Adds to the generated document every rule the server enforces that the derive
/// macros cannot express, so the document is exactly as strict as the server and a
/// tool that trusts it (schemathesis, a generated client) is never surprised:
/// - names, emails and the search query carry the patterns of `user-store`'s rules,
///   and `name` and `email` are required (POST) and never null;
/// - PUT needs at least one of `name` and `email` (null, like absent, keeps a value);
/// - every operation may answer 408 (the request timeout);
/// - a created user's id links to GET, PUT and DELETE `/api/users/{id}`.
pub fn state_the_rules(document: &mut Value) {
    let name = json!({
        "type": "string",
        "description": "Display name: 1 to 100 characters once trimmed, no control or \
                        text-direction characters",
        "pattern": validate::NAME_PATTERN,
    });
    let email = json!({
        "type": "string",
        "description": "Email shaped local@domain.tld, at most 254 characters once trimmed, \
                        unique ignoring case (the pattern is a little stricter: a local part \
                        of at most 64 characters, 2 to 4 domain labels of at most 40)",
        "pattern": validate::EMAIL_PATTERN,
    });
    let schemas = &mut document["components"]["schemas"];
    schemas["CreateUserRequest"] = json!({
        "type": "object",
        "required": ["name", "email"],
        "properties": { "name": name, "email": email },
    });
    // A field left out or null keeps its value; at least one must be a string.
    let or_null = |schema: &Value| json!({ "anyOf": [schema, { "type": "null" }] });
    let given =
        |field: &str| json!({ "required": [field], "properties": { field: { "type": "string" } } });
    schemas["UpdateUserRequest"] = json!({
        "type": "object",
        "description": "Either field or both; a field left out or null keeps its value",
        "properties": { "name": or_null(&name), "email": or_null(&email) },
        "anyOf": [given("name"), given("email")],
    });
    document["paths"]["/api/users/search"]["get"]["parameters"] = json!([{
        "name": "q",
        "in": "query",
        "required": true,
        "description": "Text to look for in names and emails, ignoring case; not blank",
        "schema": { "type": "string", "pattern": validate::QUERY_PATTERN },
    }]);
    let timeout = json!({
        "description": "The request took longer than the server's request timeout",
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } },
    });
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for (_, operation) in operation.iter_mut() {
                operation["responses"]["408"] = timeout.clone();
            }
        }
    }
    let by_id = |operation: &str| json!({ "operationId": operation, "parameters": { "id": "$response.body#/data/id" } });
    document["paths"]["/api/users"]["post"]["responses"]["201"]["links"] = json!({
        "GetUser": by_id("get_user"),
        "UpdateUser": by_id("update_user"),
        "DeleteUser": by_id("delete_user"),
    });
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
