//! A sharded run's rows, both ways: what one shard measured becomes the raw part of its
//! JSON report ([`ShardRow`]), and the parts of every shard become one measurement
//! again ([`combine`]), by adding histograms and counts (percentiles never average)
//! and taking each round over the union of the shards' spans.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};

use crate::adapters::RowInfo;
use crate::analysis::summary::Measured;
use crate::engine::probe::ErrorKind;
use crate::engine::{LoadResult, Measurement, Round};
use crate::model::{ShardRound, ShardRow};
use crate::stats::{new_histogram, per_second, percentile_us};

/// Why a shard's part cannot be read back.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShardError {
    /// A histogram is not base64 of HdrHistogram's encoding.
    #[error("row {row}: a histogram cannot be read: {reason}")]
    Histogram {
        /// The row.
        row: String,
        /// What went wrong.
        reason: String,
    },
    /// Shards measured different rows or rounds.
    #[error("row {0}: the shards did not measure it alike ({1})")]
    Mismatch(String, String),
}

/// One moment on both clocks, to turn the engine's `Instant`s into Unix seconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    instant: Instant,
    unix_s: f64,
}

impl Clock {
    /// Now.
    pub(crate) fn now() -> Self {
        let unix_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Clock {
            instant: Instant::now(),
            unix_s,
        }
    }

    /// This moment in Unix seconds.
    pub(crate) fn unix_s(&self) -> f64 {
        self.unix_s
    }

    /// `at` in Unix seconds.
    pub(crate) fn unix(&self, at: Instant) -> f64 {
        if at >= self.instant {
            self.unix_s + (at - self.instant).as_secs_f64()
        } else {
            self.unix_s - (self.instant - at).as_secs_f64()
        }
    }
}

/// `histogram` in HdrHistogram's V2 DEFLATE encoding, base64.
pub(crate) fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing to a Vec fails only on a histogram HdrHistogram cannot encode, which
    // ours (fixed bounds) never are; an empty string then reads back as an error.
    if V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .is_err()
    {
        return String::new();
    }
    STANDARD.encode(bytes)
}

/// A histogram [`encode`] made.
///
/// # Errors
///
/// When `text` is not one.
pub(crate) fn decode(row: &str, text: &str) -> Result<Histogram<u64>, ShardError> {
    let fail = |reason: String| ShardError::Histogram {
        row: row.to_owned(),
        reason,
    };
    let bytes = STANDARD.decode(text).map_err(|e| fail(e.to_string()))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| fail(format!("{e:?}")))
}

/// The raw part of `measured` a shard's report carries.
pub(crate) fn part(
    measured: &Measured,
    clock: &Clock,
    server_cpu_from: Option<String>,
) -> ShardRow {
    let load = &measured.load;
    let m = &load.measurement;
    ShardRow {
        key: measured.info.key.to_owned(),
        histogram: encode(&m.histogram),
        service: encode(&m.service),
        first_item: encode(&m.first_item),
        rounds: load
            .round_latencies
            .iter()
            .map(|(histogram, (start, end))| ShardRound {
                start_unix_s: clock.unix(*start),
                end_unix_s: clock.unix(*end),
                histogram: encode(histogram),
            })
            .collect(),
        errors: m
            .errors
            .iter()
            .map(|(kind, n)| (kind.key().to_owned(), *n))
            .collect(),
        first_errors: m
            .first_errors
            .iter()
            .map(|(kind, text)| (kind.key().to_owned(), text.clone()))
            .collect(),
        client_cpu_s: load.client_cpu.map(|d| d.as_secs_f64()),
        load_cpus: measured.load_cpus,
        server_cpu_s: measured.server_cpu.map(|d| d.as_secs_f64()),
        server_cpu_from,
        bytes: measured.bytes,
        connections_opened: measured.connections_opened,
        users_left: measured.users_left,
        items: measured.items,
        late: m.late,
        max_late_us: m.max_late.as_secs_f64() * 1e6,
        complete: m.complete,
    }
}

/// Adds `histogram` into `total`.
fn add(total: &mut Option<Histogram<u64>>, histogram: Histogram<u64>) {
    match total {
        Some(total) => {
            // Every shard's histograms have the same bounds (the same build).
            let _ = total.add(&histogram);
        }
        None => *total = Some(histogram),
    }
}

/// The shards' parts of one row (`parts`, one per shard) as one measurement of the
/// whole run, for the row `info` that did `operation`: histograms and counts added;
/// each round's span the union of the shards' spans, so its throughput is all the
/// shards' requests over the time they took together; client CPU added; server CPU
/// the mean of the shards' readings, since each read the one server over the same
/// rounds (so each already holds every shard's requests).
///
/// # Errors
///
/// When a histogram cannot be read or the shards ran different numbers of rounds.
pub(crate) fn combine(
    info: &'static RowInfo,
    operation: String,
    server_id: Option<String>,
    parts: &[&ShardRow],
) -> Result<Measured, ShardError> {
    let key = info.key;
    let rounds = parts.first().map_or(0, |p| p.rounds.len());
    if let Some(odd) = parts.iter().find(|p| p.rounds.len() != rounds) {
        return Err(ShardError::Mismatch(
            key.to_owned(),
            format!("{} rounds against {rounds}", odd.rounds.len()),
        ));
    }
    let mut m = Measurement::default();
    let mut histogram = None;
    let mut service = None;
    let mut first_item = None;
    let mut round_totals: Vec<Option<Histogram<u64>>> = vec![None; rounds];
    let mut spans: Vec<(f64, f64)> = vec![(f64::INFINITY, f64::NEG_INFINITY); rounds];
    let mut client_cpu = Some(Duration::ZERO);
    let mut server_cpu = Vec::new();
    let mut bytes = Some((0, 0));
    let mut connections = Some(0);
    let mut users_left = (0, 0);
    let mut load_cpus = 0;
    for part in parts {
        add(&mut histogram, decode(key, &part.histogram)?);
        add(&mut service, decode(key, &part.service)?);
        add(&mut first_item, decode(key, &part.first_item)?);
        for (i, round) in part.rounds.iter().enumerate() {
            add(&mut round_totals[i], decode(key, &round.histogram)?);
            spans[i].0 = spans[i].0.min(round.start_unix_s);
            spans[i].1 = spans[i].1.max(round.end_unix_s);
        }
        for (kind, n) in &part.errors {
            if let Some(kind) = ErrorKind::from_key(kind) {
                *m.errors.entry(kind).or_insert(0) += n;
            }
        }
        for (kind, text) in &part.first_errors {
            if let Some(kind) = ErrorKind::from_key(kind) {
                m.first_errors.entry(kind).or_insert_with(|| text.clone());
            }
        }
        client_cpu = client_cpu
            .zip(part.client_cpu_s)
            .map(|(total, s)| total.saturating_add(seconds_of(s)));
        server_cpu.extend(part.server_cpu_s);
        bytes = bytes.zip(part.bytes).map(|(a, b)| (a.0 + b.0, a.1 + b.1));
        connections = connections.zip(part.connections_opened).map(|(a, b)| a + b);
        users_left = (
            users_left.0 + part.users_left.0,
            users_left.1 + part.users_left.1,
        );
        load_cpus += part.load_cpus;
        m.late += part.late;
        m.max_late = m.max_late.max(seconds_of(part.max_late_us / 1e6));
        m.complete &= part.complete;
    }
    m.histogram = histogram.unwrap_or_else(new_histogram);
    m.service = service.unwrap_or_else(new_histogram);
    m.first_item = first_item.unwrap_or_else(new_histogram);
    let seconds = |(start, end): (f64, f64)| (end - start).max(0.0);
    m.wall = seconds_of(spans.iter().copied().map(seconds).sum());
    let per_round = round_totals
        .iter()
        .zip(&spans)
        .map(|(histogram, span)| {
            let histogram = histogram.clone().unwrap_or_else(new_histogram);
            Round {
                throughput_rps: per_second(histogram.len(), seconds(*span)),
                seconds: seconds(*span),
                p50_us: percentile_us(&histogram, 0.5),
                p99_us: percentile_us(&histogram, 0.99),
            }
        })
        .collect();
    let server_cpu = (server_cpu.len() == parts.len() && !server_cpu.is_empty())
        .then(|| seconds_of(server_cpu.iter().sum::<f64>() / server_cpu.len() as f64));
    Ok(Measured {
        info,
        operation,
        server_id,
        load: LoadResult {
            measurement: m,
            client_cpu,
            rounds: u32::try_from(rounds).unwrap_or(u32::MAX),
            per_round,
            round_latencies: Vec::new(),
            timeline: None,
        },
        load_cpus: load_cpus.max(1),
        server_cpu,
        bytes,
        users_left,
        connections_opened: connections,
        items: parts.first().and_then(|p| p.items),
        set_up: None,
    })
}

/// `s` seconds from a shard's file: none below zero, and none past what a `Duration`
/// holds (a file edited by hand says what it likes).
fn seconds_of(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

/// Latest start less earliest start of the shards' first rounds, seconds: how far
/// apart the shards began measuring.
pub(crate) fn skew(parts: &[&ShardRow]) -> f64 {
    let starts: Vec<f64> = parts
        .iter()
        .filter_map(|p| p.rounds.first().map(|r| r.start_unix_s))
        .collect();
    let (lo, hi) = starts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(*s), hi.max(*s))
        });
    if starts.is_empty() { 0.0 } else { hi - lo }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::stats::record;

    /// Errors by kind as the report names them.
    fn error_counts(m: &Measurement) -> BTreeMap<&'static str, u64> {
        m.errors.iter().map(|(k, n)| (k.key(), *n)).collect()
    }

    fn histogram_of(values: &[u64]) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values {
            record(&mut h, *v);
        }
        h
    }

    fn shard_row(values: &[u64], start: f64, errors: u64) -> ShardRow {
        let h = histogram_of(values);
        ShardRow {
            key: "floor".into(),
            histogram: encode(&h),
            service: encode(&new_histogram()),
            first_item: encode(&new_histogram()),
            rounds: vec![ShardRound {
                start_unix_s: start,
                end_unix_s: start + 1.0,
                histogram: encode(&h),
            }],
            errors: BTreeMap::from([("timeout".to_owned(), errors)]),
            first_errors: BTreeMap::new(),
            client_cpu_s: Some(0.5),
            load_cpus: 1,
            server_cpu_s: Some(0.25),
            server_cpu_from: None,
            bytes: Some((100, 200)),
            connections_opened: Some(1),
            users_left: (0, 0),
            items: None,
            late: 0,
            max_late_us: 0.0,
            complete: true,
        }
    }

    #[test]
    fn a_histogram_survives_its_encoding() {
        let h = histogram_of(&[1_000, 2_000, 3_000, 1_000_000]);
        let back = decode("floor", &encode(&h)).unwrap();
        assert_eq!(back, h);
        assert!(decode("floor", "not base64!").is_err());
    }

    #[test]
    fn shards_add_up_as_one_measurement() {
        let info = crate::run::row::all()
            .into_iter()
            .find(|row| row.info().key == "floor")
            .unwrap()
            .info();
        let (a, b) = (
            shard_row(&[10_000, 20_000, 30_000], 100.0, 1),
            shard_row(&[40_000, 50_000], 100.5, 2),
        );
        let merged = combine(info, "echo".into(), None, &[&a, &b]).unwrap();
        let m = &merged.load.measurement;
        // The added histogram is the one of every value together.
        assert_eq!(
            m.histogram,
            histogram_of(&[10_000, 20_000, 30_000, 40_000, 50_000])
        );
        assert_eq!(error_counts(m), BTreeMap::from([("timeout", 3)]));
        // One round over both shards' spans: 5 requests in 1.5 s.
        let round = merged.load.per_round[0];
        assert!((round.throughput_rps - 5.0 / 1.5).abs() < 1e-9, "{round:?}");
        assert_eq!(round.p50_us, percentile_us(&m.histogram, 0.5));
        assert_eq!(merged.load.client_cpu, Some(Duration::from_secs(1)));
        assert_eq!(merged.server_cpu, Some(Duration::from_millis(250)));
        assert_eq!(merged.bytes, Some((200, 400)));
        assert!((skew(&[&a, &b]) - 0.5).abs() < 1e-9);
        let mut short = b.clone();
        short.rounds.clear();
        assert!(combine(info, "echo".into(), None, &[&a, &short]).is_err());
    }
}
