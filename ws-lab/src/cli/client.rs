//! `ws-client`: the self-test suite (the default), `send` and `check`; `interactive`,
//! `chat` and `sse|poll|hook` live in their own modules.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use lab_kit::args::url_authority;
use lab_kit::cli::ClientArgs;
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Lab, Tone, explained_over, paint};

use lab_kit::tls::ClientTls;

use crate::client::{ECHO_PATH, WsClient, WsError};
use crate::selftest::run_self_test_over;

/// Default server the client talks to.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:8765";

lab_kit::client_lab!(
    pub WsTarget,
    "WS_URL",
    DEFAULT_URL,
    "The server: ws://host:port, wss://host:port for TLS (host:port alone means ws://).",
    lab_kit::args::ws_url
);

/// Client for the WebSocket lab's server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "ws-client", version = lab_kit::build::VERSION)]
pub struct ClientCli {
    /// The server and how long to wait for it.
    #[command(flatten)]
    pub target: ClientArgs<WsTarget>,
    /// What to do (default: test).
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
}

/// What `ws-client` does.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Run the self-test suite (the default).
    Test,
    /// Send each TEXT on one echo connection and print each reply; fails if any is
    /// refused.
    Send {
        /// Texts to upper-case.
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Type lines at a prompt; each is sent on one kept-open echo connection and its
    /// reply printed. Ctrl-D leaves, Ctrl-C too (status 130).
    Interactive,
    /// Join the chat room: lines typed are sent, everything the room pushes is printed.
    Chat {
        /// Your name in the room.
        #[arg(long)]
        name: String,
    },
    /// Listen to the chat room as Server-Sent Events and print what it pushes.
    Sse {
        /// Your name in the room.
        #[arg(long)]
        name: String,
        /// Resume after this event (what a reconnecting browser sends).
        #[arg(long, value_name = "N")]
        last_event_id: Option<u64>,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Listen to the chat room by long polling and print each event.
    Poll {
        /// Start after this event (default: only new ones).
        #[arg(long, value_name = "N")]
        after: Option<u64>,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Serve a callback, register it as a webhook, print each event the server POSTs
    /// to it; the hook is removed on the way out.
    Hook {
        /// Where the callback listens (the server must be allowed to reach it:
        /// loopback, or a host given to ws-server --hook-allow).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        listen: String,
        /// Stop after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Exit 0 when the echo endpoint answers one request correctly (for health checks).
    Check,
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs the chosen client command, printing to stdout; returns the exit status.
///
/// # Errors
///
/// When the server cannot be reached, explained in one line.
pub async fn run(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let timeout = cli.target.timeout.get();
    let url = cli.target.url.as_str();
    let secure = lab_kit::args::is_tls_url(url);
    let tls = secure.then(|| cli.target.tls.client_tls(&[])).transpose()?;
    let tls = tls.as_ref();
    let result = match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test_over(url, timeout, tls, std::io::stdout()).await;
            return Ok(summary.exit_code());
        }
        ClientCommand::Completions(shell) => {
            print_completions::<ClientCli>(&shell);
            return Ok(ExitCode::SUCCESS);
        }
        ClientCommand::Send { text } => send(url, timeout, tls, &text).await,
        ClientCommand::Check => check(url, timeout, tls).await,
        ClientCommand::Interactive => super::interactive::run(url, timeout, tls).await,
        ClientCommand::Chat { name } => super::chat::run(url, timeout, tls, &name).await,
        ClientCommand::Sse {
            name,
            last_event_id,
            count,
        } => super::listen::sse(url, timeout, tls, &name, last_event_id, count).await,
        ClientCommand::Poll { after, count } => {
            super::listen::poll(url, timeout, tls, after, count).await
        }
        ClientCommand::Hook { listen, count } => {
            super::listen::hook(url, timeout, tls, &listen, count).await
        }
    };
    explained_over(result, Lab::Ws, &url_authority(url), timeout, secure).await
}

async fn send(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    texts: &[String],
) -> anyhow::Result<ExitCode> {
    let mut client = WsClient::open(&format!("{url}{ECHO_PATH}"), timeout, tls).await?;
    let mut refused = 0;
    for text in texts {
        match client.uppercase(text).await {
            Ok(reply) => println!("{reply}"),
            Err(WsError::Refused(reason)) => {
                refused += 1;
                println!("{} {reason}", paint(Tone::Bad, "refused:"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    client.close().await;
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn check(url: &str, timeout: Duration, tls: Option<&ClientTls>) -> anyhow::Result<ExitCode> {
    let mut client = WsClient::open(&format!("{url}{ECHO_PATH}"), timeout, tls).await?;
    let reply = client.uppercase("health check").await?;
    anyhow::ensure!(reply == "HEALTH CHECK", "unexpected reply {reply:?}");
    client.close().await;
    println!("ok: {url} answers");
    Ok(ExitCode::SUCCESS)
}
