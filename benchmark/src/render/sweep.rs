//! A sweep in every format: the summary across the points, then each point's report.

use std::fmt::Write as _;

use crate::model::{Point, SweepReport};
use crate::render::grid::Grid;
use crate::render::html;
use crate::settings::Format;
use crate::units::format_time;

/// The summary as a grid: for people (labels, units) or, `raw`, for CSV (keys
/// and bare numbers, as the JSON names them).
pub(crate) fn grid(sweep: &SweepReport, raw: bool) -> Grid {
    let headers = if raw {
        [
            "key",
            "requests",
            "errors",
            "throughput_rps",
            "p50_us",
            "p99_us",
            "x_floor",
        ]
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
    };
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
            vec![
                row.value.to_string(),
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
            ]
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

/// The sweep in `format`: the summary first, then each point's report (CSV: the
/// summary alone, one line per row of each point).
pub(crate) fn render(sweep: &SweepReport, format: Format, wide: bool) -> String {
    let heading = format!(
        "Sweep of {} over {} point{}",
        sweep.sweep.parameter.name(),
        sweep.points.len(),
        if sweep.points.len() == 1 { "" } else { "s" }
    );
    let point_heading = |i: usize, point: &Point| {
        format!(
            "Point {} of {}: {}",
            i + 1,
            sweep.points.len(),
            sweep.sweep.label(point.value)
        )
    };
    match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(sweep).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => grid(sweep, true).csv(),
        Format::Html => html::sweep_page(sweep),
        Format::Markdown => {
            let mut out = format!("## {heading}\n\n{}", grid(sweep, false).markdown());
            for (i, point) in sweep.points.iter().enumerate() {
                let _ = write!(
                    out,
                    "\n## {}\n\n{}",
                    point_heading(i, point),
                    super::report(&point.report, format, wide)
                );
            }
            out
        }
        _ => {
            let mut out = format!("{heading}:\n{}", grid(sweep, false).text("  "));
            for (i, point) in sweep.points.iter().enumerate() {
                let _ = write!(
                    out,
                    "\n== {} ==\n{}",
                    point_heading(i, point),
                    super::report(&point.report, Format::Table, wide)
                );
            }
            out
        }
    }
}
