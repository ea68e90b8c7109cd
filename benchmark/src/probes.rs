//! One request of each protocol, checked, and the set-up each workload needs.
//!
//! Every probe checks its reply (the right text, the right user, the right count), so a
//! fast wrong answer counts as an error, not as a latency. With the `new` connection
//! policy a probe opens a fresh connection for every request; with `reuse` it keeps one
//! and reconnects only after a failure.

use std::time::Duration;

use anyhow::Context;
use grpc_lab::GrpcClient;
use grpc_lab::pb;
use rest_lab::client::{ClientOptions, RestClient, RestError};
use socket_lab::{Client as SocketClient, ClientError};

use crate::runner::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol, Workload};

/// The socket lab request the benchmark sends, as text.
pub const SOCKET_TEXT: &str = "Hello Socket Server";
/// The reply it expects.
pub const SOCKET_EXPECTED: &str = "HELLO SOCKET SERVER";
/// The same request as bytes on the wire (what the floor echoes).
pub const SOCKET_REQUEST: &[u8] = b"{\"message\":\"Hello Socket Server\"}\n";

/// What each request of a protocol does, decided at set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// The socket lab's uppercase echo.
    Echo,
    /// Read this user.
    Get {
        /// The user's id.
        id: String,
    },
    /// List all users; there should be this many.
    List {
        /// The number of users at set-up.
        expected: usize,
    },
    /// Create a new user each time, with emails made unique by `tag`.
    Create {
        /// A tag unique to this run.
        tag: String,
    },
}

impl Operation {
    /// How the report names the operation.
    pub fn describe(&self, protocol: Protocol) -> String {
        match (protocol, self) {
            (Protocol::Socket, _) | (_, Operation::Echo) => "uppercase echo".into(),
            (Protocol::Rest, Operation::Get { .. }) => "GET /api/users/{id}".into(),
            (Protocol::Rest, Operation::List { expected }) => {
                format!("GET /api/users ({expected} users)")
            }
            (Protocol::Rest, Operation::Create { .. }) => "POST /api/users".into(),
            (Protocol::Grpc, Operation::Get { .. }) => "GetUser".into(),
            (Protocol::Grpc, Operation::List { expected }) => {
                format!("GetAllUsers ({expected} users)")
            }
            (Protocol::Grpc, Operation::Create { .. }) => "CreateUser".into(),
        }
    }
}

/// Where a protocol's server is and how to talk to it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The protocol.
    pub protocol: Protocol,
    /// `host:port` for the socket lab, a URL for the others.
    pub target: String,
    /// Limit on each request.
    pub timeout: Duration,
    /// Connection policy.
    pub policy: ConnectionPolicy,
}

/// Prepares a workload on a server: creates what it needs and returns the operation and
/// the ids to remove afterwards.
///
/// # Errors
///
/// When the server cannot be reached or refuses the set-up.
pub async fn prepare(
    endpoint: &Endpoint,
    workload: Workload,
    list_size: usize,
    tag: &str,
) -> anyhow::Result<(Operation, Vec<String>)> {
    let email = |n: usize| format!("bench-{tag}-setup-{n}@example.com");
    match (endpoint.protocol, workload) {
        (Protocol::Socket, _) => Ok((Operation::Echo, Vec::new())),
        (_, Workload::Create) => Ok((
            Operation::Create {
                tag: tag.to_owned(),
            },
            Vec::new(),
        )),
        (Protocol::Rest, workload) => {
            let client = RestClient::new(&endpoint.target)?;
            let count = if workload == Workload::Get {
                1
            } else {
                list_size
            };
            let mut ids = Vec::with_capacity(count);
            for n in 0..count {
                let user = client
                    .create("Benchmark User", &email(n))
                    .await
                    .context("creating the benchmark's users over REST")?;
                ids.push(user.id.to_string());
            }
            let operation = match workload {
                Workload::Get => Operation::Get { id: ids[0].clone() },
                _ => Operation::List {
                    expected: client.fetch_users().await?.len(),
                },
            };
            Ok((operation, ids))
        }
        (Protocol::Grpc, workload) => {
            let mut client = GrpcClient::connect(&endpoint.target, endpoint.timeout).await?;
            let count = if workload == Workload::Get {
                1
            } else {
                list_size
            };
            let requests = (0..count)
                .map(|n| pb::CreateUserRequest {
                    name: "Benchmark User".into(),
                    email: email(n),
                })
                .collect();
            let summary = client
                .create_users(requests)
                .await
                .context("creating the benchmark's users over gRPC")?;
            anyhow::ensure!(
                summary.errors.is_empty(),
                "the gRPC server refused set-up users: {:?}",
                summary.errors
            );
            let ids: Vec<String> = summary.users.into_iter().map(|u| u.id).collect();
            let operation = match workload {
                Workload::Get => Operation::Get {
                    id: ids.first().cloned().unwrap_or_default(),
                },
                _ => Operation::List {
                    expected: client.get_all_users().await?.len(),
                },
            };
            Ok((operation, ids))
        }
    }
}

/// Removes users the run created. Failures are returned as a count, not fatal: the
/// measurement is already done.
pub async fn clean_up(endpoint: &Endpoint, ids: &[String]) -> usize {
    let mut failed = 0;
    match endpoint.protocol {
        Protocol::Socket => {}
        Protocol::Rest => match RestClient::new(&endpoint.target) {
            Ok(client) => {
                for id in ids {
                    if !matches!(client.delete_user(id).await, Ok(r) if r.status.is_success()) {
                        failed += 1;
                    }
                }
            }
            Err(_) => failed = ids.len(),
        },
        Protocol::Grpc => match GrpcClient::connect(&endpoint.target, endpoint.timeout).await {
            Ok(mut client) => {
                for id in ids {
                    if client.delete_user(id).await.is_err() {
                        failed += 1;
                    }
                }
            }
            Err(_) => failed = ids.len(),
        },
    }
    failed
}

/// A probe of one lab, for one client.
#[derive(Debug)]
pub enum LabProbe {
    /// The socket lab.
    Socket(SocketProbe),
    /// The REST lab.
    Rest(RestProbe),
    /// The gRPC lab (boxed: its client is several times larger than the others).
    Grpc(Box<GrpcProbe>),
}

impl LabProbe {
    /// A probe for client number `index`.
    ///
    /// # Errors
    ///
    /// When the REST client cannot be built from the URL.
    pub fn new(endpoint: &Endpoint, operation: &Operation, index: usize) -> anyhow::Result<Self> {
        let creator = Creator {
            tag: match operation {
                Operation::Create { tag } => tag.clone(),
                _ => String::new(),
            },
            client: index,
            next: 0,
            created: Vec::new(),
        };
        Ok(match endpoint.protocol {
            Protocol::Socket => LabProbe::Socket(SocketProbe {
                addr: endpoint.target.clone(),
                timeout: endpoint.timeout,
                policy: endpoint.policy,
                client: None,
            }),
            Protocol::Rest => {
                let options = ClientOptions {
                    timeout: endpoint.timeout,
                    http2: false,
                    reuse_connections: endpoint.policy == ConnectionPolicy::Reuse,
                };
                LabProbe::Rest(RestProbe {
                    client: RestClient::with_options(&endpoint.target, &options)?,
                    operation: operation.clone(),
                    creator,
                })
            }
            Protocol::Grpc => LabProbe::Grpc(Box::new(GrpcProbe {
                url: endpoint.target.clone(),
                timeout: endpoint.timeout,
                policy: endpoint.policy,
                client: None,
                operation: operation.clone(),
                creator,
            })),
        })
    }
}

impl Probe for LabProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        match self {
            LabProbe::Socket(probe) => probe.call().await,
            LabProbe::Rest(probe) => probe.call().await,
            LabProbe::Grpc(probe) => probe.call().await,
        }
    }

    fn take_created(&mut self) -> Vec<String> {
        match self {
            LabProbe::Socket(_) => Vec::new(),
            LabProbe::Rest(probe) => std::mem::take(&mut probe.creator.created),
            LabProbe::Grpc(probe) => std::mem::take(&mut probe.creator.created),
        }
    }
}

/// Makes unique users for the `create` workload and remembers them.
#[derive(Debug)]
struct Creator {
    tag: String,
    client: usize,
    next: u64,
    created: Vec<String>,
}

impl Creator {
    fn next_email(&mut self) -> String {
        self.next += 1;
        format!(
            "bench-{}-{}-{}@example.com",
            self.tag, self.client, self.next
        )
    }
}

/// The socket lab's echo.
#[derive(Debug)]
pub struct SocketProbe {
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    client: Option<SocketClient>,
}

impl SocketProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let client = match &mut self.client {
            Some(client) => client,
            None => self.client.insert(
                SocketClient::connect(&self.addr, self.timeout)
                    .await
                    .map_err(socket_error)?,
            ),
        };
        let result = client.uppercase(SOCKET_TEXT).await;
        if result.is_err() || self.policy == ConnectionPolicy::New {
            self.client = None;
        }
        match result.map_err(socket_error)? {
            reply if reply == SOCKET_EXPECTED => Ok(()),
            reply => Err(CallError::new(
                ErrorKind::WrongReply,
                format!("echo was {reply:?}"),
            )),
        }
    }
}

fn socket_error(error: ClientError) -> CallError {
    let kind = match &error {
        ClientError::Resolve { .. } | ClientError::Connect { .. } => ErrorKind::Connect,
        ClientError::Timeout { .. } => ErrorKind::Timeout,
        ClientError::Io(_) | ClientError::Closed => ErrorKind::Transport,
        ClientError::Refused(_) => ErrorKind::Status,
        ClientError::BadReply(_) => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}

/// The REST lab's requests.
#[derive(Debug)]
pub struct RestProbe {
    client: RestClient,
    operation: Operation,
    creator: Creator,
}

impl RestProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        match &self.operation {
            Operation::Get { id } => {
                let user = self.client.fetch_user(id).await.map_err(rest_error)?;
                check_user_id(&user.id.to_string(), id)
            }
            Operation::List { expected } => {
                let users = self.client.fetch_users().await.map_err(rest_error)?;
                check_count(users.len(), *expected)
            }
            Operation::Create { .. } => {
                let email = self.creator.next_email();
                let user = self
                    .client
                    .create("Bench User", &email)
                    .await
                    .map_err(rest_error)?;
                self.creator.created.push(user.id.to_string());
                check_email(&user.email, &email)
            }
            Operation::Echo => Ok(()),
        }
    }
}

fn rest_error(error: RestError) -> CallError {
    let kind = match &error {
        RestError::Http { error, .. } if error.is_timeout() => ErrorKind::Timeout,
        RestError::Http { error, .. } if error.is_connect() => ErrorKind::Connect,
        RestError::Http { .. } => ErrorKind::Transport,
        RestError::Api { .. } => ErrorKind::Status,
        RestError::BadBody(_) | RestError::BadUrl { .. } => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}

/// The gRPC lab's calls.
#[derive(Debug)]
pub struct GrpcProbe {
    url: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    client: Option<GrpcClient>,
    operation: Operation,
    creator: Creator,
}

impl GrpcProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let client = match &mut self.client {
            Some(client) => client,
            None => self.client.insert(
                GrpcClient::connect(&self.url, self.timeout)
                    .await
                    .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?,
            ),
        };
        let result = match &self.operation {
            Operation::Get { id } => match client.get_user(id).await {
                Ok(user) => check_user_id(&user.id, id),
                Err(status) => Err(grpc_error(status)),
            },
            Operation::List { expected } => match client.get_all_users().await {
                Ok(users) => check_count(users.len(), *expected),
                Err(status) => Err(grpc_error(status)),
            },
            Operation::Create { .. } => {
                let email = self.creator.next_email();
                match client.create_user("Bench User", &email).await {
                    Ok(user) => {
                        self.creator.created.push(user.id);
                        check_email(&user.email, &email)
                    }
                    Err(status) => Err(grpc_error(status)),
                }
            }
            Operation::Echo => Ok(()),
        };
        // A new channel per request; and after a failure, a fresh one next time.
        if self.policy == ConnectionPolicy::New || result.is_err() {
            self.client = None;
        }
        result
    }
}

fn grpc_error(status: tonic::Status) -> CallError {
    let kind = match status.code() {
        tonic::Code::DeadlineExceeded | tonic::Code::Cancelled => ErrorKind::Timeout,
        tonic::Code::Unavailable | tonic::Code::Unknown => ErrorKind::Transport,
        _ => ErrorKind::Status,
    };
    CallError::new(kind, format!("{:?}: {}", status.code(), status.message()))
}

fn check_user_id(got: &str, expected: &str) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("got user {got}, asked for {expected}"),
        ))
    }
}

fn check_count(got: usize, expected: usize) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("listed {got} users, expected {expected}"),
        ))
    }
}

fn check_email(got: &str, expected: &str) -> Result<(), CallError> {
    if got == expected {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("created {got}, sent {expected}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_sends_exactly_what_the_socket_client_sends() {
        let request = socket_lab::protocol::Request {
            message: SOCKET_TEXT,
            id: None,
        };
        let mut bytes = serde_json::to_vec(&request).unwrap();
        bytes.push(b'\n');
        assert_eq!(bytes, SOCKET_REQUEST);
    }
}
