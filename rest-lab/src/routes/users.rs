//! `/api/users`: list, read, create, update, delete and search users.
//!
//! Each handler turns the request into store arguments, calls the store, and wraps the
//! result in the envelope; store errors become responses through [`ApiError`].

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use lab_kit::ReplyPermit;
use serde::{Deserialize, Serialize};
use user_store::{NewUser, StoreError, User, UserStore, UserUpdate};
use uuid::Uuid;

use crate::config::Config;
use crate::envelope::{Deleted, ErrorBody, Success, success};
use crate::error::ApiError;
use crate::extract::AppJson;

/// Body of `POST /api/users`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub(crate) struct CreateUserRequest {
    /// Display name: 1 to 100 characters once trimmed.
    #[serde(default)]
    pub name: Option<String>,
    /// Email shaped `local@domain.tld`, at most 254 characters, unique ignoring case.
    #[serde(default)]
    pub email: Option<String>,
}

/// Body of `PUT /api/users/{id}`: either field or both.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub(crate) struct UpdateUserRequest {
    /// New display name, if it changes.
    #[serde(default)]
    pub name: Option<String>,
    /// New email, if it changes.
    #[serde(default)]
    pub email: Option<String>,
}

/// Query of `GET /api/users/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// Text to look for in names and emails, ignoring case.
    pub q: Option<String>,
}

/// `GET /api/users`: every user, in creation order.
#[utoipa::path(get, path = "/api/users", tag = "users",
    responses((status = 200, description = "All users, in creation order", body = Success<Vec<User>>)))]
pub(crate) async fn list_users(
    State(state): State<Config>,
) -> (Extension<ReplyPermit>, Json<Success<Vec<User>>>) {
    let permit = reserve_list(&state).await;
    (permit, success(state.store.list()))
}

/// `GET /api/users/{id}`: one user.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses(
        (status = 200, description = "The user", body = Success<User>),
        (status = 404, description = "No user has this id (or it is not a UUID)", body = ErrorBody),
    ))]
pub(crate) async fn get_user(
    State(state): State<Config>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Success<User>>, ApiError> {
    let id = user_id(id)?;
    Ok(success(state.store.get(id)?))
}

/// `POST /api/users`: creates a user; 201 with its `Location`.
#[utoipa::path(post, path = "/api/users", tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created; Location: /api/users/{id}", body = Success<User>),
        (status = 400, description = "Malformed JSON, or a missing, blank or invalid field", body = ErrorBody),
        (status = 409, description = "Another user has this email", body = ErrorBody),
        (status = 413, description = "Body over the server's limit", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    ))]
pub(crate) async fn create_user(
    State(state): State<Config>,
    AppJson(body): AppJson<CreateUserRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let name = body.name.ok_or_else(|| required("name"))?;
    let email = body.email.ok_or_else(|| required("email"))?;
    let user = state.store.create(NewUser { name, email })?;
    let location = format!("/api/users/{}", user.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        success(user),
    ))
}

/// `PUT /api/users/{id}`: changes the name and/or email.
#[utoipa::path(put, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id (UUID)")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = Success<User>),
        (status = 400, description = "Malformed JSON, no field given, or an invalid field", body = ErrorBody),
        (status = 404, description = "No user has this id", body = ErrorBody),
        (status = 409, description = "Another user has this email", body = ErrorBody),
        (status = 413, description = "Body over the server's limit", body = ErrorBody),
        (status = 415, description = "Body not sent as application/json", body = ErrorBody),
    ))]
pub(crate) async fn update_user(
    State(state): State<Config>,
    id: Result<Path<String>, PathRejection>,
    AppJson(body): AppJson<UpdateUserRequest>,
) -> Result<Json<Success<User>>, ApiError> {
    let id = user_id(id)?;
    let update = UserUpdate {
        name: body.name,
        email: body.email,
    };
    Ok(success(state.store.update(id, update)?))
}

/// `DELETE /api/users/{id}`: removes a user.
#[utoipa::path(delete, path = "/api/users/{id}", tag = "users",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 404, description = "No user has this id", body = ErrorBody),
    ))]
pub(crate) async fn delete_user(
    State(state): State<Config>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Deleted>, ApiError> {
    let id = user_id(id)?;
    let user = state.store.delete(id)?;
    Ok(Json(Deleted {
        status: "success",
        message: format!("User {} deleted", user.id),
    }))
}

/// `GET /api/users/search?q=...`: users whose name or email contains `q`, ignoring case.
#[utoipa::path(get, path = "/api/users/search", tag = "users",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching users, in creation order", body = Success<Vec<User>>),
        (status = 400, description = "q is missing or blank", body = ErrorBody),
    ))]
pub(crate) async fn search_users(
    State(state): State<Config>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<(Extension<ReplyPermit>, Json<Success<Vec<User>>>), ApiError> {
    let Query(params) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {}", e.body_text())))?;
    let q = params.q.ok_or_else(|| {
        ApiError::BadRequest("query parameter q is required, as in /api/users/search?q=jo".into())
    })?;
    let permit = reserve_list(&state).await;
    Ok((permit, success(state.store.search(&q)?)))
}

/// Memory a listed user takes in a reply until it is sent: its JSON (about 140 bytes)
/// with room for the buffer's growth.
const LIST_BYTES_PER_USER: usize = 320;

/// Waits for the reply budget a list of every user needs; the connection holds the
/// permit until the reply has been read (see [`lab_kit::budget`]).
async fn reserve_list(state: &Config) -> Extension<ReplyPermit> {
    let bytes = state.store.len().saturating_mul(LIST_BYTES_PER_USER);
    Extension(state.reply_budget.reserve(bytes).await)
}

/// Any id that names no user, whatever its shape, is a 404.
fn user_id(path: Result<Path<String>, PathRejection>) -> Result<Uuid, ApiError> {
    let Path(raw) = path.map_err(|_| StoreError::NotFound {
        id: "(unreadable)".into(),
    })?;
    Ok(UserStore::parse_id(&raw)?)
}

fn required(field: &str) -> ApiError {
    ApiError::Store(StoreError::Invalid(format!("{field} is required")))
}
