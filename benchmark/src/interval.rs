//! How far to trust a figure: a distribution-free 95% confidence interval for the
//! median of a few values, one per round.
//!
//! Every headline figure is (or stands for) a median over the rounds the rows took in
//! turns. The interval is the classic one from order statistics: sorted, the values
//! `x(k)` and `x(n+1-k)` bracket the true median with probability
//! `1 - 2 P(Binomial(n, 1/2) < k)`, whatever the distribution of the values. That
//! matters here, where a round's figure on a virtual machine is skewed and now and then
//! far off (a vCPU preempted): a bootstrap of the median over ten or twenty rounds
//! gives a lumpy, too-narrow interval, and a mean's t interval assumes the noise is
//! normal. The order-statistic interval assumes only that rounds are independent
//! draws, which the interleaved turns make as nearly true as a shared machine allows.
//! It needs six values for 95% (with five, the widest interval covers only 93.75%).
//!
//! Throughput is the exception: the figure is every round's requests over every
//! round's seconds (a ratio of sums, which a slow round pulls down as it should), not a
//! median, so its interval is the ratio estimator's (Cochran, *Sampling Techniques*,
//! 6.3): the spread of each round's residual `requests - R seconds`, a t quantile.
//! Bracketing the same figure it stands beside, it always holds it.

/// The confidence every interval aims for.
pub(crate) const CONFIDENCE: f64 = 0.95;

/// Fewest values that give a [`CONFIDENCE`] interval.
pub(crate) const MIN_VALUES: usize = 6;

/// An interval around a median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Interval {
    /// The figure the interval is around: the values' median, or a ratio of sums.
    pub(crate) median: f64,
    /// Lower end.
    pub(crate) lo: f64,
    /// Upper end.
    pub(crate) hi: f64,
    /// The chance the interval holds the true median: at least [`CONFIDENCE`].
    pub(crate) coverage: f64,
}

impl Interval {
    /// True when `value` lies within the interval, ends included.
    pub(crate) fn contains(&self, value: f64) -> bool {
        self.lo <= value && value <= self.hi
    }
}

/// The median of `values` (the mean of the middle two for an even count), or `None`
/// when there are none. Non-finite values are left out.
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted_finite(values);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The 95% interval for the median of `values`, or `None` with fewer than
/// [`MIN_VALUES`] finite values.
pub(crate) fn median_interval(values: &[f64]) -> Option<Interval> {
    let sorted = sorted_finite(values);
    let n = sorted.len();
    if n < MIN_VALUES {
        return None;
    }
    let median = median(&sorted)?;
    // The largest k with 2 P(B < k) <= 1 - CONFIDENCE; P(B < 1) = 2^-n is small enough
    // from n = 6 on, so k is at least 1.
    let tail = 1.0 - CONFIDENCE;
    let mut k = 1;
    while k < n / 2 && 2.0 * binomial_half_cdf(n, k) <= tail {
        k += 1;
    }
    Some(Interval {
        median,
        lo: sorted[k - 1],
        hi: sorted[n - k],
        coverage: 1.0 - 2.0 * binomial_half_cdf(n, k - 1),
    })
}

/// The 95% interval for `sum(y) / sum(x)` over `parts` (`(x, y)`: a round's seconds
/// and its requests), or `None` with fewer than [`MIN_VALUES`] parts or no `x`.
pub(crate) fn ratio_interval(parts: &[(f64, f64)]) -> Option<Interval> {
    let parts: Vec<(f64, f64)> = parts
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = parts.len();
    let (sum_x, sum_y) = parts
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    if n < MIN_VALUES || sum_x <= 0.0 {
        return None;
    }
    let ratio = sum_y / sum_x;
    let mean_x = sum_x / n as f64;
    let residuals: f64 = parts.iter().map(|(x, y)| (y - ratio * x).powi(2)).sum();
    let variance = residuals / (n - 1) as f64 / (n as f64 * mean_x * mean_x);
    let half = t_975(n - 1) * variance.sqrt();
    Some(Interval {
        median: ratio,
        lo: (ratio - half).max(0.0),
        hi: ratio + half,
        coverage: CONFIDENCE,
    })
}

/// Student's t at 97.5% with `df` degrees of freedom (from 5, the fewest
/// [`ratio_interval`] uses; the normal's 1.96 past 30).
fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 26] = [
        2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
        2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0..=4 => f64::INFINITY,
        5..=30 => TABLE[df - 5],
        _ => 1.96,
    }
}

/// `P(Binomial(n, 1/2) <= k)`, summed in log space so a large `n` does not underflow.
fn binomial_half_cdf(n: usize, k: usize) -> f64 {
    let ln_half_n = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0_f64; // ln C(n, 0)
    let mut total = 0.0;
    for i in 0..=k.min(n) {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        total += (ln_choose + ln_half_n).exp();
    }
    total.min(1.0)
}

fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_tails_by_hand() {
        // n = 6: P(B <= 0) = 1/64.
        assert!((binomial_half_cdf(6, 0) - 1.0 / 64.0).abs() < 1e-12);
        // n = 10: P(B <= 1) = 11/1024, P(B <= 2) = 56/1024.
        assert!((binomial_half_cdf(10, 1) - 11.0 / 1024.0).abs() < 1e-12);
        assert!((binomial_half_cdf(10, 2) - 56.0 / 1024.0).abs() < 1e-12);
        // Large n neither underflows nor exceeds 1.
        assert!((binomial_half_cdf(5000, 5000) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn order_statistics_from_the_table() {
        // n = 10: k = 2 (2 * 11/1024 = 2.1% <= 5%, 2 * 56/1024 = 10.9% is not):
        // the 2nd and 9th values, coverage 1 - 22/1024 = 97.85%.
        let values = [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 5.0, 10.0];
        let interval = median_interval(&values).unwrap();
        assert_eq!((interval.lo, interval.hi), (2.0, 9.0));
        assert_eq!(interval.median, 5.5);
        assert!((interval.coverage - (1.0 - 22.0 / 1024.0)).abs() < 1e-12);
        // n = 6: only the extremes, coverage 1 - 2/64.
        let six = median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        assert_eq!((six.lo, six.hi), (1.0, 6.0));
        assert!((six.coverage - 0.96875).abs() < 1e-12);
        // n = 20: k = 6 (P(B <= 5) = 0.0207), the 6th and 15th.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        let interval = median_interval(&twenty).unwrap();
        assert_eq!((interval.lo, interval.hi), (6.0, 15.0));
        assert!(interval.coverage >= CONFIDENCE);
    }

    #[test]
    fn too_few_values_give_no_interval() {
        assert_eq!(median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0]), None);
        assert_eq!(
            median_interval(&[1.0, 2.0, 3.0, 4.0, 5.0, f64::NAN]),
            None,
            "a NaN is not a value"
        );
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }

    #[test]
    fn a_ratio_of_sums_is_bracketed_by_its_own_interval() {
        // Ten rounds of 0.1 s at 1,000 requests each, then one stalled round: 1,000
        // requests in 0.5 s. The figure is 11,000 / 1.5 s, not the median round's
        // 10,000 req/s, and its interval holds it.
        let mut rounds = vec![(0.1, 1000.0); 10];
        rounds.push((0.5, 1000.0));
        let interval = ratio_interval(&rounds).unwrap();
        assert!((interval.median - 11_000.0 / 1.5).abs() < 1e-9);
        assert!(interval.contains(interval.median));
        assert!(interval.hi > interval.lo, "{interval:?}");
        // Steady rounds: a narrow interval around the rate.
        let steady: Vec<(f64, f64)> = (0..10)
            .map(|i| (0.1, 1000.0 + f64::from(i % 3) - 1.0))
            .collect();
        let narrow = ratio_interval(&steady).unwrap();
        assert!(
            narrow.contains(10_000.0) && narrow.hi - narrow.lo < 50.0,
            "{narrow:?}"
        );
        // Too few rounds, or no time, give none.
        assert_eq!(ratio_interval(&[(0.1, 1000.0); 5]), None);
        assert_eq!(ratio_interval(&[(0.0, 0.0); 8]), None);
    }

    #[test]
    fn one_wild_round_does_not_move_the_interval_far() {
        let mut values = vec![2.0, 2.1, 1.9, 2.0, 2.05, 1.95, 2.0, 2.1, 1.9, 2.0];
        let calm = median_interval(&values).unwrap();
        values[3] = 50.0;
        let wild = median_interval(&values).unwrap();
        assert!(wild.hi <= 2.1 && calm.hi <= 2.1, "{calm:?} {wild:?}");
        assert!(wild.contains(2.0) && !wild.contains(50.0));
        assert!(calm.hi - calm.lo < 0.2 + 1e-9, "{calm:?}");
    }
}
