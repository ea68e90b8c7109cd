//! `grpc-server`: binds its address and serves until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use clap::Parser;
use lab_kit::cli::{ServerArgs, ServerCommand, serve};
use lab_kit::http::HttpArgs;
use user_store::UserStore;

use crate::config::{
    ChatLimits, Config, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MEMBER_QUEUE_BYTES,
};

/// Default address the server listens on.
pub const DEFAULT_ADDR: &str = "0.0.0.0:50051";

lab_kit::server_lab!(
    pub GrpcServer,
    "GRPC",
    DEFAULT_ADDR,
    "Address to listen on: host:port, or a port for every interface.",
    "gRPC server",
    "grpc-server",
    lab_kit::tls::ALPN_H2,
);

/// gRPC server for users.v1.UserService, with health checking and reflection.
#[derive(Debug, Parser)]
#[command(name = "grpc-server", version = lab_kit::build::VERSION)]
pub struct ServerCli {
    /// Where to listen.
    #[command(flatten)]
    pub server: ServerArgs<GrpcServer>,
    /// Start with no users instead of the two demo users.
    #[arg(long)]
    pub empty: bool,
    /// Most members of the chat room at once (1 to 100000); one more is refused with
    /// RESOURCE_EXHAUSTED.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_MEMBERS as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_chat_members: u64,
    /// Largest chat message, sender and text, in bytes (1 to 1048576); a larger one is
    /// not sent and its sender is told.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_chat_message_bytes: u64,
    /// Require `authorization: Bearer TOKEN` metadata on writes (CreateUser,
    /// UpdateUser, DeleteUser, CreateUsers); reads stay open. Compared in constant
    /// time, never logged.
    #[arg(long, value_name = "TOKEN", env = "GRPC_AUTH_TOKEN", hide_env_values = true,
          value_parser = lab_kit::token::token_parser())]
    pub auth_token: Option<lab_kit::token::Token>,
    /// Serve Prometheus metrics at http://ADDR/metrics (call counts by method and
    /// gRPC status, calls in flight, open connections, a latency histogram, the
    /// process's CPU and memory): host:port, or a port for every interface. Off, calls
    /// pay nothing for them.
    #[arg(long, value_name = "ADDR", env = "GRPC_METRICS_ADDR",
          value_parser = lab_kit::args::listen_addr)]
    pub metrics_addr: Option<String>,
    /// The connection policy.
    #[command(flatten)]
    pub http: HttpArgs,
    /// Something other than serving.
    #[command(subcommand)]
    pub command: Option<ServerCommand>,
}

impl ServerCli {
    /// The server these options ask for.
    pub fn config(&self) -> Config {
        let store = if self.empty {
            UserStore::empty()
        } else {
            UserStore::new()
        };
        // Both range-checked by clap, so they fit.
        let max_message_bytes = usize::try_from(self.max_chat_message_bytes).unwrap_or(usize::MAX);
        let chat = ChatLimits {
            max_members: usize::try_from(self.max_chat_members).unwrap_or(usize::MAX),
            max_message_bytes,
            // Room for four of the largest messages, and never less than the default.
            member_queue_bytes: DEFAULT_MEMBER_QUEUE_BYTES.max(4 * max_message_bytes),
            ..ChatLimits::default()
        };
        Config {
            store,
            chat,
            reply_budget: self.http.reply_budget(),
            policy: self.http.policy(),
            auth_token: self.auth_token.clone(),
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound or serving fails.
pub async fn run(cli: ServerCli) -> anyhow::Result<ExitCode> {
    let mut config = cli.config();
    if let (Some(addr), None) = (&cli.metrics_addr, &cli.command) {
        let metrics = lab_kit::exposition::serve_at(addr, "gRPC server").await?;
        config.policy.metrics = Some(crate::server::metrics(metrics));
    }
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
