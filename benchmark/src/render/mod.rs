//! Every rendering of a report: table, markdown, CSV, JSON and the HTML page, over the
//! model and nothing else. One entry point per kind of report ([`report`],
//! [`sweep_report`]); the columns are defined once ([`columns`]) and every table
//! format is written over them.

pub(crate) mod bars;
pub(crate) mod columns;
pub(crate) mod comparison;
pub(crate) mod cost;
pub(crate) mod grid;
pub(crate) mod hdr;
pub(crate) mod html;
pub(crate) mod markup;
pub(crate) mod plots;
pub(crate) mod push;
pub(crate) mod sweep;
pub(crate) mod text;

use std::fmt::Write as _;

use crate::model::{Point, Report, SweepReport};
use crate::settings::Format;

/// The report in `format`; `wide` adds every percentile to the table formats.
pub(crate) fn report(report: &Report, format: Format, wide: bool) -> String {
    match format {
        Format::Table => text::table(report, wide),
        Format::Markdown => text::markdown(report, wide),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => text::csv(report),
        Format::Html => html::report_page(report),
    }
}

/// The sweep in `format`: the summary first, then each point's report (CSV: the
/// summary alone, one line per row of each point).
pub(crate) fn sweep_report(sweep: &SweepReport, format: Format, wide: bool) -> String {
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
        Format::Csv => sweep::grid(sweep, true).csv(),
        Format::Html => html::sweep_page(sweep),
        Format::Markdown => {
            let mut out = format!("## {heading}\n\n{}", sweep::grid(sweep, false).markdown());
            for (i, point) in sweep.points.iter().enumerate() {
                let _ = write!(
                    out,
                    "\n## {}\n\n{}",
                    point_heading(i, point),
                    report(&point.report, format, wide)
                );
            }
            out
        }
        _ => {
            let mut out = format!("{heading}:\n{}", sweep::grid(sweep, false).text("  "));
            for (i, point) in sweep.points.iter().enumerate() {
                let _ = write!(
                    out,
                    "\n== {} ==\n{}",
                    point_heading(i, point),
                    report(&point.report, Format::Table, wide)
                );
            }
            out
        }
    }
}
