//! `benchmark cost`'s arithmetic: instructions per request from two counts of a whole
//! process, one with N requests and one with 2N, each point the median of repeats.

use crate::model::InstructionCount;

/// The instructions per request of a process counted at `at_n` with `n` requests and
/// `at_2n` with `2n`: everything but the requests (start-up, set-up, warm-up, shut-down)
/// is the same at both points and cancels out in the difference.
pub(crate) fn two_point(at_n: u64, at_2n: u64, n: u64) -> InstructionCount {
    let per_request = (n > 0 && at_2n > at_n).then(|| (at_2n - at_n) as f64 / n as f64);
    InstructionCount {
        at_n,
        at_2n,
        per_request,
        repeat_range: None,
    }
}

/// [`two_point`] over repeats: `at_n[i]` and `at_2n[i]` are repeat `i`'s counts. Each
/// point is the median of its repeats, so one repeat that did more (a count moves by
/// about 1% from one process to the next on an HTTP/2 server, with the timing of
/// what the process does once a second or so) does not move the figure; the range of
/// the repeats' own figures says how far a single repeat could be off.
pub(crate) fn median_two_point(at_n: &[u64], at_2n: &[u64], n: u64) -> InstructionCount {
    let mut count = two_point(median(at_n), median(at_2n), n);
    if at_n.len() > 1 && at_n.len() == at_2n.len() {
        let each: Vec<f64> = at_n
            .iter()
            .zip(at_2n)
            .filter_map(|(&a, &b)| two_point(a, b, n).per_request)
            .collect();
        count.repeat_range = (each.len() == at_n.len()).then(|| {
            each.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                })
        });
    }
    count
}

/// The middle count (the mean of the two middle ones for an even number); 0 for none.
fn median(counts: &[u64]) -> u64 {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => 0,
        len if len % 2 == 1 => sorted[len / 2],
        len => (sorted[len / 2 - 1] + sorted[len / 2]).div_ceil(2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_up_cancels_and_only_the_requests_remain() {
        // 40 M of start-up, 25 k a request: 40 M + 1,000 x 25 k and 40 M + 2,000 x 25 k.
        let count = two_point(65_000_000, 90_000_000, 1000);
        assert_eq!(count.per_request, Some(25_000.0));
        assert_eq!((count.at_n, count.at_2n), (65_000_000, 90_000_000));
        // A second count no larger than the first says nothing.
        assert_eq!(two_point(90, 90, 10).per_request, None);
        assert_eq!(two_point(100, 90, 10).per_request, None);
        assert_eq!(two_point(10, 20, 0).per_request, None);
    }

    #[test]
    fn one_repeat_that_did_more_does_not_move_the_figure() {
        // 25 k a request; the third repeat's 2N process did 1 M more.
        let count = median_two_point(
            &[65_000_000, 65_000_100, 64_999_900],
            &[90_000_000, 91_000_000, 90_000_100],
            1000,
        );
        assert_eq!((count.at_n, count.at_2n), (65_000_000, 90_000_100));
        assert_eq!(count.per_request, Some(25_000.1));
        let (lo, hi) = count.repeat_range.unwrap();
        assert_eq!((lo, hi), (25_000.0, 25_999.9));
        // One repeat has no range; an even number takes the middle two.
        assert_eq!(median_two_point(&[10], &[30], 10).repeat_range, None);
        assert_eq!(median(&[1, 2, 4, 9]), 3);
        assert_eq!(median(&[]), 0);
    }
}
