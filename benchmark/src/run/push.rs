//! `benchmark push`: when the server has news, how long until every subscriber has
//! it, and what each subscriber costs. For each mechanism in turn, S subscribers of
//! the embedded servers' rooms, then one publisher sending N events one after the
//! other, each as soon as every subscriber has the one before (or a timeout passed),
//! or at `--rate` on a fixed schedule: publish-to-receipt latencies in one histogram,
//! counts of delivered, late and skipped, the server's CPU per delivered event. Then a
//! second, shorter pass of the same with every subscriber's connection through a relay
//! that counts bytes (so the timed pass has no extra hop): the bytes each way per
//! delivered copy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::task::JoinSet;

use crate::adapters::push::{Deliveries, Publisher, Servers, subscribe};
use crate::adapters::shared::users::GRPC;
use crate::adapters::ws::WS;
use crate::cli::PushArgs;
use crate::model::{PushReport, PushRow};
use crate::network::relay::{Relay, Shared};
use crate::placement::Placement;
use crate::security::Guard;
use crate::servers::EmbeddedServer;
use crate::settings::link::Link;
use crate::settings::push::Mechanism;
use crate::stats::{percentile, rank};

/// Longest the subscribers may take to be ready (every one has heard the warm-up).
const READY: Duration = Duration::from_secs(30);
/// Events of the pass that counts bytes: bytes per copy do not need many.
const BYTE_EVENTS: u64 = 20;

/// Measures every mechanism asked for.
///
/// # Errors
///
/// When a server cannot start or a subscriber cannot connect.
pub(crate) fn measure(args: &PushArgs, placement: &Placement) -> anyhow::Result<PushReport> {
    let ws_server = EmbeddedServer::start(&WS, &placement.server_cpus, Guard::default())?;
    let grpc_server = EmbeddedServer::start(&GRPC, &placement.server_cpus, Guard::default())?;
    let servers = Servers {
        ws: ws_server.addr().to_string(),
        grpc: format!("http://{}", grpc_server.addr()),
        callback_relay: None,
    };
    // The byte-counting pass: every subscriber through a relay that holds nothing
    // (`--link loopback`), one in front of each server and one in front of the
    // webhooks' callback.
    let meter = Meter {
        server: Shared::of(&Link::default()),
        callback: Shared::of(&Link::default()),
    };
    let through = |addr: std::net::SocketAddr| {
        Relay::start(
            addr.to_string(),
            Link::default(),
            meter.server.clone(),
            &placement.client_cpus,
        )
    };
    let (ws_relay, grpc_relay) = (through(ws_server.addr())?, through(grpc_server.addr())?);
    let metered = Servers {
        ws: ws_relay.addr().to_string(),
        grpc: format!("http://{}", grpc_relay.addr()),
        callback_relay: Some((meter.callback.clone(), placement.client_cpus.clone())),
    };
    // The subscribers and the publisher on the load's CPUs, a worker pinned to each.
    let cpus = placement.client_cpus.clone();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus.0.len().max(1))
        .on_thread_start(move || {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Some(cpu) = cpus.for_thread(i) {
                crate::placement::pin_current_thread(cpu);
            }
        })
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    for (run, &mechanism) in args.mechanisms().iter().enumerate() {
        eprintln!(
            "push: {} with {} subscribers...",
            mechanism.label(),
            args.subscribers
        );
        let server = if mechanism == Mechanism::Grpc {
            &grpc_server
        } else {
            &ws_server
        };
        let mut row = runtime
            .block_on(one(
                mechanism,
                run,
                args,
                [&servers, &servers],
                server,
                args.events,
                None,
            ))
            .with_context(|| format!("push over {}", mechanism.label()))?;
        let counted = runtime
            .block_on(one(
                mechanism,
                run + 100,
                args,
                [&servers, &metered],
                server,
                args.events.min(BYTE_EVENTS),
                Some(&meter),
            ))
            .with_context(|| format!("counting bytes of push over {}", mechanism.label()))?;
        row.bytes_out_per_delivery = counted.bytes_out_per_delivery;
        row.bytes_in_per_delivery = counted.bytes_in_per_delivery;
        rows.push(row);
    }
    drop((ws_relay, grpc_relay));
    Ok(PushReport {
        subscribers: args.subscribers,
        events: args.events,
        timeout_ms: u64::try_from(args.timeout.get().as_millis()).unwrap_or(u64::MAX),
        rate: args.rate,
        ranking_p50: ranked(&rows, |r| r.p50_us),
        ranking_p99: ranked(&rows, |r| r.p99_us),
        rows,
    })
}

/// The mechanisms by `figure`, lowest first (the run's own ranking rule); those
/// without it left out.
fn ranked(rows: &[PushRow], figure: fn(&PushRow) -> Option<f64>) -> Vec<&'static str> {
    let entries: Vec<(&'static str, f64)> = rows
        .iter()
        .filter_map(|r| figure(r).map(|v| (r.key, v)))
        .collect();
    rank(&entries).into_iter().map(|place| place.key).collect()
}

/// The relays' byte counts of the counting pass: the servers', and the webhooks'
/// callback's (whose client is the server).
#[derive(Debug)]
struct Meter {
    server: Shared,
    callback: Shared,
}

impl Meter {
    /// Bytes so far `(to the subscribers, from them)`.
    fn bytes(&self) -> (u64, u64) {
        let (to_server, to_clients) = self.server.bytes();
        let (to_callback, from_callback) = self.callback.bytes();
        (to_clients + to_callback, to_server + from_callback)
    }
}

/// One pass over `mechanism`: `events` events from a publisher at `servers[0]` to the
/// subscribers at `servers[1]`; with a `meter`, the bytes it counted per delivered copy.
async fn one(
    mechanism: Mechanism,
    run: usize,
    args: &PushArgs,
    [direct, subscribers_at]: [&Servers; 2],
    server: &EmbeddedServer,
    events: u64,
    meter: Option<&Meter>,
) -> anyhow::Result<PushRow> {
    let deliveries = Arc::new(Deliveries::new(format!("{}{run}", mechanism.key()), events));
    let mut tasks = JoinSet::new();
    let (hooks, _callback_relay) = subscribe(
        mechanism,
        subscribers_at,
        args.subscribers,
        &deliveries,
        &mut tasks,
    )
    .await?;
    let publisher = Publisher::new(mechanism, direct).await?;
    let subscribers = u32::try_from(args.subscribers).unwrap_or(u32::MAX);
    // Warm-up: event 0 again and again until every subscriber has heard one.
    let started = Instant::now();
    while deliveries.ready() < subscribers {
        anyhow::ensure!(
            started.elapsed() < READY,
            "only {} of {} subscribers were ready after {READY:?}",
            deliveries.ready(),
            subscribers
        );
        publisher.publish(deliveries.text(0)).await?;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cpu_before = server.cpu_time();
    let bytes_before = meter.map(Meter::bytes);
    let timeout = args.timeout.get();
    let mut late = 0u64;
    match args.rate {
        None => {
            for seq in 1..=events {
                deliveries.publishing(seq);
                publisher.publish(deliveries.text(seq)).await?;
                let deadline = Instant::now() + timeout;
                while deliveries.count(seq) < subscribers && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                late += u64::from(subscribers.saturating_sub(deliveries.count(seq)));
            }
        }
        Some(rate) => {
            // Each event when due, whatever the subscribers have; then the last ones get
            // the timeout to arrive, and what is missing then is late.
            let start = Instant::now();
            for seq in 1..=events {
                let due = start + Duration::from_secs_f64((seq - 1) as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                deliveries.publishing(seq);
                publisher.publish(deliveries.text(seq)).await?;
            }
            let deadline = Instant::now() + timeout;
            while (1..=events).any(|seq| deliveries.count(seq) < subscribers)
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            late = (1..=events)
                .map(|seq| u64::from(subscribers.saturating_sub(deliveries.count(seq))))
                .sum();
        }
    }
    let cpu = server
        .cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before));
    let bytes = meter
        .map(Meter::bytes)
        .zip(bytes_before)
        .map(|(after, before)| {
            (
                after.0.saturating_sub(before.0),
                after.1.saturating_sub(before.1),
            )
        });
    // Leave: hooks deleted (or they would go on costing the server), streams dropped.
    let http = reqwest::Client::new();
    for id in hooks {
        let _ = http
            .delete(format!("http://{}/hooks/{id}", direct.ws))
            .send()
            .await;
    }
    tasks.shutdown().await;
    drop(publisher);
    settle(&http, direct).await;
    let latency = deliveries.latency();
    let delivered = latency.len();
    let us = |q: f64| percentile(&latency, q).map(|nanos| nanos as f64 / 1000.0);
    Ok(PushRow {
        key: mechanism.key(),
        label: mechanism.label(),
        delivered,
        late,
        skipped: deliveries
            .skipped
            .load(std::sync::atomic::Ordering::Relaxed),
        p50_us: us(0.5),
        p99_us: us(0.99),
        max_us: (delivered > 0).then(|| latency.max() as f64 / 1000.0),
        server_cpu_us_per_delivery: cpu
            .filter(|_| delivered > 0)
            .map(|cpu| cpu.as_secs_f64() * 1e6 / delivered as f64),
        bytes_out_per_delivery: bytes
            .filter(|_| delivered > 0)
            .map(|(out, _)| out as f64 / delivered as f64),
        bytes_in_per_delivery: bytes
            .filter(|_| delivered > 0)
            .map(|(_, inward)| inward as f64 / delivered as f64),
        connections_held: if mechanism.holds_a_connection() {
            args.subscribers as u64
        } else {
            0
        },
    })
}

/// Waits (up to 10 s) until the WebSocket lab's room is empty again, so the leave
/// notices of one mechanism's members are behind the next mechanism's subscribers, not
/// among their events.
async fn settle(http: &reqwest::Client, servers: &Servers) {
    let health = format!("http://{}/health", servers.ws);
    for _ in 0..200 {
        let members = match http.get(&health).send().await {
            Ok(reply) => reply.json::<serde_json::Value>().await.ok(),
            Err(_) => None,
        };
        if members.is_none_or(|m| m["chat_members"].as_u64() == Some(0)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
