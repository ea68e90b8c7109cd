//! A sweep's summary across its points as a grid, for people or for CSV.

use crate::model::SweepReport;
use crate::render::grid::Grid;
use crate::units::format_time;

/// The summary as a grid: for people (labels, units) or, `raw`, for CSV (keys
/// and bare numbers, as the JSON names them).
pub(crate) fn grid(sweep: &SweepReport, raw: bool) -> Grid {
    let mut headers = if raw {
        [
            "key",
            "requests",
            "errors",
            "throughput_rps",
            "p50_us",
            "p99_us",
            "x_floor",
        ]
        .to_vec()
    } else {
        [
            "Row",
            "Requests",
            "Errors",
            "Throughput",
            "p50",
            "p99",
            "x floor",
        ]
        .to_vec()
    };
    // Round trips only where a link gave the rows some.
    let round_trips = sweep.summary.iter().any(|r| r.round_trips.is_some());
    if round_trips {
        headers.push(if raw { "round_trips" } else { "p50 RTTs" });
    }
    let time = |v: Option<f64>| match (v, raw) {
        (None, true) => String::new(),
        (None, false) => "—".to_owned(),
        (Some(v), true) => format!("{v:.3}"),
        (Some(v), false) => format_time(v),
    };
    let rows = sweep
        .summary
        .iter()
        .map(|row| {
            let mut cells = vec![
                sweep.sweep.parameter.show(row.value),
                if raw { row.key } else { row.label }.to_owned(),
                row.requests.to_string(),
                row.errors.to_string(),
                if raw {
                    format!("{:.3}", row.throughput_rps)
                } else {
                    format!("{:.0} req/s", row.throughput_rps)
                },
                time(row.p50_us),
                time(row.p99_us),
                match (row.x_floor, raw) {
                    (Some(x), true) => format!("{x:.3}"),
                    (Some(x), false) => format!("{x:.2}x"),
                    (None, true) => String::new(),
                    (None, false) => "—".to_owned(),
                },
            ];
            if round_trips {
                cells.push(match (row.round_trips, raw) {
                    (Some(n), true) => format!("{n:.3}"),
                    (Some(n), false) => format!("{n:.2}"),
                    (None, true) => String::new(),
                    (None, false) => "—".to_owned(),
                });
            }
            cells
        })
        .collect();
    Grid {
        headers: std::iter::once(sweep.sweep.parameter.name())
            .chain(headers)
            .map(String::from)
            .collect(),
        rows,
        text_columns: 2,
    }
}
