//! The binaries of the REST lab, one module per app: [`server`] (`rest-server`),
//! [`client`] (`rest-client`: self-test, `check`) and [`interactive`] (`rest-client
//! interactive`).

pub mod client;
pub(crate) mod interactive;
pub mod server;
