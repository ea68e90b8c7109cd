//! `benchmark cost`'s report: instructions per request of each row's client and server,
//! as a table, markdown, CSV or JSON.

use std::fmt::Write as _;

use crate::model::{CostReport, InstructionCount};
use crate::render::grid::Grid;
use crate::settings::Format;
use crate::units::wrap;

/// The cost report in `format`; `None` for a format it has no rendering in (HTML).
pub(crate) fn cost_report(report: &CostReport, format: Format) -> Option<String> {
    let text = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => grid(report, false).csv(),
        Format::Markdown => format!(
            "{}\n\n{}\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).markdown(),
            notes(report, "- ")
        ),
        Format::Table => format!(
            "{}\n\n{}\nNotes:\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).text(""),
            notes(report, "  - ")
        ),
        Format::Html => return None,
    };
    Some(text)
}

fn heading(report: &CostReport) -> String {
    format!(
        "commlab benchmark cost: instructions per request, counted by {} (callgrind) over \
         {} and {} requests after {} warm-up, start-up removed by the difference{}",
        report.counter,
        report.requests,
        report.requests * 2,
        report.warmup,
        match report.repeats {
            0 | 1 => String::new(),
            n => format!(", each point the median of {n} repeats"),
        }
    )
}

fn notes(report: &CostReport, bullet: &str) -> String {
    let rest = " ".repeat(bullet.len());
    let mut out = String::new();
    for note in &report.notes {
        let _ = writeln!(out, "{}", wrap(note, bullet, &rest, 100));
    }
    out
}

/// The table; with `spread`, each per-request figure with its repeats' `±` (CSV keeps
/// the bare figures).
fn grid(report: &CostReport, spread: bool) -> Grid {
    let per = |count: &InstructionCount| match (count.per_request, count.repeat_range) {
        (Some(v), Some((lo, hi))) if v > 0.0 && spread => {
            format!("{v:.0} ±{:.1}%", (v - lo).max(hi - v) / v * 100.0)
        }
        (Some(v), _) => format!("{v:.0}"),
        (None, _) => "—".to_owned(),
    };
    let total = |a: &InstructionCount, b: &InstructionCount| match (a.per_request, b.per_request) {
        (Some(a), Some(b)) => format!("{:.0}", a + b),
        _ => "—".to_owned(),
    };
    let floor_total = report
        .rows
        .iter()
        .find(|row| row.key == "floor")
        .and_then(|f| Some(f.client.per_request? + f.server.per_request?));
    Grid {
        headers: [
            "Row",
            "client instr/req",
            "server instr/req",
            "total instr/req",
            "x floor",
        ]
        .map(String::from)
        .to_vec(),
        rows: report
            .rows
            .iter()
            .map(|row| {
                let x = floor_total
                    .zip(row.client.per_request.zip(row.server.per_request))
                    .filter(|(floor, _)| *floor > 0.0)
                    .map_or_else(
                        || "—".to_owned(),
                        |(floor, (c, s))| format!("{:.1}", (c + s) / floor),
                    );
                vec![
                    row.label.to_owned(),
                    per(&row.client),
                    per(&row.server),
                    total(&row.client, &row.server),
                    x,
                ]
            })
            .collect(),
        text_columns: 1,
    }
}
