//! The REST lab: user CRUD over HTTP/JSON with axum, and a reqwest client.
//!
//! Run the server with `cargo run -p rest-lab --bin rest-server` and its self-test client
//! with `cargo run -p rest-lab --bin rest-client`. The pieces:
//!
//! - [`app`]: the [`Router`](axum::Router) with every route, built from an [`AppState`].
//! - [`routes`]: one file per route group (`users`, `health`).
//! - [`error`]: [`ApiError`], the one place store errors and rejections become responses.
//! - [`extract`]: the JSON body extractor that answers in our envelope (400/413/415).
//! - [`openapi`]: the OpenAPI 3 document served at `/api/openapi.json`.
//! - [`server`]: [`run`], serving HTTP/1.1 and HTTP/2 cleartext with graceful shutdown.
//! - [`client`]: [`RestClient`], shared by the self-test, the interactive mode and the benchmark.

pub mod app;
pub mod cli;
pub mod client;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;
pub mod selftest;
pub mod server;

pub use app::{AppState, app};
pub use client::{RestClient, RestError};
pub use error::ApiError;
pub use lab_kit::http::HttpPolicy;
pub use server::run;

/// Default address the server listens on.
pub const DEFAULT_LISTEN_ADDR: &str = "0.0.0.0:5000";
/// Default base URL the client talks to.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5000";
/// Default limit on a request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
