//! `rest-client`: the self-test suite (the default), `check`, and the prompt of
//! [`interactive`](super::interactive).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lab_kit::args::url_authority;
use lab_kit::cli::ClientArgs;
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Lab, explained_over};

use crate::client::{ClientOptions, RestClient, RestError};
use crate::selftest::run_self_test;

/// Default base URL the client talks to.
pub const DEFAULT_URL: &str = "http://127.0.0.1:5000";

lab_kit::client_lab!(
    pub RestTarget,
    "REST_URL",
    DEFAULT_URL,
    "Server base URL (http://host:port, https://host:port for TLS; host:port alone means http://).",
    lab_kit::args::http_url
);

/// Client for the REST lab's server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "rest-client", version = lab_kit::build::VERSION)]
pub struct ClientCli {
    /// The server and how long to wait for it.
    #[command(flatten)]
    pub target: ClientArgs<RestTarget>,
    /// Speak HTTP/2 (prior knowledge in cleartext, ALPN `h2` over TLS) instead of
    /// HTTP/1.1.
    #[arg(long, global = true)]
    pub http2: bool,
    /// Send `Authorization: Bearer TOKEN` on every request (a server started with
    /// --auth-token needs it for writes). Never printed.
    #[arg(long, global = true, value_name = "TOKEN", env = "REST_TOKEN", hide_env_values = true,
          value_parser = lab_kit::token::bearer_parser())]
    pub token: Option<lab_kit::token::Bearer>,
    /// What to do (default: test).
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
}

/// What `rest-client` does.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Run the self-test suite (the default).
    Test,
    /// A prompt for list, get, create, update, delete and search; `help` lists them.
    /// Ctrl-D leaves, Ctrl-C too (status 130).
    Interactive,
    /// Exit 0 when GET /health answers 200 (for health checks).
    Check,
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs the chosen client command, printing to stdout; returns the exit status.
///
/// # Errors
///
/// When the URL is unusable, or the server cannot be reached, explained in one line.
pub async fn run(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let tls = lab_kit::args::is_tls_url(&cli.target.url);
    let options = ClientOptions {
        timeout: cli.target.timeout.get(),
        http2: cli.http2,
        tls: tls.then(|| cli.target.tls.client_tls(&[])).transpose()?,
        token: cli.token.clone(),
        ..ClientOptions::default()
    };
    let client = RestClient::with_options(&cli.target.url, &options)?;
    let result = match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test(&client, std::io::stdout()).await;
            return Ok(summary.exit_code());
        }
        ClientCommand::Completions(shell) => {
            print_completions::<ClientCli>(&shell);
            return Ok(ExitCode::SUCCESS);
        }
        ClientCommand::Check => check(&client).await,
        ClientCommand::Interactive => super::interactive::run(&client).await,
    };
    let addr = url_authority(&cli.target.url);
    let result = result.map_err(|e| match e.downcast::<RestError>() {
        Ok(rest) => handshake_explained(rest, &addr),
        Err(other) => other,
    });
    explained_over(result, Lab::Rest, &addr, options.timeout, tls).await
}

/// A failure as a person reads it: a failed TLS handshake said in one line with the next
/// step (reqwest's own chain is inside the error's message, not its source, so
/// [`explained_over`] cannot see it), anything else as it is.
pub fn handshake_explained(error: RestError, addr: &str) -> anyhow::Error {
    let line = match &error {
        RestError::Http { error: cause, .. } => lab_kit::tls::explain(cause, addr),
        _ => None,
    };
    match line {
        Some(line) => anyhow::anyhow!(line),
        None => error.into(),
    }
}

async fn check(client: &RestClient) -> anyhow::Result<ExitCode> {
    let reply = client.health().await?;
    anyhow::ensure!(
        reply.status.is_success(),
        "health answered {}",
        reply.status
    );
    // The WebSocket lab answers /health too: its `server` header tells it apart.
    let addr = url_authority(client.base_url());
    let tls = lab_kit::args::is_tls_url(client.base_url());
    if let Some(line) =
        lab_kit::term::explain_failure_over(Lab::Rest, &addr, client.timeout(), tls).await
    {
        anyhow::bail!(line);
    }
    println!("ok: {} answers", client.base_url());
    Ok(ExitCode::SUCCESS)
}
