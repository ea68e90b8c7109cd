//! `rest-server`: binds its address and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use lab_kit::args::{Span, span_up_to};
use lab_kit::cli::{ServerArgs, ServerCommand, serve};
use lab_kit::http::{HttpArgs, HttpPolicy};
use user_store::UserStore;

use crate::config::{Config, DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT};

/// Default address the server listens on.
pub const DEFAULT_ADDR: &str = "0.0.0.0:5000";

lab_kit::server_lab!(
    pub RestServer,
    "REST",
    DEFAULT_ADDR,
    concat!(
        "Address to listen on: host:port, or a port for every interface (HTTP/1.1 and ",
        "HTTP/2 cleartext on the same port)."
    ),
    "REST server",
    "rest-server",
    lab_kit::tls::ALPN_HTTP,
);

/// The largest `--max-body-bytes` accepted: a body is held in memory whole.
const MAX_BODY_BYTES_LIMIT: u64 = 1 << 30;

/// REST server for user CRUD: /api/users, /api/users/{id}, /api/users/search, /health.
#[derive(Debug, Parser)]
#[command(name = "rest-server", version = lab_kit::build::VERSION)]
pub struct ServerCli {
    /// Where to listen.
    #[command(flatten)]
    pub server: ServerArgs<RestServer>,
    /// Start with no users instead of the two demo users.
    #[arg(long)]
    pub empty: bool,
    /// Largest request body accepted, in bytes (1 to 1073741824); larger bodies get 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_BODY_BYTES_LIMIT))]
    pub max_body_bytes: u64,
    /// How long (up to 24h) a client gets to send a request's headers (then the
    /// connection is closed), and again for the rest of the request (then 408).
    #[arg(long, value_name = "DURATION", default_value_t = Span(DEFAULT_REQUEST_TIMEOUT),
          value_parser = span_up_to(lab_kit::connection::MAX_IDLE_TIMEOUT))]
    pub request_timeout: Span,
    /// Require `Authorization: Bearer TOKEN` on writes (create, update, delete); reads
    /// stay open. Compared in constant time, never logged.
    #[arg(long, value_name = "TOKEN", env = "REST_AUTH_TOKEN", hide_env_values = true,
          value_parser = lab_kit::token::token_parser())]
    pub auth_token: Option<lab_kit::token::Token>,
    /// Serve Prometheus metrics at /metrics on this port (request counts by route,
    /// method and status, in-flight requests, open connections, a latency histogram,
    /// the process's CPU and memory); off, requests pay nothing for them.
    #[arg(long, env = "REST_METRICS")]
    pub metrics: bool,
    /// The connection policy.
    #[command(flatten)]
    pub http: HttpArgs,
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

impl ServerCli {
    /// The server these options ask for: `--request-timeout` also bounds the time to
    /// send a request's headers.
    pub fn config(&self) -> Config {
        let store = if self.empty {
            UserStore::empty()
        } else {
            UserStore::new()
        };
        Config {
            store,
            // At most 1 GiB (checked by clap), so it fits.
            max_body_bytes: usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX),
            request_timeout: self.request_timeout.get(),
            reply_budget: self.http.reply_budget(),
            policy: HttpPolicy {
                header_timeout: self.request_timeout.get(),
                ..self.http.policy()
            },
            auth_token: self.auth_token.clone(),
            metrics: self.metrics.then(lab_kit::metrics::ServerMetrics::new),
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound or serving fails.
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
