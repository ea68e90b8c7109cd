//! The command-line pieces every lab binary shares: the options a client takes to find
//! its server ([`ClientArgs`]), the address a server listens on ([`ServerArgs`]), the
//! server's one subcommand ([`ServerCommand`]), and the skeleton of a server's `main`
//! ([`serve`]): print completions or bind, serve until Ctrl-C or SIGTERM, say so.
//!
//! What differs between labs (the environment variable, the default, how the address
//! is read) is a type's constants ([`ClientLab`], [`ServerLab`]), declared in one line with
//! [`client_lab!`](crate::client_lab) and [`server_lab!`](crate::server_lab), and each
//! lab flattens the shared set into its own `clap` command.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Subcommand};
use tokio::net::TcpListener;

use crate::args::{DEFAULT_CLIENT_TIMEOUT, Span};
use crate::completions::{CompletionsArgs, print_completions};
use crate::tls::{ClientTlsArgs, ServerTls, ServerTlsArgs};

/// How one lab's client finds its server: the `--url` option's environment variable,
/// default, help and reading.
pub trait ClientLab: Clone + Send + Sync + 'static {
    /// The environment variable that sets `--url` (`REST_URL`).
    const URL_ENV: &'static str;
    /// The server a client talks to when none is given.
    const DEFAULT_URL: &'static str;
    /// What `--url` takes, for `--help`.
    const URL_HELP: &'static str;
    /// Reads `--url` into the form the client uses.
    ///
    /// # Errors
    ///
    /// When the text is not an address of this lab's server.
    fn parse_url(text: &str) -> Result<String, String>;
}

/// The options every lab client takes, before or after its subcommand: where the
/// server is and how long to wait for it.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs<L: ClientLab> {
    /// The server (see the lab's `--help` for its forms).
    #[arg(long, global = true, env = L::URL_ENV, default_value = L::DEFAULT_URL,
          help = L::URL_HELP, value_parser = L::parse_url)]
    pub url: String,
    /// How long to wait for a connection or a reply: 5s, 300ms, 1.5s.
    #[arg(long, global = true, value_name = "DURATION", default_value_t = DEFAULT_CLIENT_TIMEOUT)]
    pub timeout: Span,
    /// Whom to trust under TLS, and the certificate to show.
    #[command(flatten)]
    pub tls: ClientTlsArgs,
    #[arg(skip)]
    lab: PhantomData<L>,
}

/// How one lab's server is told where to listen.
pub trait ServerLab: Clone + Send + Sync + 'static {
    /// The environment variable that sets `--addr` (`REST_ADDR`).
    const ADDR_ENV: &'static str;
    /// Where it listens when none is given (`0.0.0.0:5000`).
    const DEFAULT_ADDR: &'static str;
    /// What it says of `--addr`, for `--help`.
    const ADDR_HELP: &'static str;
    /// How its log names it: `REST server`.
    const NAME: &'static str;
    /// Its binary's name, which names the files `--tls-self-signed` writes.
    const BINARY: &'static str;
    /// The environment variable that sets `--tls-cert` (`REST_TLS_CERT`).
    const TLS_CERT_ENV: &'static str;
    /// The environment variable that sets `--tls-key` (`REST_TLS_KEY`).
    const TLS_KEY_ENV: &'static str;
    /// The protocols it offers by ALPN under TLS, most preferred first.
    const ALPN: &'static [&'static [u8]];
}

/// The address every lab server takes, and whether it speaks TLS there.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs<L: ServerLab> {
    /// Address to listen on.
    #[arg(long, env = L::ADDR_ENV, default_value = L::DEFAULT_ADDR, help = L::ADDR_HELP,
          value_parser = crate::args::listen_addr)]
    pub addr: String,
    /// TLS (cleartext unless asked for).
    #[command(flatten)]
    pub tls: ServerTlsArgs<L>,
    #[arg(skip)]
    lab: PhantomData<L>,
}

/// What a lab server does instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum ServerCommand {
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// The stop signal [`serve`] hands a server: Ctrl-C or SIGTERM.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server binary's work: with `completions`, print them for `Cli`; else set up the
/// TLS asked for, bind the address, run `serve` on the listener (with the TLS, `None`
/// for cleartext) until Ctrl-C or SIGTERM, and log that the server stopped.
///
/// # Errors
///
/// When TLS cannot be set up or the address cannot be bound (saying what to try), or
/// serving fails.
pub async fn serve<Cli, L, F, Fut, E>(
    args: &ServerArgs<L>,
    command: Option<&ServerCommand>,
    serve: F,
) -> anyhow::Result<ExitCode>
where
    Cli: CommandFactory,
    L: ServerLab,
    F: FnOnce(TcpListener, Option<ServerTls>, Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Into<anyhow::Error>,
{
    if let Some(ServerCommand::Completions(shell)) = command {
        print_completions::<Cli>(shell);
        return Ok(ExitCode::SUCCESS);
    }
    let tls = args.tls.server_tls()?;
    let listener = crate::listen::bind(&args.addr, L::NAME).await?;
    serve(listener, tls, Box::pin(crate::shutdown_signal()))
        .await
        .map_err(Into::into)?;
    tracing::info!("{} stopped", L::NAME);
    Ok(ExitCode::SUCCESS)
}

/// Declares a lab's [`ClientLab`]: `client_lab!(pub RestTarget, "REST_URL", DEFAULT_URL,
/// "Server base URL ...", lab_kit::args::http_url);` makes the unit type and its impl,
/// so each lab states only what differs.
#[macro_export]
macro_rules! client_lab {
    ($vis:vis $name:ident, $env:expr, $default:expr, $help:expr, $parse:path $(,)?) => {
        #[doc = concat!("How `--url` finds this lab's server (`", $env, "`).")]
        #[derive(Debug, Clone)]
        $vis struct $name;

        impl $crate::cli::ClientLab for $name {
            const URL_ENV: &'static str = $env;
            const DEFAULT_URL: &'static str = $default;
            const URL_HELP: &'static str = $help;
            fn parse_url(text: &str) -> Result<String, String> {
                $parse(text)
            }
        }
    };
}

/// Declares a lab's [`ServerLab`]: `server_lab!(pub RestServer, "REST", DEFAULT_ADDR,
/// "Address to listen on ...", "REST server", "rest-server", lab_kit::tls::ALPN_HTTP);`
/// (the prefix names the environment variables: `REST_ADDR`, `REST_TLS_CERT`,
/// `REST_TLS_KEY`).
#[macro_export]
macro_rules! server_lab {
    ($vis:vis $name:ident, $prefix:literal, $default:expr, $help:expr, $log_name:expr,
     $binary:literal, $alpn:expr $(,)?) => {
        #[doc = concat!("Where this lab's server listens (`", $prefix, "_ADDR`).")]
        #[derive(Debug, Clone)]
        $vis struct $name;

        impl $crate::cli::ServerLab for $name {
            const ADDR_ENV: &'static str = concat!($prefix, "_ADDR");
            const DEFAULT_ADDR: &'static str = $default;
            const ADDR_HELP: &'static str = $help;
            const NAME: &'static str = $log_name;
            const BINARY: &'static str = $binary;
            const TLS_CERT_ENV: &'static str = concat!($prefix, "_TLS_CERT");
            const TLS_KEY_ENV: &'static str = concat!($prefix, "_TLS_KEY");
            const ALPN: &'static [&'static [u8]] = $alpn;
        }
    };
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    crate::client_lab!(
        Test,
        "COMMLAB_TEST_URL_NOT_SET",
        "http://127.0.0.1:1",
        "The server: http://host:port.",
        crate::args::http_url,
    );
    crate::server_lab!(
        TestServer,
        "COMMLAB_TEST_NOT_SET",
        "127.0.0.1:0",
        "Where to listen.",
        "test server",
        "test-server",
        crate::tls::ALPN_HTTP,
    );

    #[derive(Debug, Parser)]
    struct Client {
        #[command(flatten)]
        target: ClientArgs<Test>,
        #[command(subcommand)]
        command: Option<Do>,
    }

    #[derive(Debug, Clone, Subcommand)]
    enum Do {
        Check,
    }

    #[derive(Debug, Parser)]
    struct Server {
        #[command(flatten)]
        server: ServerArgs<TestServer>,
        #[command(subcommand)]
        command: Option<ServerCommand>,
    }

    #[test]
    fn a_lab_fills_in_the_shared_options() {
        Client::command().debug_assert();
        Server::command().debug_assert();
        let client = Client::try_parse_from(["c"]).unwrap();
        assert_eq!(client.target.url, "http://127.0.0.1:1");
        assert_eq!(client.target.timeout, DEFAULT_CLIENT_TIMEOUT);
        // Global: after the subcommand too, read by the lab's parser.
        let client =
            Client::try_parse_from(["c", "check", "--url", "h:2", "--timeout", "300ms"]).unwrap();
        assert_eq!(client.target.url, "http://h:2");
        assert_eq!(client.target.timeout.get().as_millis(), 300);
        assert!(Client::try_parse_from(["c", "--url", "ftp://h:2"]).is_err());
        let help = Client::command().render_help().to_string();
        assert!(help.contains("The server: http://host:port."), "{help}");
        assert!(help.contains("COMMLAB_TEST_URL_NOT_SET"), "{help}");
        let server = Server::try_parse_from(["s", "--addr", "9000"]).unwrap();
        assert_eq!(server.server.addr, "0.0.0.0:9000");
    }

    #[tokio::test]
    async fn serve_binds_runs_and_returns_when_the_server_stops() {
        let server = Server::try_parse_from(["s"]).unwrap();
        let code = serve::<Server, _, _, _, std::io::Error>(
            &server.server,
            None,
            |listener, _, _| async move {
                assert!(listener.local_addr()?.port() > 0);
                Ok(())
            },
        )
        .await
        .unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let busy =
            Server::try_parse_from(["s", "--addr", &taken.local_addr().unwrap().to_string()])
                .unwrap();
        let error = serve::<Server, _, _, _, std::io::Error>(&busy.server, None, |_, _, _| async {
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(error.to_string().contains("--addr"), "{error}");
    }
}
