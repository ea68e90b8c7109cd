//! `benchmark cost`'s report: instructions per request of each row's client and server,
//! as a table, markdown, CSV or JSON.

use std::fmt::Write as _;

use crate::model::{CostReport, InstructionCount};
use crate::render::grid::Grid;
use crate::settings::Format;
use crate::units::wrap;

/// The cost report in `format`; `None` for a format it has no rendering in (HTML).
pub(crate) fn cost_report(report: &CostReport, format: Format) -> Option<String> {
    let grid = grid(report);
    let text = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => grid.csv(),
        Format::Markdown => format!(
            "{}\n\n{}\n{}",
            wrap(&heading(report), "", "", 100),
            grid.markdown(),
            notes(report, "- ")
        ),
        Format::Table => format!(
            "{}\n\n{}\nNotes:\n{}",
            wrap(&heading(report), "", "", 100),
            grid.text(""),
            notes(report, "  - ")
        ),
        Format::Html => return None,
    };
    Some(text)
}

fn heading(report: &CostReport) -> String {
    format!(
        "commlab benchmark cost: instructions per request, counted by {} (callgrind) over \
         {} and {} requests after {} warm-up, start-up removed by the difference",
        report.counter,
        report.requests,
        report.requests * 2,
        report.warmup
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

fn grid(report: &CostReport) -> Grid {
    let per = |count: &InstructionCount| {
        count
            .per_request
            .map_or_else(|| "—".to_owned(), |v| format!("{v:.0}"))
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
