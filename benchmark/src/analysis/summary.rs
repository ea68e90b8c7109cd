//! Summarising one measured row: what the engine and the row's gate measured becomes
//! the report's [`ResultRow`], under the one percentile rule.

use std::time::Duration;

use crate::adapters::RowInfo;
use crate::analysis::checks;
use crate::engine::traffic::{SetUpTimes, Steps};
use crate::engine::{LoadResult, Round};
use crate::interval::{median_interval, ratio_interval};
use crate::model::{NewConnection, OpenLoop, ResultRow, StreamFigures};
use crate::servers::{ServerCpu, Target};
use crate::settings::link::Link;
use crate::stats::{Stats, percentile};

/// What measuring one row gave, before it is summarised.
#[derive(Debug)]
pub(crate) struct Measured {
    /// The row.
    pub(crate) info: &'static RowInfo,
    /// What each request did.
    pub(crate) operation: String,
    /// The server's own name for its build, where it tells.
    pub(crate) server_id: Option<String>,
    /// Latencies, errors, wall time, client CPU.
    pub(crate) load: LoadResult,
    /// CPUs the load threads could use at once.
    pub(crate) load_cpus: usize,
    /// Server CPU over the measured phase, where it can be read.
    pub(crate) server_cpu: Option<Duration>,
    /// Bytes `(sent, received)` over the measured phase, where they can be counted.
    pub(crate) bytes: Option<(u64, u64)>,
    /// Users that could not be removed, of those the run created.
    pub(crate) users_left: (usize, usize),
    /// Connections the clients opened over the whole run, warm-up included, where
    /// they can be counted (where bytes can).
    pub(crate) connections_opened: Option<u64>,
    /// Items each request moved, in the stream workload.
    pub(crate) items: Option<usize>,
    /// The measured rounds' connection set-up times, where connections are counted.
    pub(crate) set_up: Option<SetUpTimes>,
}

/// A new connection's parts, from the set-up times of the measured rounds and the
/// requests' `mean_us`; `None` when no connection opened while measuring.
fn new_connection(set_up: Option<SetUpTimes>, mean_us: Option<f64>) -> Option<NewConnection> {
    let set_up = set_up.filter(|s| s.connect.count > 0)?;
    let mean =
        |steps: Steps| (steps.count > 0).then(|| steps.nanos as f64 / steps.count as f64 / 1000.0);
    let handshakes = Steps {
        count: set_up.full.count + set_up.resumed.count,
        nanos: set_up.full.nanos + set_up.resumed.nanos,
    };
    let tcp_connect_us = mean(set_up.connect).unwrap_or_default();
    // Per connection: a run with fewer connections than requests (a shared one that
    // broke) says nothing about a request's parts.
    let handshake_us = mean(handshakes);
    let handshake_share = handshakes.nanos as f64 / 1000.0 / set_up.connect.count as f64;
    Some(NewConnection {
        connections: set_up.connect.count,
        tcp_connect_us,
        tls_full: set_up.full.count,
        tls_full_us: mean(set_up.full),
        tls_resumed: set_up.resumed.count,
        tls_resumed_us: mean(set_up.resumed),
        tls_handshake_us: handshake_us,
        first_reply_us: mean_us.map(|m| (m - tcp_connect_us - handshake_share).max(0.0)),
        tcp_connect_rtts: None,
        tls_handshake_rtts: None,
        first_reply_rtts: None,
    })
}

/// Under a link with a round trip, the row's p50 and its new connection's parts in
/// that round trip: the figures that physics, not CPU, decides off loopback.
pub(crate) fn count_round_trips(row: &mut ResultRow, link: Option<&Link>) {
    let Some(rtt_us) = link
        .map(|l| l.rtt.as_secs_f64() * 1e6)
        .filter(|rtt| *rtt > 0.0)
    else {
        return;
    };
    let trips = |us: Option<f64>| us.map(|us| us / rtt_us);
    row.round_trips = trips(row.p50_us);
    if let Some(split) = &mut row.new_connection {
        split.tcp_connect_rtts = trips(Some(split.tcp_connect_us));
        split.tls_handshake_rtts = trips(split.tls_handshake_us);
        split.first_reply_rtts = trips(split.first_reply_us);
    }
}

/// The report's row for what `measured` found on `target`.
pub(crate) fn summarise(measured: Measured, target: &Target) -> ResultRow {
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
    let rounds = &measured.load.per_round;
    let over_rounds = |figure: fn(&Round) -> Option<f64>| {
        let values: Option<Vec<f64>> = rounds.iter().map(figure).collect();
        values.and_then(|values| median_interval(&values))
    };
    // The figure is all requests over all rounds' time; its interval is that ratio's.
    let throughput = ratio_interval(
        &rounds
            .iter()
            .map(|r| (r.seconds, r.throughput_rps * r.seconds))
            .collect::<Vec<_>>(),
    );
    let p50 = over_rounds(|r| r.p50_us);
    let p99 = over_rounds(|r| r.p99_us);
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
        throughput_rps_lo: throughput.map(|i| i.lo),
        throughput_rps_hi: throughput.map(|i| i.hi),
        p50_us_lo: p50.map(|i| i.lo),
        p50_us_hi: p50.map(|i| i.hi),
        p99_us_lo: p99.map(|i| i.lo),
        p99_us_hi: p99.map(|i| i.hi),
        client_cpu_us: measured.load.client_cpu.and_then(per_call),
        client_cpu_share: measured
            .load
            .client_cpu
            .filter(|_| wall > 0.0)
            .map(|cpu| cpu.as_secs_f64() / (wall * measured.load_cpus.max(1) as f64)),
        server_cpu_us: server_cpu.and_then(per_call),
        server_cpu_note,
        server_cpu_from: server_cpu.and(target.cpu_source()),
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
        x_floor_lo: None,
        x_floor_hi: None,
        rounds: measured.load.per_round.clone(),
        wall_s: wall,
        users_left: measured.users_left.0,
        connections_opened: measured.connections_opened,
        round_trips: None,
        new_connection: new_connection(measured.set_up, stats.map(|s| s.mean / 1000.0)),
        complete: m.complete,
        invalid: None,
        timeline: measured.load.timeline.as_ref().map(|t| t.slots()),
        histogram: m.histogram.clone(),
        stream: measured.items.map(|items| {
            let first = |q: f64| percentile(&m.first_item, q).map(us);
            StreamFigures {
                items,
                first_item_p50_us: first(0.5),
                first_item_p99_us: first(0.99),
                last_item_p50_us: pct(0.5),
                items_per_s: m.throughput() * items as f64,
            }
        }),
        open_loop: (!m.service.is_empty()).then(|| {
            let service = |q: f64| percentile(&m.service, q).map(us);
            OpenLoop {
                service_p50_us: service(0.5),
                service_p99_us: service(0.99),
                late_requests: m.late,
                max_late_us: m.max_late.as_secs_f64() * 1e6,
            }
        }),
    }
}
