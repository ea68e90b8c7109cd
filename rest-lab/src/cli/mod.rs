//! The binaries of the REST lab, one module per app: [`server`] (`rest-server`),
//! [`client`] (`rest-client`: self-test, `check`) and [`interactive`] (`rest-client
//! interactive`).

pub mod client;
pub(crate) mod interactive;
pub mod server;

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
        super::server::ServerCli::try_parse_from(["rest-server", "completions", "fish"]).unwrap();
        let cli = super::client::ClientCli::try_parse_from([
            "rest-client",
            "check",
            "--url",
            "127.0.0.1:1",
            "--timeout",
            "300ms",
        ])
        .unwrap();
        assert_eq!(cli.target.url, "http://127.0.0.1:1");
        assert_eq!(
            cli.target.timeout.get(),
            std::time::Duration::from_millis(300)
        );
        let version = super::server::ServerCli::command().render_version();
        assert!(version.contains("commit"), "{version}");
    }
}
