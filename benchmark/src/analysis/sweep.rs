//! A sweep's summary across its points: a line per row of each point, and the exit
//! status the points call for.

use crate::analysis::exit_code;
use crate::model::{Point, SummaryRow, SweepReport};
use crate::settings::sweep::Sweep;

/// Gathers the points (fewer than the sweep's values when Ctrl-C ended it) and the
/// summary across them.
pub(crate) fn summarise(sweep: Sweep, points: Vec<Point>) -> SweepReport {
    let summary = points
        .iter()
        .flat_map(|point| {
            point.report.results.iter().map(|row| SummaryRow {
                value: point.value,
                key: row.key,
                label: row.label,
                requests: row.requests,
                errors: row.errors,
                throughput_rps: row.throughput_rps,
                p50_us: row.p50_us,
                p99_us: row.p99_us,
                x_floor: row.x_floor,
                round_trips: row.round_trips,
            })
        })
        .collect();
    SweepReport {
        sweep,
        summary,
        points,
    }
}

/// The worst exit status of the points (130 first: the sweep was interrupted).
pub(crate) fn sweep_exit_code(sweep: &SweepReport) -> u8 {
    if sweep.points.iter().any(|p| p.report.interrupted) {
        130
    } else {
        sweep
            .points
            .iter()
            .map(|p| exit_code(&p.report))
            .max()
            .unwrap_or(0)
    }
}
