//! `socket-server`: binds its address and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use lab_kit::cli::{ServerArgs, ServerCommand, serve};
use lab_kit::connection::ConnectionArgs;

use crate::protocol::DEFAULT_MAX_LINE_BYTES;
use crate::server::ServerConfig;

/// Default address the server listens on.
pub const DEFAULT_ADDR: &str = "0.0.0.0:8080";

lab_kit::server_lab!(
    pub SocketServer,
    "SOCKET",
    DEFAULT_ADDR,
    "Address to listen on: host:port, or a port for every interface.",
    "socket server",
    "socket-server",
    &[],
);

/// The largest `--max-line-bytes` accepted: a line is held in memory whole.
const MAX_LINE_BYTES_LIMIT: u64 = 16 * 1024 * 1024;

/// TCP server that upper-cases text sent as JSON lines:
/// {"message": "hi"} -> {"status":"ok","message":"HI"}.
#[derive(Debug, Parser)]
#[command(name = "socket-server", version = lab_kit::build::VERSION)]
pub struct ServerCli {
    /// Where to listen.
    #[command(flatten)]
    pub server: ServerArgs<SocketServer>,
    /// Longest request line accepted, in bytes (newline excluded, 1 to 16 MiB); a
    /// longer line gets an error reply and its connection is closed.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_LINE_BYTES_LIMIT))]
    pub max_line_bytes: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics (lines answered, ok or error,
    /// lines in flight, open connections, a latency histogram, the process's CPU and
    /// memory): host:port, or a port for every interface. Off, lines pay nothing for
    /// them.
    #[arg(long, value_name = "ADDR", env = "SOCKET_METRICS_ADDR",
          value_parser = lab_kit::args::listen_addr)]
    pub metrics_addr: Option<String>,
    /// The connection cap and idle timeout (a connection gets the idle timeout to send
    /// a complete line, and to read its reply).
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

impl ServerCli {
    /// The server limits these options ask for.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            // At most 16 MiB (checked by clap), so it fits any usize this builds for.
            max_line_bytes: usize::try_from(self.max_line_bytes).unwrap_or(usize::MAX),
            max_connections: self.connection.max_connections(),
            max_connections_per_address: self.connection.max_connections_per_address(),
            idle_timeout: self.connection.idle_timeout.get(),
            ..ServerConfig::default()
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound.
pub async fn run(cli: ServerCli) -> anyhow::Result<ExitCode> {
    let mut config = cli.config();
    if let (Some(addr), None) = (&cli.metrics_addr, &cli.command) {
        config.metrics = Some(lab_kit::exposition::serve_at(addr, "socket server").await?);
    }
    serve::<ServerCli, _, _, _, _>(
        &cli.server,
        cli.command.as_ref(),
        |listener, tls, shutdown| {
            let mut config = config;
            config.tls = tls;
            crate::run(listener, config, shutdown)
        },
    )
    .await
}
