//! `GET /health`: a liveness check for load balancers and container health checks.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::config::Config;
use crate::envelope::{Success, success};

/// What `/health` reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
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
    responses((status = 200, description = "The server is up", body = Success<Health>))
)]
pub(crate) async fn health(State(state): State<Config>) -> Json<Success<Health>> {
    success(Health {
        status: "healthy",
        users: state.store.len(),
    })
}
