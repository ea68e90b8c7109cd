//! What the measurements mean: each row summarised, x floor and the ranking, the
//! self-checks and notes, a comparison with a baseline, a sweep's summary, and the exit
//! status a report calls for. Reads the engine's and the rows' results, writes the
//! model; renders nothing.

pub(crate) mod baseline;
pub(crate) mod checks;
pub(crate) mod cost;
pub(crate) mod ranking;
pub(crate) mod shard;
pub(crate) mod summary;
pub(crate) mod sweep;

use crate::model::Report;

/// The exit status this report calls for: 130 after Ctrl-C, 1 when a row's every
/// request failed, 4 when a row is invalid (more than 5% failed, or an open loop that
/// could not keep its schedule), 3 on a regression past `--fail-on`, else 0.
pub(crate) fn exit_code(report: &Report) -> u8 {
    if report.interrupted {
        130
    } else if report
        .results
        .iter()
        .any(|r| r.requests == 0 && r.errors > 0)
    {
        1
    } else if report.results.iter().any(|r| r.invalid.is_some()) {
        4
    } else if report.comparison.as_ref().is_some_and(baseline::regressed) {
        3
    } else {
        0
    }
}
