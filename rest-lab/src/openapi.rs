//! The OpenAPI 3 document of the API, generated from the handlers' annotations and
//! served at `GET /api/openapi.json` so tools (schemathesis, Postman, code generators)
//! can test and call the API.
//!
//! The document states every rule the server enforces: schemathesis with `--checks all`
//! finds nothing (see `.ci/schemathesis.sh`).
//!
//! Every schema is derived from the type the server sends or reads (`User` from
//! `user-store`, the envelopes, the request bodies): none is a copy that could drift.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Value, json};
use user_store::{User, validate};
use utoipa::OpenApi;

use crate::envelope::{Deleted, ErrorBody};
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
        User,
        ErrorBody,
        Deleted,
        users::CreateUserRequest,
        users::UpdateUserRequest,
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
            "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    });
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for (_, operation) in operation.iter_mut() {
                operation["responses"]["408"] = timeout.clone();
            }
        }
    }
    // Writes need a bearer token when the server runs with --auth-token: optional in
    // the document (`{}` first), since a server without one takes writes from anyone.
    document["components"]["securitySchemes"] = json!({
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "The server's --auth-token, on writes, when it has one",
        }
    });
    let unauthorized = json!({
        "description": "A write without the server's bearer token (only when the server \
                        runs with --auth-token); `WWW-Authenticate: Bearer` says what to send",
        "headers": { "WWW-Authenticate": { "schema": { "type": "string" } } },
        "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/ErrorBody" } } },
    });
    if let Some(paths) = document["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, operation) in operation.iter_mut() {
                if matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                    operation["responses"]["401"] = unauthorized.clone();
                    operation["security"] = json!([{}, { "bearerAuth": [] }]);
                }
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
