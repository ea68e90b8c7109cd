//! One adapter per protocol and client kind, behind one trait: everything the benchmark
//! knows about a row (its labels, its lab's server, set-up, the probe for client N,
//! clean-up) lives in that row's file. Adding a protocol is one file and one line in
//! [`ALL`].

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use lab_kit::tls::ClientTls;
use lab_kit::token::Bearer;

use crate::engine::probe::Probe;
use crate::servers::LabServer;
use crate::settings::{ConnectionPolicy, Protocol, Workload};
use shared::dial::Dial;

pub(crate) mod floor;
pub(crate) mod grpc_channel;
pub(crate) mod grpc_hyper;
pub(crate) mod push;
pub(crate) mod raw;
pub(crate) mod rest_hyper;
pub(crate) mod rest_reqwest;
pub(crate) mod shared;
pub(crate) mod socket;
pub(crate) mod ws;

/// An operation's name, with the payload it carries when `--payload` was given.
pub(crate) fn with_payload(operation: String, payload: Option<usize>) -> String {
    match payload {
        Some(bytes) => format!("{operation}, {bytes}-byte payload"),
        None => operation,
    }
}

/// Which of `--client standard|lean|both` a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ClientKind {
    /// The lab's own client type.
    Standard,
    /// The leanest correct client of the protocol.
    Lean,
    /// One client serves both (the floor, the socket lab).
    Both,
    /// Requests encoded in advance, replies checked by length and bytes (`--client raw`).
    Raw,
}

/// The fixed facts of a row.
#[derive(Debug)]
pub(crate) struct RowInfo {
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
    pub protocol: Option<Protocol>,
    /// Why bytes cannot be counted on this client's connection, if they cannot: the
    /// client opens its connections itself (see [`RowInfo::connects_itself`]).
    pub bytes_unmeasured: Option<&'static str>,
    /// Why the server's CPU time says nothing about the request, if it does not.
    pub server_cpu_unmeasured: Option<&'static str>,
    /// What the client asks for by ALPN under `--tls` (empty: nothing).
    pub alpn: &'static [&'static [u8]],
}

impl RowInfo {
    /// True for a client that opens its connections itself (reqwest), not through
    /// the probes' [`Dial`]: its bytes, connections and set-up times go uncounted, and
    /// under `--link` it crosses a relay in front of its server instead.
    pub(crate) fn connects_itself(&self) -> bool {
        self.bytes_unmeasured.is_some()
    }
}

/// How set-up, clean-up and probes reach a server: the run's TLS and token.
#[derive(Debug, Clone, Default)]
pub(crate) struct Access {
    /// TLS trusting the run's CA, under `--tls` (each client sets its own ALPN).
    pub tls: Option<ClientTls>,
    /// The token every REST and gRPC request carries, under `--auth`.
    pub token: Option<Bearer>,
}

impl Access {
    /// The HTTP origin of the server at `addr` (`host:port`): `https://` under TLS.
    pub(crate) fn origin(&self, addr: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{addr}")
    }
}

/// What set-up needs to know.
#[derive(Debug, Clone)]
pub(crate) struct SetUp {
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
    /// The server's TLS and token.
    pub access: Access,
}

/// What set-up decided.
#[derive(Debug)]
pub(crate) struct Prepared<Plan> {
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
pub(crate) struct ProbeContext {
    /// `host:port` or URL.
    pub target: String,
    /// `host:port` of `target`.
    pub authority: String,
    /// `target` through the link's relay under `--link`, for a client that opens its
    /// connections itself and so cannot be shaped in its own stream (reqwest);
    /// `target` otherwise.
    pub relayed: String,
    /// Limit on each request (and on connecting).
    pub timeout: Duration,
    /// Keep the connection, or a new one per request.
    pub policy: ConnectionPolicy,
    /// How the probes connect, and where their connections count.
    pub dial: Dial,
    /// The token every REST and gRPC request carries, under `--auth`.
    pub token: Option<Bearer>,
    /// Clients share connections (`--connections` below `--concurrency`).
    pub sharing: bool,
    /// Unique to this run.
    pub tag: String,
    /// Where probes put the ids of users they created, for removal after the run.
    pub created: Created,
}

/// Ids of users the probes of a measurement created: each probe keeps its own and
/// hands them over once, when it drops.
pub(crate) type Created = Arc<std::sync::Mutex<Vec<String>>>;

/// One protocol with one kind of client.
pub(crate) trait Adapter: Sync {
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

    /// Removes the users the run created, reaching the server as `setup` did; returns
    /// how many could not be removed.
    fn clean_up(
        &self,
        target: &str,
        ids: Vec<String>,
        setup: &SetUp,
    ) -> impl Future<Output = usize> {
        let _ = (target, setup);
        std::future::ready(ids.len())
    }
}

/// Every lab server, the floor first.
pub(crate) const LABS: [&LabServer; 5] = [
    &floor::FLOOR,
    &socket::SOCKET,
    &shared::users::REST,
    &shared::users::GRPC,
    &ws::WS,
];
