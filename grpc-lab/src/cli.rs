//! The command lines of `grpc-server` and `grpc-client`, and what each does.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lab_kit::http::HttpArgs;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use user_store::UserStore;

use crate::chat::{
    ChatLimits, ChatRoom, DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MEMBER_QUEUE_BYTES,
};
use crate::client::GrpcClient;
use crate::selftest::run_self_test;
use crate::service::UserService;
use crate::{DEFAULT_LISTEN_ADDR, DEFAULT_URL, SERVICE_NAME, pb};

/// gRPC server for users.v1.UserService, with health checking and reflection.
#[derive(Debug, Parser)]
#[command(name = "grpc-server", version)]
pub struct ServerCli {
    /// Address to listen on.
    #[arg(long, env = "GRPC_ADDR", default_value = DEFAULT_LISTEN_ADDR)]
    pub addr: String,
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
    /// The connection policy.
    #[command(flatten)]
    pub http: HttpArgs,
}

impl ServerCli {
    /// The chat room's limits these options ask for.
    pub fn chat_limits(&self) -> ChatLimits {
        // Both range-checked by clap, so they fit.
        let max_message_bytes = usize::try_from(self.max_chat_message_bytes).unwrap_or(usize::MAX);
        ChatLimits {
            max_members: usize::try_from(self.max_chat_members).unwrap_or(usize::MAX),
            max_message_bytes,
            // Room for four of the largest messages, and never less than the default.
            member_queue_bytes: DEFAULT_MEMBER_QUEUE_BYTES.max(4 * max_message_bytes),
            ..ChatLimits::default()
        }
    }
}

/// Binds the address and serves until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound or serving fails.
pub async fn serve(cli: ServerCli) -> anyhow::Result<()> {
    let store = if cli.empty {
        UserStore::empty()
    } else {
        UserStore::new()
    };
    let listener = tokio::net::TcpListener::bind(&cli.addr)
        .await
        .with_context(|| format!("cannot listen on {}", cli.addr))?;
    tracing::info!(addr = %listener.local_addr()?, service = SERVICE_NAME, "gRPC server listening");
    let room = ChatRoom::with_limits(cli.chat_limits());
    let service = UserService::with_room(store, room).with_reply_budget(cli.http.reply_budget());
    crate::run(
        listener,
        service,
        cli.http.policy(),
        lab_kit::shutdown_signal(),
    )
    .await?;
    tracing::info!("gRPC server stopped");
    Ok(())
}

/// Client for the gRPC lab's server; runs the self-test suite by default.
#[derive(Debug, Parser)]
#[command(name = "grpc-client", version)]
pub struct ClientCli {
    /// Server URL.
    #[arg(long, env = "GRPC_URL", default_value = DEFAULT_URL)]
    pub url: String,
    /// Seconds to wait for a connection or a unary reply.
    #[arg(long, value_name = "SECS", default_value = lab_kit::args::DEFAULT_CLIENT_TIMEOUT_SECS,
          value_parser = lab_kit::args::parse_secs)]
    pub timeout: Duration,
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
}

/// Runs the chosen client command, printing to stdout; returns the exit code.
///
/// # Errors
///
/// When the server cannot be reached (the self-test reports through the exit code).
pub async fn client(cli: ClientCli) -> anyhow::Result<ExitCode> {
    let timeout = cli.timeout;
    let url = cli.url.as_str();
    match cli.command.unwrap_or(ClientCommand::Test) {
        ClientCommand::Test => {
            let summary = run_self_test(url, timeout, std::io::stdout()).await;
            return Ok(summary.exit_code());
        }
        ClientCommand::Check => {
            let serving = GrpcClient::connect(url, timeout).await?.serving().await?;
            anyhow::ensure!(serving, "{url} answers but is not serving (draining?)");
            println!("ok: {url} is serving");
        }
        ClientCommand::Greet { name } => {
            let mut client = GrpcClient::connect(url, timeout).await?;
            println!("{}", client.greet(&name).await?);
        }
        ClientCommand::Demo => demo(&mut GrpcClient::connect(url, timeout).await?).await?,
        ClientCommand::Interactive => {
            interactive(&mut GrpcClient::connect(url, timeout).await?).await?;
        }
        ClientCommand::Chat { name } => {
            chat(&mut GrpcClient::connect(url, timeout).await?, &name).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(user: &pb::User) -> String {
    format!(
        "{} <{}> id={} created_at={}",
        user.name, user.email, user.id, user.created_at
    )
}

/// The four RPC patterns, one after another, cleaning up after itself.
async fn demo(client: &mut GrpcClient) -> anyhow::Result<()> {
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    println!("1. Unary: one request, one response");
    let users = client.get_all_users().await?;
    println!("   GetAllUsers -> {} users", users.len());
    let ada = client
        .create_user("Ada Lovelace", &format!("ada-{tag}@example.com"))
        .await?;
    println!("   CreateUser  -> {}", show(&ada));
    let read = client.get_user(&ada.id).await?;
    println!("   GetUser     -> {}", show(&read));

    println!("\n2. Server streaming: one request, a stream of responses");
    let mut stream = client.list_users(0).await?;
    while let Some(user) = stream.next().await {
        println!("   ListUsers   <- {}", show(&user?));
    }

    println!("\n3. Client streaming: a stream of requests, one response");
    let batch = vec![
        pb::CreateUserRequest {
            name: "Alan Turing".into(),
            email: format!("alan-{tag}@example.com"),
        },
        pb::CreateUserRequest {
            name: "".into(),
            email: format!("blank-{tag}@example.com"),
        },
        pb::CreateUserRequest {
            name: "Grace Hopper".into(),
            email: format!("grace-{tag}@example.com"),
        },
    ];
    println!(
        "   CreateUsers -> sending {} requests on one stream",
        batch.len()
    );
    let summary = client.create_users(batch).await?;
    println!(
        "   CreateUsers <- created {}, errors {:?}",
        summary.created_count, summary.errors
    );

    println!("\n4. Bidirectional streaming: both sides stream at once");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut room = client.chat(ReceiverStream::new(rx)).await?;
    let sender = format!("demo-{tag}");
    for text in ["hello", "is anyone here?", "bye"] {
        tx.send(pb::ChatMessage {
            sender: sender.clone(),
            content: text.into(),
            timestamp: String::new(),
        })
        .await?;
        println!("   ChatStream  -> {text}");
        // Wait for our own message to come back through the room.
        while let Some(message) = room.next().await {
            let message = message?;
            println!(
                "   ChatStream  <- [{}] {}: {}",
                message.timestamp, message.sender, message.content
            );
            if message.sender == sender && message.content == text {
                break;
            }
        }
    }
    drop(tx);

    for user in [ada].into_iter().chain(summary.users) {
        client.delete_user(&user.id).await?;
    }
    println!("\nDemo users removed.");
    Ok(())
}

const HELP: &str = "\
commands:
  all                                    GetAllUsers
  list [LIMIT]                           ListUsers (server streaming; 0 or none = all)
  get ID                                 GetUser
  create NAME EMAIL                      CreateUser
  update ID [--name NAME] [--email E]    UpdateUser (absent fields stay unchanged)
  delete ID                              DeleteUser
  help                                   this list
  quit                                   leave (Ctrl-D and Ctrl-C work too)
Quote words with spaces: create \"Ada Lovelace\" ada@example.com";

async fn interactive(client: &mut GrpcClient) -> anyhow::Result<()> {
    println!(
        "gRPC client for {}. Type `help` for commands.",
        client.url()
    );
    let mut prompt = lab_kit::Prompt::new();
    while let Some(words) = prompt.next_words().await? {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let result: Result<(), Status> = match words.as_slice() {
            [] => continue,
            ["quit" | "exit"] => break,
            ["help"] => {
                println!("{HELP}");
                continue;
            }
            ["all"] => client.get_all_users().await.map(|users| {
                println!("{} users", users.len());
                users.iter().for_each(|u| println!("  {}", show(u)));
            }),
            ["list"] | ["list", _] => {
                let limit = match words.get(1).map(|l| l.parse::<u32>()) {
                    None => 0,
                    Some(Ok(limit)) => limit,
                    Some(Err(_)) => {
                        println!("LIMIT must be a whole number");
                        continue;
                    }
                };
                list(client, limit).await
            }
            ["get", id] => client.get_user(id).await.map(|u| println!("{}", show(&u))),
            ["create", name, email] => client
                .create_user(name, email)
                .await
                .map(|u| println!("created {}", show(&u))),
            ["update", id, options @ ..] => match lab_kit::args::update_flags(options) {
                Ok((name, email)) => client
                    .update_user(id, name, email)
                    .await
                    .map(|u| println!("updated {}", show(&u))),
                Err(e) => {
                    println!("{e}");
                    continue;
                }
            },
            ["delete", id] => client
                .delete_user(id)
                .await
                .map(|message| println!("{message}")),
            _ => {
                println!("unknown command or wrong arguments; type `help`");
                continue;
            }
        };
        if let Err(status) = result {
            println!("error {:?}: {}", status.code(), status.message());
        }
    }
    Ok(())
}

async fn list(client: &mut GrpcClient, limit: u32) -> Result<(), Status> {
    let mut stream = client.list_users(limit).await?;
    let mut count = 0;
    while let Some(user) = stream.next().await {
        println!("  {}", show(&user?));
        count += 1;
    }
    println!("{count} users streamed");
    Ok(())
}

/// Joins the room from a terminal until Ctrl-D or Ctrl-C.
async fn chat(client: &mut GrpcClient, name: &str) -> anyhow::Result<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let mut room = client.chat(ReceiverStream::new(rx)).await?;
    println!(
        "Joined the chat room at {} as {name}. Type to talk; Ctrl-D leaves.",
        client.url()
    );
    let printer = tokio::spawn(async move {
        while let Some(message) = room.next().await {
            match message {
                Ok(m) => {
                    let time = chrono::DateTime::parse_from_rfc3339(&m.timestamp)
                        .map(|t| {
                            t.with_timezone(&chrono::Local)
                                .format("%H:%M:%S")
                                .to_string()
                        })
                        .unwrap_or(m.timestamp);
                    println!("[{time}] {}: {}", m.sender, m.content);
                }
                Err(status) => {
                    println!("chat ended: {}", status.message());
                    break;
                }
            }
        }
    });
    let mut prompt = lab_kit::Prompt::unmarked();
    while let Some(line) = prompt.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let message = pb::ChatMessage {
            sender: name.to_owned(),
            content: line,
            timestamp: String::new(),
        };
        if tx.send(message).await.is_err() {
            break;
        }
    }
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), printer).await;
    Ok(())
}

/// Peer-to-peer chat over gRPC: serves ChattingService on --listen and talks to the
/// other peer's at --connect. Start one peer in each of two terminals.
#[derive(Debug, Parser)]
#[command(name = "grpc-peer", version)]
pub struct PeerCli {
    /// Your name in the chat.
    #[arg(long)]
    pub name: String,
    /// Port (or host:port) to serve ChattingService on.
    #[arg(long, value_name = "PORT")]
    pub listen: String,
    /// The other peer, as host:port.
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: String,
}

/// Runs one chat peer until Ctrl-D or Ctrl-C.
///
/// # Errors
///
/// When the listen address cannot be bound or the peer address is unusable.
pub async fn peer(cli: PeerCli) -> anyhow::Result<()> {
    use crate::peer::{Peer, describe};

    let listen = if cli.listen.contains(':') {
        cli.listen.clone()
    } else {
        format!("0.0.0.0:{}", cli.listen)
    };
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let mut peer = Peer::start(&cli.name, listener, &cli.connect)?;
    println!("{} listening on {}.", cli.name, peer.local_addr());
    println!("Waiting for other peer to connect...");
    let other = tokio::select! {
        other = peer.wait_for_other() => other,
        _ = tokio::signal::ctrl_c() => {
            peer.stop().await;
            return Ok(());
        }
    };
    println!("You are chatting with {other}. Type to talk; Ctrl-D leaves.");

    let mut inbox = peer.take_inbox();
    let shower = tokio::spawn(async move {
        while let Some(message) = inbox.recv().await {
            println!("{}", describe(&message));
        }
    });
    let mut prompt = lab_kit::Prompt::unmarked();
    while let Some(line) = prompt.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        match peer.send(&line).await {
            Ok(message) => println!("{}", describe(&message)),
            Err(_) => println!("{other} unreachable: message not delivered"),
        }
    }
    shower.abort();
    peer.stop().await;
    Ok(())
}
