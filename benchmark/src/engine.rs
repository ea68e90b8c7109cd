//! The load generator: N clients as tasks over M threads, the same for every protocol
//! and the floor.
//!
//! Each load-generator thread is pinned to one of the client CPUs and runs its own
//! single-threaded tokio runtime; clients are tasks spread round-robin over those
//! threads, so a client's whole request path (its connection's driver task included)
//! stays on one thread, and 32 clients on one CPU cost 32 tasks, not 32 OS threads
//! taking turns. A client warms up; when every client has, the coordinator takes its
//! "before" readings (server CPU, bytes) while all are idle, then releases them
//! together; each thread reads its own CPU time around the measured phase.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::task::{JoinSet, LocalSet};

use crate::cputime;
use crate::placement::CpuList;
use crate::settings::Length;
use crate::stats::{new_histogram, record};

/// What kind of failure a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No connection could be made.
    Connect,
    /// No reply within the per-request timeout.
    Timeout,
    /// The connection failed mid-request (reset, closed).
    Transport,
    /// The server answered with an error status.
    Status,
    /// The server answered, but not with the expected reply.
    WrongReply,
}

impl ErrorKind {
    /// The name used in reports.
    pub fn key(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Status => "status",
            ErrorKind::WrongReply => "wrong_reply",
        }
    }
}

/// A failed request: its kind and what was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// The kind, for counting.
    pub kind: ErrorKind,
    /// The message, for the report (the first of each kind is kept).
    pub message: String,
}

impl CallError {
    /// A failure of `kind` described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
        }
    }
}

/// One request of some protocol, checked. Implemented by each protocol's probe and by
/// test fakes.
pub trait Probe {
    /// Sends one request and checks the reply.
    fn call(&mut self) -> impl Future<Output = Result<(), CallError>>;

    /// Ids of users this probe created, for removal after the run.
    fn take_created(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// State every client of one measurement shares.
#[derive(Debug, Default)]
pub struct Shared {
    /// Set by Ctrl-C: clients stop after the request in hand. Shared by every
    /// measurement of a run.
    pub stop: Arc<AtomicBool>,
    /// Measured requests so far, for progress.
    pub completed: AtomicU64,
    /// Clients that have finished.
    pub finished: AtomicUsize,
    /// Clients that have warmed up and started measuring.
    pub measuring: AtomicUsize,
}

impl Shared {
    /// Progress counters for one measurement, stopping when `stop` is set.
    pub fn new(stop: Arc<AtomicBool>) -> Self {
        Shared {
            stop,
            ..Shared::default()
        }
    }

    /// True once the run was asked to stop.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// What one client, or all clients merged, measured.
#[derive(Debug, Clone)]
pub struct Measurement {
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
    /// Users created during the run, to remove afterwards.
    pub created: Vec<String>,
}

impl Default for Measurement {
    fn default() -> Self {
        Measurement {
            histogram: new_histogram(),
            errors: BTreeMap::new(),
            first_errors: BTreeMap::new(),
            wall: Duration::ZERO,
            complete: true,
            created: Vec::new(),
        }
    }
}

impl Measurement {
    /// Total failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Successful requests per second of wall time.
    pub fn throughput(&self) -> f64 {
        let secs = self.wall.as_secs_f64();
        if secs > 0.0 {
            self.histogram.len() as f64 / secs
        } else {
            0.0
        }
    }

    fn count_error(&mut self, error: CallError) {
        *self.errors.entry(error.kind).or_default() += 1;
        self.first_errors.entry(error.kind).or_insert(error.message);
    }

    /// Adds another client's measurement to this one.
    pub fn merge(&mut self, other: Measurement) {
        let _ = self.histogram.add(&other.histogram);
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
        for (kind, message) in other.first_errors {
            self.first_errors.entry(kind).or_insert(message);
        }
        self.wall = self.wall.max(other.wall);
        self.complete &= other.complete;
        self.created.extend(other.created);
    }
}

/// Sends `count` unmeasured requests (stopping early on Ctrl-C).
pub async fn warm_up<P: Probe>(probe: &mut P, count: u64, shared: &Shared) {
    for _ in 0..count {
        if shared.stopped() {
            return;
        }
        let _ = probe.call().await;
    }
}

/// The measured loop of one client: times each request until the length is reached or
/// the run stops.
pub async fn measure<P: Probe>(probe: &mut P, length: Length, shared: &Shared) -> Measurement {
    let mut measurement = Measurement::default();
    let started = Instant::now();
    let deadline = match length {
        Length::Duration(duration) => Some(started + duration),
        Length::Iterations(_) => None,
    };
    let mut done = 0u64;
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
        let sent = Instant::now();
        let result = probe.call().await;
        let nanos = u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match result {
            Ok(()) => record(&mut measurement.histogram, nanos),
            Err(error) => measurement.count_error(error),
        }
        done += 1;
        shared.completed.fetch_add(1, Ordering::Relaxed);
    }
    measurement.wall = started.elapsed();
    measurement.created = probe.take_created();
    measurement
}

/// How a measurement's load is generated.
#[derive(Debug, Clone)]
pub struct Load {
    /// Clients, each with its own connection.
    pub clients: usize,
    /// Load-generator threads the clients are spread over.
    pub threads: usize,
    /// CPUs the threads are pinned to, round-robin (empty: not pinned).
    pub cpus: CpuList,
    /// Unmeasured requests per client first.
    pub warmup: u64,
    /// How long each client measures.
    pub length: Length,
}

impl Load {
    /// The threads actually used: never more than there are clients.
    pub fn thread_count(&self) -> usize {
        self.threads.clamp(1, self.clients.max(1))
    }

    /// How many CPUs the load threads can use at once.
    pub fn cpu_count(&self) -> usize {
        let threads = self.thread_count();
        if self.cpus.is_empty() {
            threads
        } else {
            threads.min(self.cpus.len())
        }
    }
}

/// What a run of the load measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Every client's results, merged; `wall` is from the common start to the last end.
    pub measurement: Measurement,
    /// CPU time of the load-generator threads over the measured phase (`None` where
    /// the system does not tell).
    pub client_cpu: Option<Duration>,
}

/// Runs `load` with a probe per client from `make_probe(index)`, built on the client's
/// own thread. `at_start` runs once every client has warmed up and before any measures,
/// while all are idle: the moment to take "before" readings.
///
/// # Errors
///
/// When a load thread's runtime cannot be built.
pub fn run_load<P, F>(
    load: &Load,
    shared: &Arc<Shared>,
    make_probe: F,
    at_start: impl FnOnce(),
) -> std::io::Result<LoadResult>
where
    F: Fn(usize) -> P + Sync,
    P: Probe + 'static,
{
    let clients = load.clients.max(1);
    let threads = load.thread_count();
    // The threads and the coordinator meet twice: all warmed up, then go.
    let ready = Barrier::new(threads + 1);
    let go = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let (ready, go, make_probe) = (&ready, &go, &make_probe);
                let cpu = load.cpus.for_thread(thread);
                let mine: Vec<usize> = (thread..clients).step_by(threads).collect();
                std::thread::Builder::new()
                    .name(format!("load-{thread}"))
                    .spawn_scoped(scope, move || {
                        if let Some(cpu) = cpu {
                            crate::placement::pin_current_thread(cpu);
                        }
                        load_thread(&mine, load, shared, make_probe, ready, go)
                    })
            })
            .collect();
        ready.wait();
        at_start();
        let started = Instant::now();
        go.wait();
        let mut total = Measurement::default();
        let mut client_cpu = Some(Duration::ZERO);
        let mut ended = started;
        for handle in handles {
            let thread = handle?
                .join()
                .map_err(|_| std::io::Error::other("a load-generator thread panicked"))??;
            total.merge(thread.measurement);
            client_cpu = client_cpu.zip(thread.cpu).map(|(a, b)| a + b);
            ended = ended.max(thread.ended);
        }
        total.wall = ended - started;
        Ok(LoadResult {
            measurement: total,
            client_cpu,
        })
    })
}

/// What one load thread measured.
struct ThreadResult {
    measurement: Measurement,
    cpu: Option<Duration>,
    ended: Instant,
}

fn load_thread<P, F>(
    clients: &[usize],
    load: &Load,
    shared: &Arc<Shared>,
    make_probe: &F,
    ready: &Barrier,
    go: &Barrier,
) -> std::io::Result<ThreadResult>
where
    F: Fn(usize) -> P + Sync,
    P: Probe + 'static,
{
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            // Meet the others anyway, or they would wait forever.
            ready.wait();
            go.wait();
            shared.finished.fetch_add(clients.len(), Ordering::Relaxed);
            return Err(e);
        }
    };
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let mut warming = JoinSet::new();
        for &index in clients {
            let mut probe = make_probe(index);
            let warmup = load.warmup;
            let shared = Arc::clone(shared);
            warming.spawn_local(async move {
                warm_up(&mut probe, warmup, &shared).await;
                probe
            });
        }
        let probes = warming.join_all().await;
        // Blocking here is fine: every client of this thread is idle.
        ready.wait();
        go.wait();
        shared.measuring.fetch_add(clients.len(), Ordering::Relaxed);
        let cpu_before = cputime::current_thread();
        let mut measuring = JoinSet::new();
        for mut probe in probes {
            let length = load.length;
            let shared = Arc::clone(shared);
            measuring.spawn_local(async move { measure(&mut probe, length, &shared).await });
        }
        let mut measurement = Measurement::default();
        for one in measuring.join_all().await {
            measurement.merge(one);
        }
        let ended = Instant::now();
        let cpu = cputime::current_thread()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        shared.finished.fetch_add(clients.len(), Ordering::Relaxed);
        Ok(ThreadResult {
            measurement,
            cpu,
            ended,
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;

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

        fn take_created(&mut self) -> Vec<String> {
            vec![format!("made-{}", self.calls)]
        }
    }

    fn load(clients: usize, threads: usize, warmup: u64, length: Length) -> Load {
        Load {
            clients,
            threads,
            cpus: CpuList(Vec::new()),
            warmup,
            length,
        }
    }

    #[test]
    fn failures_are_counted_and_warm_up_is_not_measured() {
        let shared = Arc::new(Shared::default());
        let result = run_load(
            &load(1, 1, 5, Length::Iterations(9)),
            &shared,
            |_| Flaky::new(),
            || {},
        )
        .unwrap();
        let m = result.measurement;
        // Calls 1-5 warm up; 6-14 are measured, and 6, 9 and 12 fail.
        assert_eq!(m.histogram.len(), 6);
        assert_eq!(m.errors.get(&ErrorKind::WrongReply), Some(&3));
        assert_eq!(m.first_errors[&ErrorKind::WrongReply], "call 6");
        assert!(m.complete);
        assert_eq!(m.created, ["made-14"]);
        assert_eq!(shared.completed.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn n_clients_run_as_tasks_over_m_threads() {
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let made = AtomicUsize::new(0);
        let shared = Arc::new(Shared::default());
        let mut started = false;
        let result = run_load(
            &load(8, 3, 2, Length::Iterations(6)),
            &shared,
            |_| {
                made.fetch_add(1, Ordering::Relaxed);
                Flaky {
                    threads: Arc::clone(&threads),
                    ..Flaky::new()
                }
            },
            || started = true,
        )
        .unwrap();
        assert!(started);
        assert_eq!(made.load(Ordering::Relaxed), 8);
        // Eight clients, six measured calls each; calls 3-8 of each, 3 and 6 fail.
        assert_eq!(result.measurement.histogram.len(), 8 * 4);
        assert_eq!(result.measurement.error_count(), 8 * 2);
        assert_eq!(result.measurement.created.len(), 8);
        let names = threads.lock().unwrap().clone();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("load-")), "{names:?}");
        assert_eq!(shared.finished.load(Ordering::Relaxed), 8);
        // Never more threads than clients.
        assert_eq!(load(2, 5, 0, Length::Iterations(1)).thread_count(), 2);
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
            |_| Flaky {
                burn,
                ..Flaky::new()
            },
            || {},
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
            |_| Flaky::new(),
            || {},
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
            |_| Flaky::new(),
            || {},
        )
        .unwrap();
        assert!(!result.measurement.complete);
        assert!(result.measurement.histogram.is_empty());
    }
}
