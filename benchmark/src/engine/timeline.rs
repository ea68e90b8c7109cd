//! What a load thread keeps beside each client's full histogram: the current round's
//! latencies (for pairing rounds with the floor's, and for the run-to-run noise a
//! baseline comparison needs) and, in a `--duration` run, the latencies of each slot
//! of time, so a report can show throughput and percentiles over the run.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::stats::{new_round_histogram, per_second, percentile_us, record};

/// At most this many slots over a run: one a second up to this many seconds, wider
/// ones past it (a slot's histogram is some tens of kilobytes).
pub(crate) const MAX_SLOTS: usize = 120;

/// Latencies by the moment their request finished, in equal slots of the measured
/// time (the rounds' measured spans laid end to end; the pauses while other rows take
/// their turns are left out).
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    width: Duration,
    length: Duration,
    slots: Vec<Histogram<u64>>,
}

impl Timeline {
    /// An empty timeline over `length` of measured time: one-second slots, wider when
    /// that would make more than [`MAX_SLOTS`].
    pub(crate) fn new(length: Duration) -> Self {
        let seconds = length.as_secs_f64().ceil().max(1.0);
        let width = Duration::from_secs((seconds / MAX_SLOTS as f64).ceil().max(1.0) as u64);
        let count = (length.as_nanos().div_ceil(width.as_nanos())).max(1);
        let count = usize::try_from(count).unwrap_or(MAX_SLOTS).min(MAX_SLOTS);
        Timeline {
            width,
            length,
            slots: (0..count).map(|_| new_round_histogram()).collect(),
        }
    }

    /// Records a latency of a request that finished `at` into the measured time; one
    /// that finished past the end counts in the last slot.
    pub(crate) fn record(&mut self, at: Duration, nanos: u64) {
        let index = (at.as_nanos() / self.width.as_nanos()).min(self.slots.len() as u128 - 1);
        if let Some(slot) = self.slots.get_mut(index as usize) {
            record(slot, nanos);
        }
    }

    /// Adds another thread's timeline of the same run.
    pub(crate) fn merge(&mut self, other: &Timeline) {
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            let _ = mine.add(theirs);
        }
    }

    /// Each slot's figures, in order.
    pub(crate) fn slots(&self) -> Vec<Slot> {
        let width = self.width.as_secs_f64();
        self.slots
            .iter()
            .enumerate()
            .map(|(i, histogram)| {
                let start = width * i as f64;
                let span = (self.length.as_secs_f64() - start).clamp(0.0, width);
                Slot {
                    start_s: start,
                    span_s: span,
                    requests: histogram.len(),
                    throughput_rps: per_second(histogram.len(), span),
                    p50_us: percentile_us(histogram, 0.5),
                    p99_us: percentile_us(histogram, 0.99),
                }
            })
            .collect()
    }
}

/// One slot of a run's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Slot {
    /// Where the slot starts, seconds into the measured time.
    pub start_s: f64,
    /// How long it is, seconds (the last may be shorter).
    pub span_s: f64,
    /// Successful requests that finished in it.
    pub requests: u64,
    /// Those per second of the slot.
    pub throughput_rps: f64,
    /// Their median latency, microseconds (two significant digits: within 1%).
    pub p50_us: Option<f64>,
    /// Their 99th percentile, microseconds (within 1%).
    pub p99_us: Option<f64>,
}

/// A load thread's running tally for the round in progress.
#[derive(Debug)]
pub(crate) struct Tally {
    /// This round's latencies on this thread.
    pub round: Histogram<u64>,
    /// The run's timeline on this thread, in a `--duration` run.
    pub timeline: Option<Timeline>,
    started: Instant,
    offset: Duration,
}

impl Tally {
    /// A tally with a timeline over `length` when there is one.
    pub(crate) fn new(length: Option<Duration>) -> Self {
        Tally {
            round: new_round_histogram(),
            timeline: length.map(Timeline::new),
            started: Instant::now(),
            offset: Duration::ZERO,
        }
    }

    /// Starts a round now, `offset` into the measured time (the earlier rounds' spans).
    pub(crate) fn start_round(&mut self, offset: Duration) {
        self.round.reset();
        self.started = Instant::now();
        self.offset = offset;
    }

    /// Records a successful request's latency, which finished at `finished`.
    pub(crate) fn record(&mut self, finished: Instant, nanos: u64) {
        record(&mut self.round, nanos);
        if let Some(timeline) = &mut self.timeline {
            let at = self.offset + finished.saturating_duration_since(self.started);
            timeline.record(at, nanos);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_seconds_up_to_the_limit_then_wider() {
        let short = Timeline::new(Duration::from_millis(2500));
        assert_eq!(short.width, Duration::from_secs(1));
        assert_eq!(short.slots.len(), 3);
        let long = Timeline::new(Duration::from_secs(600));
        assert_eq!(long.width, Duration::from_secs(5));
        assert_eq!(long.slots.len(), 120);
    }

    #[test]
    fn a_slot_counts_what_finished_in_it_over_its_own_span() {
        let mut timeline = Timeline::new(Duration::from_millis(2500));
        for _ in 0..100 {
            timeline.record(Duration::from_millis(200), 1_000);
        }
        timeline.record(Duration::from_millis(1200), 5_000);
        // Past the end: the last slot.
        timeline.record(Duration::from_secs(9), 40_000);
        timeline.record(Duration::from_millis(2100), 40_000);
        let mut other = Timeline::new(Duration::from_millis(2500));
        other.record(Duration::from_millis(1500), 5_000);
        timeline.merge(&other);
        let slots = timeline.slots();
        assert_eq!(
            slots.iter().map(|s| s.requests).collect::<Vec<_>>(),
            [100, 2, 2]
        );
        assert_eq!(slots[0].throughput_rps, 100.0);
        // The last slot is half a second long.
        assert_eq!(slots[2].throughput_rps, 4.0);
        // Two significant digits: within 1%.
        let near =
            |value: Option<f64>, want: f64| value.is_some_and(|v| (v / want - 1.0).abs() < 0.01);
        assert!(near(slots[0].p50_us, 1.0), "{:?}", slots[0].p50_us);
        assert!(near(slots[0].p99_us, 1.0), "{:?}", slots[0].p99_us);
        assert!(near(slots[1].p50_us, 5.0), "{:?}", slots[1].p50_us);
        assert_eq!((slots[2].start_s, slots[2].span_s), (2.0, 0.5));
    }

    #[test]
    fn a_slot_with_fewer_than_100_samples_has_no_p99() {
        // Five requests, one slow: their "p99" would be the slow one, their maximum.
        let mut timeline = Timeline::new(Duration::from_secs(2));
        for nanos in [1_000, 1_000, 1_000, 1_000, 50_000] {
            timeline.record(Duration::from_millis(100), nanos);
        }
        for _ in 0..99 {
            timeline.record(Duration::from_millis(1100), 2_000);
        }
        let slots = timeline.slots();
        assert_eq!((slots[0].requests, slots[1].requests), (5, 99));
        assert_eq!(slots[0].p99_us, None);
        assert_eq!(slots[1].p99_us, None);
        assert!(slots[0].p50_us.is_some());
        timeline.record(Duration::from_millis(1200), 2_000);
        assert!(timeline.slots()[1].p99_us.is_some());
    }

    #[test]
    fn a_tally_places_each_round_after_the_last() {
        let mut tally = Tally::new(Some(Duration::from_secs(4)));
        tally.start_round(Duration::from_secs(2));
        tally.record(Instant::now(), 3_000);
        assert_eq!(tally.round.len(), 1);
        let slots = tally.timeline.as_ref().map(Timeline::slots).unwrap();
        assert_eq!(slots[2].requests, 1);
        tally.start_round(Duration::from_secs(3));
        assert!(tally.round.is_empty());
    }
}
