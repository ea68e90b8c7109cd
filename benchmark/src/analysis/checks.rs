//! Self-checks and plain-word reasons, as notes under the table: what a careful reader
//! would check before trusting a row, done for them.
//!
//! - the load generator saturated (its CPU at 90% or more of the CPUs it had): the row
//!   measures the client as much as the server;
//! - Little's law (clients = throughput x mean latency) off by more than 10% with more
//!   than one client: the clients spent time outside requests;
//! - percentiles left blank for too few samples;
//! - latencies clustered near 40 ms: Nagle's algorithm meeting delayed ACKs;
//! - a server that reports a debug build, servers sharing the load's CPUs;
//! - and for each row slower than the best, where the difference goes (CPU per request
//!   on each side, bytes on the wire).

use hdrhistogram::Histogram;

use crate::model::{RankEntry, ResultRow};
use crate::placement::Placement;
use crate::settings::{Lab, Protocol, Settings, Workload};

/// At this share of the server's CPU per request, the client's CPU is said to weigh
/// in a saturated row's throughput.
const CLIENT_SHARE: f64 = 0.5;

/// Load-generator CPU share at which a row is flagged as measuring its client.
pub(crate) const SATURATED: f64 = 0.9;
/// Largest relative gap allowed between clients and throughput x mean latency.
pub(crate) const LITTLE_TOLERANCE: f64 = 0.10;
/// What an open-loop run adds: how latency is counted, each row's service time and
/// late requests, and a plain warning where the target rate was not reached.
fn open_loop_notes(rate: f64, rows: &[ResultRow]) -> Vec<String> {
    let mut notes = vec![format!(
        "open loop at {rate:.0} requests/s in total: each request has an intended start on a \
         fixed schedule, kept whether or not earlier replies are back; the latencies above \
         count from that intended start (corrected for coordinated omission), the service \
         times below from when the request was really sent; a client carries one request \
         at a time, so a request due while its client waits goes out late. The load threads \
         yield rather than sleep through the last millisecond before each request (the \
         timer's tick), so their CPU is busy by design: client CPU is not a cost per \
         request here, and late requests, not CPU, show a generator that cannot keep up"
    )];
    let us = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} us"));
    for row in rows {
        let Some(open) = &row.open_loop else { continue };
        notes.push(format!(
            "{}: service time p50 {}, p99 {}; {} of {} requests went out more than 1 ms late \
             (at most {:.1} ms)",
            row.label,
            us(open.service_p50_us),
            us(open.service_p99_us),
            open.late_requests,
            row.requests + row.errors,
            open.max_late_us / 1000.0,
        ));
        if row.throughput_rps < 0.95 * rate {
            notes.push(format!(
                "{}: the target rate was NOT reached: {:.0} requests/s of {rate:.0} ({:.0}%); \
                 its latencies show the queue, which is what a server past its capacity does",
                row.label,
                row.throughput_rps,
                100.0 * row.throughput_rps / rate,
            ));
        }
    }
    notes
}

/// What a stream run adds: each row's time to its first item beside the latencies
/// (which, in a stream, are the time to the last item), and items per second.
fn stream_notes(rows: &[ResultRow]) -> Vec<String> {
    let mut notes = Vec::new();
    let us = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), crate::units::format_micros);
    for row in rows {
        let Some(stream) = &row.stream else { continue };
        if notes.is_empty() {
            notes.push(
                "stream: the latencies above are the time to the LAST item of each request; \
                 first item = from the send to the first whole item (REST: the first body \
                 bytes of the array)"
                    .to_owned(),
            );
        }
        let first = match stream.first_item_p50_us {
            Some(_) => format!(
                "first item p50 {} (p99 {})",
                us(stream.first_item_p50_us),
                us(stream.first_item_p99_us)
            ),
            None => "first item not seen (this client reads the reply whole)".to_owned(),
        };
        notes.push(format!(
            "{}: {} items per request; {first}; last item p50 {}; {:.0} items/s",
            row.label,
            stream.items,
            us(stream.last_item_p50_us),
            stream.items_per_s,
        ));
    }
    notes
}

/// Share of latencies near 40 ms that is flagged.
pub(crate) const NEAR_40MS_SHARE: f64 = 0.05;

/// Share of the recorded latencies between 36 and 44 ms.
pub(crate) fn share_near_40ms(histogram: &Histogram<u64>) -> f64 {
    if histogram.is_empty() {
        return 0.0;
    }
    let near = histogram.count_between(36_000_000, 44_000_000);
    near as f64 / histogram.len() as f64
}

/// Every note for a finished run, in the order a reader needs them.
pub(crate) fn notes(
    settings: &Settings,
    placement: &Placement,
    rows: &[ResultRow],
    ranking: &[RankEntry],
) -> Vec<String> {
    let mut notes = Vec::new();
    let clients = settings.clients();
    let ratio = if clients > 1 {
        "the floor's throughput over the row's (above 1 is slower)"
    } else {
        "the row's p50 over the floor's p50"
    };
    notes.push(format!(
        "x floor: {ratio}, taken round by round (rows take turns, {} rounds) and the median \
         kept; the floor is the fastest echo this machine does under the same load \
         generator, a server that never sleeps between requests",
        settings.rounds
    ));
    notes.push(
        "client and server CPU and bytes are per request (successes and failures); bytes \
         are counted on the client's connection, TCP/IP headers not included"
            .to_owned(),
    );
    if let Some(rate) = settings.rate {
        notes.extend(open_loop_notes(rate, rows));
    }
    notes.extend(stream_notes(rows));
    if let Some(bytes) = settings.payload {
        let mut note = format!(
            "payload: {bytes} bytes of text per request: the echo rows carry it in a JSON \
             string (and get it back upper-cased), gRPC as Greet's name in protobuf (and \
             gets it back in the greeting)"
        );
        if settings.wants(Protocol::Rest) || settings.wants(Protocol::RestH2) {
            note.push_str(
                "; REST rows left out: the REST lab has no route for a free payload (user \
                 names stop at 100 characters)",
            );
        }
        notes.push(note);
    }
    if let Some(link) = &settings.link {
        // Rows whose client connects by itself (their bytes go uncounted for the
        // same reason) cross a relay instead.
        let relayed: Vec<&str> = rows
            .iter()
            .filter(|r| r.bytes_note.is_some())
            .map(|r| r.label)
            .collect();
        let relayed = if relayed.is_empty() {
            String::new()
        } else {
            format!(
                " ({} through a relay in front of the server instead: reqwest keeps its \
                 connections to itself, so each request pays the relay's hop too, tens of \
                 microseconds on a loopback-like link)",
                relayed.join(", ")
            )
        };
        notes.push(format!(
            "link: {} emulated in every client's own connection, the floor's too{relayed}; \
             it does not model slow start or the congestion window's growth (a big reply \
             on a new connection runs at full rate at once, so large transfers look \
             better than on a real network), real segment loss or reordering (a held \
             chunk of up to 16 KiB stands for a lost segment, so a row writing in many \
             small writes is held more often than one writing in few large ones), or the \
             MTU",
            link.describe()
        ));
    }
    // Only a server running here can take turns with the load (an external one is
    // another process's, or another machine's).
    if placement.shared() && rows.iter().any(|r| r.embedded) {
        notes.push(format!(
            "load and servers share CPU {}: each row's latency includes taking turns with \
             the other side",
            placement.client_cpus
        ));
    }
    if cfg!(debug_assertions) && rows.iter().any(|r| r.embedded) {
        notes.push(
            "WARNING: this benchmark is a debug build, and so are its embedded servers: \
             run it with --release for figures worth comparing"
                .to_owned(),
        );
    }
    for row in rows {
        notes.extend(row_checks(row, clients));
    }
    let few: Vec<&str> = rows
        .iter()
        .filter(|r| r.requests > 0 && r.p99_us.is_none())
        .map(|r| r.label)
        .collect();
    if !few.is_empty() {
        let least = rows
            .iter()
            .map(|r| r.requests)
            .filter(|n| *n > 0)
            .min()
            .unwrap_or(0);
        notes.push(format!(
            "p99 and p99.9 shown as — for {} ({least} samples or so; p99 needs 100, p99.9 \
             1,000): raise --iterations or use --duration for the tail",
            few.join(", ")
        ));
    }
    if clients == 1 && settings.rate.is_none() {
        notes.push(
            "req/s is left out of the table at one client: there it is the reciprocal of \
             the mean latency, which one slow request moves far from the p50 (JSON and CSV \
             keep it as throughput_rps); use --concurrency for throughput"
                .to_owned(),
        );
    }
    let echoed: Vec<&str> = rows
        .iter()
        .filter(|r| echo_only(r, settings))
        .map(|r| r.label)
        .collect();
    if !echoed.is_empty() {
        notes.push(format!(
            "{}: only an echo there (no users to {}), so listed apart and not ranked \
             against the rows that did the {:?} workload",
            echoed.join(" and "),
            if settings.workload == Workload::List {
                "list"
            } else {
                "create"
            },
            settings.workload
        ));
    }
    notes.extend(below_the_floor(rows, settings));
    notes.extend(ties(ranking));
    notes.extend(reasons(rows, ranking, clients));
    notes
}

/// The self-checks of one row.
pub(crate) fn row_checks(row: &ResultRow, clients: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let label = row.label;
    // An open loop's load threads are busy by design (see its notes).
    let closed = row.open_loop.is_none();
    if let Some(share) = row.client_cpu_share.filter(|s| *s >= SATURATED && closed) {
        notes.push(format!(
            "{label}: the load generator was saturated (its threads used {:.0}% of their \
             CPUs): this row measures the client as much as the server; give it more \
             --client-cpus or fewer clients",
            share * 100.0
        ));
    }
    if let (Some(client), Some(server)) = (row.client_cpu_us, row.server_cpu_us)
        && clients > 1
        && closed
        && server > 0.0
        && client >= server * CLIENT_SHARE
    {
        let raw = if row.client == "raw" {
            ""
        } else {
            "; --client raw measures the server with the least client"
        };
        notes.push(format!(
            "{label}: the load generator spent {client:.1} us of CPU a request against the \
             server's {server:.1} us ({:.0}% of it): the throughput is partly the \
             client's{raw}",
            client / server * 100.0
        ));
    }
    if let Some(mean) = row
        .mean_us
        .filter(|_| clients > 1 && row.throughput_rps > 0.0 && row.open_loop.is_none())
    {
        let in_flight = row.throughput_rps * mean / 1e6;
        let off = in_flight / clients as f64 - 1.0;
        if off.abs() > LITTLE_TOLERANCE {
            notes.push(format!(
                "{label}: Little's law is off by {:.0}%: {clients} clients, but throughput \
                 x mean latency says {in_flight:.1} requests were in flight; the clients \
                 spent time outside requests (the load generator, or failures)",
                off * 100.0
            ));
        }
    }
    if row.near_40ms >= NEAR_40MS_SHARE {
        notes.push(format!(
            "{label}: {:.0}% of latencies sit near 40 ms, the signature of Nagle's algorithm \
             meeting delayed ACKs: a side that does not set TCP_NODELAY",
            row.near_40ms * 100.0
        ));
    }
    // An embedded debug server is this benchmark's own build, warned about once.
    let debug_build = row
        .server_build
        .as_deref()
        .filter(|b| lab_kit::build::is_debug_build(b) && !row.embedded);
    if let Some(build) = debug_build {
        notes.push(format!(
            "WARNING: {label}: the server reports a debug build ({build}); its figures say \
             little about the protocol: start it with --release"
        ));
    }
    if row.requests == 0 && row.errors > 0 {
        notes.push(format!(
            "{label}: every request failed; is the address a {} server?",
            row.protocol
        ));
    }
    if let Some(reason) = &row.server_cpu_note {
        notes.push(format!("{label}: server CPU not measured: {reason}"));
    }
    if let Some(reason) = row.bytes_note {
        notes.push(format!("{label}: bytes not measured: {reason}"));
    }
    if row.users_left > 0 {
        notes.push(format!(
            "{label}: {} users the benchmark created could not be removed",
            row.users_left
        ));
    }
    notes
}

/// Most of a row's requests that may fail, or go out late in an open loop, before its
/// figures stop being a result.
const INVALID_SHARE: f64 = 0.05;

/// Why `row`'s figures are not a result, if they are not: more than [`INVALID_SHARE`] of
/// its requests failed, or its open loop could not keep the schedule.
pub(crate) fn invalid_reason(row: &ResultRow) -> Option<String> {
    let calls = row.requests + row.errors;
    if calls == 0 {
        return None;
    }
    let share = |n: u64| n as f64 / calls as f64;
    if share(row.errors) > INVALID_SHARE {
        let kinds: Vec<String> = row
            .error_kinds
            .iter()
            .map(|(kind, n)| format!("{kind}: {n}"))
            .collect();
        return Some(format!(
            "{:.0}% of its requests failed ({})",
            share(row.errors) * 100.0,
            kinds.join(", ")
        ));
    }
    // A server gone for part of the run fails few requests once clients back off, but
    // whole rounds then measure nothing.
    let empty = row
        .rounds
        .iter()
        .filter(|r| r.throughput_rps == 0.0)
        .count();
    if row.errors > 0 && empty > 0 {
        return Some(format!(
            "{empty} of its {} rounds had no successful request ({} failed in all)",
            row.rounds.len(),
            row.errors
        ));
    }
    let late = row.open_loop.as_ref().map_or(0, |o| o.late_requests);
    (share(late) > INVALID_SHARE).then(|| {
        format!(
            "the load generator sent {:.0}% of its requests more than 1 ms late: it could not \
             keep the schedule, so the rate was not the one asked for (more clients or \
             --client-threads, or a lower --rate)",
            share(late) * 100.0
        )
    })
}

/// True when `row` ran its echo in place of the asked workload: the socket and WebSocket
/// labs under `list` and `create`, which hold no users.
pub(crate) fn echo_only(row: &ResultRow, settings: &Settings) -> bool {
    matches!(settings.workload, Workload::List | Workload::Create)
        && matches!(row.protocol, Lab::Socket | Lab::Ws)
}

/// Rows clearly faster than the floor (their whole interval below 1) in a closed loop:
/// the floor's premise, that no server does less, failed on this machine, and the run
/// says so rather than present the ratios as the protocols'.
fn below_the_floor(rows: &[ResultRow], settings: &Settings) -> Vec<String> {
    if settings.rate.is_some() {
        return Vec::new();
    }
    let below: Vec<String> = rows
        .iter()
        .filter(|r| r.protocol != Lab::Floor)
        .filter(|r| r.x_floor_hi.or(r.x_floor).is_some_and(|hi| hi < 1.0))
        .map(|r| format!("{} ({:.2}x)", r.label, r.x_floor.unwrap_or_default()))
        .collect();
    if below.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "WARNING: {} came out faster than the floor, which no server should: the floor's \
         echo, spinning while it waits, lost its CPU on this machine (see the steadiness \
         line: a high steal time means the hypervisor is holding the vCPUs back), so this \
         run's x floor does not measure the protocols; run again when the machine is quiet",
        below.join(", ")
    )]
}

/// One note per row the ranking could not tell from the one above it.
fn ties(ranking: &[RankEntry]) -> Vec<String> {
    ranking
        .windows(2)
        .filter(|pair| pair[1].tied)
        .map(|pair| {
            format!(
                "{} and {}: not distinguishable in this run (the 95% interval of their \
                 round-by-round ratio holds 1), so they share a place; raise --iterations \
                 or --rounds to tell them apart",
                pair[0].label, pair[1].label
            )
        })
        .collect()
}

/// For each row the ranking puts behind the best (not tied with it), where the
/// difference goes, in plain words.
pub(crate) fn reasons(rows: &[ResultRow], ranking: &[RankEntry], clients: usize) -> Vec<String> {
    let find = |key: &str| rows.iter().find(|r| r.key == key);
    let figure = |r: &ResultRow| r.x_floor;
    let Some(best) = ranking.first().and_then(|entry| find(entry.key)) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for entry in ranking.iter().skip(1) {
        if entry.position == 1 {
            continue;
        }
        let Some(row) = find(entry.key) else {
            continue;
        };
        let (Some(x), Some(best_x)) = (figure(row), figure(best)) else {
            continue;
        };
        let mut parts = Vec::new();
        let delta = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a - b);
        if let Some(d) = delta(row.client_cpu_us, best.client_cpu_us) {
            parts.push(format!("{} client CPU per request", signed_us(d)));
        }
        if let Some(d) = delta(row.server_cpu_us, best.server_cpu_us) {
            parts.push(format!("{} server CPU", signed_us(d)));
        }
        if let (Some(sent), Some(received)) = (
            delta(row.bytes_sent, best.bytes_sent),
            delta(row.bytes_received, best.bytes_received),
        ) {
            parts.push(format!(
                "{} bytes sent and {} received per request",
                signed(sent),
                signed(received)
            ));
        }
        let gap = if clients > 1 {
            format!("{:.2}x the best's throughput cost", x / best_x)
        } else {
            let p50 = delta(row.p50_us, best.p50_us).unwrap_or(0.0);
            format!("{} at p50", signed_us(p50))
        };
        let explained = if parts.is_empty() {
            "no CPU or byte figures to explain it".to_owned()
        } else {
            parts.join(", ")
        };
        notes.push(format!(
            "{} against {}: {gap}; {explained}",
            row.label, best.label
        ));
    }
    notes
}

fn signed_us(value: f64) -> String {
    format!(
        "{}{:.1} us",
        if value >= 0.0 { "+" } else { "-" },
        value.abs()
    )
}

fn signed(value: f64) -> String {
    format!("{}{:.0}", if value >= 0.0 { "+" } else { "-" }, value.abs())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stats::{new_histogram, record};

    /// A healthy row, for tests to change.
    pub(crate) fn row() -> ResultRow {
        ResultRow {
            key: "rest-hyper",
            protocol: Lab::Rest,
            client: "hyper",
            label: "REST (hyper)",
            operation: "GET /api/users/{id}".into(),
            embedded: true,
            target: "http://127.0.0.1:1".into(),
            server_build: Some("rest-lab/0.1.0 (release)".into()),
            requests: 1000,
            errors: 0,
            error_kinds: BTreeMap::new(),
            first_errors: BTreeMap::new(),
            mean_us: Some(100.0),
            stddev_us: Some(5.0),
            min_us: Some(90.0),
            p50_us: Some(98.0),
            p50_us_lo: None,
            p50_us_hi: None,
            p99_us_lo: None,
            p99_us_hi: None,
            throughput_rps_lo: None,
            throughput_rps_hi: None,
            p90_us: Some(110.0),
            p99_us: Some(130.0),
            p999_us: Some(150.0),
            max_us: Some(200.0),
            throughput_rps: 40_000.0,
            client_cpu_us: Some(10.0),
            client_cpu_share: Some(0.4),
            server_cpu_us: Some(25.0),
            server_cpu_note: None,
            server_cpu_from: None,
            bytes_sent: Some(90.0),
            bytes_received: Some(300.0),
            bytes_note: None,
            connections_opened: None,
            new_connection: None,
            round_trips: None,
            near_40ms: 0.0,
            x_floor: Some(2.0),
            x_floor_lo: None,
            x_floor_hi: None,
            rounds: Vec::new(),
            wall_s: 0.025,
            users_left: 0,
            complete: true,
            invalid: None,
            open_loop: None,
            stream: None,
            timeline: None,
            histogram: crate::stats::new_histogram(),
        }
    }

    #[test]
    fn rows_past_a_few_percent_of_failures_or_late_sends_are_not_results() {
        let mut r = row();
        assert_eq!(invalid_reason(&r), None);
        // 1000 successes: 50 failures (4.8%) pass, 60 (5.7%) do not.
        r.errors = 50;
        assert_eq!(invalid_reason(&r), None);
        r.errors = 60;
        r.error_kinds.insert("connect", 60);
        let reason = invalid_reason(&r).unwrap();
        assert!(
            reason.starts_with("6% of its requests failed (connect: 60)"),
            "{reason}"
        );
        // An open loop that sent 10% late.
        let mut late = row();
        late.open_loop = Some(crate::model::OpenLoop {
            service_p50_us: None,
            service_p99_us: None,
            late_requests: 100,
            max_late_us: 5000.0,
        });
        assert!(
            invalid_reason(&late)
                .unwrap()
                .contains("10% of its requests more than 1 ms late")
        );
    }

    #[test]
    fn a_healthy_row_has_no_checks_to_report() {
        // 4 clients x 100 us mean = 40,000 req/s: Little's law holds exactly.
        assert_eq!(row_checks(&row(), 4), Vec::<String>::new());
    }

    #[test]
    fn each_check_fires_on_its_own_cause() {
        let fires = |change: fn(&mut ResultRow), clients: usize, words: &str| {
            let mut r = row();
            change(&mut r);
            let notes = row_checks(&r, clients);
            assert!(
                notes.iter().any(|n| n.contains(words)),
                "{words}: {notes:?}"
            );
        };
        fires(|r| r.client_cpu_share = Some(0.95), 4, "saturated");
        fires(
            |r| (r.client_cpu_us, r.server_cpu_us) = (Some(12.0), Some(20.0)),
            4,
            "spent 12.0 us of CPU a request against the server's 20.0 us (60% of it)",
        );
        fires(
            |r| r.throughput_rps = 20_000.0,
            4,
            "Little's law is off by -50%",
        );
        fires(|r| r.near_40ms = 0.2, 1, "Nagle");
        fires(
            |r| {
                r.embedded = false;
                r.server_build = Some("rest-lab/0.1.0 (debug)".into())
            },
            1,
            "debug build",
        );
        fires(
            |r| {
                r.requests = 0;
                r.errors = 5
            },
            1,
            "every request failed",
        );
        fires(
            |r| r.server_cpu_note = Some("external".into()),
            1,
            "server CPU not measured",
        );
        fires(|r| r.users_left = 3, 1, "3 users");
        // Little's law is not asked of one client, nor saturation below 90%.
        let mut r = row();
        r.throughput_rps = 1_000.0;
        r.client_cpu_share = Some(0.89);
        assert!(row_checks(&r, 1).is_empty());
    }

    #[test]
    fn load_and_servers_share_a_cpu_only_when_a_server_runs_here() {
        let settings = <crate::Cli as clap::Parser>::parse_from(["benchmark"]).settings;
        let one_cpu = Placement::decide(&[0], None, None, None).unwrap();
        assert!(one_cpu.shared());
        let mut embedded = row();
        embedded.embedded = true;
        let said = |rows: &[ResultRow]| notes(&settings, &one_cpu, rows, &[]).join("\n");
        assert!(said(&[embedded]).contains("share CPU 0"));
        let mut external = row();
        external.embedded = false;
        assert!(!said(&[external]).contains("share CPU"));
    }

    #[test]
    fn too_few_samples_and_reasons_are_run_notes() {
        let settings = <crate::Cli as clap::Parser>::parse_from(["benchmark"]).settings;
        let placement = Placement::decide(&[0, 1], None, None, None).unwrap();
        let mut floor = row();
        floor.key = "floor";
        floor.protocol = Lab::Floor;
        floor.label = "Floor";
        floor.x_floor = Some(1.0);
        let mut best = row();
        best.key = "socket";
        best.label = "Socket";
        best.p50_us = Some(50.0);
        best.x_floor = Some(1.2);
        best.client_cpu_us = Some(4.0);
        best.bytes_sent = Some(34.0);
        best.bytes_received = Some(48.0);
        let mut short = row();
        short.p99_us = None;
        short.p999_us = None;
        short.requests = 50;
        let entry = |position, r: &ResultRow, tied| RankEntry {
            position,
            key: r.key,
            label: r.label,
            value: r.p50_us.unwrap(),
            percent_worse: 0.0,
            x_floor: r.x_floor.unwrap(),
            x_floor_lo: None,
            x_floor_hi: None,
            tied,
        };
        let ranking = [entry(1, &best, false), entry(2, &short, false)];
        let rows = [floor, best, short];
        let text = notes(&settings, &placement, &rows, &ranking).join("\n");
        assert!(
            text.contains("shown as — for REST (hyper) (50 samples"),
            "{text}"
        );
        assert!(
            text.contains(
                "REST (hyper) against Socket: +48.0 us at p50; +6.0 us client CPU per request"
            ),
            "{text}"
        );
        assert!(text.contains("+56 bytes sent and +252 received"), "{text}");
        assert!(!text.contains("share CPU"), "{text}");
        assert!(!text.contains("not distinguishable"), "{text}");
        assert!(!text.contains("faster than the floor"), "{text}");
        // Tied: said as a tie, and no difference claimed.
        let tied = [entry(1, &rows[1], false), entry(1, &rows[2], true)];
        let text = notes(&settings, &placement, &rows, &tied).join("\n");
        assert!(
            text.contains("Socket and REST (hyper): not distinguishable in this run"),
            "{text}"
        );
        assert!(!text.contains("REST (hyper) against Socket"), "{text}");
        // A row whose whole interval is below the floor: the run says it is not valid.
        let mut fast = rows.clone();
        (fast[1].x_floor, fast[1].x_floor_lo, fast[1].x_floor_hi) =
            (Some(0.6), Some(0.5), Some(0.7));
        let text = notes(&settings, &placement, &fast, &ranking).join("\n");
        assert!(
            text.contains("WARNING: Socket (0.60x) came out faster than the floor"),
            "{text}"
        );
    }

    #[test]
    fn latencies_near_40ms_are_spotted() {
        let mut histogram = new_histogram();
        for _ in 0..90 {
            record(&mut histogram, 100_000);
        }
        assert_eq!(share_near_40ms(&histogram), 0.0);
        for _ in 0..10 {
            record(&mut histogram, 40_100_000);
        }
        assert!((share_near_40ms(&histogram) - 0.1).abs() < 1e-9);
    }
}
