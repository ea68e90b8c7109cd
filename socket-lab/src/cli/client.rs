//! `socket-client`: the self-test suite (the default), `send`, `check`, and the
//! prompt of [`interactive`](super::interactive).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lab_kit::cli::ClientArgs;
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Lab, Tone, explained_over, paint};

use crate::client::{Client, ClientError, Dial};
use crate::selftest::run_self_test_over;

/// Default server the client talks to.
pub const DEFAULT_URL: &str = "127.0.0.1:8080";

lab_kit::client_lab!(
    pub SocketTarget,
    "SOCKET_URL",
    DEFAULT_URL,
    "The server: host:port or tcp://host:port.",
    lab_kit::args::tcp_target
);

/// Client for the socket lab's uppercase server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "socket-client", version = lab_kit::build::VERSION)]
pub struct ClientCli {
    /// The server and how long to wait for it.
    #[command(flatten)]
    pub target: ClientArgs<SocketTarget>,
    /// What to do (default: test).
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
}

/// What `socket-client` does.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Run the self-test suite (the default).
    Test,
    /// Send each TEXT as one request and print each reply; fails if any is refused.
    Send {
        /// Texts to upper-case.
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Type lines at a prompt; each is sent and its reply printed. `help` lists the
    /// commands; Ctrl-D leaves, Ctrl-C too (status 130).
    Interactive,
    /// Exit 0 when the server answers one request correctly (for health checks).
    Check,
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs the chosen client command, printing to stdout; returns the exit status.
///
/// # Errors
///
/// When the server cannot be reached or fails, explained in one line (the self-test
/// reports failures through the exit status instead).
pub async fn run(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let timeout = cli.target.timeout.get();
    let dial = Dial::from_url(&cli.target.url, &cli.target.tls)?;
    let addr = dial.addr.as_str();
    let result = match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test_over(&dial, timeout, std::io::stdout()).await;
            return Ok(summary.exit_code());
        }
        ClientCommand::Completions(shell) => {
            print_completions::<ClientCli>(&shell);
            return Ok(ExitCode::SUCCESS);
        }
        ClientCommand::Send { text } => send(&dial, timeout, &text).await,
        ClientCommand::Check => check(&dial, timeout).await,
        ClientCommand::Interactive => super::interactive::run(&dial, timeout).await,
    };
    explained_over(result, Lab::Socket, addr, timeout, dial.is_tls()).await
}

async fn send(
    dial: &Dial,
    timeout: std::time::Duration,
    texts: &[String],
) -> anyhow::Result<ExitCode> {
    let mut client = Client::open(dial, timeout).await?;
    let mut refused = 0;
    for text in texts {
        match client.uppercase(text).await {
            Ok(reply) => println!("{reply}"),
            Err(ClientError::Refused(reason)) => {
                refused += 1;
                println!("{} {reason}", paint(Tone::Bad, "refused:"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn check(dial: &Dial, timeout: std::time::Duration) -> anyhow::Result<ExitCode> {
    let mut client = Client::open(dial, timeout).await?;
    let reply = client.uppercase("health check").await?;
    anyhow::ensure!(reply == "HEALTH CHECK", "unexpected reply {reply:?}");
    println!("ok: {} answers", dial.addr);
    Ok(ExitCode::SUCCESS)
}
