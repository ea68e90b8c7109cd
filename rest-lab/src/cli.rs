//! The command lines of `rest-server` and `rest-client`, and what each does.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lab_kit::http::{HttpArgs, HttpPolicy};
use serde_json::Value;
use user_store::UserStore;

use crate::app::{AppState, DEFAULT_REQUEST_TIMEOUT};
use crate::client::{ApiReply, ClientOptions, RestClient};
use crate::selftest::run_self_test;
use crate::{DEFAULT_LISTEN_ADDR, DEFAULT_MAX_BODY_BYTES, DEFAULT_URL};

/// REST server for user CRUD: /api/users, /api/users/{id}, /api/users/search, /health.
#[derive(Debug, Parser)]
#[command(name = "rest-server", version)]
pub struct ServerCli {
    /// Address to listen on (HTTP/1.1 and HTTP/2 cleartext on the same port).
    #[arg(long, env = "REST_ADDR", default_value = DEFAULT_LISTEN_ADDR)]
    pub addr: String,
    /// Start with no users instead of the two demo users.
    #[arg(long)]
    pub empty: bool,
    /// Largest request body accepted, in bytes (1 to 1073741824); larger bodies get 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_BODY_BYTES_LIMIT))]
    pub max_body_bytes: u64,
    /// Seconds (1 to 86400) a client gets to send a request's headers (then the
    /// connection is closed), and again for the rest of the request (then 408).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub request_timeout: u64,
    /// The connection policy.
    #[command(flatten)]
    pub http: HttpArgs,
}

/// The largest `--max-body-bytes` accepted: a body is held in memory whole.
const MAX_BODY_BYTES_LIMIT: u64 = 1 << 30;

impl ServerCli {
    /// The application state these options ask for.
    pub fn state(&self) -> AppState {
        let store = if self.empty {
            UserStore::empty()
        } else {
            UserStore::new()
        };
        AppState {
            store,
            // At most 1 GiB (checked by clap), so it fits.
            max_body_bytes: usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX),
            request_timeout: self.request_timeout(),
            reply_budget: self.http.reply_budget(),
        }
    }

    /// The connection policy these options ask for: `--request-timeout` also bounds
    /// the time to send a request's headers.
    pub fn policy(&self) -> HttpPolicy {
        HttpPolicy {
            header_timeout: self.request_timeout(),
            ..self.http.policy()
        }
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout)
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound or serving fails.
pub async fn serve(cli: ServerCli) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cli.addr))?;
    tracing::info!(addr = %listener.local_addr()?, "REST server listening");
    crate::run(
        listener,
        cli.state(),
        cli.policy(),
        lab_kit::shutdown_signal(),
    )
    .await?;
    tracing::info!("REST server stopped");
    Ok(())
}

/// Client for the REST lab's server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "rest-client", version)]
pub struct ClientCli {
    /// Server base URL.
    #[arg(long, env = "REST_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Seconds to wait for each response.
    #[arg(long, value_name = "SECS", default_value = lab_kit::args::DEFAULT_CLIENT_TIMEOUT_SECS,
          value_parser = lab_kit::args::parse_secs)]
    pub timeout: Duration,
    /// Speak HTTP/2 cleartext (prior knowledge) instead of HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
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
    Interactive,
    /// Exit 0 when GET /health answers 200 (for health checks).
    Check,
}

/// Runs the chosen client command, printing to stdout; returns the exit code.
///
/// # Errors
///
/// When the URL is unusable, or the server cannot be reached for `check`.
pub async fn client(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let options = ClientOptions {
        timeout: cli.timeout,
        http2: cli.http2,
        ..ClientOptions::default()
    };
    let client = RestClient::with_options(&cli.url, &options)?;
    match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test(&client, std::io::stdout()).await;
            Ok(summary.exit_code())
        }
        ClientCommand::Check => {
            let reply = client.health().await?;
            anyhow::ensure!(
                reply.status.is_success(),
                "health answered {}",
                reply.status
            );
            println!("ok: {} answers", cli.url);
            Ok(ExitCode::SUCCESS)
        }
        ClientCommand::Interactive => {
            interactive(&client).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

const HELP: &str = "\
commands:
  list                                   GET    /api/users
  get ID                                 GET    /api/users/ID
  create NAME EMAIL                      POST   /api/users
  update ID [--name NAME] [--email E]    PUT    /api/users/ID
  delete ID                              DELETE /api/users/ID
  search QUERY                           GET    /api/users/search?q=QUERY
  help                                   this list
  quit                                   leave (Ctrl-D and Ctrl-C work too)
Quote words with spaces: create \"Ada Lovelace\" ada@example.com";

async fn interactive(client: &RestClient) -> anyhow::Result<()> {
    println!(
        "REST client for {}. Type `help` for commands.",
        client.base_url()
    );
    let mut prompt = lab_kit::Prompt::new();
    while let Some(words) = prompt.next_words().await? {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let reply = match words.as_slice() {
            [] => continue,
            ["quit" | "exit"] => break,
            ["help"] => {
                println!("{HELP}");
                continue;
            }
            ["list"] => client.list_users().await,
            ["get", id] => client.get_user(id).await,
            ["create", name, email] => client.create_user(name, email).await,
            ["update", id, options @ ..] => match lab_kit::args::update_flags(options) {
                Ok((name, email)) => client.update_user(id, name, email).await,
                Err(e) => {
                    println!("{e}");
                    continue;
                }
            },
            ["delete", id] => client.delete_user(id).await,
            ["search", query] => client.search(Some(query)).await,
            _ => {
                println!("unknown command or wrong arguments; type `help`");
                continue;
            }
        };
        match reply {
            Ok(reply) => print_reply(&reply),
            Err(e) => println!("error: {e}"),
        }
    }
    Ok(())
}

fn print_reply(reply: &ApiReply) {
    println!("{}", reply.status);
    let body = if reply.body == Value::Null {
        String::new()
    } else {
        serde_json::to_string_pretty(&reply.body).unwrap_or_default()
    };
    println!("{body}");
}
