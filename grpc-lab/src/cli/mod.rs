//! The binaries of the gRPC lab, one module per app: [`server`] (`grpc-server`),
//! [`client`] (`grpc-client`: self-test, `greet`, `check`), [`demo`], [`interactive`]
//! and [`chat`] (`grpc-client demo|interactive|chat`), and [`peer`] (`grpc-peer`).

pub(crate) mod chat;
pub mod client;
pub(crate) mod demo;
pub(crate) mod interactive;
pub mod peer;
pub mod server;

use crate::pb;

/// One user on one line, as every app shows it.
fn show(user: &pb::User) -> String {
    format!(
        "{} <{}> id={} created_at={}",
        user.name, user.email, user.id, user.created_at
    )
}
