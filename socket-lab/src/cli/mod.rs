//! The three binaries of the socket lab, one module per app, so a binary's file tells
//! where its behaviour lives: [`server`] (`socket-server`), [`client`]
//! (`socket-client`: self-test, `send`, `check`), [`interactive`] (`socket-client
//! interactive`) and [`udp_chat`] (`udp-chat`).

pub mod client;
pub(crate) mod interactive;
pub mod server;
pub mod udp_chat;
