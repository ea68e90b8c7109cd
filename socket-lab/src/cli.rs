//! The command lines of `socket-server` and `socket-client`, and what each does.
//!
//! They live in the library so tests can drive them with `parse_from` and so the
//! binaries stay a few lines long.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::client::{Client, ClientError};
use crate::protocol::DEFAULT_MAX_LINE_BYTES;
use crate::selftest::run_self_test;
use crate::server::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS, ServerConfig};
use crate::{DEFAULT_CONNECT_ADDR, DEFAULT_LISTEN_ADDR};
use lab_kit::connection::MAX_IDLE_TIMEOUT_SECS;

/// TCP server that upper-cases text sent as JSON lines:
/// {"message": "hi"} -> {"status":"ok","message":"HI"}.
#[derive(Debug, Parser)]
#[command(name = "socket-server", version)]
pub struct ServerCli {
    /// Address to listen on.
    #[arg(long, env = "SOCKET_ADDR", default_value = DEFAULT_LISTEN_ADDR)]
    pub addr: String,
    /// Longest request line accepted, in bytes (newline excluded, 1 to 16 MiB); a
    /// longer line gets an error reply and its connection is closed.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_LINE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_LINE_BYTES_LIMIT))]
    pub max_line_bytes: u64,
    /// Most connections served at once; further ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds (1 to 86400) a connection may take to send a complete line, or leave its
    /// replies unread, before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=MAX_IDLE_TIMEOUT_SECS))]
    pub idle_timeout: u64,
}

/// The largest `--max-line-bytes` accepted: a line is held in memory whole.
const MAX_LINE_BYTES_LIMIT: u64 = 16 * 1024 * 1024;

impl ServerCli {
    /// The server limits these options ask for.
    pub fn config(&self) -> ServerConfig {
        ServerConfig {
            // At most 16 MiB (checked by clap), so it fits any usize this builds for.
            max_line_bytes: usize::try_from(self.max_line_bytes).unwrap_or(usize::MAX),
            max_connections: self.max_connections,
            idle_timeout: Duration::from_secs(self.idle_timeout),
            ..ServerConfig::default()
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound.
pub async fn serve(cli: ServerCli) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cli.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "socket server listening");
    crate::run(listener, cli.config(), lab_kit::shutdown_signal()).await?;
    tracing::info!("socket server stopped");
    Ok(())
}

/// Client for the socket lab's uppercase server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "socket-client", version)]
pub struct ClientCli {
    /// Server address (host:port).
    #[arg(long, env = "SOCKET_ADDR", default_value = DEFAULT_CONNECT_ADDR)]
    pub addr: String,
    /// Seconds to wait for a connection or a reply.
    #[arg(long, value_name = "SECS", default_value = lab_kit::args::DEFAULT_CLIENT_TIMEOUT_SECS,
          value_parser = lab_kit::args::parse_secs)]
    pub timeout: Duration,
    /// What to do (default: test).
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
}

/// What `socket-client` does.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Run the self-test suite (the default).
    Test,
    /// Send each TEXT as one request and print each reply.
    Send {
        /// Texts to upper-case.
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Type lines at a prompt; each is sent and its reply printed. Ctrl-D or Ctrl-C leaves.
    Interactive,
    /// Exit 0 when the server answers one request correctly (for health checks).
    Check,
}

/// Runs the chosen client command, printing to stdout; returns the exit code.
///
/// # Errors
///
/// When the server cannot be reached or fails (the self-test reports failures through
/// the exit code instead).
pub async fn client(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let timeout = cli.timeout;
    let addr = cli.addr.as_str();
    match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test(addr, timeout, std::io::stdout()).await;
            Ok(summary.exit_code())
        }
        ClientCommand::Send { text } => {
            let mut client = Client::connect(addr, timeout).await?;
            for text in &text {
                println!("{}", describe(client.uppercase(text).await)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Check => {
            let mut client = Client::connect(addr, timeout).await?;
            let reply = client.uppercase("health check").await?;
            anyhow::ensure!(reply == "HEALTH CHECK", "unexpected reply {reply:?}");
            println!("ok: {addr} answers");
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Interactive => {
            interactive(addr, timeout).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A refused request is printed and the session goes on; a broken connection ends it.
fn describe(result: Result<String, ClientError>) -> anyhow::Result<String> {
    match result {
        Ok(text) => Ok(text),
        Err(ClientError::Refused(reason)) => Ok(format!("error: {reason}")),
        Err(e) => Err(e.into()),
    }
}

async fn interactive(addr: &str, timeout: Duration) -> anyhow::Result<()> {
    let mut client = Client::connect(addr, timeout).await?;
    println!("Connected to {addr}. Type a line to upper-case it; Ctrl-D or Ctrl-C to leave.");
    let mut prompt = lab_kit::Prompt::new();
    while let Some(line) = prompt.next_line().await? {
        println!("{}", describe(client.uppercase(&line).await)?);
    }
    Ok(())
}

/// UDP group chat: each line you type goes as one datagram to every peer you know;
/// peers are also learned from whoever writes to you.
#[derive(Debug, Parser)]
#[command(name = "udp-chat", version)]
pub struct UdpChatCli {
    /// UDP port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8081)]
    pub port: u16,
    /// Address to bind the port on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: String,
    /// A participant to write to, as host:port; repeat the flag for several.
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<String>,
    /// Your name in the chat (default: user-PORT).
    #[arg(long)]
    pub name: Option<String>,
    /// First send N numbered messages as fast as possible, to show what UDP loses.
    #[arg(long, value_name = "N")]
    pub flood: Option<u64>,
    /// Most peers kept (1 to 10000); datagrams from further new addresses are ignored.
    #[arg(long, value_name = "N", default_value_t = crate::udp_chat::DEFAULT_MAX_PEERS as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_peers: u64,
}

/// Runs the UDP chat until Ctrl-D or Ctrl-C, then tells every peer it left.
///
/// # Errors
///
/// When the port cannot be bound or a peer address cannot be resolved.
pub async fn udp_chat(cli: UdpChatCli) -> anyhow::Result<()> {
    use std::sync::Arc;

    use crate::udp_chat::{ChatError, ChatPeer, describe};

    let name = cli.name.unwrap_or_else(|| format!("user-{}", cli.port));
    let peer = ChatPeer::bind((cli.bind.as_str(), cli.port), name.clone())
        .await
        .with_context(|| format!("cannot bind UDP {}:{}", cli.bind, cli.port))?
        .with_max_peers(usize::try_from(cli.max_peers).unwrap_or(usize::MAX));
    anyhow::ensure!(
        cli.peers.len() <= usize::try_from(cli.max_peers).unwrap_or(usize::MAX),
        "{} --peer addresses but --max-peers {}: raise --max-peers",
        cli.peers.len(),
        cli.max_peers
    );
    for address in &cli.peers {
        let mut resolved = tokio::net::lookup_host(address.as_str())
            .await
            .with_context(|| format!("cannot resolve peer {address}"))?;
        let first = resolved
            .next()
            .with_context(|| format!("peer {address} resolves to no address"))?;
        let _ = peer.add_peer(first);
    }
    let peer = Arc::new(peer);
    println!(
        "UDP chat on {} as {name}; peers: {}. Type to talk; Ctrl-D leaves.",
        peer.local_addr()?,
        if cli.peers.is_empty() {
            "none yet (they are learned from who writes to you)".to_owned()
        } else {
            cli.peers.join(", ")
        }
    );
    peer.join().await?;

    let listener = Arc::clone(&peer);
    let receiving = tokio::spawn(async move {
        loop {
            match listener.receive().await {
                Ok(events) => events.iter().for_each(|e| println!("{}", describe(e))),
                Err(e) => {
                    println!("! receiving failed: {e}");
                    break;
                }
            }
        }
    });

    if let Some(count) = cli.flood {
        for i in 1..=count {
            peer.say(&format!("flood #{i} of {count}")).await?;
        }
        println!("* sent {count} messages as fast as possible");
    }

    let mut prompt = lab_kit::Prompt::unmarked();
    while let Some(line) = prompt.next_line().await? {
        match peer.say(&line).await {
            Ok(()) => {}
            Err(e @ ChatError::TooLong { .. }) => println!("! {e}"),
            Err(e) => return Err(e.into()),
        }
    }
    peer.leave().await?;
    receiving.abort();
    println!("* you left the chat");
    Ok(())
}
