//! What a run measures and how: the options, parsed once into [`Settings`].

use std::time::Duration;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize, Serializer};

use crate::placement::CpuList;

pub mod link;
pub mod push;
pub mod shard;
pub mod sweep;

use link::Link;

/// A server a run measures: the floor's echo or one of the labs. The identity of a
/// row's server in the report (`protocol` in the JSON), so the floor is told apart by
/// its type, not by a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lab {
    /// The raw-TCP echo every row is divided by.
    Floor,
    /// The socket lab.
    Socket,
    /// The REST lab (HTTP/1.1 and h2c).
    Rest,
    /// The gRPC lab.
    Grpc,
    /// The WebSocket lab.
    Ws,
}

impl Lab {
    /// Its key in options and reports: `floor`, `socket`, `rest`, `grpc`, `ws`.
    pub fn key(self) -> &'static str {
        match self {
            Lab::Floor => "floor",
            Lab::Socket => "socket",
            Lab::Rest => "rest",
            Lab::Grpc => "grpc",
            Lab::Ws => "ws",
        }
    }
}

impl std::fmt::Display for Lab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// A protocol lab the benchmark can drive (the floor always runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The socket lab: JSON lines over TCP.
    Socket,
    /// The REST lab: HTTP/1.1 and JSON.
    Rest,
    /// The REST lab over HTTP/2 with prior knowledge (h2c): the same JSON, so REST vs
    /// gRPC is one difference at a time.
    #[value(name = "rest-h2")]
    #[serde(rename = "rest-h2")]
    RestH2,
    /// The gRPC lab: HTTP/2 and Protocol Buffers.
    Grpc,
    /// The WebSocket lab: the socket lab's echo over a kept-open, upgraded connection.
    Ws,
}

impl Protocol {
    /// The lab whose server it speaks to (REST over h2c is the REST lab's).
    pub fn lab(self) -> Lab {
        match self {
            Protocol::Socket => Lab::Socket,
            Protocol::Rest | Protocol::RestH2 => Lab::Rest,
            Protocol::Grpc => Lab::Grpc,
            Protocol::Ws => Lab::Ws,
        }
    }

    /// The key its lab and its rows carry.
    pub fn key(self) -> &'static str {
        match self {
            Protocol::Socket => "socket",
            Protocol::Rest => "rest",
            Protocol::RestH2 => "rest-h2",
            Protocol::Grpc => "grpc",
            Protocol::Ws => "ws",
        }
    }
}

/// Which clients drive the labs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientChoice {
    /// The labs' own client types (reqwest, a tonic Channel).
    Standard,
    /// The leanest correct client of each protocol (hyper, tonic over a bare h2 connection).
    Lean,
    /// Both, one row each, so the client library's share shows.
    Both,
    /// Requests encoded once in advance and replies checked by their length and bytes,
    /// as wrk and h2load do: what a saturated server does when the client costs almost
    /// nothing (the get workload only, without --payload).
    Raw,
    /// Standard, lean and raw, one row each.
    All,
}

/// The operation each request performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// Read one user (socket: its echo).
    Get,
    /// List every user after creating `--list-size` of them (socket: its echo).
    List,
    /// Create a new user per request, removed afterwards (socket: its echo).
    Create,
    /// Move `--list-size` items to the client in each protocol's natural way: gRPC
    /// server streaming (`ListUsers`), REST one JSON array, the socket lab and the floor
    /// that many pipelined lines, the WebSocket that many messages; time to first item,
    /// to last, items per second.
    Stream,
    /// Not requests but push: `benchmark push` with `--subscribers`, `--iterations`
    /// events and `--timeout` (see `benchmark push --help`).
    Push,
}

/// Whether clients keep their connection between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionPolicy {
    /// One connection per client, kept open for the whole run.
    Reuse,
    /// A fresh TCP connection (and HTTP/2 session, gRPC channel) for every request.
    New,
}

/// Whether TLS clients resume sessions (`--tls-resumption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resumption {
    /// A new connection resumes an earlier one's session when it can.
    On,
    /// Every handshake is a full one.
    Off,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// A Markdown table, for issues and notes.
    Markdown,
    /// One JSON object, for scripts.
    Json,
    /// One CSV row per result, for spreadsheets.
    Csv,
    /// One self-contained HTML page with the table and the charts (use `--output`).
    Html,
}

/// How long each client's measured loop lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A fixed number of requests per client.
    Iterations(u64),
    /// Requests until the time is up.
    Duration(Duration),
}

/// Measured requests per client by default, as the original lab.
pub const DEFAULT_ITERATIONS: u64 = 50;
/// Unmeasured requests per client by default: enough for connections, allocators and
/// caches to settle, so 50 measured requests give the same answer run after run.
pub const DEFAULT_WARMUP: u64 = 200;
/// Rounds the measured phase is cut into by default: the rows take turns, each round a
/// few requests long, so a slow moment of the machine falls on every row alike. 25
/// rounds put a median's 95% interval at their 8th and 18th values, narrower than 10
/// rounds' 2nd and 9th for the same requests.
pub const DEFAULT_ROUNDS: u32 = 25;
/// Default limit on each request.
pub const DEFAULT_TIMEOUT: &str = "5s";
/// Default users created before a `list` run.
pub const DEFAULT_LIST_SIZE: usize = 100;

/// Reads `LAB=VALUE` (one lab's) or `VALUE` (every external server's), as the options
/// about external servers take them (`--server-pid`, `--server-metrics`); a `=` after a
/// `/` is the value's own (a URL's query).
///
/// # Errors
///
/// When the part before `=` names no lab server.
fn for_a_lab(text: &str) -> Result<(Option<Lab>, &str), String> {
    match text.split_once('=') {
        Some((lab, value)) if !lab.contains('/') => {
            let known = [Lab::Socket, Lab::Rest, Lab::Grpc, Lab::Ws];
            let Some(&lab) = known.iter().find(|known| known.key() == lab) else {
                return Err(format!("unknown lab {lab:?}: use socket, rest, grpc or ws"));
            };
            Ok((Some(lab), value))
        }
        _ => Ok((None, text)),
    }
}

/// An external server's metrics endpoint, for its CPU time from
/// `process_cpu_seconds_total`: `grpc=http://host:9100/metrics`, or a URL for every
/// external server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerMetricsUrl {
    /// The lab, or `None` for all.
    pub lab: Option<Lab>,
    /// `host:port` of the endpoint.
    pub authority: String,
    /// Its path (`/metrics` unless the URL gives one).
    pub path: String,
}

impl ServerMetricsUrl {
    /// `http://authority/path`, as a person would write it.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Reads `--server-metrics` values: `[LAB=]URL`, where URL is `http://host:port[/path]`
/// or `host:port[/path]` (the path `/metrics` unless given).
///
/// # Errors
///
/// When a lab is named that has no server, or the URL is not plain `http://`.
pub fn parse_server_metrics(text: &str) -> Result<ServerMetricsUrl, String> {
    let (lab, url) = for_a_lab(text)?;
    if url.starts_with("https://") {
        return Err(format!(
            "{url}: the metrics are read over plain http:// (serve them on a private address)"
        ));
    }
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, lab_kit::metrics::PATH),
    };
    if authority.is_empty()
        || !authority.contains(':')
        || url.contains("://") && !url.starts_with("http://")
    {
        return Err(format!(
            "{text:?} is not a metrics URL (like http://host:9100/metrics or grpc=host:9100)"
        ));
    }
    Ok(ServerMetricsUrl {
        lab,
        authority: authority.to_owned(),
        path: path.to_owned(),
    })
}

/// An external server's process, for its CPU time: `rest=1234`, or `1234` for every
/// external server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerPid {
    /// The lab, or `None` for all.
    pub lab: Option<Lab>,
    /// The process id.
    pub pid: u32,
}

/// Reads `--server-pid` values: `1234` or `rest=1234`.
///
/// # Errors
///
/// When the text is not a process id, with or without a lab in front.
pub fn parse_server_pid(text: &str) -> Result<ServerPid, String> {
    let (lab, pid) = for_a_lab(text)?;
    let pid = pid
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a process id (like 1234 or rest=1234)"))?;
    Ok(ServerPid { lab, pid })
}

/// Everything a run follows: the command line's options, parsed once, and what the
/// report prints back.
#[derive(Debug, Clone, Args, Serialize)]
pub struct Settings {
    /// Protocols to measure, comma-separated (the raw-TCP floor always runs).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "socket,rest,grpc,ws"
    )]
    pub protocols: Vec<Protocol>,
    /// Which clients: the labs' own (standard), the leanest correct ones (lean), or both.
    #[arg(long, value_enum, default_value_t = ClientChoice::Standard)]
    pub client: ClientChoice,
    /// Measured requests per client.
    #[arg(long, default_value_t = DEFAULT_ITERATIONS, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Unmeasured requests per client before measuring.
    #[arg(long, default_value_t = DEFAULT_WARMUP)]
    pub warmup: u64,
    /// Rows take turns: the measured phase is cut into this many rounds and each round
    /// measures every row in turn, so all rows see the same moments of a busy machine
    /// (1: each row measures in one go, one row after another).
    #[arg(long, default_value_t = DEFAULT_ROUNDS, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub rounds: u32,
    /// Measure for this long (like 10s or 500ms) instead of a fixed number of requests.
    #[arg(long, value_parser = lab_kit::args::parse_duration, conflicts_with = "iterations")]
    #[serde(rename = "duration_s", serialize_with = "optional_secs")]
    pub duration: Option<Duration>,
    /// Open loop: send R requests per second in total (spread over the clients) on a
    /// fixed schedule, whether or not earlier replies are back, and count each latency
    /// from its intended start. Needs --duration.
    #[arg(long, value_name = "R", requires = "duration", value_parser = parse_rate)]
    #[serde(rename = "rate_rps")]
    pub rate: Option<f64>,
    /// What each request does: get one user, list all users, or create a user (the
    /// socket lab and the floor always echo).
    #[arg(long, value_enum, default_value_t = Workload::Get)]
    pub workload: Workload,
    /// With `--workload push`: subscribers per mechanism (1 to 10000) [default: 100].
    #[arg(long, value_name = "S", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub subscribers: Option<usize>,
    /// Users each list returns in a `list` run: created before it as needed (a server
    /// that already holds more lists them all, and the row says how many).
    #[arg(long, default_value_t = DEFAULT_LIST_SIZE)]
    pub list_size: usize,
    /// Bytes of text each request carries (like 100, 10KB, 1MB; at most 1MB): the echo
    /// rows echo a message that long in JSON, the gRPC rows send it as Greet's name in
    /// protobuf. REST rows are left out: the REST lab has no route for a free payload.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub payload: Option<usize>,
    /// Keep one connection per client (reuse) or open a new one for every request (new).
    #[arg(long, value_enum, default_value_t = ConnectionPolicy::Reuse)]
    pub connection: ConnectionPolicy,
    /// Every row over TLS, the floor included (a TLS echo): the embedded servers serve a
    /// certificate made for the run and the clients trust it (rustls, TLS 1.3). Bytes
    /// are counted below TLS, so record overhead shows.
    #[arg(long)]
    pub tls: bool,
    /// Under --tls, whether a client's new connection resumes the session an earlier
    /// one made (a ticket: no certificate, no signature) or always makes a full
    /// handshake.
    #[arg(long, value_enum, default_value_t = Resumption::On)]
    pub tls_resumption: Resumption,
    /// The network between every client and its server, emulated in each client's own
    /// connection (reqwest's through a relay in front of its server; the floor's
    /// included): a preset (loopback, lan, region, continent,
    /// mobile) or a spec like rtt=20ms,rate=100mbit,jitter=2ms,loss=0.5%, each part
    /// optional. Without it nothing is between them.
    #[arg(long, value_name = "PRESET|SPEC", value_parser = Link::parse)]
    pub link: Option<Link>,
    /// The REST and gRPC servers require a bearer token (made for the run) on writes,
    /// and every REST and gRPC request carries it, so its cost is in every figure.
    #[arg(long)]
    pub auth: bool,
    /// Clients running at once, each with its own connection (tasks, not threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub concurrency: u16,
    /// Connections the clients share, client i on connection i mod K [default: one per
    /// client]. HTTP/2 rows (gRPC, rest-h2) carry a connection's clients as concurrent
    /// streams; socket lab clients pipeline on it, matching replies by id; HTTP/1.1 and
    /// WebSocket clients take turns on it, and the wait is in their latency. The floor
    /// keeps one connection per client. Not with --connection new.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub connections: Option<u16>,
    /// Load-generator threads the clients are spread over [default: one per client CPU].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub client_threads: Option<u16>,
    /// CPUs for the load generator, like 0 or 0-1 [default: the first half of the
    /// CPUs this process may use; all of them when there is only one].
    #[arg(long, value_name = "LIST", value_parser = CpuList::parse)]
    pub client_cpus: Option<CpuList>,
    /// CPUs for the embedded servers [default: the other half; shared on one CPU].
    #[arg(long, value_name = "LIST", value_parser = CpuList::parse)]
    pub server_cpus: Option<CpuList>,
    /// Limit on each request (like 5s); set-up and clean-up get a few times this.
    #[arg(long, default_value = DEFAULT_TIMEOUT, value_parser = lab_kit::args::parse_duration)]
    #[serde(rename = "timeout_s", serialize_with = "secs")]
    pub timeout: Duration,
    /// A running floor echo (`benchmark serve floor`) to divide by instead of the
    /// embedded one: beside external servers, so x floor crosses the same network path
    /// (host:port or tcp://host:port).
    #[arg(long, env = "FLOOR_URL", value_name = "URL", value_parser = lab_kit::args::tcp_target)]
    pub floor_url: Option<String>,
    /// A running socket lab server to measure instead of an embedded one
    /// (host:port or tcp://host:port).
    #[arg(long, alias = "socket-addr", env = "SOCKET_URL", value_name = "URL",
          value_parser = lab_kit::args::tcp_target)]
    pub socket_url: Option<String>,
    /// A running REST lab server to measure instead of an embedded one
    /// (`http://host:port`; `host:port` alone means `http://`).
    #[arg(long, env = "REST_URL", value_name = "URL")]
    pub rest_url: Option<String>,
    /// A running gRPC lab server to measure instead of an embedded one
    /// (`http://host:port`; `host:port` alone means `http://`).
    #[arg(long, env = "GRPC_URL", value_name = "URL")]
    pub grpc_url: Option<String>,
    /// A running WebSocket lab server to measure instead of an embedded one
    /// (`ws://host:port`; `host:port` alone means `ws://`).
    #[arg(long, env = "WS_URL", value_name = "URL", value_parser = lab_kit::args::ws_url)]
    pub ws_url: Option<String>,
    /// An external server's process id, to read its CPU time from /proc: `1234` for
    /// every external server, or `rest=1234` for one lab (repeat the option).
    #[arg(long = "server-pid", value_name = "[LAB=]PID", value_parser = parse_server_pid)]
    pub server_pids: Vec<ServerPid>,
    /// An external server's Prometheus metrics, to read its CPU time from
    /// `process_cpu_seconds_total` around every round, on any machine:
    /// `grpc=http://host:9100/metrics`, or a URL for every external server (repeat the
    /// option, or comma-separate them in the environment). A REST or WebSocket lab
    /// server started with --metrics is found at its own /metrics without it.
    #[arg(long = "server-metrics", env = "SERVER_METRICS", value_delimiter = ',',
          value_name = "[LAB=]URL", value_parser = parse_server_metrics)]
    pub server_metrics: Vec<ServerMetricsUrl>,
    /// Run shard I of N (`0/4`, I from 0): this process runs the clients whose number
    /// leaves I when divided by N, and their share of --rate on the whole run's
    /// schedule, so N processes (on N machines) together make the run `benchmark merge`
    /// puts back together from their JSON reports.
    #[arg(long, value_name = "I/N", value_parser = shard::parse_shard, conflicts_with = "shards")]
    pub shard: Option<shard::Shard>,
    /// N shards, this one's index I from JOB_COMPLETION_INDEX (what a Kubernetes
    /// Indexed Job sets in each pod).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub shards: Option<usize>,
    /// Start at TIME (RFC 3339, `2026-12-06T10:00:00Z`, or Unix seconds) rather than at
    /// once, so shards started at different moments measure the same seconds.
    #[arg(long, value_name = "TIME", env = "START_AT", value_parser = shard::parse_start_at)]
    #[serde(rename = "start_at_unix_s")]
    pub start_at: Option<f64>,
}

impl Settings {
    /// The measured loop's length.
    pub fn length(&self) -> Length {
        match self.duration {
            Some(duration) => Length::Duration(duration),
            None => Length::Iterations(self.iterations),
        }
    }

    /// Clients at once.
    pub fn clients(&self) -> usize {
        usize::from(self.concurrency)
    }

    /// Connections the clients share: `--connections`, at most one per client.
    pub fn connection_count(&self) -> usize {
        let clients = self.clients();
        self.connections
            .map_or(clients, |k| usize::from(k).min(clients))
    }

    /// Whether clients share connections (fewer connections than clients).
    pub fn sharing(&self) -> bool {
        self.connection_count() < self.clients()
    }

    /// Whether `protocol` was asked for.
    pub fn wants(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }

    /// The address given for `lab`'s server, if one was.
    pub fn address_of(&self, lab: Lab) -> Option<&str> {
        match lab {
            Lab::Floor => self.floor_url.as_deref(),
            Lab::Socket => self.socket_url.as_deref(),
            Lab::Rest => self.rest_url.as_deref(),
            Lab::Grpc => self.grpc_url.as_deref(),
            Lab::Ws => self.ws_url.as_deref(),
        }
    }

    /// This process's shard of the run, if it is one: `--shard`, or `--shards` with
    /// the index from the environment.
    ///
    /// # Errors
    ///
    /// When `--shards` has no index to go with it, or there are more shards than
    /// clients.
    pub fn this_shard(&self) -> Result<Option<shard::Shard>, String> {
        let shard = match (self.shard, self.shards) {
            (Some(shard), _) => shard,
            (None, Some(count)) => {
                let index = std::env::var(shard::INDEX_ENV).ok();
                shard::from_job_index(count, index.as_deref())?
            }
            (None, None) => return Ok(None),
        };
        if shard.count > self.clients() {
            return Err(format!(
                "{} shards for {} clients: every shard needs a client (raise --concurrency \
                 to at least {})",
                shard.count,
                self.clients(),
                shard.count
            ));
        }
        Ok(Some(shard))
    }

    /// The metrics endpoint given for `lab`'s external server, if one was.
    pub fn server_metrics(&self, lab: Lab) -> Option<&ServerMetricsUrl> {
        let own = self.server_metrics.iter().find(|m| m.lab == Some(lab));
        own.or_else(|| self.server_metrics.iter().find(|m| m.lab.is_none()))
    }

    /// The process id given for `lab`'s external server, if one was.
    pub fn server_pid(&self, lab: Lab) -> Option<u32> {
        let own = self.server_pids.iter().find(|p| p.lab == Some(lab));
        own.or_else(|| self.server_pids.iter().find(|p| p.lab.is_none()))
            .map(|p| p.pid)
    }
}

fn secs<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn optional_secs<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => secs(duration, serializer),
        None => serializer.serialize_none(),
    }
}

/// Largest `--payload`: the labs' clients read a reply line or message of up to 1 MiB.
pub const MAX_PAYLOAD: usize = 1_000_000;

/// Reads `--payload`: bytes, with an optional `KB`/`MB` (1000s) or `KiB`/`MiB` (1024s).
///
/// # Errors
///
/// When the text is not a size from 1 byte to [`MAX_PAYLOAD`].
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        _ => return Err(format!("{text:?}: use bytes like 100, 10KB or 1MB")),
    };
    let bytes = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?}: use bytes like 100, 10KB or 1MB"))?;
    if (1..=MAX_PAYLOAD).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(format!("{text:?}: a payload is 1 byte to 1MB"))
    }
}

/// Reads `--rate`: a positive, finite number of requests per second.
///
/// # Errors
///
/// When the text is not one.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| *r > 0.0 && r.is_finite())
        .ok_or_else(|| format!("{text:?} is not a positive number of requests per second"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_sizes_read_with_their_units() {
        assert_eq!(parse_size("100"), Ok(100));
        assert_eq!(parse_size("10KB"), Ok(10_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        for bad in ["0", "2MB", "1MiB", "ten", "5 parsecs", ""] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_pids_name_a_lab_or_all() {
        assert_eq!(
            parse_server_pid("rest=42"),
            Ok(ServerPid {
                lab: Some(Lab::Rest),
                pid: 42
            })
        );
        assert_eq!(parse_server_pid("7"), Ok(ServerPid { lab: None, pid: 7 }));
        assert!(parse_server_pid("smtp=1").is_err());
        assert!(parse_server_pid("rest=x").is_err());
    }

    #[test]
    fn server_metrics_name_a_lab_or_all_and_default_the_path() {
        let grpc = parse_server_metrics("grpc=http://10.0.0.5:9100/metrics").unwrap();
        assert_eq!(grpc.lab, Some(Lab::Grpc));
        assert_eq!(grpc.authority, "10.0.0.5:9100");
        assert_eq!(grpc.url(), "http://10.0.0.5:9100/metrics");
        let all = parse_server_metrics("rest-server:5000").unwrap();
        assert_eq!((all.lab, all.path.as_str()), (None, "/metrics"));
        // A query's `=` is not a lab.
        let query = parse_server_metrics("http://h:1/m?a=b").unwrap();
        assert_eq!((query.lab, query.path.as_str()), (None, "/m?a=b"));
        for bad in [
            "smtp=h:1",
            "https://h:1/metrics",
            "ftp://h:1",
            "http://",
            "justahost",
        ] {
            assert!(parse_server_metrics(bad).is_err(), "{bad}");
        }
    }
}
