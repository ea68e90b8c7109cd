//! The socket lab: a TCP server that upper-cases text, speaking one JSON object per line.
//!
//! ```text
//! -> {"message": "straße", "id": 7}
//! <- {"status":"ok","message":"STRASSE","id":7}
//! ```
//!
//! Run the server with `cargo run -p socket-lab --bin socket-server` and its self-test
//! client with `cargo run -p socket-lab --bin socket-client`. The pieces:
//!
//! - [`protocol`]: the wire format and the pure request-to-reply step (no sockets).
//! - `connection`: line framing over a TCP stream, with the line-length limit.
//! - `server`: [`run`], the accept loop, connection cap, idle timeout and graceful
//!   shutdown, configured by one [`ServerConfig`].
//! - [`client`]: a [`Client`] that the self-test suite and the benchmark both use.
//! - [`selftest`]: the client's self-test suite.
//! - [`udp_chat`]: the UDP group chat behind the `udp-chat` binary.
//! - [`cli`]: the binaries, one module per app.

pub mod cli;
pub mod client;
mod connection;
pub mod protocol;
pub mod selftest;
mod server;
pub mod udp_chat;

pub use client::{Client, ClientError};
pub use server::{DEFAULT_DRAIN_TIMEOUT, ServerConfig, run};
