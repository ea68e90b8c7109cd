//! `grpc-client`: the self-test suite (the default), `greet` and `check`; `demo`,
//! `interactive` and `chat` live in their own modules.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lab_kit::args::url_authority;
use lab_kit::cli::ClientArgs;
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Lab, explained_over};

use crate::client::{Access, ConnectError, GrpcClient};
use crate::selftest::run_self_test_over;

/// Default URL the client connects to.
pub const DEFAULT_URL: &str = "http://127.0.0.1:50051";

lab_kit::client_lab!(
    pub GrpcTarget,
    "GRPC_URL",
    DEFAULT_URL,
    "Server URL (http://host:port, https://host:port for TLS; host:port alone means http://).",
    lab_kit::args::http_url
);

/// Client for the gRPC lab's server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "grpc-client", version = lab_kit::build::VERSION)]
pub struct ClientCli {
    /// The server and how long to wait for it.
    #[command(flatten)]
    pub target: ClientArgs<GrpcTarget>,
    /// Send `authorization: Bearer TOKEN` metadata on writes (a server started with
    /// --auth-token needs it). Never printed.
    #[arg(long, global = true, value_name = "TOKEN", env = "GRPC_TOKEN", hide_env_values = true,
          value_parser = lab_kit::token::bearer_parser())]
    pub token: Option<lab_kit::token::Bearer>,
    /// What to do (default: test).
    #[command(subcommand)]
    pub command: Option<ClientCommand>,
}

/// What `grpc-client` does.
#[derive(Debug, Clone, Subcommand)]
pub enum ClientCommand {
    /// Run the self-test suite (the default).
    Test,
    /// Show the four RPC patterns one after another.
    Demo,
    /// A prompt for every unary method and `list [LIMIT]`; `help` lists the commands.
    /// Ctrl-D leaves, Ctrl-C too (status 130).
    Interactive,
    /// Join the chat room: lines typed are sent, everyone's messages are printed.
    Chat {
        /// Your name in the room.
        #[arg(long)]
        name: String,
    },
    /// Call greet.GreetService/Greet and print the greeting.
    Greet {
        /// Who to greet.
        name: String,
    },
    /// Exit 0 when the server's health service says users.v1.UserService is SERVING
    /// (for health checks; reads no users).
    Check,
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs the chosen client command, printing to stdout; returns the exit status.
///
/// # Errors
///
/// When the server cannot be reached, explained in one line (the self-test reports
/// through the exit status).
pub async fn run(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let timeout = cli.target.timeout.get();
    let url = cli.target.url.as_str();
    let tls = lab_kit::args::is_tls_url(url);
    let access = Access {
        tls: tls.then(|| cli.target.tls.client_tls(&[])).transpose()?,
        token: cli.token.clone(),
    };
    let command = cli.command.unwrap_or(ClientCommand::Test);
    let result = match command {
        ClientCommand::Test => {
            let summary = run_self_test_over(url, timeout, &access, std::io::stdout()).await;
            return Ok(summary.exit_code());
        }
        ClientCommand::Completions(shell) => {
            print_completions::<ClientCli>(&shell);
            return Ok(ExitCode::SUCCESS);
        }
        other => connected(other, url, timeout, &access)
            .await
            .map_err(plain_status),
    };
    explained_over(result, Lab::Grpc, &url_authority(url), timeout, tls).await
}

/// A status the server answered with, said as the self-test and the prompt say it
/// (`InvalidArgument: name must not be blank`), not in tonic's debugging form
/// (`code: 'Client specified an invalid argument', message: ...`); a failed TLS
/// handshake said in one line with the next step (tonic's chain is in the error's
/// message, where [`explained_over`] cannot see it).
fn plain_status(error: anyhow::Error) -> anyhow::Error {
    let error = match error.downcast::<tonic::Status>() {
        Ok(status) => return anyhow::anyhow!("{:?}: {}", status.code(), status.message()),
        Err(other) => other,
    };
    match error.downcast::<ConnectError>() {
        Ok(ConnectError::Connect { url, error }) => {
            match lab_kit::tls::explain(&error, &url_authority(&url)) {
                Some(line) => anyhow::anyhow!(line),
                None => ConnectError::Connect { url, error }.into(),
            }
        }
        Ok(other) => other.into(),
        Err(other) => other,
    }
}

async fn connected(
    command: ClientCommand,
    url: &str,
    timeout: std::time::Duration,
    access: &Access,
) -> anyhow::Result<ExitCode> {
    let mut client = GrpcClient::open(url, timeout, access).await?;
    match command {
        ClientCommand::Check => {
            let serving = client.serving().await?;
            anyhow::ensure!(serving, "{url} answers but is not serving (draining?)");
            println!("ok: {url} is serving");
        }
        ClientCommand::Greet { name } => println!("{}", client.greet(&name).await?),
        ClientCommand::Demo => super::demo::run(&mut client).await?,
        ClientCommand::Interactive => return super::interactive::run(&mut client).await,
        ClientCommand::Chat { name } => return super::chat::run(&mut client, &name).await,
        ClientCommand::Test | ClientCommand::Completions(_) => {}
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_is_said_by_its_code_and_message() {
        let said = plain_status(tonic::Status::invalid_argument("name must not be blank").into());
        assert_eq!(said.to_string(), "InvalidArgument: name must not be blank");
        let other = plain_status(anyhow::anyhow!("nothing listens"));
        assert_eq!(other.to_string(), "nothing listens");
    }
}
