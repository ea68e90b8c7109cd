//! The loop every protocol, and the floor, goes through.
//!
//! Each client runs on its own OS thread with its own single-threaded tokio runtime, so
//! a request's whole client side stays on one thread (no hand-off between threads that
//! a shared runtime would add), and N clients are N threads for every protocol alike.
//! A client warms up, waits for the others at a barrier, then measures: it times each
//! request, records successes in a histogram and counts failures by kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

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

/// The measured loop: times each request until the length is reached or the run stops.
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

/// Runs `clients` clients at once, each on its own thread and runtime with a probe from
/// `make_probe(index)`, and merges what they measured.
///
/// # Errors
///
/// When a client's runtime or probe cannot be built, or a client thread dies.
pub fn run_clients<F, Fut, P, E>(
    clients: usize,
    warmup: u64,
    length: Length,
    shared: &Shared,
    make_probe: F,
) -> std::io::Result<Measurement>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: Future<Output = Result<P, E>>,
    P: Probe,
    E: std::fmt::Display,
{
    let clients = clients.max(1);
    let barrier = Barrier::new(clients);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|index| {
                let barrier = &barrier;
                let make_probe = &make_probe;
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    let result = match runtime {
                        Ok(runtime) => runtime.block_on(async {
                            let mut probe = match make_probe(index).await {
                                Ok(probe) => probe,
                                Err(e) => {
                                    barrier.wait();
                                    return Err(std::io::Error::other(e.to_string()));
                                }
                            };
                            warm_up(&mut probe, warmup, shared).await;
                            // Everyone measures together, after everyone warmed up.
                            barrier.wait();
                            shared.measuring.fetch_add(1, Ordering::Relaxed);
                            Ok(measure(&mut probe, length, shared).await)
                        }),
                        Err(e) => {
                            // Release the others, who would otherwise wait forever.
                            barrier.wait();
                            Err(e)
                        }
                    };
                    shared.finished.fetch_add(1, Ordering::Relaxed);
                    result
                })
            })
            .collect();
        let mut total = Measurement::default();
        for handle in handles {
            let measurement = handle
                .join()
                .map_err(|_| std::io::Error::other("a benchmark client thread panicked"))??;
            total.merge(measurement);
        }
        Ok(total)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every third call; records how often it was called.
    struct Flaky {
        calls: u64,
    }

    impl Probe for Flaky {
        async fn call(&mut self) -> Result<(), CallError> {
            self.calls += 1;
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

    #[test]
    fn failures_are_counted_and_the_run_completes() {
        let shared = Shared::default();
        let measurement = run_clients(1, 0, Length::Iterations(30), &shared, |_| async {
            Ok::<_, String>(Flaky { calls: 0 })
        })
        .unwrap();
        assert_eq!(measurement.histogram.len(), 20);
        assert_eq!(measurement.errors.get(&ErrorKind::WrongReply), Some(&10));
        assert_eq!(measurement.error_count(), 10);
        assert_eq!(measurement.first_errors[&ErrorKind::WrongReply], "call 3");
        assert!(measurement.complete);
        assert_eq!(shared.completed.load(Ordering::Relaxed), 30);
        assert_eq!(measurement.created, ["made-30"]);
    }

    #[test]
    fn warm_up_is_not_measured() {
        let shared = Shared::default();
        let measurement = run_clients(1, 5, Length::Iterations(9), &shared, |_| async {
            Ok::<_, String>(Flaky { calls: 0 })
        })
        .unwrap();
        // Calls 1-5 warm up (one failure, not counted); calls 6-14 are measured:
        // 6, 9 and 12 fail.
        assert_eq!(measurement.histogram.len() + measurement.error_count(), 9);
        assert_eq!(measurement.error_count(), 3);
    }

    #[test]
    fn clients_run_at_once_and_merge() {
        let shared = Shared::default();
        let measurement = run_clients(4, 2, Length::Iterations(6), &shared, |_| async {
            Ok::<_, String>(Flaky { calls: 0 })
        })
        .unwrap();
        // Each client: calls 3-8 measured, 3 and 6 fail.
        assert_eq!(measurement.histogram.len(), 16);
        assert_eq!(measurement.error_count(), 8);
        assert_eq!(measurement.created.len(), 4);
        assert_eq!(shared.finished.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn a_duration_run_ends_on_time() {
        let shared = Shared::default();
        let started = Instant::now();
        let measurement = run_clients(
            2,
            0,
            Length::Duration(Duration::from_millis(100)),
            &shared,
            |_| async { Ok::<_, String>(Flaky { calls: 0 }) },
        )
        .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(measurement.wall >= Duration::from_millis(100));
        assert!(!measurement.histogram.is_empty());
        assert!(measurement.throughput() > 0.0);
    }

    #[test]
    fn a_stop_request_ends_the_run_early_and_marks_it() {
        let shared = Shared::default();
        shared.stop.store(true, Ordering::Relaxed);
        let measurement = run_clients(1, 0, Length::Iterations(1_000), &shared, |_| async {
            Ok::<_, String>(Flaky { calls: 0 })
        })
        .unwrap();
        assert!(!measurement.complete);
        assert_eq!(measurement.histogram.len(), 0);
    }
}
