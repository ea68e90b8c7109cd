//! The REST lab: user CRUD over HTTP/JSON with axum, and a reqwest client.
//!
//! Run the server with `cargo run -p rest-lab --bin rest-server` and its self-test client
//! with `cargo run -p rest-lab --bin rest-client`. The pieces:
//!
//! Leaves first; each module imports only those above it:
//!
//! - [`config`]: [`Config`], the store and every limit (the handlers' state too).
//! - [`envelope`]: the success and error envelopes on the wire.
//! - [`error`]: [`ApiError`], the one place store errors and rejections become responses.
//! - [`extract`]: the JSON body extractor that answers in our envelope (400/413/415).
//! - `routes`: the handlers, one file per route group (`users`, `health`).
//! - [`openapi`]: the OpenAPI 3 document, derived from the handlers and the real types.
//! - `router`: [`app`], every route and layer; `server`: [`run`], serving it.
//! - [`client`]: [`RestClient`], shared by the self-test, the interactive mode and the benchmark.
//! - [`cli`]: the binaries, one module per app.

pub mod cli;
pub mod client;
pub mod config;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod openapi;
mod router;
mod routes;
pub mod selftest;
mod server;

pub use client::{RestClient, RestError};
pub use config::Config;
pub use error::ApiError;
pub use lab_kit::http::HttpPolicy;
pub use router::app;
pub use server::run;
