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

use crate::placement::Placement;
use crate::report::ResultRow;
use crate::settings::{Settings, Workload};

/// Load-generator CPU share at which a row is flagged as measuring its client.
pub const SATURATED: f64 = 0.9;
/// Largest relative gap allowed between clients and throughput x mean latency.
pub const LITTLE_TOLERANCE: f64 = 0.10;
/// Share of latencies near 40 ms that is flagged.
pub const NEAR_40MS_SHARE: f64 = 0.05;

/// Share of the recorded latencies between 36 and 44 ms.
pub fn share_near_40ms(histogram: &Histogram<u64>) -> f64 {
    if histogram.is_empty() {
        return 0.0;
    }
    let near = histogram.count_between(36_000_000, 44_000_000);
    near as f64 / histogram.len() as f64
}

/// Every note for a finished run, in the order a reader needs them.
pub fn notes(settings: &Settings, placement: &Placement, rows: &[ResultRow]) -> Vec<String> {
    let mut notes = Vec::new();
    let clients = settings.clients();
    notes.push(if clients > 1 {
        "x floor: the floor's throughput over the row's (above 1 is slower); the floor is the \
         fastest echo this machine does under the same load generator"
            .to_owned()
    } else {
        "x floor: the row's p50 over the floor's p50; the floor is the fastest echo this \
         machine does under the same load generator"
            .to_owned()
    });
    notes.push(
        "client and server CPU and bytes are per request (successes and failures); bytes \
         are counted on the client's connection, TCP/IP headers not included"
            .to_owned(),
    );
    if placement.shared() {
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
        let least = rows.iter().map(|r| r.requests).filter(|n| *n > 0).min().unwrap_or(0);
        notes.push(format!(
            "p99 and p99.9 shown as — for {} ({least} samples or so; p99 needs 100, p99.9 \
             1,000): raise --iterations or use --duration for the tail",
            few.join(", ")
        ));
    }
    if settings.workload != Workload::Get && settings.wants("socket") {
        notes.push(format!(
            "socket: the socket lab has only its uppercase echo, so it runs the echo under \
             the {:?} workload",
            settings.workload
        ));
    }
    notes.extend(reasons(rows, clients));
    notes
}

/// The self-checks of one row.
pub fn row_checks(row: &ResultRow, clients: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let label = row.label;
    if let Some(share) = row.client_cpu_share.filter(|s| *s >= SATURATED) {
        notes.push(format!(
            "{label}: the load generator was saturated (its threads used {:.0}% of their \
             CPUs): this row measures the client as much as the server; give it more \
             --client-cpus or fewer clients",
            share * 100.0
        ));
    }
    if clients > 1 {
        if let Some(mean) = row.mean_us.filter(|_| row.throughput_rps > 0.0) {
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
        if row.key != "floor" {
            notes.push(format!("{label}: server CPU not measured: {reason}"));
        }
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

/// For each row behind the best, where the difference goes, in plain words.
pub fn reasons(rows: &[ResultRow], clients: usize) -> Vec<String> {
    let contestants: Vec<&ResultRow> = rows.iter().filter(|r| r.key != "floor").collect();
    let figure = |r: &ResultRow| r.x_floor;
    let Some(best) = contestants
        .iter()
        .filter(|r| figure(r).is_some())
        .min_by(|a, b| figure(a).unwrap_or(f64::MAX).total_cmp(&figure(b).unwrap_or(f64::MAX)))
    else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for row in &contestants {
        if row.key == best.key {
            continue;
        }
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
    format!("{}{:.1} us", if value >= 0.0 { "+" } else { "-" }, value.abs())
}

fn signed(value: f64) -> String {
    format!("{}{:.0}", if value >= 0.0 { "+" } else { "-" }, value.abs())
}
