//! The three binaries of the socket lab, one module per app, so a binary's file tells
//! where its behaviour lives: [`server`] (`socket-server`), [`client`]
//! (`socket-client`: self-test, `send`, `check`), [`interactive`] (`socket-client
//! interactive`) and [`udp_chat`] (`udp-chat`).

pub mod client;
pub(crate) mod interactive;
pub mod server;
pub mod udp_chat;

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
        super::udp_chat::UdpChatCli::command().debug_assert();
        for args in [
            &["socket-server", "completions", "bash"][..],
            &["socket-server", "--addr", "9000"],
        ] {
            super::server::ServerCli::try_parse_from(args).unwrap();
        }
        super::client::ClientCli::try_parse_from(["socket-client", "check", "--url", "tcp://h:1"])
            .unwrap();
        super::udp_chat::UdpChatCli::try_parse_from(["udp-chat", "completions", "zsh"]).unwrap();
        let version = super::client::ClientCli::command().render_version();
        assert!(version.contains("commit"), "{version}");
    }
}
