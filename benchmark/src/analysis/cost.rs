//! `benchmark cost`'s arithmetic: instructions per request from two counts of a whole
//! process, one with N requests and one with 2N.

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
}
