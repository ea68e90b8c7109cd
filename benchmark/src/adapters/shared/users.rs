//! What the REST and gRPC rows share: their labs' servers, the user operation each
//! request performs, and set-up and clean-up over the labs' own clients (several
//! requests at a time, so a list of thousands takes seconds, not minutes).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use grpc_lab::{GrpcClient, pb};
use rest_lab::client::RestClient;
use tokio::task::JoinSet;
use user_store::UserStore;

use crate::adapters::{Access, Created, Prepared, ProbeContext, SetUp};
use crate::engine::probe::{CallError, ErrorKind};
use crate::security::Guard;
use crate::servers::{LabServer, ServeFuture, Shutdown};
use crate::settings::{Lab, Workload};

/// The id of any user on the REST server at `addr` (`host:port`), making one if there
/// is none: what `benchmark wire` asks for.
pub(crate) async fn first_rest_user(
    addr: &str,
    timeout: Duration,
    access: &Access,
) -> anyhow::Result<String> {
    let client = rest_client(&access.origin(addr), timeout, access)?;
    let users = client.list_users_data().await?;
    match users.first() {
        Some(user) => Ok(user.id.to_string()),
        None => Ok(client
            .create_user_data(
                "Wire Example",
                &format!("wire-{}@example.com", std::process::id()),
            )
            .await?
            .id
            .to_string()),
    }
}

/// The id of any user on the gRPC server at `addr` (`host:port`), making one if there
/// is none.
pub(crate) async fn first_grpc_user(
    addr: &str,
    timeout: Duration,
    access: &Access,
) -> anyhow::Result<String> {
    let mut client = grpc_client(&access.origin(addr), timeout, access).await?;
    let users = client.get_all_users().await?;
    match users.first() {
        Some(user) => Ok(user.id.clone()),
        None => Ok(client
            .create_user(
                "Wire Example",
                &format!("wire-{}@example.com", std::process::id()),
            )
            .await?
            .id),
    }
}

/// Set-up and clean-up requests in flight at once.
const IN_FLIGHT: usize = 16;

/// The REST lab's server.
pub(crate) static REST: LabServer = LabServer {
    key: Lab::Rest,
    name: "REST",
    flag: "--rest-url",
    scheme: Some("http"),
    tls_scheme: Some("https"),
    alpn: lab_kit::tls::ALPN_HTTP,
    start_command: "cargo run --release -p rest-lab --bin rest-server",
    serve: serve_rest,
};

/// The gRPC lab's server.
pub(crate) static GRPC: LabServer = LabServer {
    key: Lab::Grpc,
    name: "gRPC",
    flag: "--grpc-url",
    scheme: Some("http"),
    tls_scheme: Some("https"),
    alpn: lab_kit::tls::ALPN_H2,
    start_command: "cargo run --release -p grpc-lab --bin grpc-server",
    serve: serve_grpc,
};

/// An embedded server's policy: every client of the benchmark comes from one address,
/// so the per-address share is the whole cap, and the request budget is large enough
/// never to shape what is measured (the limits stay on, only wider); a short drain.
pub(crate) fn measured_policy(policy: lab_kit::http::HttpPolicy) -> lab_kit::http::HttpPolicy {
    lab_kit::http::HttpPolicy {
        max_connections_per_address: policy.max_connections,
        request_budget: lab_kit::request::RequestBudget::new(1 << 30),
        drain_timeout: Duration::from_secs(1),
        ..policy
    }
}

fn serve_rest(listener: tokio::net::TcpListener, guard: Guard, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        let mut config = rest_lab::Config::new(UserStore::new());
        config.policy = measured_policy(config.policy);
        config.policy.tls = guard.tls;
        config.auth_token = guard.token;
        config.metrics = guard.metrics;
        rest_lab::run(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

fn serve_grpc(listener: tokio::net::TcpListener, guard: Guard, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        let mut config = grpc_lab::Config::new(UserStore::new());
        config.policy = measured_policy(config.policy);
        // Room for `benchmark push --subscribers 10000` in the ChatStream room.
        config.chat.max_members = 20_000;
        config.policy.tls = guard.tls;
        config.auth_token = guard.token;
        config.policy.metrics = guard.metrics.map(grpc_lab::server::metrics);
        grpc_lab::run(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// What each request of a user row does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserOp {
    /// Read this user.
    Get {
        /// The user's id.
        id: String,
    },
    /// List every user; there should be this many.
    List {
        /// The number of users at set-up.
        expected: usize,
    },
    /// Create a new user each time.
    Create,
    /// `--payload`: gRPC's Greet with this name, the row's way to carry a payload in
    /// protobuf (the user calls have no free-text field past 100 characters).
    Greet {
        /// The name sent.
        name: String,
    },
    /// Move every user to the client in the protocol's natural way; there should be
    /// this many.
    Stream {
        /// The number of users at set-up.
        expected: usize,
    },
}

/// The error for a payload on a row that cannot carry one.
pub(crate) fn no_payload_route() -> CallError {
    CallError::new(
        ErrorKind::WrongReply,
        "no REST route carries a free payload",
    )
}

impl UserOp {
    /// Items each request moves, in the stream workload.
    pub(crate) fn items(&self) -> Option<usize> {
        match self {
            UserOp::Stream { expected } => Some(*expected),
            _ => None,
        }
    }
}

/// Makes unique emails for the `create` workload and remembers the users made; hands
/// their ids to the measurement's [`Created`] when it drops, once per client rather
/// than a lock per request.
#[derive(Debug)]
pub(crate) struct Creator {
    prefix: String,
    next: u64,
    /// Ids of the users created so far.
    pub created: Vec<String>,
    sink: Created,
}

impl Creator {
    /// For client `index` of the measurement `context` describes.
    pub(crate) fn new(context: &ProbeContext, index: usize) -> Self {
        Creator {
            prefix: format!("bench-{}-{index}-", context.tag),
            next: 0,
            created: Vec::new(),
            sink: Arc::clone(&context.created),
        }
    }

    /// The next unique email.
    pub(crate) fn next_email(&mut self) -> String {
        self.next += 1;
        format!("{}{}@example.com", self.prefix, self.next)
    }
}

impl Drop for Creator {
    fn drop(&mut self) {
        if self.created.is_empty() {
            return;
        }
        // A poisoned lock still holds the ids: take them anyway.
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        sink.append(&mut self.created);
    }
}

/// The set-up users' emails.
fn setup_email(tag: &str, n: usize) -> String {
    format!("bench-{tag}-setup-{n}@example.com")
}

/// Users to create: one to read, or enough that a list has `list_size` (rows of one
/// lab set up one after another, so the second finds the first's users and adds none).
fn users_needed(workload: Workload, list_size: usize, present: usize) -> usize {
    match workload {
        Workload::Get | Workload::Push => 1,
        Workload::List | Workload::Stream => list_size.saturating_sub(present),
        Workload::Create => 0,
    }
}

/// Prepares the REST lab: creates the users the workload needs, and reads the
/// server's build from its `server` header.
///
/// # Errors
///
/// When the server cannot be reached or refuses a user.
pub(crate) async fn set_up_rest(target: &str, setup: &SetUp) -> anyhow::Result<Prepared<UserOp>> {
    let client = rest_client(target, setup.timeout, &setup.access)?;
    let health = format!("{}/health", client.base_url());
    // reqwest builds a rustls configuration even for http://, from the default provider.
    lab_kit::tls::install_default_provider();
    let mut builder = reqwest::Client::builder().timeout(setup.timeout).no_proxy();
    if let Some(tls) = &setup.access.tls {
        builder = builder.tls_backend_preconfigured((*tls.config()).clone());
    }
    let server_id = builder
        .build()?
        .get(&health)
        .send()
        .await
        .with_context(|| format!("no REST server answers at {target}"))?
        .headers()
        .get(reqwest::header::SERVER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let present = match setup.workload {
        Workload::List | Workload::Stream => client.list_users_data().await?.len(),
        _ => 0,
    };
    let needed = users_needed(setup.workload, setup.list_size, present);
    let made = several_at_a_time(0..needed, |n| {
        let (client, email) = (client.clone(), setup_email(&setup.tag, n));
        async move { client.create_user_data("Benchmark User", &email).await }
    })
    .await;
    let mut created = Vec::with_capacity(made.len());
    for user in made {
        let user = user
            .context("a set-up task failed")?
            .context("creating the benchmark's users over REST")?;
        created.push(user.id.to_string());
    }
    let plan = match setup.workload {
        Workload::Get | Workload::Push => UserOp::Get {
            id: created.first().cloned().unwrap_or_default(),
        },
        Workload::List => UserOp::List {
            expected: client.list_users_data().await?.len(),
        },
        Workload::Stream => UserOp::Stream {
            expected: client.list_users_data().await?.len(),
        },
        Workload::Create => UserOp::Create,
    };
    Ok(Prepared {
        items: plan.items(),
        operation: describe_rest(&plan),
        plan,
        created,
        server_id,
    })
}

fn describe_rest(plan: &UserOp) -> String {
    match plan {
        UserOp::Get { .. } => "GET /api/users/{id}".into(),
        UserOp::List { expected } => format!("GET /api/users ({expected} users)"),
        UserOp::Stream { expected } => {
            format!("GET /api/users, one JSON array read as it comes ({expected} users)")
        }
        UserOp::Greet { .. } => "no REST route carries a free payload".into(),
        UserOp::Create => "POST /api/users".into(),
    }
}

/// The REST lab's client for set-up and clean-up, reaching `target` as `access` says.
///
/// # Errors
///
/// When the URL is unusable.
fn rest_client(
    target: &str,
    timeout: Duration,
    access: &Access,
) -> Result<RestClient, rest_lab::client::RestError> {
    let options = rest_lab::client::ClientOptions {
        timeout,
        tls: access.tls.clone(),
        token: access.token.clone(),
        ..Default::default()
    };
    RestClient::with_options(target, &options)
}

/// The gRPC lab's client for set-up and clean-up, reaching `target` as `access` says.
///
/// # Errors
///
/// When nothing answers or the handshake fails.
async fn grpc_client(
    target: &str,
    timeout: Duration,
    access: &Access,
) -> Result<GrpcClient, grpc_lab::client::ConnectError> {
    let access = grpc_lab::client::Access {
        tls: access.tls.clone(),
        token: access.token.clone(),
    };
    GrpcClient::open(target, timeout, &access).await
}

/// Deletes `ids` over REST, several at a time; returns how many failed.
pub(crate) async fn clean_up_rest(target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
    let Ok(client) = rest_client(target, setup.timeout, &setup.access) else {
        return ids.len();
    };
    let removed = several_at_a_time(ids, |id| {
        let client = client.clone();
        async move { matches!(client.delete_user(&id).await, Ok(r) if r.status.is_success()) }
    });
    removed
        .await
        .into_iter()
        .filter(|ok| *ok != Some(true))
        .count()
}

/// Prepares the gRPC lab: creates the users in one `CreateUsers` stream, and reads the
/// server's build from its `server` metadata.
///
/// # Errors
///
/// When the server cannot be reached or refuses a user.
pub(crate) async fn set_up_grpc(target: &str, setup: &SetUp) -> anyhow::Result<Prepared<UserOp>> {
    let mut client = grpc_client(target, setup.timeout, &setup.access).await?;
    let present = match setup.workload {
        Workload::List | Workload::Stream => client
            .raw()
            .get_all_users(pb::Empty {})
            .await?
            .into_inner()
            .users
            .len(),
        _ => 0,
    };
    let needed = match setup.payload {
        Some(_) => 0,
        None => users_needed(setup.workload, setup.list_size, present),
    };
    let requests = (0..needed)
        .map(|n| pb::CreateUserRequest {
            name: "Benchmark User".into(),
            email: setup_email(&setup.tag, n),
        })
        .collect::<Vec<_>>();
    let mut created = Vec::new();
    if !requests.is_empty() {
        let summary = client
            .create_users(requests)
            .await
            .context("creating the benchmark's users over gRPC")?;
        created = summary.users.into_iter().map(|u| u.id).collect();
        anyhow::ensure!(
            summary.errors.is_empty(),
            "the gRPC server refused set-up users: {:?}",
            summary.errors
        );
    }
    let listing = client
        .raw()
        .get_all_users(pb::Empty {})
        .await
        .context("listing users over gRPC")?;
    let server_id = listing
        .metadata()
        .get("server")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let plan = match setup.workload {
        _ if setup.payload.is_some() => UserOp::Greet {
            name: super::echo::payload_text(setup.payload.unwrap_or_default()),
        },
        Workload::Get | Workload::Push => UserOp::Get {
            id: created.first().cloned().unwrap_or_default(),
        },
        Workload::List => UserOp::List {
            expected: listing.into_inner().users.len(),
        },
        Workload::Stream => UserOp::Stream {
            expected: listing.into_inner().users.len(),
        },
        Workload::Create => UserOp::Create,
    };
    Ok(Prepared {
        items: plan.items(),
        operation: describe_grpc(&plan),
        plan,
        created,
        server_id,
    })
}

fn describe_grpc(plan: &UserOp) -> String {
    match plan {
        UserOp::Get { .. } => "GetUser".into(),
        UserOp::List { expected } => format!("GetAllUsers ({expected} users)"),
        UserOp::Stream { expected } => format!("ListUsers, server streaming ({expected} users)"),
        UserOp::Greet { name } => format!("Greet, {}-byte payload", name.len()),
        UserOp::Create => "CreateUser".into(),
    }
}

/// Deletes `ids` over gRPC, several at a time on one channel; returns how many failed.
pub(crate) async fn clean_up_grpc(target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
    let Ok(client) = grpc_client(target, setup.timeout, &setup.access).await else {
        return ids.len();
    };
    let removed = several_at_a_time(ids, |id| {
        let mut client = client.clone();
        async move { client.delete_user(&id).await.is_ok() }
    });
    removed
        .await
        .into_iter()
        .filter(|ok| *ok != Some(true))
        .count()
}

/// Runs `work` on every item with at most [`IN_FLIGHT`] at once, and returns each
/// output in the order they finished (`None` for a task that panicked).
async fn several_at_a_time<I, T, Fut>(
    items: impl IntoIterator<Item = I>,
    work: impl Fn(I) -> Fut,
) -> Vec<Option<T>>
where
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut pending = JoinSet::new();
    let mut done = Vec::new();
    for item in items {
        if pending.len() >= IN_FLIGHT
            && let Some(finished) = pending.join_next().await
        {
            done.push(finished.ok());
        }
        pending.spawn(work(item));
    }
    while let Some(finished) = pending.join_next().await {
        done.push(finished.ok());
    }
    done
}

/// The error for a reply that is not the user asked for.
pub(crate) fn check_user_id(got: &str, expected: &str) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("got user {got}, asked for {expected}"),
        ))
    }
}

/// The error for a list of the wrong length.
pub(crate) fn check_count(got: usize, expected: usize) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("listed {got} users, expected {expected}"),
        ))
    }
}

/// Checks that a greeting is the server's `Hello, {name}!`.
pub(crate) fn check_greeting(got: &str, name: &str) -> Result<(), CallError> {
    let fits = got.len() == name.len() + "Hello, !".len()
        && got.starts_with("Hello, ")
        && got.ends_with('!')
        && got.get(7..got.len() - 1) == Some(name);
    if fits {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("greeting was {:?}", got.get(..80).unwrap_or(got)),
        ))
    }
}

/// The error for a created user that is not the one sent.
pub(crate) fn check_email(got: &str, expected: &str) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("created {got}, sent {expected}"),
        ))
    }
}

/// The `authorization` metadata a gRPC probe sends under `--auth`.
pub(crate) type Auth = tonic::metadata::AsciiMetadataValue;

/// `token` as gRPC metadata (a token [`Bearer::parse`](lab_kit::token::Bearer::parse)
/// took is visible ASCII, so it always travels).
pub(crate) fn grpc_auth(token: Option<&lab_kit::token::Bearer>) -> Option<Auth> {
    token.and_then(|token| token.header_value().parse().ok())
}

/// `message` as a gRPC request, with `auth` when there is one.
pub(crate) fn with_auth<M>(message: M, auth: Option<&Auth>) -> tonic::Request<M> {
    let mut request = tonic::Request::new(message);
    if let Some(auth) = auth {
        request.metadata_mut().insert("authorization", auth.clone());
    }
    request
}

/// A gRPC status as a counted failure.
pub(crate) fn grpc_error(status: &tonic::Status) -> CallError {
    let kind = match status.code() {
        tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => ErrorKind::Timeout,
        tonic::Code::Unavailable | tonic::Code::Unknown => ErrorKind::Transport,
        _ => ErrorKind::Status,
    };
    CallError::new(kind, format!("{:?}: {}", status.code(), status.message()))
}
