//! The load generator: N clients as tasks over M threads, the same for every protocol
//! and the floor.
//!
//! Each load-generator thread is pinned to one of the client CPUs and runs its own
//! single-threaded tokio runtime; clients are tasks spread round-robin over those
//! threads, so a client's whole request path (its connection's driver task included)
//! stays on one thread, and 32 clients on one CPU cost 32 tasks, not 32 OS threads
//! taking turns. A client warms up; when every client has, the measured phase runs in
//! rounds: for each, a [`Gate`] opens it (where a row waits its turn among the others),
//! every client re-warms, the gate takes its readings (server CPU, bytes) while all are
//! idle, then releases them together; each thread reads its own CPU clock around each
//! round, and each round's throughput and percentiles are kept for pairing with the floor
//! (and, in a `--duration` run, a [`Timeline`] of the latencies by when they finished).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::task::{JoinSet, LocalSet};

pub(crate) mod cputime;
pub(crate) mod probe;
pub(crate) mod progress;
pub(crate) mod timeline;
pub(crate) mod traffic;
pub(crate) mod turns;

use crate::placement::CpuList;
use crate::settings::Length;
use crate::stats::{new_histogram, per_second, percentile_us, record};
use probe::{CallError, ErrorKind, Probe, Shared};
use timeline::{Tally, Timeline};

/// What one client, or all clients merged, measured.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    /// Latencies of successful requests, in nanoseconds.
    pub histogram: Histogram<u64>,
    /// Failed requests by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// The first message of each kind of failure.
    pub first_errors: BTreeMap<ErrorKind, String>,
    /// Time from the start of measuring to the end of the slowest client.
    pub wall: Duration,
    /// False when the run was interrupted before this measurement ended.
    pub complete: bool,
    /// Open loop (`--rate`): service times of successful requests (from when each was
    /// sent, not from when it was due), in nanoseconds. Empty in a closed loop, where
    /// the two are the same.
    pub service: Histogram<u64>,
    /// Open loop: requests sent more than [`LATE`] after their intended start.
    pub late: u64,
    /// Open loop: the most a request went out after its intended start.
    pub max_late: Duration,
    /// Stream workload: time from each successful request's send to its first item, in
    /// nanoseconds, where the client can tell. Empty otherwise.
    pub first_item: Histogram<u64>,
}

/// How far past its intended start a request may go out before it counts as late (one
/// tick of the runtime's timer).
pub(crate) const LATE: Duration = Duration::from_millis(1);

/// Waits until `due`: on the timer until a tick before it (the timer wakes on 1 ms
/// ticks), then yielding to the other clients until the moment comes, so a request
/// goes out when it is due rather than on the next tick, which at thousands of requests
/// per second would send them in bursts and count up to a tick of the load generator's
/// own waiting in every latency.
async fn wait_until(due: Instant) {
    if let Some(early) = due.checked_sub(LATE)
        && Instant::now() < early
    {
        tokio::time::sleep_until(early.into()).await;
    }
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

impl Default for Measurement {
    fn default() -> Self {
        Measurement {
            service: new_histogram(),
            first_item: new_histogram(),
            late: 0,
            max_late: Duration::ZERO,
            histogram: new_histogram(),
            errors: BTreeMap::new(),
            first_errors: BTreeMap::new(),
            wall: Duration::ZERO,
            complete: true,
        }
    }
}

impl Measurement {
    /// Total failed requests.
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Successful requests per second of wall time.
    pub(crate) fn throughput(&self) -> f64 {
        per_second(self.histogram.len(), self.wall.as_secs_f64())
    }

    fn count_error(&mut self, error: CallError) {
        *self.errors.entry(error.kind).or_default() += 1;
        self.first_errors.entry(error.kind).or_insert(error.message);
    }

    /// Adds another client's measurement to this one.
    pub(crate) fn merge(&mut self, other: Measurement) {
        let _ = self.histogram.add(&other.histogram);
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        for (kind, message) in other.first_errors {
            self.first_errors.entry(kind).or_insert(message);
        }
        self.wall = self.wall.max(other.wall);
        self.complete &= other.complete;
        let _ = self.service.add(&other.service);
        let _ = self.first_item.add(&other.first_item);
        self.late += other.late;
        self.max_late = self.max_late.max(other.max_late);
    }
}

/// Sends `count` unmeasured requests (stopping early on Ctrl-C).
pub(crate) async fn warm_up<P: Probe>(probe: &mut P, count: u64, shared: &Shared) {
    for _ in 0..count {
        if shared.stopped() {
            return;
        }
        let _ = probe.call().await;
    }
}

/// An open-loop client's schedule: a request is due every `interval`, the first one
/// `offset` after the start (so clients do not all fire at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    /// Time between this client's intended starts.
    pub interval: Duration,
    /// Where in the interval this client's schedule begins.
    pub offset: Duration,
}

/// The measured loop of one client for one round: times each request until the length
/// is reached or the run stops, into the client's own `measurement` and the thread's
/// `tally` (the round's histogram and the timeline: one allocation each for the whole
/// run, not one per round).
///
/// With a `pace` (open loop), each request has an intended start on a fixed schedule,
/// kept whether or not earlier replies are back; its latency is counted from that
/// intended start (corrected for coordinated omission: a slow reply's delay to the
/// requests behind it is counted), and its service time from when it was really sent.
/// A client carries one request at a time, so a request due while the previous one is
/// outstanding goes out late; how many, and by how much, is recorded.
pub(crate) async fn measure<P: Probe>(
    probe: &mut P,
    length: Length,
    pace: Option<Pace>,
    shared: &Shared,
    measurement: &mut Measurement,
    tally: &RefCell<Tally>,
) {
    let started = Instant::now();
    let mut due = pace.map(|p| started + p.offset);
    let deadline = match length {
        Length::Duration(duration) => Some(started + duration),
        Length::Iterations(_) => None,
    };
    let mut done = 0u64;
    let mut backoff = Duration::ZERO;
    loop {
        let more = match (length, deadline) {
            (Length::Iterations(n), _) => done < n,
            (_, Some(deadline)) => Instant::now() < deadline,
            (_, None) => false,
        };
        if !more {
            break;
        }
        if shared.stopped() {
            measurement.complete = false;
            break;
        }
        if let Some(intended) = due {
            wait_until(intended).await;
        }
        let sent = Instant::now();
        let result = probe.call().await;
        let finished = Instant::now();
        let nanos = |from: Instant| {
            u64::try_from(finished.saturating_duration_since(from).as_nanos()).unwrap_or(u64::MAX)
        };
        let latency = nanos(due.unwrap_or(sent));
        if let (Some(intended), Some(pace)) = (due, pace) {
            let late = sent.saturating_duration_since(intended);
            if late > LATE {
                measurement.late += 1;
            }
            measurement.max_late = measurement.max_late.max(late);
            if result.is_ok() {
                record(&mut measurement.service, nanos(sent));
            }
            due = Some(intended + pace.interval);
        }
        match result {
            Ok(()) => {
                backoff = Duration::ZERO;
                if let Some(first) = probe.first_item() {
                    let first = u64::try_from(first.as_nanos()).unwrap_or(u64::MAX);
                    record(&mut measurement.first_item, first);
                }
                record(&mut measurement.histogram, latency);
                tally.borrow_mut().record(finished, latency);
            }
            Err(error) => {
                let refused = error.kind == ErrorKind::Connect;
                measurement.count_error(error);
                // A server that is gone refuses at once: back off instead of spinning
                // (a closed loop only; an open loop keeps its schedule).
                if refused && pace.is_none() {
                    backoff = (backoff * 2).clamp(MIN_BACKOFF, MAX_BACKOFF);
                    let left =
                        deadline.map_or(backoff, |d| d.saturating_duration_since(Instant::now()));
                    tokio::time::sleep(backoff.min(left)).await;
                }
            }
        }
        done += 1;
        shared.completed.fetch_add(1, Ordering::Relaxed);
    }
}

/// The first pause after a refused connection, doubled at each refusal in a row up to
/// [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(1);
/// The longest pause between refused connections.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

/// Unmeasured requests each client sends at the start of every round after the first,
/// so a connection and CPUs left idle while other rows took their turns are awake again.
pub(crate) const REWARM: u64 = 5;

/// How a measurement's load is generated.
#[derive(Debug, Clone)]
pub(crate) struct Load {
    /// Clients at once.
    pub clients: usize,
    /// Connections the clients share, client `i` on connection `i % connections`
    /// (the clients' number, or more: one each).
    pub connections: usize,
    /// Load-generator threads the clients are spread over.
    pub threads: usize,
    /// CPUs the threads are pinned to, round-robin (empty: not pinned).
    pub cpus: CpuList,
    /// Unmeasured requests per client first.
    pub warmup: u64,
    /// How long each client measures, all rounds together.
    pub length: Length,
    /// The measured phase is cut into this many rounds, each opened by the gate.
    pub rounds: u32,
    /// Open loop: requests per second in total, spread evenly over the clients.
    pub rate: Option<f64>,
    /// In a sharded run, this process's part: `clients` above are its share, `rate`
    /// the whole run's, and each client keeps its place in the whole run's schedule.
    pub part: Option<Part>,
}

/// This process's part of a sharded run (`--shard`): which shard, of how many clients
/// in the whole run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part {
    /// Which shard.
    pub shard: crate::settings::shard::Shard,
    /// Clients in the whole run, every shard's.
    pub clients: usize,
}

impl Load {
    /// Client number `client`'s schedule in an open loop: every client sends at
    /// `rate / clients`, the clients' schedules staggered evenly. In a sharded run,
    /// over the whole run's clients, a shard's client at its number there: the shards'
    /// requests together arrive as evenly spaced as one process's would.
    pub(crate) fn pace(&self, client: usize) -> Option<Pace> {
        let rate = self.rate.filter(|r| *r > 0.0 && r.is_finite())?;
        let (client, clients) = match self.part {
            Some(part) => (part.shard.global(client), part.clients.max(1)),
            None => (client, self.clients.max(1)),
        };
        let interval = Duration::try_from_secs_f64(clients as f64 / rate).ok()?;
        let offset = interval.mul_f64((client % clients) as f64 / clients as f64);
        Some(Pace { interval, offset })
    }

    /// The connections actually used: at least one, at most one per client.
    pub(crate) fn connection_count(&self) -> usize {
        self.connections.clamp(1, self.clients.max(1))
    }

    /// The connection client number `client` uses.
    pub(crate) fn connection_of(&self, client: usize) -> usize {
        client % self.connection_count()
    }

    /// The load thread client number `client` runs on: the thread of its connection,
    /// so every client of a connection (and the connection's driver) is on one thread.
    pub(crate) fn thread_of(&self, client: usize) -> usize {
        self.connection_of(client) % self.thread_count()
    }

    /// The threads actually used: never more than there are connections.
    pub(crate) fn thread_count(&self) -> usize {
        self.threads.clamp(1, self.connection_count())
    }

    /// How many CPUs the load threads can use at once.
    pub(crate) fn cpu_count(&self) -> usize {
        let threads = self.thread_count();
        if self.cpus.is_empty() {
            threads
        } else {
            threads.min(self.cpus.len())
        }
    }

    /// The rounds actually run: never more than each client's requests.
    pub(crate) fn round_count(&self) -> u32 {
        let rounds = self.rounds.max(1);
        match self.length {
            Length::Iterations(n) => rounds.min(u32::try_from(n).unwrap_or(u32::MAX)).max(1),
            Length::Duration(_) => rounds,
        }
    }

    /// Each client's share of the length in round `round` (the shares add up to it).
    pub(crate) fn slice(&self, round: u32) -> Length {
        let rounds = u128::from(self.round_count());
        let round = u128::from(round);
        let share = |total: u128| total * (round + 1) / rounds - total * round / rounds;
        match self.length {
            Length::Iterations(n) => {
                Length::Iterations(u64::try_from(share(u128::from(n))).unwrap_or(n))
            }
            Length::Duration(d) => {
                let nanos = share(d.as_nanos());
                Length::Duration(Duration::from_nanos(
                    u64::try_from(nanos).unwrap_or(u64::MAX),
                ))
            }
        }
    }
}

/// Opens and closes each round of a measurement: where a row waits for its turn among
/// other rows, and where readings are taken while every client is idle.
pub(crate) trait Gate {
    /// Blocks until round `round` may start; false ends the measurement here.
    fn open(&mut self, round: u32) -> bool;

    /// Every client has re-warmed and is idle: the round's measuring starts now.
    fn start(&mut self, round: u32);

    /// Every client has finished round `round`.
    fn close(&mut self, round: u32);
}

#[cfg(test)]
/// A gate that is always open: the rounds run back to back.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Open;

#[cfg(test)]
impl Gate for Open {
    fn open(&mut self, _round: u32) -> bool {
        true
    }

    fn start(&mut self, _round: u32) {}

    fn close(&mut self, _round: u32) {}
}

/// What a run of the load measured.
#[derive(Debug, Clone)]
pub(crate) struct LoadResult {
    /// Every client's results, merged; `wall` adds up each round's span, from the
    /// first client's start to the last client's end.
    pub measurement: Measurement,
    /// CPU time of the load-generator threads over the measured rounds (`None` where
    /// the system does not tell).
    pub client_cpu: Option<Duration>,
    /// Rounds that ran; fewer than asked when the gate or a stop ended the run.
    pub rounds: u32,
    /// Each round that ran, in order: what to pair with another row's same round.
    pub per_round: Vec<Round>,
    /// Each round's latencies and span (first client's start to last client's end),
    /// in order: what a shard's report carries for `benchmark merge` to add up.
    pub round_latencies: Vec<(Histogram<u64>, (Instant, Instant))>,
    /// Latencies by when they finished, in a `--duration` run.
    pub timeline: Option<Timeline>,
}

/// What one round of a measurement gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Round {
    /// Successful requests per second over the round's span.
    pub throughput_rps: f64,
    /// The round's span, seconds (first client's start to last client's end).
    #[serde(default)]
    pub seconds: f64,
    /// The round's median latency, microseconds (within 1%).
    pub p50_us: Option<f64>,
    /// The round's 99th percentile, microseconds (within 1%), from 100 requests up.
    #[serde(default)]
    pub p99_us: Option<f64>,
}

/// Runs `load` with a probe per client from `make_probe(&link, index)`, built on the
/// client's own thread with the link of its connection from `make_link(connection)`
/// (made once per connection, on the thread of its clients). Once every client has warmed up, each round waits for `gate` to open,
/// runs every client's share of the length, and tells the gate it is over.
///
/// # Errors
///
/// When a load thread's runtime cannot be built.
pub(crate) fn run_load<L, P, M, F>(
    load: &Load,
    shared: &Arc<Shared>,
    make_link: M,
    make_probe: F,
    gate: &mut dyn Gate,
) -> std::io::Result<LoadResult>
where
    M: Fn(usize) -> L + Sync,
    F: Fn(&L, usize) -> P + Sync,
    P: Probe + 'static,
{
    let clients = load.clients.max(1);
    let threads = load.thread_count();
    let rounds = load.round_count();
    // The threads and the coordinator meet once when all have warmed up, then four
    // times a round: go (re-warm), re-warmed, measure, done. `ended` set before a go
    // means: no more.
    let meet = Meeting {
        ready: Barrier::new(threads + 1),
        go: Barrier::new(threads + 1),
        warmed: Barrier::new(threads + 1),
        measure: Barrier::new(threads + 1),
        done: Barrier::new(threads + 1),
        ended: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let factory = Factory {
                    link: &make_link,
                    probe: &make_probe,
                };
                let meet = &meet;
                let cpu = load.cpus.for_thread(thread);
                let mine: Vec<usize> = (0..clients)
                    .filter(|&c| load.thread_of(c) == thread)
                    .collect();
                std::thread::Builder::new()
                    .name(format!("load-{thread}"))
                    .spawn_scoped(scope, move || {
                        if let Some(cpu) = cpu {
                            crate::placement::pin_current_thread(cpu);
                        }
                        load_thread(&mine, load, shared, &factory, meet)
                    })
            })
            .collect();
        meet.ready.wait();
        shared.rounds.store(rounds, Ordering::Relaxed);
        let mut ran = 0;
        while ran < rounds {
            if shared.stopped() || !gate.open(ran) {
                break;
            }
            meet.go.wait();
            meet.warmed.wait();
            gate.start(ran);
            meet.measure.wait();
            meet.done.wait();
            gate.close(ran);
            ran += 1;
            shared.rounds_done.store(ran, Ordering::Relaxed);
        }
        if ran < rounds {
            meet.ended.store(true, Ordering::Release);
            meet.go.wait();
        }
        let mut total = Measurement::default();
        let mut client_cpu = Some(Duration::ZERO);
        let mut spans: Vec<(Instant, Instant)> = Vec::new();
        let mut latencies: Vec<Histogram<u64>> = Vec::new();
        let mut timeline: Option<Timeline> = None;
        for handle in handles {
            let thread = handle?
                .join()
                .map_err(|_| std::io::Error::other("a load-generator thread panicked"))??;
            total.merge(thread.measurement);
            client_cpu = client_cpu.zip(thread.cpu).map(|(a, b)| a + b);
            for (round, (start, end)) in thread.spans.into_iter().enumerate() {
                match spans.get_mut(round) {
                    Some(span) => *span = (span.0.min(start), span.1.max(end)),
                    None => spans.push((start, end)),
                }
            }
            for (round, histogram) in thread.rounds.into_iter().enumerate() {
                match latencies.get_mut(round) {
                    Some(total) => {
                        let _ = total.add(&histogram);
                    }
                    None => latencies.push(histogram),
                }
            }
            match (&mut timeline, thread.timeline) {
                (Some(total), Some(mine)) => total.merge(&mine),
                (total @ None, mine) => *total = mine,
                (Some(_), None) => {}
            }
        }
        let per_round: Vec<Round> = spans
            .iter()
            .zip(&latencies)
            .map(|((start, end), histogram)| {
                let secs = (*end - *start).as_secs_f64();
                Round {
                    throughput_rps: per_second(histogram.len(), secs),
                    seconds: secs,
                    p50_us: percentile_us(histogram, 0.5),
                    p99_us: percentile_us(histogram, 0.99),
                }
            })
            .collect();
        total.wall = spans.iter().map(|(start, end)| *end - *start).sum();
        total.complete &= ran == rounds;
        Ok(LoadResult {
            measurement: total,
            client_cpu,
            rounds: ran,
            per_round,
            round_latencies: latencies.into_iter().zip(spans).collect(),
            timeline,
        })
    })
}

/// Where the load threads and the coordinator meet.
struct Meeting {
    ready: Barrier,
    go: Barrier,
    warmed: Barrier,
    measure: Barrier,
    done: Barrier,
    ended: AtomicBool,
}

impl Meeting {
    /// Waits for the start of the next round; false when there is none.
    fn next_round(&self) -> bool {
        self.go.wait();
        !self.ended.load(Ordering::Acquire)
    }

    /// Keeps every meeting without running clients, so the others are not left waiting.
    fn stand_by(&self, rounds: u32) {
        self.ready.wait();
        for _ in 0..rounds {
            if !self.next_round() {
                return;
            }
            self.warmed.wait();
            self.measure.wait();
            self.done.wait();
        }
    }
}

/// What one load thread measured.
struct ThreadResult {
    measurement: Measurement,
    cpu: Option<Duration>,
    /// When each round started and ended on this thread.
    spans: Vec<(Instant, Instant)>,
    /// Each round's latencies on this thread (two significant digits).
    rounds: Vec<Histogram<u64>>,
    /// The run's timeline on this thread, in a `--duration` run.
    timeline: Option<Timeline>,
}

/// How a load thread makes its links and probes.
struct Factory<'a, M, F> {
    link: &'a M,
    probe: &'a F,
}

fn load_thread<L, P, M, F>(
    clients: &[usize],
    load: &Load,
    shared: &Arc<Shared>,
    factory: &Factory<'_, M, F>,
    meet: &Meeting,
) -> std::io::Result<ThreadResult>
where
    M: Fn(usize) -> L + Sync,
    F: Fn(&L, usize) -> P + Sync,
    P: Probe + 'static,
{
    let rounds = load.round_count();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            meet.stand_by(rounds);
            shared.finished.fetch_add(clients.len(), Ordering::Relaxed);
            return Err(e);
        }
    };
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let mut links = BTreeMap::new();
        let mut warming = JoinSet::new();
        for &index in clients {
            let connection = load.connection_of(index);
            let link = links
                .entry(connection)
                .or_insert_with(|| (factory.link)(connection));
            let mut probe = (factory.probe)(link, index);
            let warmup = load.warmup;
            let shared = Arc::clone(shared);
            let pace = load.pace(index);
            warming.spawn_local(async move {
                warm_up(&mut probe, warmup, &shared).await;
                (probe, pace)
            });
        }
        // Each client keeps its schedule with it (tasks finish in any order).
        let mut probes: Vec<(P, Measurement, Option<Pace>)> = warming
            .join_all()
            .await
            .into_iter()
            .map(|(probe, pace)| (probe, Measurement::default(), pace))
            .collect();
        // Blocking at a meeting is fine: every client of this thread is idle.
        meet.ready.wait();
        let length = match load.length {
            Length::Duration(length) => Some(length),
            Length::Iterations(_) => None,
        };
        let tally = Rc::new(RefCell::new(Tally::new(length)));
        let mut measured = Duration::ZERO;
        let mut cpu = Some(Duration::ZERO);
        let mut spans = Vec::new();
        let mut latencies = Vec::new();
        for round in 0..rounds {
            if !meet.next_round() {
                break;
            }
            if round == 0 {
                shared.measuring.fetch_add(clients.len(), Ordering::Relaxed);
            }
            if round > 0 && load.warmup > 0 {
                let mut warming = JoinSet::new();
                for (mut probe, measurement, pace) in probes.drain(..) {
                    let (shared, count) = (Arc::clone(shared), REWARM.min(load.warmup));
                    warming.spawn_local(async move {
                        warm_up(&mut probe, count, &shared).await;
                        (probe, measurement, pace)
                    });
                }
                probes = warming.join_all().await;
            }
            meet.warmed.wait();
            meet.measure.wait();
            let cpu_before = cputime::current_thread();
            let start = Instant::now();
            let slice = load.slice(round);
            tally.borrow_mut().start_round(measured);
            if let Length::Duration(span) = slice {
                measured += span;
            }
            let mut measuring = JoinSet::new();
            for (mut probe, mut measurement, pace) in probes.drain(..) {
                let shared = Arc::clone(shared);
                let tally = Rc::clone(&tally);
                measuring.spawn_local(async move {
                    measure(&mut probe, slice, pace, &shared, &mut measurement, &tally).await;
                    (probe, measurement, pace)
                });
            }
            probes = measuring.join_all().await;
            spans.push((start, Instant::now()));
            let used = cputime::current_thread()
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            cpu = cpu.zip(used).map(|(a, b)| a + b);
            latencies.push(tally.borrow().round.clone());
            meet.done.wait();
        }
        let mut measurement = Measurement::default();
        // The probes drop here, on their own thread: a row's probe gives back what it
        // holds (users to remove) when it drops.
        for (_probe, one, _) in probes {
            measurement.merge(one);
        }
        shared.finished.fetch_add(clients.len(), Ordering::Relaxed);
        let timeline = tally.borrow_mut().timeline.take();
        Ok(ThreadResult {
            measurement,
            cpu,
            spans,
            rounds: latencies,
            timeline,
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A probe whose every call takes a fixed time.
    struct Takes(Duration);

    impl Probe for Takes {
        async fn call(&mut self) -> Result<(), CallError> {
            tokio::time::sleep(self.0).await;
            Ok(())
        }
    }

    async fn open_loop(takes: Duration, interval: Duration, length: Duration) -> Measurement {
        let shared = Shared::default();
        let tally = RefCell::new(Tally::new(None));
        let mut measurement = Measurement::default();
        let pace = Pace {
            interval,
            offset: Duration::ZERO,
        };
        let length = Length::Duration(length);
        measure(
            &mut Takes(takes),
            length,
            Some(pace),
            &shared,
            &mut measurement,
            &tally,
        )
        .await;
        measurement
    }

    /// Requests due every 10 ms to a server that takes 30: the schedule is kept, so
    /// each request's latency counts the queue behind the slow ones (corrected), while
    /// the service time does not; the late requests are counted.
    #[tokio::test]
    async fn an_open_loop_counts_the_queue_in_latency_but_not_in_service_time() {
        let slow = open_loop(
            Duration::from_millis(30),
            Duration::from_millis(10),
            Duration::from_millis(600),
        )
        .await;
        let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1e6;
        assert!(slow.histogram.len() >= 10, "{}", slow.histogram.len());
        assert!(
            (29.0..80.0).contains(&ms(&slow.service, 0.5)),
            "service {}",
            ms(&slow.service, 0.5)
        );
        assert!(
            ms(&slow.histogram, 0.5) > 100.0,
            "corrected {}",
            ms(&slow.histogram, 0.5)
        );
        assert!(slow.late >= slow.histogram.len() - 2, "{} late", slow.late);
        assert!(
            slow.max_late > Duration::from_millis(200),
            "{:?}",
            slow.max_late
        );

        // A server well within the rate: nothing queues, the two latencies agree.
        let quick = open_loop(
            Duration::from_millis(1),
            Duration::from_millis(20),
            Duration::from_millis(400),
        )
        .await;
        assert!(quick.histogram.len() >= 15, "{}", quick.histogram.len());
        assert!(
            ms(&quick.histogram, 0.5) < 15.0,
            "corrected {}",
            ms(&quick.histogram, 0.5)
        );
        // How many went out late is the machine's timer precision (a VM under steal
        // wakes timers milliseconds late), not the engine's: not asserted here.
    }

    #[test]
    fn the_rate_is_spread_over_the_clients_with_staggered_schedules() {
        let load = Load {
            clients: 4,
            connections: 4,
            threads: 1,
            cpus: CpuList(Vec::new()),
            warmup: 0,
            length: Length::Duration(Duration::from_secs(1)),
            rounds: 1,
            rate: Some(1000.0),
            part: None,
        };
        let paces: Vec<Pace> = (0..4).filter_map(|c| load.pace(c)).collect();
        assert!(paces.iter().all(|p| p.interval == Duration::from_millis(4)));
        let offsets: Vec<Duration> = paces.iter().map(|p| p.offset).collect();
        assert_eq!(offsets, [0, 1, 2, 3].map(Duration::from_millis));
        assert_eq!(
            Load {
                rate: None,
                ..load.clone()
            }
            .pace(0),
            None
        );
        // Two shards of the same run: each client keeps its place in the whole
        // schedule, so the shards' offsets interleave into the one process's.
        let mut merged: Vec<Duration> = (0..2)
            .flat_map(|index| {
                let shard = Load {
                    clients: 2,
                    part: Some(Part {
                        shard: crate::settings::shard::Shard { index, count: 2 },
                        clients: 4,
                    }),
                    ..load.clone()
                };
                (0..2).filter_map(move |c| shard.pace(c))
            })
            .map(|p| {
                assert_eq!(p.interval, Duration::from_millis(4));
                p.offset
            })
            .collect();
        merged.sort();
        assert_eq!(merged, offsets);
    }

    /// Fails every third call; records which threads ran it.
    struct Flaky {
        calls: u64,
        threads: Arc<Mutex<HashSet<String>>>,
        burn: Duration,
    }

    impl Flaky {
        fn new() -> Self {
            Flaky {
                calls: 0,
                threads: Arc::default(),
                burn: Duration::ZERO,
            }
        }
    }

    impl Probe for Flaky {
        async fn call(&mut self) -> Result<(), CallError> {
            self.calls += 1;
            if let Ok(mut threads) = self.threads.lock() {
                let name = std::thread::current().name().unwrap_or("?").to_owned();
                threads.insert(name);
            }
            // Burn this much of the thread's own CPU time, whatever else runs.
            if let Some(start) = cputime::current_thread().filter(|_| !self.burn.is_zero()) {
                while cputime::current_thread().unwrap_or(start) - start < self.burn {
                    std::hint::black_box(self.calls.wrapping_mul(31));
                }
            }
            tokio::task::yield_now().await;
            if self.calls.is_multiple_of(3) {
                Err(CallError::new(
                    ErrorKind::WrongReply,
                    format!("call {}", self.calls),
                ))
            } else {
                Ok(())
            }
        }
    }

    fn load(clients: usize, threads: usize, warmup: u64, length: Length) -> Load {
        Load {
            clients,
            connections: clients,
            threads,
            cpus: CpuList(Vec::new()),
            warmup,
            length,
            rounds: 1,
            rate: None,
            part: None,
        }
    }

    /// Records the order of its calls; refuses to open round `refuse`.
    #[derive(Default)]
    struct Recording {
        calls: Vec<String>,
        refuse: Option<u32>,
        completed_at_open: Vec<u64>,
        shared: Option<Arc<Shared>>,
    }

    impl Gate for Recording {
        fn open(&mut self, round: u32) -> bool {
            self.calls.push(format!("open {round}"));
            if let Some(shared) = &self.shared {
                self.completed_at_open
                    .push(shared.completed.load(Ordering::Relaxed));
            }
            self.refuse != Some(round)
        }

        fn start(&mut self, round: u32) {
            self.calls.push(format!("start {round}"));
        }

        fn close(&mut self, round: u32) {
            self.calls.push(format!("close {round}"));
        }
    }

    #[test]
    fn failures_are_counted_and_warm_up_is_not_measured() {
        let shared = Arc::new(Shared::default());
        let result = run_load(
            &load(1, 1, 5, Length::Iterations(9)),
            &shared,
            |_| (),
            |(), _| Flaky::new(),
            &mut Open,
        )
        .unwrap();
        let m = result.measurement;
        // Calls 1-5 warm up; 6-14 are measured, and 6, 9 and 12 fail.
        assert_eq!(m.histogram.len(), 6);
        assert_eq!(m.errors.get(&ErrorKind::WrongReply), Some(&3));
        assert_eq!(m.first_errors[&ErrorKind::WrongReply], "call 6");
        assert!(m.complete);
        assert_eq!(shared.completed.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn n_clients_run_as_tasks_over_m_threads() {
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let made = AtomicUsize::new(0);
        let shared = Arc::new(Shared::default());
        let mut gate = Recording::default();
        let result = run_load(
            &load(8, 3, 2, Length::Iterations(6)),
            &shared,
            |_| (),
            |(), _| {
                made.fetch_add(1, Ordering::Relaxed);
                Flaky {
                    threads: Arc::clone(&threads),
                    ..Flaky::new()
                }
            },
            &mut gate,
        )
        .unwrap();
        assert_eq!(gate.calls, ["open 0", "start 0", "close 0"]);
        assert_eq!(made.load(Ordering::Relaxed), 8);
        // Eight clients, six measured calls each; calls 3-8 of each, 3 and 6 fail.
        assert_eq!(result.measurement.histogram.len(), 8 * 4);
        assert_eq!(result.measurement.error_count(), 8 * 2);
        let names = threads.lock().unwrap().clone();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("load-")), "{names:?}");
        assert_eq!(shared.finished.load(Ordering::Relaxed), 8);
        // Never more threads than clients.
        assert_eq!(load(2, 5, 0, Length::Iterations(1)).thread_count(), 2);
    }

    #[test]
    fn clients_sharing_a_connection_share_its_link_on_one_thread() {
        let links = Mutex::new(Vec::new());
        let probes = Mutex::new(Vec::new());
        let here = || std::thread::current().name().unwrap_or_default().to_owned();
        let shared = Arc::new(Shared::default());
        let three = Load {
            connections: 3,
            ..load(8, 2, 0, Length::Iterations(1))
        };
        let result = run_load(
            &three,
            &shared,
            |connection| {
                links.lock().unwrap().push((connection, here()));
                connection
            },
            |link, index| {
                probes.lock().unwrap().push((index, *link, here()));
                Flaky::new()
            },
            &mut Open,
        )
        .unwrap();
        assert_eq!(result.measurement.histogram.len(), 8);
        let mut links = links.into_inner().unwrap();
        links.sort();
        // One link per connection, made once.
        let made: Vec<usize> = links.iter().map(|(c, _)| *c).collect();
        assert_eq!(made, [0, 1, 2]);
        let probes = probes.into_inner().unwrap();
        assert_eq!(probes.len(), 8);
        for (index, link, thread) in probes {
            assert_eq!(link, index % 3, "client {index} on the wrong connection");
            assert_eq!(
                thread, links[link].1,
                "client {index} apart from its connection"
            );
        }
        // Never more threads than connections.
        let one = Load {
            connections: 1,
            ..load(8, 2, 0, Length::Iterations(1))
        };
        assert_eq!(one.thread_count(), 1);
        assert_eq!(
            Load {
                connections: 50,
                ..one
            }
            .connection_count(),
            8
        );
    }

    #[test]
    fn client_cpu_is_what_the_load_threads_burnt() {
        if cputime::current_thread().is_none() {
            return;
        }
        let burn = Duration::from_micros(300);
        let shared = Arc::new(Shared::default());
        let result = run_load(
            &load(2, 2, 3, Length::Iterations(40)),
            &shared,
            |_| (),
            |(), _| Flaky {
                burn,
                ..Flaky::new()
            },
            &mut Open,
        )
        .unwrap();
        let cpu = result.client_cpu.unwrap();
        let burnt = burn * 80;
        assert!(cpu >= burnt, "{cpu:?} < {burnt:?}");
        // The rest of the loop costs little: warm-up is not counted.
        assert!(cpu < burnt + Duration::from_millis(60), "{cpu:?}");
    }

    #[test]
    fn a_duration_run_ends_on_time_and_a_stop_ends_it_early() {
        let shared = Arc::new(Shared::default());
        let started = Instant::now();
        let result = run_load(
            &load(3, 2, 0, Length::Duration(Duration::from_millis(100))),
            &shared,
            |_| (),
            |(), _| Flaky::new(),
            &mut Open,
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(result.measurement.wall >= Duration::from_millis(100));
        assert!(result.measurement.throughput() > 0.0);

        let shared = Arc::new(Shared::default());
        shared.stop.store(true, Ordering::Relaxed);
        let result = run_load(
            &load(2, 1, 0, Length::Iterations(1_000)),
            &shared,
            |_| (),
            |(), _| Flaky::new(),
            &mut Open,
        )
        .unwrap();
        assert!(!result.measurement.complete);
        assert!(result.measurement.histogram.is_empty());
    }

    #[test]
    fn rounds_share_the_length_and_open_only_through_the_gate() {
        let mut load = load(2, 2, 1, Length::Iterations(10));
        load.rounds = 4;
        let shares: Vec<Length> = (0..4).map(|r| load.slice(r)).collect();
        assert_eq!(
            shares,
            [2, 3, 2, 3].map(Length::Iterations),
            "the shares add up to the length"
        );
        let shared = Arc::new(Shared::default());
        let mut gate = Recording {
            shared: Some(Arc::clone(&shared)),
            ..Recording::default()
        };
        let result = run_load(&load, &shared, |_| (), |(), _| Flaky::new(), &mut gate).unwrap();
        assert_eq!(result.rounds, 4);
        assert!(result.measurement.complete);
        let calls = [
            "open 0", "start 0", "close 0", "open 1", "start 1", "close 1",
        ];
        assert_eq!(gate.calls[..6], calls);
        assert_eq!(gate.calls.len(), 12);
        // Nothing is measured while the gate is shut: both clients' shares so far.
        assert_eq!(gate.completed_at_open, [0, 4, 10, 14]);
        // Per client: call 1 warms up; round 0 measures 2-3; each later round first
        // re-warms with one call (4, 8, 11), then measures 5-7, 9-10, 12-14. Of the ten
        // measured, 3, 6, 9 and 12 fail.
        assert_eq!(result.measurement.histogram.len(), 2 * 6);
        assert_eq!(result.measurement.error_count(), 2 * 4);
        // More rounds than requests: one request a round.
        load.length = Length::Iterations(3);
        load.rounds = 10;
        assert_eq!(load.round_count(), 3);
        let mut halves = super::Load {
            length: Length::Duration(Duration::from_millis(100)),
            rounds: 2,
            ..load
        };
        assert_eq!(halves.slice(1), Length::Duration(Duration::from_millis(50)));
        halves.rounds = 0;
        assert_eq!(halves.round_count(), 1);
    }

    #[test]
    fn a_gate_that_stays_shut_ends_the_measurement_with_what_was_measured() {
        let mut load = load(3, 2, 0, Length::Iterations(9));
        load.rounds = 3;
        let shared = Arc::new(Shared::default());
        let mut gate = Recording {
            refuse: Some(1),
            ..Recording::default()
        };
        let started = Instant::now();
        let result = run_load(&load, &shared, |_| (), |(), _| Flaky::new(), &mut gate).unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(gate.calls, ["open 0", "start 0", "close 0", "open 1"]);
        assert_eq!(result.rounds, 1);
        assert!(!result.measurement.complete);
        // Three clients, three requests each in round 0; each client's call 3 fails.
        assert_eq!(result.measurement.histogram.len(), 3 * 2);
        assert_eq!(result.measurement.error_count(), 3);
        assert_eq!(shared.finished.load(Ordering::Relaxed), 3);

        // Shut from the start: nothing measured, every thread released.
        let mut gate = Recording {
            refuse: Some(0),
            ..Recording::default()
        };
        let result = run_load(&load, &shared, |_| (), |(), _| Flaky::new(), &mut gate).unwrap();
        assert_eq!(result.rounds, 0);
        assert!(result.measurement.histogram.is_empty());
        assert_eq!(result.measurement.wall, Duration::ZERO);
    }
}
