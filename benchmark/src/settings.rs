//! What a run measures and how: the settings after the command line is checked.

use std::time::Duration;

use clap::ValueEnum;
use serde::{Serialize, Serializer};

/// A protocol lab the benchmark can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// The socket lab: JSON lines over TCP.
    Socket,
    /// The REST lab: HTTP/1.1 and JSON.
    Rest,
    /// The gRPC lab: HTTP/2 and Protocol Buffers.
    Grpc,
}

impl Protocol {
    /// Every protocol, in report order.
    pub const ALL: [Protocol; 3] = [Protocol::Socket, Protocol::Rest, Protocol::Grpc];

    /// The name a person reads in the report.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Socket => "Socket",
            Protocol::Rest => "REST",
            Protocol::Grpc => "gRPC",
        }
    }

    /// The name scripts read in JSON and CSV.
    pub fn key(self) -> &'static str {
        match self {
            Protocol::Socket => "socket",
            Protocol::Rest => "rest",
            Protocol::Grpc => "grpc",
        }
    }

    /// How to start this protocol's server by hand.
    pub fn start_command(self) -> &'static str {
        match self {
            Protocol::Socket => "cargo run --release -p socket-lab --bin socket-server",
            Protocol::Rest => "cargo run --release -p rest-lab --bin rest-server",
            Protocol::Grpc => "cargo run --release -p grpc-lab --bin grpc-server",
        }
    }
}

/// The operation each request performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    /// Read one user (socket: its echo).
    Get,
    /// List every user after creating `--list-size` of them (socket: its echo).
    List,
    /// Create a new user per request, removed afterwards (socket: its echo).
    Create,
}

/// Whether clients keep their connection between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionPolicy {
    /// One connection per client, kept open for the whole run.
    Reuse,
    /// A fresh TCP connection (and HTTP/2 session, gRPC channel) for every request.
    New,
}

/// When to start a lab server in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpawnPolicy {
    /// Start one when nothing answers at the target address.
    Auto,
    /// Always start one, ignoring the target addresses.
    Always,
    /// Never: a target that does not answer is an error.
    Never,
}

/// Which figure orders the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RankBy {
    /// Mean response time.
    Mean,
    /// Median response time.
    P50,
    /// 99th percentile response time.
    P99,
}

impl RankBy {
    /// How the ranking's heading names it.
    pub fn describe(self) -> &'static str {
        match self {
            RankBy::Mean => "mean response time",
            RankBy::P50 => "median (p50) response time",
            RankBy::P99 => "p99 response time",
        }
    }
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// A Markdown table, for issues and notes.
    Markdown,
    /// One JSON object, for scripts.
    Json,
    /// One CSV row per result, for spreadsheets.
    Csv,
}

/// How long each client's measured loop lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A fixed number of requests per client.
    Iterations(u64),
    /// Requests until the time is up.
    Duration(Duration),
}

/// Everything a run follows, checked.
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    /// The labs to measure, in report order (the floor always runs).
    pub protocols: Vec<Protocol>,
    /// The operation of each request.
    pub workload: Workload,
    /// Users created before a `list` run.
    pub list_size: usize,
    /// Connection policy, the same for every protocol and the floor.
    pub connection: ConnectionPolicy,
    /// Clients running the loop at once, each with its own connection.
    pub concurrency: usize,
    /// Measured requests per client (unless `duration` is set).
    pub iterations: u64,
    /// Unmeasured requests per client before measuring.
    pub warmup: u64,
    /// Measure for this long instead of a fixed count.
    #[serde(rename = "duration_s", serialize_with = "optional_secs")]
    pub duration: Option<Duration>,
    /// Limit on each request.
    #[serde(rename = "timeout_s", serialize_with = "secs")]
    pub timeout: Duration,
    /// When lab servers are started in-process.
    pub spawn: SpawnPolicy,
    /// The ranking's figure.
    pub rank_by: RankBy,
    /// Socket server address.
    pub socket_addr: String,
    /// REST server base URL.
    pub rest_url: String,
    /// gRPC server URL.
    pub grpc_url: String,
}

impl Settings {
    /// The measured loop's length.
    pub fn length(&self) -> Length {
        match self.duration {
            Some(duration) => Length::Duration(duration),
            None => Length::Iterations(self.iterations),
        }
    }
}

fn secs<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

fn optional_secs<S: Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => secs(duration, serializer),
        None => serializer.serialize_none(),
    }
}

/// Reads a duration such as `10s`, `500ms`, `2m` or `1.5s` (a bare number is seconds).
///
/// # Errors
///
/// When the text is not a positive duration in one of those forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 10s, 500ms or 2m"))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(number * scale)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["", "s", "10x", "0s", "-1s", "fast"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
