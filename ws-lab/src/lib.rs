//! The WebSocket lab: the full-duplex push pattern beside the three request/response
//! labs. An axum server with two endpoints, and a tokio-tungstenite client.
//!
//! - `/ws/echo`: each text message is the socket lab's request and gets exactly the
//!   socket lab's reply (its [`protocol`](socket_lab::protocol) step is reused), over a
//!   connection that stays open.
//! - `/ws/chat?name=NAME`: a room; every message is pushed to every member, who never
//!   asks for it.
//! - `/sse/chat?name=NAME` and `/poll/chat`: the same room as Server-Sent Events
//!   (resumable by `Last-Event-ID`) and by long polling (`?after=N`; `POST` publishes).
//! - `/hooks`: webhooks; the server POSTs every event to each registered callback.
//!
//! Leaves first: [`config`] (every limit), [`event`] (the chat's wire events); then
//! [`echo`] and [`chat`] (the sessions), [`server`] ([`run`]), [`client`], [`selftest`],
//! and [`cli`] (the binaries, one module per app).

pub mod chat;
pub mod cli;
pub mod client;
pub mod config;
pub mod echo;
pub mod event;
pub mod hooks;
pub mod poll;
pub mod selftest;
pub mod server;
mod session;
mod sse;

pub use client::{WsClient, WsError};
pub use config::Config;
pub use server::{ServerError, app, run};
