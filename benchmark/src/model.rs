//! The data of a run's report: every type the JSON report holds, and nothing else.
//!
//! These types are filled in by `analysis` (summarising, x floor, ranking, notes,
//! baseline comparison, sweep summary) and written out by `render`; they compute
//! nothing and render nothing themselves, so both floors above can use them without
//! importing each other.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::engine::Round;
use crate::engine::timeline::Slot;
use crate::machine::Machine;
use crate::placement::Placement;
use crate::settings::sweep::Sweep;
use crate::settings::{Lab, Settings};

/// One row of results.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    /// Unique key: `floor`, `socket`, `rest-reqwest`, `rest-hyper`, `grpc-channel`,
    /// `grpc-hyper`.
    pub key: &'static str,
    /// The server: `floor`, `socket`, `rest`, `grpc` or `ws`.
    pub protocol: Lab,
    /// The client library.
    pub client: &'static str,
    /// What people read: `REST (hyper)`.
    pub label: &'static str,
    /// What each request did.
    pub operation: String,
    /// True when the server was started in-process for this run.
    pub embedded: bool,
    /// Where the server was.
    pub target: String,
    /// The server's own name for its build (`rest-lab/0.1.0 (release)`), where it tells.
    pub server_build: Option<String>,
    /// Successful requests measured.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by kind.
    pub error_kinds: BTreeMap<&'static str, u64>,
    /// The first message of each kind of failure.
    pub first_errors: BTreeMap<&'static str, String>,
    /// Mean latency, microseconds.
    pub mean_us: Option<f64>,
    /// Sample standard deviation (n-1), microseconds.
    pub stddev_us: Option<f64>,
    /// Smallest latency, microseconds.
    pub min_us: Option<f64>,
    /// Median, microseconds.
    pub p50_us: Option<f64>,
    /// 90th percentile (needs 10 samples), microseconds.
    pub p90_us: Option<f64>,
    /// 99th percentile (needs 100 samples), microseconds.
    pub p99_us: Option<f64>,
    /// 99.9th percentile (needs 1,000 samples), microseconds.
    pub p999_us: Option<f64>,
    /// Largest latency, microseconds.
    pub max_us: Option<f64>,
    /// 95% interval of the median over the rounds of each round's p50 (see
    /// `x_floor_lo`); `None` with fewer than 6 rounds.
    pub p50_us_lo: Option<f64>,
    /// Upper end of `p50_us`'s interval.
    pub p50_us_hi: Option<f64>,
    /// 95% interval of the rounds' p99, where every round had 100 requests.
    pub p99_us_lo: Option<f64>,
    /// Upper end of `p99_us`'s interval.
    pub p99_us_hi: Option<f64>,
    /// Successful requests per second of wall time.
    pub throughput_rps: f64,
    /// 95% interval of the median of the rounds' throughput.
    pub throughput_rps_lo: Option<f64>,
    /// Upper end of `throughput_rps`'s interval.
    pub throughput_rps_hi: Option<f64>,
    /// Load-generator CPU per request (successes and failures), microseconds.
    pub client_cpu_us: Option<f64>,
    /// Load-generator CPU over the measured phase as a share of the CPUs it had.
    pub client_cpu_share: Option<f64>,
    /// Server CPU per request, microseconds.
    pub server_cpu_us: Option<f64>,
    /// Why server CPU is blank, when it is.
    pub server_cpu_note: Option<String>,
    /// Where server CPU was read: `embedded`, `pid 1234`, or a metrics URL.
    pub server_cpu_from: Option<String>,
    /// Bytes the client sent per request, measured on the connection.
    pub bytes_sent: Option<f64>,
    /// Bytes the client received per request, measured on the connection.
    pub bytes_received: Option<f64>,
    /// Why bytes are blank, when they are.
    pub bytes_note: Option<&'static str>,
    /// Connections the clients opened in the whole run, warm-up included (blank where
    /// bytes are): `--connections`, or one per client, unless connections broke.
    pub connections_opened: Option<u64>,
    /// A new connection's time in its parts, where the measured requests opened
    /// connections (`--connection new`) and the client's connections can be counted.
    pub new_connection: Option<NewConnection>,
    /// Under `--link`, the p50 in the link's round trips (p50 / RTT).
    pub round_trips: Option<f64>,
    /// Share of latencies between 36 and 44 ms (Nagle and delayed ACK's signature).
    pub near_40ms: f64,
    /// With one client: p50 over the floor's p50; with more: the floor's throughput
    /// over this row's. Paired round by round (the median of each round's ratio to the
    /// floor's same round), so a slow moment of the machine cancels out. Above 1 is
    /// slower than the floor.
    pub x_floor: Option<f64>,
    /// Lower end of x floor's 95% confidence interval: an order statistic of the
    /// paired ratios (distribution-free; see the README); `None` with fewer than 6
    /// paired rounds.
    pub x_floor_lo: Option<f64>,
    /// Upper end of x floor's 95% interval.
    pub x_floor_hi: Option<f64>,
    /// Each round's throughput and median, in the order the rounds ran.
    pub rounds: Vec<Round>,
    /// Wall time of the measurement, seconds.
    pub wall_s: f64,
    /// Users the run created that could not be removed.
    pub users_left: usize,
    /// False when Ctrl-C cut this measurement short.
    pub complete: bool,
    /// Why this row's figures are not a result, when they are not: more than 5% of its
    /// requests failed, or (open loop) the generator sent more than 5% of them late.
    /// Such a row is left out of the ranking and the exit status says so.
    pub invalid: Option<String>,
    /// Open loop (`--rate`): what it measured beside the corrected latencies above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoop>,
    /// Stream workload (`--workload stream`): items per request, time to the first and
    /// the last, items per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamFigures>,
    /// Throughput and percentiles over the measured time, in a `--duration` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<Slot>>,
    /// Every successful request's latency, in nanoseconds: for the plots and
    /// `--histograms`.
    #[serde(skip)]
    pub histogram: Histogram<u64>,
}

/// Where a new connection's time goes, as means over the measured requests' connections
/// (means add up; medians do not): TCP connect, the TLS handshake, and the rest of the
/// request to its reply.
#[derive(Debug, Clone, Serialize)]
pub struct NewConnection {
    /// Connections opened in the measured rounds.
    pub connections: u64,
    /// Mean time from asking to connect to the TCP connection's being open.
    pub tcp_connect_us: f64,
    /// Full TLS handshakes (certificate and signature), under `--tls`.
    pub tls_full: u64,
    /// Their mean time.
    pub tls_full_us: Option<f64>,
    /// Resumed TLS handshakes (a session ticket, no certificate).
    pub tls_resumed: u64,
    /// Their mean time.
    pub tls_resumed_us: Option<f64>,
    /// Mean TLS handshake over both kinds, under `--tls`.
    pub tls_handshake_us: Option<f64>,
    /// The request's mean latency less the means above: the protocol's own set-up on
    /// the new connection (HTTP/2 settings, the WebSocket upgrade) and the exchange.
    pub first_reply_us: Option<f64>,
    /// Under `--link` with a round trip: the TCP connect in the link's round trips.
    pub tcp_connect_rtts: Option<f64>,
    /// The TLS handshake in round trips.
    pub tls_handshake_rtts: Option<f64>,
    /// The first reply in round trips.
    pub first_reply_rtts: Option<f64>,
}

/// What a stream-workload row measured: its latencies above are the time to the last
/// item; these add the first.
#[derive(Debug, Clone, Serialize)]
pub struct StreamFigures {
    /// Items each request moved.
    pub items: usize,
    /// Median time from the send to the first item, microseconds, where the client can
    /// tell (reqwest reads a body whole).
    pub first_item_p50_us: Option<f64>,
    /// 99th percentile of the time to the first item, microseconds.
    pub first_item_p99_us: Option<f64>,
    /// Median time from the send to the last item (the request's latency), microseconds.
    pub last_item_p50_us: Option<f64>,
    /// Items moved per second over the measurement.
    pub items_per_s: f64,
}

/// What an open-loop row measured beside its latencies (which, in an open loop, count
/// from each request's intended start).
#[derive(Debug, Clone, Serialize)]
pub struct OpenLoop {
    /// Median service time (from when each request was really sent), microseconds.
    pub service_p50_us: Option<f64>,
    /// 99th percentile of service time, microseconds.
    pub service_p99_us: Option<f64>,
    /// Requests that went out more than 1 ms after their intended start.
    pub late_requests: u64,
    /// The most a request went out after its intended start, microseconds.
    pub max_late_us: f64,
}

/// One place in the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct RankEntry {
    /// 1 for the best.
    pub position: usize,
    /// The row's key.
    pub key: &'static str,
    /// The row's label.
    pub label: &'static str,
    /// The ranked figure: p50 in microseconds, or requests per second.
    pub value: f64,
    /// How much worse than the best, percent (slower, or less throughput).
    pub percent_worse: f64,
    /// The row's x floor, what it was ranked by.
    pub x_floor: f64,
    /// Lower end of x floor's 95% interval.
    pub x_floor_lo: Option<f64>,
    /// Upper end of x floor's 95% interval.
    pub x_floor_hi: Option<f64>,
    /// True when this row cannot be told apart from the one above it: the 95% interval
    /// of their paired round-by-round ratio holds 1. Tied rows share a position.
    pub tied: bool,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the run did.
    pub settings: Settings,
    /// Where load and servers ran.
    pub placement: Placement,
    /// The machine.
    pub machine: Machine,
    /// The floor first, then each row.
    pub results: Vec<ResultRow>,
    /// `p50` with one client, `throughput` with more: the figure of the ranking and of
    /// x floor.
    pub ranked_by: RankedBy,
    /// Rows from best to worst (the floor is the reference, not a contestant).
    pub ranking: Vec<RankEntry>,
    /// What a reader should know to read the numbers right: self-checks and reasons.
    pub notes: Vec<String>,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
    /// Against a saved run (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// Under `--link`: what its relays moved and held over the whole run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_tally: Option<LinkTally>,
    /// Under `--link`: the HTTP/2 flow-control windows each side announced on the
    /// run's cleartext connections (TLS hides them), each distinct one once.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub http2_windows: Vec<Http2Windows>,
    /// With `--shard`: what `benchmark merge` needs of this shard to add it to the
    /// others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardPart>,
}

/// One shard's part of a sharded run, in its JSON report: who it was, and each row's
/// raw measurements (histograms, counts, CPU, bytes, windows) for `benchmark merge`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardPart {
    /// This shard's number, from 0.
    pub index: usize,
    /// Shards in the run.
    pub count: usize,
    /// This shard's clients.
    pub clients: usize,
    /// The benchmark that measured (`lab_kit::build::VERSION`): shards of different
    /// builds are not merged.
    pub version: String,
    /// The shard's command line, with what its environment set made explicit, from
    /// which `benchmark merge` reads the run's settings back.
    pub args: Vec<String>,
    /// When the run began measuring its first row, Unix seconds.
    pub started_unix_s: f64,
    /// Each row measured, in the report's order.
    pub rows: Vec<ShardRow>,
}

/// One row's raw measurements in a shard. Histograms are latencies in nanoseconds in
/// HdrHistogram's compressed form (V2 with DEFLATE, as its interval logs hold them),
/// base64: they add exactly, where percentiles do not.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRow {
    /// The row's key.
    pub key: String,
    /// Every successful request's latency.
    pub histogram: String,
    /// Open loop: service times (from the send).
    pub service: String,
    /// Stream workload: times to the first item.
    pub first_item: String,
    /// Each round in order.
    pub rounds: Vec<ShardRound>,
    /// Failed requests by kind.
    pub errors: BTreeMap<String, u64>,
    /// The first message of each kind of failure.
    pub first_errors: BTreeMap<String, String>,
    /// Load-generator CPU over the measured rounds, seconds.
    pub client_cpu_s: Option<f64>,
    /// CPUs the load threads could use at once.
    pub load_cpus: usize,
    /// Server CPU over the measured rounds, seconds, where it was read.
    pub server_cpu_s: Option<f64>,
    /// Where server CPU was read (`pid 1234`, a metrics URL).
    pub server_cpu_from: Option<String>,
    /// Bytes sent and received over the measured rounds.
    pub bytes: Option<(u64, u64)>,
    /// Connections opened, warm-up included.
    pub connections_opened: Option<u64>,
    /// Users left behind, of those made.
    pub users_left: (usize, usize),
    /// Items each request moved (stream workload).
    pub items: Option<usize>,
    /// Open loop: requests sent more than 1 ms late.
    pub late: u64,
    /// Open loop: the most a request was late, microseconds.
    pub max_late_us: f64,
    /// False when Ctrl-C cut it short.
    pub complete: bool,
}

/// One round of a row in a shard: its span and latencies.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShardRound {
    /// When its first client started, Unix seconds.
    pub start_unix_s: f64,
    /// When its last client ended, Unix seconds.
    pub end_unix_s: f64,
    /// Its latencies.
    pub histogram: String,
}

/// One side's HTTP/2 flow-control announcement: at a high bandwidth-delay product these
/// windows, not the protocol, decide how fast a big reply or request can go.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Http2Windows {
    /// `client` or `server`: whose receiving window it is.
    pub side: &'static str,
    /// The window each stream starts with (SETTINGS_INITIAL_WINDOW_SIZE), bytes.
    pub stream_bytes: u32,
    /// The connection's window after its first WINDOW_UPDATE, bytes.
    pub connection_bytes: u32,
}

/// What the emulated link did over a run (set-up and warm-up included): chunks it moved
/// either way, and how many it held as lost, to set against the loss asked for.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LinkTally {
    /// Chunks moved, either way, on every connection.
    pub chunks: u64,
    /// Of those, held for a retransmission timeout.
    pub held: u64,
    /// Connections that ended.
    pub connections: u64,
    /// Of those, the ones with a chunk held: with loss, how many clients felt it.
    pub connections_held: u64,
}

/// What the ranking and x floor are by: the median latency with one client (or in an
/// open loop, where every row is offered the same rate), throughput with more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankedBy {
    /// p50, lower is better.
    #[default]
    P50,
    /// Requests per second, higher is better.
    Throughput,
}

/// What a baseline keeps of a row: the fields of the JSON report it compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// The row's server, where the report says (the floor is told apart by it).
    #[serde(default)]
    pub protocol: Option<Lab>,
    /// The row's key, which pairs it with the same row of another run.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Median latency, microseconds.
    pub p50_us: Option<f64>,
    /// 99th percentile, microseconds.
    pub p99_us: Option<f64>,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Against the floor (above 1 is slower).
    pub x_floor: Option<f64>,
    /// Each round's figures: the noise.
    #[serde(default)]
    pub rounds: Vec<Round>,
}

/// A saved run: the JSON report, of which a comparison reads the rows and how x floor
/// was ranked.
#[derive(Debug, Clone, Deserialize)]
pub struct Baseline {
    /// Its rows.
    pub results: Vec<Figures>,
    /// `p50` or `throughput`: what its x floor paired.
    #[serde(default)]
    pub ranked_by: RankedBy,
    /// Its settings, to tell when the two runs did not measure the same thing.
    #[serde(default)]
    pub settings: serde_json::Value,
}

/// A figure a comparison looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Median latency: up is worse.
    P50,
    /// 99th percentile: up is worse.
    P99,
    /// Requests per second: down is worse.
    Throughput,
    /// Against the floor: up is worse.
    XFloor,
}

impl Figure {
    /// Every figure, in the order a comparison lists them.
    pub const ALL: [Figure; 4] = [Figure::P50, Figure::P99, Figure::Throughput, Figure::XFloor];
}

/// One figure of one row, then and now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The row's key.
    pub key: String,
    /// The row's label.
    pub label: String,
    /// Which figure.
    pub figure: Figure,
    /// In the baseline.
    pub before: f64,
    /// In this run.
    pub after: f64,
    /// `after / before - 1`, percent.
    pub percent: f64,
    /// The larger of the two runs' noise in this figure, percent; `None` when unknown.
    pub noise_percent: Option<f64>,
    /// The change is larger than the noise.
    pub beyond_noise: bool,
    /// The change is for the worse.
    pub worse: bool,
    /// Worse, past the noise and past `--fail-on`.
    pub regression: bool,
}

/// This run against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline file.
    pub file: String,
    /// `--fail-on`, percent.
    pub fail_on_percent: Option<f64>,
    /// Every figure of every row both runs have.
    pub changes: Vec<Change>,
    /// Rows of this run the baseline does not have, and the other way round.
    pub unmatched: Vec<String>,
    /// Settings that differ between the two runs (`name: before -> now`).
    pub different_settings: Vec<String>,
}

/// One point of a sweep: the value and the whole run at it.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The swept setting's value.
    pub value: f64,
    /// The run.
    pub report: Report,
}

/// One row of the summary: a row of one point.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The swept setting's value.
    pub value: f64,
    /// The row's key.
    pub key: &'static str,
    /// The row's label.
    pub label: &'static str,
    /// Successful requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Median latency, microseconds.
    pub p50_us: Option<f64>,
    /// 99th percentile, microseconds.
    pub p99_us: Option<f64>,
    /// Against the floor at the same point.
    pub x_floor: Option<f64>,
    /// The p50 in the link's round trips, under `--link` with a round trip.
    pub round_trips: Option<f64>,
}

/// Every point of a sweep, and the summary across them.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// What was swept.
    pub sweep: Sweep,
    /// One row per row of each point, point by point.
    pub summary: Vec<SummaryRow>,
    /// Each point's whole report.
    pub points: Vec<Point>,
}

/// `benchmark cost`: each row's client and server instructions per request, counted
/// by callgrind, a figure that does not depend on the machine's timing.
#[derive(Debug, Clone, Serialize)]
pub struct CostReport {
    /// Requests of the first point; the second sends twice as many.
    pub requests: u64,
    /// Unmeasured requests before them, at both points.
    pub warmup: u64,
    /// How many times each point was counted (each count the median of them).
    pub repeats: u32,
    /// The counter, as it names itself (`valgrind-3.19.0`).
    pub counter: String,
    /// One per row, the floor first.
    pub rows: Vec<CostRow>,
    /// How to read the figures.
    pub notes: Vec<String>,
}

/// One row's instruction counts.
#[derive(Debug, Clone, Serialize)]
pub struct CostRow {
    /// The row's key, as in the run's report.
    pub key: &'static str,
    /// What people read.
    pub label: &'static str,
    /// The client process: the row's client driven alone, one request at a time.
    pub client: InstructionCount,
    /// The server process: `benchmark serve LAB`, the server the run embeds.
    pub server: InstructionCount,
}

/// One process's instructions at both points, and per request from their difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InstructionCount {
    /// Instructions of the whole process with `requests` requests (the median of the
    /// repeats).
    pub at_n: u64,
    /// With twice as many (the median of the repeats).
    pub at_2n: u64,
    /// `(at_2n - at_n) / requests`: start-up, set-up and shut-down, the same at both
    /// points, cancel out. `None` when the second count is not the larger.
    pub per_request: Option<f64>,
    /// The lowest and highest per-request figure of a single repeat (its own two
    /// points): how far one repeat alone could be off. `None` with one repeat.
    pub repeat_range: Option<(f64, f64)>,
}

/// What `benchmark push` found: for each mechanism, how long an event took from its
/// publishing to each subscriber, and what delivering it cost.
#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    /// Subscribers per mechanism.
    pub subscribers: usize,
    /// Events published per mechanism.
    pub events: u64,
    /// Longest the publisher waited for every subscriber to have an event.
    pub timeout_ms: u64,
    /// Events a second on a fixed schedule (`--rate`), or `None`: each event once
    /// every subscriber had the one before.
    pub rate: Option<f64>,
    /// One row per mechanism, in the order measured.
    pub rows: Vec<PushRow>,
    /// Mechanisms by publish-to-receipt p50, fastest first (keys).
    pub ranking_p50: Vec<&'static str>,
    /// Mechanisms by p99, fastest first (keys).
    pub ranking_p99: Vec<&'static str>,
}

/// One mechanism's figures.
#[derive(Debug, Clone, Serialize)]
pub struct PushRow {
    /// `ws`, `sse`, `poll`, `hook` or `grpc`.
    pub key: &'static str,
    /// Its name for people.
    pub label: &'static str,
    /// Events that reached a subscriber (each subscriber's copy counts).
    pub delivered: u64,
    /// Copies still missing when the publisher stopped waiting.
    pub late: u64,
    /// Notices that a subscriber fell behind and skipped events.
    pub skipped: u64,
    /// Median publish-to-receipt, microseconds.
    pub p50_us: Option<f64>,
    /// 99th percentile, microseconds.
    pub p99_us: Option<f64>,
    /// The slowest copy, microseconds.
    pub max_us: Option<f64>,
    /// The server's CPU time over the measured events per delivered copy.
    pub server_cpu_us_per_delivery: Option<f64>,
    /// Bytes on the wire from the server to the subscribers per delivered copy (the
    /// WebSocket or HTTP/2 frames, the SSE stream, the poll answers, the webhook
    /// POSTs), counted by a relay in a pass of its own after the timed one.
    pub bytes_out_per_delivery: Option<f64>,
    /// Bytes from the subscribers to the server per delivered copy (the polls, the
    /// webhook answers, TCP-level acknowledgements not included).
    pub bytes_in_per_delivery: Option<f64>,
    /// Connections the subscribers hold open to the server (webhooks: none).
    pub connections_held: u64,
}
