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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    /// clap's own checks of each command line (conflicting or missing definitions
    /// panic at start-up otherwise), and what every binary offers: completions,
    /// `--version` with the commit, global options after the subcommand.
    #[test]
    fn every_command_line_is_well_formed() {
        super::server::ServerCli::command().debug_assert();
        super::client::ClientCli::command().debug_assert();
        super::peer::PeerCli::command().debug_assert();
        super::peer::PeerCli::try_parse_from(["grpc-peer", "completions", "bash"]).unwrap();
        assert!(super::peer::PeerCli::try_parse_from(["grpc-peer", "--name", "a"]).is_err());
        let peer = super::peer::PeerCli::try_parse_from([
            "grpc-peer",
            "--name",
            "a",
            "--addr",
            "8001",
            "--peer",
            "127.0.0.1:8000",
        ])
        .unwrap();
        assert_eq!(peer.addr.as_deref(), Some("0.0.0.0:8001"));
        assert_eq!(peer.peer.as_deref(), Some("http://127.0.0.1:8000"));
        super::client::ClientCli::try_parse_from([
            "grpc-client",
            "chat",
            "--name",
            "x",
            "--url",
            "h:1",
        ])
        .unwrap();
        let version = super::server::ServerCli::command().render_version();
        assert!(version.contains("commit"), "{version}");
    }
}
