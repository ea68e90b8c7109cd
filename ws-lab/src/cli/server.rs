//! `ws-server`: binds its address and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use lab_kit::cli::{ServerArgs, ServerCommand, serve};
use lab_kit::connection::ConnectionArgs;
use lab_kit::http::HttpPolicy;

use crate::config::{
    Config, DEFAULT_HOOK_TIMEOUT, DEFAULT_MAX_HOOKS, DEFAULT_MAX_MEMBERS,
    DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_POLL_TIMEOUT,
};

/// Default address the server listens on.
pub const DEFAULT_ADDR: &str = "0.0.0.0:8765";

lab_kit::server_lab!(
    pub WsServer,
    "WS",
    DEFAULT_ADDR,
    "Address to listen on: host:port, or a port for every interface.",
    "WebSocket server",
    "ws-server",
    lab_kit::tls::ALPN_HTTP1,
);

/// WebSocket server: /ws/echo (the socket lab's uppercase echo), /ws/chat?name=NAME (a
/// chat room that pushes every message to every member), the same room as Server-Sent
/// Events (/sse/chat?name=NAME), by long polling (/poll/chat?after=N; POST
/// publishes) and as webhooks (POST /hooks), /health.
#[derive(Debug, Parser)]
#[command(name = "ws-server", version = lab_kit::build::VERSION)]
pub struct ServerCli {
    /// Where to listen.
    #[command(flatten)]
    pub server: ServerArgs<WsServer>,
    /// Largest message a client may send, in bytes (1 to 16 MiB); a larger one closes
    /// the connection with code 1009.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=16 * 1024 * 1024))]
    pub max_message_bytes: u64,
    /// Most chat members at once (1 to 100000); one more is refused with 503.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_MEMBERS as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_chat_members: u64,
    /// Longest a long poll (`GET /poll/chat`) waits for an event before it answers with
    /// none (up to 5m): `20s`, `1m`.
    #[arg(long, value_name = "DURATION", default_value_t = lab_kit::args::Span(DEFAULT_POLL_TIMEOUT),
          value_parser = lab_kit::args::span_up_to(std::time::Duration::from_secs(300)))]
    pub poll_timeout: lab_kit::args::Span,
    /// A host besides loopback that a webhook may call back (repeat for more); any
    /// other is refused with 403, so the server cannot be aimed at other machines.
    #[arg(long = "hook-allow", value_name = "HOST")]
    pub hook_allow: Vec<String>,
    /// Most webhooks at once (1 to 10000); one more is refused with 503.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_HOOKS as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_hooks: u64,
    /// Longest one webhook delivery attempt may take (up to 1m); three attempts an
    /// event.
    #[arg(long, value_name = "DURATION", default_value_t = lab_kit::args::Span(DEFAULT_HOOK_TIMEOUT),
          value_parser = lab_kit::args::span_up_to(std::time::Duration::from_secs(60)))]
    pub hook_timeout: lab_kit::args::Span,
    /// Serve Prometheus metrics at /metrics on this port (request counts by route,
    /// method and status, in-flight requests, open connections, a latency histogram,
    /// the process's CPU and memory); off, requests pay nothing for them.
    #[arg(long, env = "WS_METRICS")]
    pub metrics: bool,
    /// The connection cap and idle timeout (the idle timeout counts from the last frame
    /// a client sent; pings go out at least twice within it).
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

impl ServerCli {
    /// The server these options ask for.
    pub fn config(&self) -> Config {
        Config {
            // Range-checked by clap, so they fit.
            max_message_bytes: usize::try_from(self.max_message_bytes).unwrap_or(usize::MAX),
            max_members: usize::try_from(self.max_chat_members).unwrap_or(usize::MAX),
            poll_timeout: self.poll_timeout.get(),
            hook_allow: self.hook_allow.clone(),
            max_hooks: usize::try_from(self.max_hooks).unwrap_or(usize::MAX),
            hook_timeout: self.hook_timeout.get(),
            policy: HttpPolicy {
                max_connections: self.connection.max_connections(),
                max_connections_per_address: self.connection.max_connections_per_address(),
                idle_timeout: self.connection.idle_timeout.get(),
                metrics: self
                    .metrics
                    .then(|| crate::server::metrics(lab_kit::metrics::ServerMetrics::new())),
                ..HttpPolicy::default()
            },
            ..Config::default()
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound.
pub async fn run(cli: ServerCli) -> anyhow::Result<ExitCode> {
    let config = cli.config();
    serve::<ServerCli, _, _, _, _>(
        &cli.server,
        cli.command.as_ref(),
        |listener, tls, shutdown| {
            let mut config = config;
            config.policy.tls = tls;
            crate::run(listener, config, shutdown)
        },
    )
    .await
}
