//! `GET /health`: a liveness check for load balancers and container health checks.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::{Success, success};
use crate::app::AppState;

/// What `/health` reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `"healthy"` when the server answers.
    pub status: &'static str,
    /// How many users the store holds.
    pub users: usize,
}

/// `GET /health`: 200 while the server runs.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses((status = 200, description = "The server is up", body = inline(crate::openapi::HealthEnvelope)))
)]
pub async fn health(State(state): State<AppState>) -> Json<Success<Health>> {
    success(Health {
        status: "healthy",
        users: state.store.len(),
    })
}
