//! The results of a run and their renderings: table, markdown, JSON and CSV.
//!
//! Collecting (the engine), computing (`stats`, `checks`) and rendering (here) are kept
//! apart: a [`Report`] holds finished numbers, the columns are defined once in
//! [`COLUMNS`], and each format is a small writer over them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::adapters::RowInfo;
use crate::baseline::Comparison;
use crate::checks;
use crate::engine::{LoadResult, Round};
use crate::grid::csv_field;
use crate::machine::Machine;
use crate::placement::Placement;
use crate::servers::{ServerCpu, Target};
use crate::settings::{ConnectionPolicy, Format, Settings, Workload};
use crate::stats::{Stats, percentile, rank};
use crate::timeline::Slot;

/// What measuring one row gave, before it is summarised.
#[derive(Debug)]
pub struct Measured {
    /// The row.
    pub info: &'static RowInfo,
    /// What each request did.
    pub operation: String,
    /// The server's own name for its build, where it tells.
    pub server_id: Option<String>,
    /// Latencies, errors, wall time, client CPU.
    pub load: LoadResult,
    /// CPUs the load threads could use at once.
    pub load_cpus: usize,
    /// Server CPU over the measured phase, where it can be read.
    pub server_cpu: Option<Duration>,
    /// Bytes `(sent, received)` over the measured phase, where they can be counted.
    pub bytes: Option<(u64, u64)>,
    /// Users that could not be removed, of those the run created.
    pub users_left: (usize, usize),
    /// Connections the clients opened over the whole run, warm-up included, where
    /// they can be counted (where bytes can).
    pub connections_opened: Option<u64>,
    /// Items each request moved, in the stream workload.
    pub items: Option<usize>,
}

/// One row of results.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    /// Unique key: `floor`, `socket`, `rest-reqwest`, `rest-hyper`, `grpc-channel`,
    /// `grpc-hyper`.
    pub key: &'static str,
    /// The lab: `floor`, `socket`, `rest` or `grpc`.
    pub protocol: &'static str,
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
    /// Successful requests per second of wall time.
    pub throughput_rps: f64,
    /// Load-generator CPU per request (successes and failures), microseconds.
    pub client_cpu_us: Option<f64>,
    /// Load-generator CPU over the measured phase as a share of the CPUs it had.
    pub client_cpu_share: Option<f64>,
    /// Server CPU per request, microseconds.
    pub server_cpu_us: Option<f64>,
    /// Why server CPU is blank, when it is.
    pub server_cpu_note: Option<String>,
    /// Bytes the client sent per request, measured on the connection.
    pub bytes_sent: Option<f64>,
    /// Bytes the client received per request, measured on the connection.
    pub bytes_received: Option<f64>,
    /// Why bytes are blank, when they are.
    pub bytes_note: Option<&'static str>,
    /// Connections the clients opened in the whole run, warm-up included (blank where
    /// bytes are): `--connections`, or one per client, unless connections broke.
    pub connections_opened: Option<u64>,
    /// Share of latencies between 36 and 44 ms (Nagle and delayed ACK's signature).
    pub near_40ms: f64,
    /// With one client: p50 over the floor's p50; with more: the floor's throughput
    /// over this row's. Paired round by round (the median of each round's ratio to the
    /// floor's same round), so a slow moment of the machine cancels out. Above 1 is
    /// slower than the floor.
    pub x_floor: Option<f64>,
    /// Each round's throughput and median, in the order the rounds ran.
    pub rounds: Vec<Round>,
    /// Wall time of the measurement, seconds.
    pub wall_s: f64,
    /// Users the run created that could not be removed.
    pub users_left: usize,
    /// False when Ctrl-C cut this measurement short.
    pub complete: bool,
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

impl ResultRow {
    /// Summarises a measured row.
    pub fn new(measured: Measured, target: &Target) -> Self {
        let m = &measured.load.measurement;
        let stats = Stats::from_histogram(&m.histogram);
        let us = |nanos: u64| nanos as f64 / 1000.0;
        let pct = |q: f64| percentile(&m.histogram, q).map(us);
        let calls = m.histogram.len() + m.error_count();
        let per_call = |d: Duration| (calls > 0).then(|| d.as_secs_f64() * 1e6 / calls as f64);
        let wall = m.wall.as_secs_f64();
        let server_cpu = measured
            .server_cpu
            .filter(|_| measured.info.server_cpu_unmeasured.is_none());
        let server_cpu_note = match (&target.cpu, server_cpu) {
            (_, None) if measured.info.server_cpu_unmeasured.is_some() => {
                measured.info.server_cpu_unmeasured.map(str::to_owned)
            }
            (_, Some(_)) => None,
            (ServerCpu::Unknown(reason), None) => Some(reason.clone()),
            (_, None) => Some("this system does not tell thread CPU time".into()),
        };
        ResultRow {
            key: measured.info.key,
            protocol: measured.info.lab.key,
            client: measured.info.client,
            label: measured.info.label,
            operation: measured.operation,
            embedded: target.embedded.is_some(),
            target: target.address.clone(),
            server_build: measured.server_id,
            requests: m.histogram.len(),
            errors: m.error_count(),
            error_kinds: m.errors.iter().map(|(k, v)| (k.key(), *v)).collect(),
            first_errors: m
                .first_errors
                .iter()
                .map(|(k, v)| (k.key(), v.clone()))
                .collect(),
            mean_us: stats.map(|s| s.mean / 1000.0),
            stddev_us: stats.and_then(|s| s.stddev).map(|s| s / 1000.0),
            min_us: stats.map(|s| us(s.min)),
            p50_us: pct(0.50),
            p90_us: pct(0.90),
            p99_us: pct(0.99),
            p999_us: pct(0.999),
            max_us: stats.map(|s| us(s.max)),
            throughput_rps: m.throughput(),
            client_cpu_us: measured.load.client_cpu.and_then(per_call),
            client_cpu_share: measured
                .load
                .client_cpu
                .filter(|_| wall > 0.0)
                .map(|cpu| cpu.as_secs_f64() / (wall * measured.load_cpus.max(1) as f64)),
            server_cpu_us: server_cpu.and_then(per_call),
            server_cpu_note,
            bytes_sent: measured
                .bytes
                .filter(|_| calls > 0)
                .map(|(sent, _)| sent as f64 / calls as f64),
            bytes_received: measured
                .bytes
                .filter(|_| calls > 0)
                .map(|(_, received)| received as f64 / calls as f64),
            bytes_note: measured.info.bytes_unmeasured,
            near_40ms: checks::share_near_40ms(&m.histogram),
            x_floor: None,
            rounds: measured.load.per_round.clone(),
            wall_s: wall,
            users_left: measured.users_left.0,
            connections_opened: measured.connections_opened,
            complete: m.complete,
            timeline: measured.load.timeline.as_ref().map(|t| t.slots()),
            histogram: m.histogram.clone(),
            stream: measured.items.map(|items| {
                let first = |q: f64| {
                    percentile(&m.first_item, q).map(us)
                };
                StreamFigures {
                    items,
                    first_item_p50_us: first(0.5),
                    first_item_p99_us: first(0.99),
                    last_item_p50_us: pct(0.5),
                    items_per_s: m.throughput() * items as f64,
                }
            }),
            open_loop: (!m.service.is_empty()).then(|| {
                let service = |q: f64| {
                    percentile(&m.service, q).map(us)
                };
                OpenLoop {
                    service_p50_us: service(0.5),
                    service_p99_us: service(0.99),
                    late_requests: m.late,
                    max_late_us: m.max_late.as_secs_f64() * 1e6,
                }
            }),
        }
    }
}

/// `row` against the floor: the median over the rounds both ran of each round's
/// ratio (p50 over the floor's, or the floor's throughput over the row's), so drift of
/// the machine between rounds cancels out; the whole-run ratio when no round pairs.
fn x_floor(row: &ResultRow, floor: &ResultRow, by_throughput: bool) -> Option<f64> {
    let ratio = |row: f64, floor: f64| {
        let value = if by_throughput {
            floor / row
        } else {
            row / floor
        };
        (value.is_finite() && value > 0.0).then_some(value)
    };
    let mut paired: Vec<f64> = row
        .rounds
        .iter()
        .zip(&floor.rounds)
        .filter_map(|(r, f)| {
            if by_throughput {
                ratio(r.throughput_rps, f.throughput_rps)
            } else {
                ratio(r.p50_us?, f.p50_us?)
            }
        })
        .collect();
    if paired.is_empty() {
        return if by_throughput {
            ratio(row.throughput_rps, floor.throughput_rps)
        } else {
            ratio(row.p50_us?, floor.p50_us?)
        };
    }
    paired.sort_by(f64::total_cmp);
    let middle = paired.len() / 2;
    Some(if paired.len() % 2 == 1 {
        paired[middle]
    } else {
        (paired[middle - 1] + paired[middle]) / 2.0
    })
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
    pub ranked_by: &'static str,
    /// Rows from best to worst (the floor is the reference, not a contestant).
    pub ranking: Vec<RankEntry>,
    /// What a reader should know to read the numbers right: self-checks and reasons.
    pub notes: Vec<String>,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
    /// Against a saved run (`--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
}

impl Report {
    /// Assembles a report: fills in x floor, ranks the rows and writes the notes.
    pub fn new(
        settings: Settings,
        placement: Placement,
        machine: Machine,
        mut results: Vec<ResultRow>,
        interrupted: bool,
    ) -> Self {
        // In an open loop every row is offered the same rate: rank by (corrected) latency.
        let by_throughput = settings.clients() > 1 && settings.rate.is_none();
        let floor = results.iter().find(|r| r.key == "floor").cloned();
        for row in &mut results {
            row.x_floor = floor
                .as_ref()
                .and_then(|floor| x_floor(row, floor, by_throughput));
        }
        // Rank by x floor itself: the same paired figure, "fastest first".
        let entries: Vec<(usize, f64)> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.key != "floor")
            .filter_map(|(i, r)| r.x_floor.map(|v| (i, v)))
            .collect();
        let ranking = rank(&entries)
            .into_iter()
            .map(|ranked| {
                let row = &results[ranked.key];
                RankEntry {
                    position: ranked.position,
                    key: row.key,
                    label: row.label,
                    value: if by_throughput {
                        row.throughput_rps
                    } else {
                        row.p50_us.unwrap_or_default()
                    },
                    percent_worse: ranked.percent_slower,
                }
            })
            .collect();
        let notes = checks::notes(&settings, &placement, &results);
        Report {
            settings,
            placement,
            machine,
            results,
            ranked_by: if by_throughput { "throughput" } else { "p50" },
            ranking,
            notes,
            interrupted,
            comparison: None,
        }
    }

    /// The exit status this report calls for: 130 after Ctrl-C, 1 when a row's every
    /// request failed, 3 on a regression past `--fail-on`, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.results.iter().any(|r| r.requests == 0 && r.errors > 0) {
            1
        } else if self.comparison.as_ref().is_some_and(Comparison::regressed) {
            3
        } else {
            0
        }
    }

    /// The report in `format`; `wide` adds every percentile to the table formats.
    pub fn render(&self, format: Format, wide: bool) -> String {
        match format {
            Format::Table => self.table(wide),
            Format::Markdown => self.markdown(wide),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
                text.push('\n');
                text
            }
            Format::Csv => self.csv(),
            Format::Html => crate::html::report_page(self),
        }
    }

    fn headline(&self) -> String {
        let s = &self.settings;
        let length = match s.duration {
            Some(d) => format!("{:.1} s", d.as_secs_f64()),
            None => format!("{} requests", s.iterations),
        };
        let workload = match s.workload {
            Workload::Get => "get".to_owned(),
            Workload::List => format!("list ({} users)", s.list_size),
            Workload::Create => "create".to_owned(),
            Workload::Stream => format!("stream ({} items)", s.list_size),
        };
        format!(
            "{workload}, connection {}, {} client{} x {length} after {} warm-up",
            match s.connection {
                ConnectionPolicy::Reuse => "reuse",
                ConnectionPolicy::New => "new per request",
            },
            s.concurrency,
            if s.concurrency == 1 { "" } else { "s" },
            s.warmup,
        )
    }

    pub(crate) fn context_lines(&self) -> Vec<String> {
        let p = &self.placement;
        let embedded = self.results.iter().any(|r| r.embedded && r.key != "floor");
        let external: Vec<String> = self
            .results
            .iter()
            .filter(|r| !r.embedded)
            .map(|r| format!("{} at {}", r.label, r.target))
            .collect();
        let mut servers = format!(
            "load: {} thread{} on CPU {}; embedded servers on CPU {}{}",
            p.client_threads,
            if p.client_threads == 1 { "" } else { "s" },
            p.client_cpus,
            p.server_cpus,
            if p.shared() {
                " (shared with the load)"
            } else {
                ""
            },
        );
        if embedded || self.results.iter().all(|r| r.embedded) {
            let _ = write!(servers, ", {} build", lab_kit::build::PROFILE);
        }
        let mut lines = vec![
            format!("commlab benchmark: {}", self.headline()),
            format!(
                "machine: {} CPU{}, {}, {}",
                self.machine.cpus,
                if self.machine.cpus == 1 { "" } else { "s" },
                self.machine.cpu_model,
                self.machine.os
            ),
            servers,
        ];
        if let Some(line) = self.connections_line() {
            lines.push(line);
        }
        if !external.is_empty() {
            lines.push(format!("external servers: {}", external.join(", ")));
        }
        let builds: Vec<String> = self
            .results
            .iter()
            .filter_map(|r| r.server_build.as_ref().map(|b| (r.protocol, b)))
            .fold(Vec::new(), |mut seen, (lab, build)| {
                let text = format!("{lab} {build}");
                if !seen.contains(&text) {
                    seen.push(text);
                }
                seen
            });
        if !builds.is_empty() {
            lines.push(format!("server builds: {}", builds.join(", ")));
        }
        if self.interrupted {
            lines.push("INTERRUPTED: these are the figures measured before Ctrl-C.".into());
        }
        lines
    }

    /// How clients map onto connections, when they share them (`--connections`).
    fn connections_line(&self) -> Option<String> {
        let s = &self.settings;
        if !s.sharing() {
            return None;
        }
        let (clients, connections) = (s.clients(), s.connection_count());
        let per = clients.div_ceil(connections);
        let threads = self.placement.client_threads.clamp(1, connections);
        Some(format!(
            "connections: {clients} clients over {connections} connection{} (up to {per} \
             each, client i on connection i mod {connections}, {threads} load thread{}): \
             HTTP/2 rows carry them as concurrent streams; the socket lab's pipeline, \
             replies matched by id; HTTP/1.1 and WebSocket clients queue, one request at a \
             time per connection, the wait counted in their latency; the floor keeps one \
             connection per client",
            if connections == 1 { "" } else { "s" },
            if threads == 1 { "" } else { "s" },
        ))
    }

    pub(crate) fn columns(wide: bool) -> Vec<&'static Column> {
        COLUMNS.iter().filter(|c| wide || !c.wide_only).collect()
    }

    pub(crate) fn ranking_lines(&self) -> Vec<String> {
        let width = self
            .ranking
            .iter()
            .map(|r| r.label.len())
            .max()
            .unwrap_or(0);
        self.ranking
            .iter()
            .map(|r| {
                let (value, worse) = if self.ranked_by == "throughput" {
                    (format!("{:.0} req/s", r.value), "less throughput")
                } else {
                    (format_time(r.value), "slower")
                };
                let verdict = if r.position == 1 {
                    "(best)".to_owned()
                } else {
                    format!("({:.0}% {worse})", r.percent_worse)
                };
                format!("{}. {:<width$}  {value} {verdict}", r.position, r.label)
            })
            .collect()
    }

    pub(crate) fn ranking_heading(&self) -> &'static str {
        if self.ranked_by == "throughput" {
            "Ranking by x floor (throughput, paired round by round with the floor's):"
        } else {
            "Ranking by x floor (p50, paired round by round with the floor's):"
        }
    }

    fn table(&self, wide: bool) -> String {
        let columns = Report::columns(wide);
        let cells: Vec<Vec<String>> = self
            .results
            .iter()
            .map(|row| columns.iter().map(|c| (c.show)(row)).collect())
            .collect();
        let widths: Vec<usize> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let header = c.header.0.len().max(c.header.1.len());
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .fold(header, usize::max)
            })
            .collect();
        let line = |texts: Vec<&str>| {
            let mut out = String::new();
            for ((text, width), column) in texts.iter().zip(&widths).zip(&columns) {
                if column.text {
                    let _ = write!(out, "{text:<width$}  ");
                } else {
                    let _ = write!(out, "{text:>width$}  ");
                }
            }
            out.trim_end().to_owned()
        };
        let mut out = String::new();
        for context in self.context_lines() {
            let _ = writeln!(out, "{}", wrap(&context, "", "  ", 100));
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            line(columns.iter().map(|c| c.header.0).collect())
        );
        let _ = writeln!(
            out,
            "{}",
            line(columns.iter().map(|c| c.header.1).collect())
        );
        for row in &cells {
            let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
        }
        self.write_errors(&mut out);
        if !self.ranking.is_empty() {
            let _ = writeln!(out, "\n{}", self.ranking_heading());
            for ranked in self.ranking_lines() {
                let _ = writeln!(out, "  {ranked}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes:");
            for note in &self.notes {
                let _ = writeln!(out, "{}", wrap(note, "  - ", "    ", 100));
            }
        }
        if let Some(comparison) = &self.comparison {
            let _ = writeln!(
                out,
                "\nAgainst the baseline:\n{}",
                comparison.grid().text("  ")
            );
            for note in comparison.notes() {
                let _ = writeln!(out, "{}", wrap(&note, "  - ", "    ", 100));
            }
        }
        out
    }

    fn write_errors(&self, out: &mut String) {
        for row in self.results.iter().filter(|r| r.errors > 0) {
            for (kind, count) in &row.error_kinds {
                let first = row.first_errors.get(kind).map(String::as_str).unwrap_or("");
                let _ = writeln!(
                    out,
                    "  {} errors: {count} {kind} (first: {first})",
                    row.label
                );
            }
        }
    }

    fn markdown(&self, wide: bool) -> String {
        let columns = Report::columns(wide);
        let mut out = String::new();
        for context in self.context_lines() {
            let _ = writeln!(out, "{context}  ");
        }
        let _ = writeln!(out);
        let headers: Vec<String> = columns
            .iter()
            .map(|c| format!("{} {}", c.header.0, c.header.1).trim().to_owned())
            .collect();
        let _ = writeln!(out, "| {} |", headers.join(" | "));
        let align: Vec<&str> = columns
            .iter()
            .map(|c| if c.text { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "|{}|", align.join("|"));
        for row in &self.results {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| (c.show)(row).replace('|', "\\|"))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !self.ranking.is_empty() {
            let _ = writeln!(out, "\n{}\n", self.ranking_heading());
            for ranked in self.ranking_lines() {
                let _ = writeln!(out, "{ranked}  ");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        if let Some(comparison) = &self.comparison {
            let _ = writeln!(out, "\n{}", comparison.grid().markdown());
            for note in comparison.notes() {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    fn csv(&self) -> String {
        let keys: Vec<&str> = COLUMNS.iter().map(|c| c.csv).collect();
        let mut out = format!("{}\n", keys.join(","));
        for row in &self.results {
            let cells: Vec<String> = COLUMNS.iter().map(|c| csv_field(&(c.raw)(row))).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }
}

/// One column of the report: its two-line heading, CSV key, and how a row shows in it.
#[derive(Debug)]
pub struct Column {
    /// Heading, in two lines (the table stays narrow).
    pub header: (&'static str, &'static str),
    /// CSV key (the JSON field of the same figure).
    pub csv: &'static str,
    /// Only with `--wide`.
    pub wide_only: bool,
    /// Aligned left (text) or right (numbers).
    pub text: bool,
    /// The cell for people.
    pub show: fn(&ResultRow) -> String,
    /// The cell for CSV.
    pub raw: fn(&ResultRow) -> String,
}

fn time(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), format_micros)
}

fn raw(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.3}"))
}

fn bytes_pair(row: &ResultRow) -> String {
    match (row.bytes_sent, row.bytes_received) {
        (Some(sent), Some(received)) => format!("{sent:.0}/{received:.0}"),
        _ => "—".to_owned(),
    }
}

/// Every column, in order; `wide_only` ones appear with `--wide` (and always in CSV).
pub static COLUMNS: [Column; 20] = [
    Column {
        header: ("", "Row"),
        csv: "key",
        wide_only: false,
        text: true,
        show: |r| r.label.to_owned(),
        raw: |r| r.key.to_owned(),
    },
    Column {
        header: ("", "Operation"),
        csv: "operation",
        wide_only: true,
        text: true,
        show: |r| r.operation.clone(),
        raw: |r| r.operation.clone(),
    },
    Column {
        header: ("", "Server"),
        csv: "embedded",
        wide_only: false,
        text: true,
        show: |r| {
            if r.embedded {
                "embedded".into()
            } else {
                "external".into()
            }
        },
        raw: |r| r.embedded.to_string(),
    },
    Column {
        header: ("", "Reqs"),
        csv: "requests",
        wide_only: false,
        text: false,
        show: |r| r.requests.to_string(),
        raw: |r| r.requests.to_string(),
    },
    Column {
        header: ("", "Err"),
        csv: "errors",
        wide_only: false,
        text: false,
        show: |r| r.errors.to_string(),
        raw: |r| r.errors.to_string(),
    },
    Column {
        header: ("p50", "us"),
        csv: "p50_us",
        wide_only: false,
        text: false,
        show: |r| time(r.p50_us),
        raw: |r| raw(r.p50_us),
    },
    Column {
        header: ("p90", "us"),
        csv: "p90_us",
        wide_only: true,
        text: false,
        show: |r| time(r.p90_us),
        raw: |r| raw(r.p90_us),
    },
    Column {
        header: ("p99", "us"),
        csv: "p99_us",
        wide_only: false,
        text: false,
        show: |r| time(r.p99_us),
        raw: |r| raw(r.p99_us),
    },
    Column {
        header: ("p99.9", "us"),
        csv: "p999_us",
        wide_only: true,
        text: false,
        show: |r| time(r.p999_us),
        raw: |r| raw(r.p999_us),
    },
    Column {
        header: ("mean", "us"),
        csv: "mean_us",
        wide_only: false,
        text: false,
        show: |r| time(r.mean_us),
        raw: |r| raw(r.mean_us),
    },
    Column {
        header: ("stddev", "us"),
        csv: "stddev_us",
        wide_only: true,
        text: false,
        show: |r| time(r.stddev_us),
        raw: |r| raw(r.stddev_us),
    },
    Column {
        header: ("min", "us"),
        csv: "min_us",
        wide_only: true,
        text: false,
        show: |r| time(r.min_us),
        raw: |r| raw(r.min_us),
    },
    Column {
        header: ("max", "us"),
        csv: "max_us",
        wide_only: true,
        text: false,
        show: |r| time(r.max_us),
        raw: |r| raw(r.max_us),
    },
    Column {
        header: ("", "req/s"),
        csv: "throughput_rps",
        wide_only: false,
        text: false,
        show: |r| format!("{:.0}", r.throughput_rps),
        raw: |r| format!("{:.1}", r.throughput_rps),
    },
    Column {
        header: ("client", "CPU us"),
        csv: "client_cpu_us",
        wide_only: false,
        text: false,
        show: |r| time(r.client_cpu_us),
        raw: |r| raw(r.client_cpu_us),
    },
    Column {
        header: ("server", "CPU us"),
        csv: "server_cpu_us",
        wide_only: false,
        text: false,
        show: |r| time(r.server_cpu_us),
        raw: |r| raw(r.server_cpu_us),
    },
    Column {
        header: ("bytes", "out/in"),
        csv: "bytes_out_in",
        wide_only: false,
        text: false,
        show: bytes_pair,
        raw: |r| match (r.bytes_sent, r.bytes_received) {
            (Some(s), Some(i)) => format!("{s:.1}/{i:.1}"),
            _ => String::new(),
        },
    },
    Column {
        header: ("Conns", "opened"),
        csv: "connections_opened",
        wide_only: true,
        text: false,
        show: |r| {
            r.connections_opened
                .map_or_else(|| "—".to_owned(), |n| n.to_string())
        },
        raw: |r| {
            r.connections_opened
                .map(|n| n.to_string())
                .unwrap_or_default()
        },
    },
    Column {
        header: ("x", "floor"),
        csv: "x_floor",
        wide_only: false,
        text: false,
        show: |r| {
            r.x_floor
                .map_or_else(|| "—".to_owned(), |x| format!("{x:.2}"))
        },
        raw: |r| raw(r.x_floor),
    },
    Column {
        header: ("", "Done"),
        csv: "complete",
        wide_only: true,
        text: true,
        show: |r| {
            if r.complete {
                "yes".into()
            } else {
                "cut".into()
            }
        },
        raw: |r| r.complete.to_string(),
    },
];

/// Microseconds for a narrow column: one decimal below a millisecond, none above.
pub fn format_micros(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.1}")
    } else {
        format!("{micros:.0}")
    }
}

/// A latency for people: microseconds below one millisecond, milliseconds above,
/// always with its unit.
pub fn format_time(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.1} us")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

/// Wraps `text` at `width` columns, the first line after `first`, the rest after `rest`.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::from(first);
    let mut len = first.chars().count();
    let mut line_empty = true;
    for word in text.split_whitespace() {
        let word_len = word.chars().count();
        if !line_empty && len + 1 + word_len > width {
            out.push('\n');
            out.push_str(rest);
            len = rest.chars().count();
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            len += 1;
        }
        out.push_str(word);
        len += word_len;
        line_empty = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_a_readable_unit() {
        assert_eq!(format_time(13.6), "13.6 us");
        assert_eq!(format_time(1270.0), "1.27 ms");
        assert_eq!(format_micros(999.94), "999.9");
        assert_eq!(format_micros(40_123.4), "40123");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("GetUser"), "GetUser");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn notes_wrap_inside_the_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, "  - ", "    ", 40);
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 40),
            "{wrapped}"
        );
        assert!(wrapped.starts_with("  - word"));
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")));
    }

    #[test]
    fn x_floor_pairs_rounds_and_a_slow_moment_does_not_move_it() {
        use crate::engine::Round;
        let rounds = |p50s: &[f64], rps: &[f64]| -> Vec<Round> {
            p50s.iter()
                .zip(rps)
                .map(|(&p50, &rps)| Round {
                    throughput_rps: rps,
                    p50_us: Some(p50),
                    p99_us: Some(p50 * 2.0),
                })
                .collect()
        };
        let mut floor = crate::checks::tests::row();
        let mut row = floor.clone();
        // The machine was three times slower in round 2, for both.
        floor.rounds = rounds(
            &[20.0, 20.0, 60.0, 20.0, 20.0],
            &[100.0, 100.0, 30.0, 100.0, 100.0],
        );
        row.rounds = rounds(
            &[40.0, 40.0, 150.0, 40.0, 44.0],
            &[40.0, 50.0, 10.0, 50.0, 50.0],
        );
        // Whole-run p50s would give 44/20 = 2.2; paired, the median ratio is 2.0.
        (floor.p50_us, row.p50_us) = (Some(20.0), Some(44.0));
        assert_eq!(x_floor(&row, &floor, false), Some(2.0));
        assert_eq!(x_floor(&row, &floor, true), Some(2.0));
        // Unpaired rounds (medians unknown): the whole-run ratio.
        row.rounds.iter_mut().for_each(|r| r.p50_us = None);
        assert_eq!(x_floor(&row, &floor, false), Some(2.2));
        row.p50_us = None;
        assert_eq!(x_floor(&row, &floor, false), None);
    }
}
