//! One adapter per protocol and client kind, behind one trait: everything the benchmark
//! knows about a row (its labels, its lab's server, set-up, the probe for client N,
//! clean-up) lives in that row's file. Adding a protocol is one file and one line in
//! [`ALL`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use tokio::net::TcpStream;

use crate::engine::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Workload};
use crate::traffic::{Counted, Traffic};

pub mod echo;
pub mod floor;
pub mod grpc_channel;
pub mod grpc_hyper;
pub mod lines;
pub mod link;
pub mod pipeline;
pub mod rest_hyper;
pub mod rest_reqwest;
pub mod socket;
pub mod users;
pub mod ws;

pub use crate::servers::LabServer;
pub use link::Link;

/// Opens a TCP connection to `addr` (`host:port`) within `timeout`, with TCP_NODELAY,
/// counting its bytes into `traffic`: how every probe connects, so connecting costs the
/// same in every row.
///
/// # Errors
///
/// A timeout or connect [`CallError`].
pub async fn connect(
    addr: &str,
    timeout: Duration,
    traffic: &Arc<Traffic>,
) -> Result<Counted<TcpStream>, CallError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| CallError::new(ErrorKind::Timeout, "connecting timed out"))?
        .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?;
    let _ = stream.set_nodelay(true);
    Ok(Counted::new(stream, Arc::clone(traffic)))
}

/// An operation's name, with the payload it carries when `--payload` was given.
pub fn with_payload(operation: String, payload: Option<usize>) -> String {
    match payload {
        Some(bytes) => format!("{operation}, {bytes}-byte payload"),
        None => operation,
    }
}

/// `host:port` of an `http://host:port[/...]` URL.
pub fn authority_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.split('/').next().unwrap_or_default().to_owned()
}

/// Which of `--client standard|lean|both` a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientKind {
    /// The lab's own client type.
    Standard,
    /// The leanest correct client of the protocol.
    Lean,
    /// One client serves both (the floor, the socket lab).
    Both,
}

/// The fixed facts of a row.
#[derive(Debug)]
pub struct RowInfo {
    /// Unique key in reports: `rest-hyper`.
    pub key: &'static str,
    /// What people read: `REST (hyper)`.
    pub label: &'static str,
    /// The client library: `hyper`.
    pub client: &'static str,
    /// Standard, lean or both.
    pub kind: ClientKind,
    /// The server it talks to.
    pub lab: &'static LabServer,
    /// The `--protocols` name that selects it (`rest`, `rest-h2`...).
    pub protocol: &'static str,
    /// Why bytes cannot be counted on this client's connection, if they cannot.
    pub bytes_unmeasured: Option<&'static str>,
    /// Why the server's CPU time says nothing about the request, if it does not.
    pub server_cpu_unmeasured: Option<&'static str>,
}

/// What set-up needs to know.
#[derive(Debug, Clone)]
pub struct SetUp {
    /// The operation asked for.
    pub workload: Workload,
    /// Users a list needs.
    pub list_size: usize,
    /// Unique to this run, in every email the run makes.
    pub tag: String,
    /// Limit on each request.
    pub timeout: Duration,
    /// `--payload`: bytes of text each echo or greeting carries.
    pub payload: Option<usize>,
}

/// What set-up decided.
#[derive(Debug)]
pub struct Prepared<Plan> {
    /// What every request does, for the probes.
    pub plan: Plan,
    /// The operation, as the report names it.
    pub operation: String,
    /// Ids of users set-up created, to remove afterwards.
    pub created: Vec<String>,
    /// The server's own name for its build, where it tells (`rest-lab/0.1.0 (release)`).
    pub server_id: Option<String>,
    /// Items each request moves, in the stream workload.
    pub items: Option<usize>,
}

/// What every probe of a measurement shares.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// `host:port` or URL.
    pub target: String,
    /// Limit on each request (and on connecting).
    pub timeout: Duration,
    /// Keep the connection, or a new one per request.
    pub policy: ConnectionPolicy,
    /// Where the probes' connections count their bytes.
    pub traffic: Arc<Traffic>,
    /// Clients share connections (`--connections` below `--concurrency`).
    pub sharing: bool,
    /// Unique to this run.
    pub tag: String,
}

/// One protocol with one kind of client.
pub trait Adapter: Sync {
    /// What set-up decides for the probes (a user id, a count); cloned into each.
    type Plan: Clone + Sync + 'static;
    /// One client's requests.
    type Probe: Probe + 'static;
    /// What the clients of one connection share (`--connections`): a [`Link`], or `()`
    /// for a row that keeps one connection per client whatever is asked.
    type Link: Default + 'static;

    /// The row's fixed facts.
    fn info(&self) -> &'static RowInfo;

    /// Prepares the server for the workload.
    fn set_up(
        &self,
        target: &str,
        setup: &SetUp,
    ) -> impl Future<Output = anyhow::Result<Prepared<Self::Plan>>>;

    /// The probe for client number `index`, over `link`, the connection it shares with
    /// the other clients on it; the first probe that needs the connection opens it.
    fn probe(
        &self,
        plan: &Self::Plan,
        context: &ProbeContext,
        link: &Self::Link,
        index: usize,
    ) -> Self::Probe;

    /// Removes the users the run created; returns how many could not be removed.
    fn clean_up(
        &self,
        target: &str,
        ids: Vec<String>,
        timeout: Duration,
    ) -> impl Future<Output = usize> {
        let _ = (target, timeout);
        std::future::ready(ids.len())
    }
}

/// Every row the benchmark knows, in report order.
pub fn all() -> Vec<&'static dyn crate::run::Row> {
    vec![
        &floor::FloorEcho,
        &socket::SocketLab,
        &rest_reqwest::HTTP1,
        &rest_hyper::HTTP1,
        &rest_reqwest::HTTP2,
        &rest_hyper::HTTP2,
        &grpc_channel::GrpcChannel,
        &grpc_hyper::GrpcHyper,
        &ws::WsLab,
    ]
}

/// Every lab server, the floor first.
pub const LABS: [&LabServer; 5] = [
    &floor::FLOOR,
    &socket::SOCKET,
    &users::REST,
    &users::GRPC,
    &ws::WS,
];
