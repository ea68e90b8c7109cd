//! Statistics over recorded latencies: pure functions, tested against hand-worked
//! samples.
//!
//! Latencies are recorded in an `hdrhistogram` in nanoseconds with 3 significant figures:
//! each value is kept within 0.1% (13.6 us stays 13.6 us, it is not rounded to 14 us).
//! The rules:
//!
//! - **mean**: the sum of the samples over their count;
//! - **stddev**: the sample standard deviation (divides by n-1); none for fewer than two;
//! - **percentile q**: nearest rank, the smallest recorded value with at least `q` of
//!   the samples at or below it (rank `ceil(q * n)`, at least 1);
//! - **x floor**: with one client, a row's p50 over the floor's; with more, the
//!   floor's throughput over the row's; each round's ratio to the floor's same round,
//!   and the median of those (the whole-run ratio when rounds do not pair);
//! - **too few samples**: percentile q needs `1 / (1 - q)` samples, or it is blank;
//! - **ranking**: each result against the fastest, `(value / fastest - 1) * 100`% slower.

use hdrhistogram::Histogram;

/// Largest latency the histogram holds: one hour, far past any timeout.
const HIGHEST_NS: u64 = 3_600_000_000_000;

/// An empty latency histogram with the benchmark's precision.
///
/// # Panics
///
/// Never: the bounds are constants within what hdrhistogram accepts (a unit test
/// builds one).
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("constant histogram bounds are valid")
}

/// A histogram for one round's median: two significant digits (1%), small enough to
/// clear between rounds without costing the round anything.
pub(crate) fn new_round_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 2).expect("constant histogram bounds are valid")
}

/// Records one latency in nanoseconds, clamped into the histogram's range.
pub(crate) fn record(histogram: &mut Histogram<u64>, nanos: u64) {
    let _ = histogram.record(nanos.clamp(1, HIGHEST_NS));
}

/// The summary of one set of latencies, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    /// How many latencies.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (n-1); `None` below two samples.
    pub stddev: Option<f64>,
    /// Smallest.
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest.
    pub max: u64,
}

/// [`percentile`] in microseconds, as the report and the JSON give latencies.
pub(crate) fn percentile_us(histogram: &Histogram<u64>, q: f64) -> Option<f64> {
    percentile(histogram, q).map(|nanos| nanos as f64 / 1e3)
}

/// `count` over `secs` seconds, per second; 0 over no time.
pub(crate) fn per_second(count: u64, secs: f64) -> f64 {
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

impl Stats {
    /// Summarises a histogram; `None` when it is empty.
    pub(crate) fn from_histogram(histogram: &Histogram<u64>) -> Option<Stats> {
        let count = histogram.len();
        if count == 0 {
            return None;
        }
        // Each bucket stands for the values it holds by its median equivalent, as
        // hdrhistogram's own mean does.
        let mut sum = 0.0;
        for bucket in histogram.iter_recorded() {
            let value = histogram.median_equivalent(bucket.value_iterated_to()) as f64;
            sum += value * bucket.count_at_value() as f64;
        }
        let mean = sum / count as f64;
        let stddev = (count >= 2).then(|| {
            let mut squares = 0.0;
            for bucket in histogram.iter_recorded() {
                let value = histogram.median_equivalent(bucket.value_iterated_to()) as f64;
                squares += (value - mean).powi(2) * bucket.count_at_value() as f64;
            }
            (squares / (count - 1) as f64).sqrt()
        });
        Some(Stats {
            count,
            mean,
            stddev,
            min: histogram.min(),
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        })
    }
}

/// Samples a percentile needs before it means anything: `1 / (1 - q)`, so p90 needs
/// 10, p99 100 and p99.9 1,000 (with fewer, it is just the maximum).
pub(crate) fn samples_needed(q: f64) -> u64 {
    if q <= 0.5 {
        1
    } else {
        (1.0 / (1.0 - q)).round() as u64
    }
}

/// Percentile `q` of `histogram` under the one rule every figure follows: nearest rank,
/// and none when the histogram holds fewer than [`samples_needed`]`(q)` samples (a p99
/// of 5 requests would be their maximum). The table, the rounds and the timeline all
/// ask here.
pub(crate) fn percentile(histogram: &Histogram<u64>, q: f64) -> Option<u64> {
    (!histogram.is_empty() && histogram.len() >= samples_needed(q))
        .then(|| histogram.value_at_quantile(q))
}

/// How much slower `value` is than `fastest`, in percent.
pub(crate) fn percent_slower(value: f64, fastest: f64) -> f64 {
    if fastest <= 0.0 {
        return 0.0;
    }
    (value / fastest - 1.0) * 100.0
}

/// One place in a ranking.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ranked<K> {
    /// 1 for the fastest.
    pub position: usize,
    /// What was ranked.
    pub key: K,
    /// The figure it was ranked by, in nanoseconds.
    pub value: f64,
    /// How much slower than the fastest, in percent (0 for the fastest).
    pub percent_slower: f64,
}

/// Orders `entries` from fastest to slowest and rates each against the fastest.
pub(crate) fn rank<K: Clone>(entries: &[(K, f64)]) -> Vec<Ranked<K>> {
    let mut sorted: Vec<_> = entries.to_vec();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
    let fastest = sorted.first().map(|e| e.1).unwrap_or(0.0);
    sorted
        .into_iter()
        .enumerate()
        .map(|(i, (key, value))| Ranked {
            position: i + 1,
            key,
            value,
            percent_slower: percent_slower(value, fastest),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram_of(samples: &[u64]) -> Histogram<u64> {
        let mut histogram = new_histogram();
        for &sample in samples {
            record(&mut histogram, sample);
        }
        histogram
    }

    #[test]
    fn hand_worked_five_samples() {
        // Values under 2048 are exact at 3 significant figures.
        let stats = Stats::from_histogram(&histogram_of(&[300, 100, 1000, 200, 400])).unwrap();
        assert_eq!(stats.count, 5);
        // (100 + 200 + 300 + 400 + 1000) / 5
        assert_eq!(stats.mean, 400.0);
        // squares of deviations: 90000 + 40000 + 10000 + 0 + 360000 = 500000; / (5 - 1)
        let stddev = stats.stddev.unwrap();
        assert!((stddev - 125_000f64.sqrt()).abs() < 1e-9, "{stddev}");
        assert_eq!((stats.min, stats.max), (100, 1000));
        // Nearest rank: p50 is rank ceil(2.5) = 3, p90 rank ceil(4.5) = 5.
        assert_eq!(stats.p50, 300);
        assert_eq!(stats.p90, 1000);
        assert_eq!(stats.p99, 1000);
        assert_eq!(stats.p999, 1000);
    }

    #[test]
    fn percentiles_by_nearest_rank_over_a_hundred() {
        let samples: Vec<u64> = (1..=100).collect();
        let stats = Stats::from_histogram(&histogram_of(&samples)).unwrap();
        assert_eq!(stats.p50, 50);
        assert_eq!(stats.p90, 90);
        assert_eq!(stats.p99, 99);
        assert_eq!(stats.p999, 100);
        assert_eq!(stats.mean, 50.5);
    }

    #[test]
    fn one_sample_has_no_stddev_and_none_has_no_stats() {
        let stats = Stats::from_histogram(&histogram_of(&[700])).unwrap();
        assert_eq!(stats.stddev, None);
        assert_eq!((stats.mean, stats.p50, stats.p99), (700.0, 700, 700));
        assert!(Stats::from_histogram(&new_histogram()).is_none());
    }

    #[test]
    fn large_values_keep_three_significant_figures() {
        let stats = Stats::from_histogram(&histogram_of(&[13_600, 1_270_000])).unwrap();
        assert!((stats.min as f64 - 13_600.0).abs() / 13_600.0 < 0.001);
        assert!((stats.max as f64 - 1_270_000.0).abs() / 1_270_000.0 < 0.001);
    }

    #[test]
    fn a_percentile_needs_enough_samples() {
        assert_eq!(
            [0.5, 0.9, 0.99, 0.999].map(samples_needed),
            [1, 10, 100, 1000]
        );
        let fifty: Vec<u64> = (1..=50).collect();
        let histogram = histogram_of(&fifty);
        assert_eq!(percentile(&histogram, 0.5), Some(25));
        assert_eq!(percentile(&histogram, 0.9), Some(45));
        assert_eq!(percentile(&histogram, 0.99), None);
        let thousand: Vec<u64> = (1..=1000).collect();
        let histogram = histogram_of(&thousand);
        assert_eq!(percentile(&histogram, 0.999), Some(999));
        assert_eq!(percentile(&new_histogram(), 0.5), None);
    }

    #[test]
    fn ranking_rates_each_against_the_fastest() {
        // The original lab's example: gRPC 1.27 ms fastest, Socket 2.10 ms.
        let ranked = rank(&[
            ("Socket", 2_100_000.0),
            ("gRPC", 1_270_000.0),
            ("REST", 2_540_000.0),
        ]);
        let order: Vec<_> = ranked.iter().map(|r| r.key).collect();
        assert_eq!(order, ["gRPC", "Socket", "REST"]);
        assert_eq!(ranked[0].position, 1);
        assert_eq!(ranked[0].percent_slower, 0.0);
        // 2.10 / 1.27 - 1 = 65.35...%
        assert!(
            (ranked[1].percent_slower - 65.354).abs() < 0.01,
            "{}",
            ranked[1].percent_slower
        );
        // 2.54 / 1.27 - 1 = 100%
        assert!((ranked[2].percent_slower - 100.0).abs() < 1e-9);
        assert_eq!(percent_slower(150.0, 100.0), 50.0);
    }
}
