//! `benchmark push`'s report: a line per mechanism (publish-to-receipt latency,
//! delivered, late and skipped copies, server CPU per delivered copy, connections held)
//! in every format but HTML.

use crate::model::PushReport;
use crate::render::grid::Grid;
use crate::settings::Format;
use crate::units::format_time;
use crate::units::wrap;

/// The report in `format`; `None` for HTML, which it does not write.
pub(crate) fn push_report(report: &PushReport, format: Format) -> Option<String> {
    let text = match format {
        Format::Json => {
            let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
            text.push('\n');
            text
        }
        Format::Csv => grid(report, false).csv(),
        Format::Markdown => format!(
            "{}\n\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).markdown()
        ),
        Format::Table => format!(
            "{}\n\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).text("")
        ),
        Format::Html => return None,
    };
    Some(text)
}

fn heading(report: &PushReport) -> String {
    format!(
        "commlab benchmark push: {} subscribers per mechanism, {} events, each published \
         once every subscriber has the one before (or after {} ms); latency from \
         publishing to each subscriber's having it, one clock",
        report.subscribers, report.events, report.timeout_ms
    )
}

/// The table: for people (labels, units) or, not `people`, for CSV (keys, numbers).
fn grid(report: &PushReport, people: bool) -> Grid {
    let headers = if people {
        [
            "Mechanism",
            "Delivered",
            "Late",
            "Skipped",
            "p50",
            "p99",
            "max",
            "server CPU/delivery",
            "conns held",
        ]
    } else {
        [
            "key",
            "delivered",
            "late",
            "skipped",
            "p50_us",
            "p99_us",
            "max_us",
            "server_cpu_us_per_delivery",
            "connections_held",
        ]
    };
    let time = |v: Option<f64>| match (v, people) {
        (Some(v), true) => format_time(v),
        (Some(v), false) => format!("{v:.3}"),
        (None, true) => "—".to_owned(),
        (None, false) => String::new(),
    };
    let rows = report
        .rows
        .iter()
        .map(|row| {
            vec![
                if people { row.label } else { row.key }.to_owned(),
                row.delivered.to_string(),
                row.late.to_string(),
                row.skipped.to_string(),
                time(row.p50_us),
                time(row.p99_us),
                time(row.max_us),
                time(row.server_cpu_us_per_delivery),
                row.connections_held.to_string(),
            ]
        })
        .collect();
    Grid {
        headers: headers.map(String::from).to_vec(),
        rows,
        text_columns: 1,
    }
}
