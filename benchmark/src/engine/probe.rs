//! One request of some protocol, as the engine sees it: the [`Probe`] a row gives each
//! client, its errors by kind, and the state every client of a measurement shares.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

/// What kind of failure a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ErrorKind {
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
    /// Every kind.
    pub(crate) const ALL: [ErrorKind; 5] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Transport,
        ErrorKind::Status,
        ErrorKind::WrongReply,
    ];

    /// The kind a report names `key`.
    pub(crate) fn from_key(key: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The name used in reports.
    pub(crate) fn key(self) -> &'static str {
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
pub(crate) struct CallError {
    /// The kind, for counting.
    pub kind: ErrorKind,
    /// The message, for the report (the first of each kind is kept).
    pub message: String,
}

impl CallError {
    /// A failure of `kind` described by `message`.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
        }
    }
}

/// One request of some protocol, checked. Implemented by each protocol's probe and by
/// test fakes.
pub(crate) trait Probe {
    /// Sends one request and checks the reply.
    fn call(&mut self) -> impl Future<Output = Result<(), CallError>>;

    /// `--workload stream`: how long after it was sent the last successful call's first
    /// item arrived, where the client can tell.
    fn first_item(&self) -> Option<Duration> {
        None
    }
}

/// State every client of one measurement shares.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Set by Ctrl-C: clients stop after the request in hand. Shared by every
    /// measurement of a run.
    pub stop: Arc<AtomicBool>,
    /// Measured requests so far, for progress.
    pub completed: AtomicU64,
    /// Clients that have finished.
    pub finished: AtomicUsize,
    /// Clients that have warmed up and started measuring.
    pub measuring: AtomicUsize,
    /// Rounds measured so far, and how many there are: a row's progress when rows take
    /// turns (its wall time includes the other rows' turns).
    pub rounds_done: AtomicU32,
    /// Rounds in all.
    pub rounds: AtomicU32,
}

impl Shared {
    /// Progress counters for one measurement, stopping when `stop` is set.
    pub(crate) fn new(stop: Arc<AtomicBool>) -> Self {
        Shared {
            stop,
            ..Shared::default()
        }
    }

    /// True once the run was asked to stop.
    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
