//! The binaries of the WebSocket lab, one module per app: [`server`] (`ws-server`),
//! [`client`] (`ws-client`: self-test, `send`, `check`), [`interactive`] and [`chat`]
//! (`ws-client interactive|chat`), [`listen`] (`ws-client sse|poll|hook`).

pub(crate) mod chat;
pub mod client;
pub(crate) mod interactive;
pub(crate) mod listen;
pub mod server;

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    /// clap's own checks of each command line, and the shared conventions.
    #[test]
    fn every_command_line_is_well_formed() {
        super::server::ServerCli::command().debug_assert();
        super::client::ClientCli::command().debug_assert();
        let server =
            super::server::ServerCli::try_parse_from(["ws-server", "--addr", "9000"]).unwrap();
        assert_eq!(server.server.addr, "0.0.0.0:9000");
        let client = super::client::ClientCli::try_parse_from([
            "ws-client",
            "chat",
            "--name",
            "ann",
            "--url",
            "127.0.0.1:1",
            "--timeout",
            "1.5s",
        ])
        .unwrap();
        assert_eq!(client.target.url, "ws://127.0.0.1:1");
        super::client::ClientCli::try_parse_from(["ws-client", "completions", "bash"]).unwrap();
    }
}
