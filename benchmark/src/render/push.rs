//! `benchmark push`'s report: a line per mechanism (publish-to-receipt latency,
//! delivered, late and skipped copies, server CPU and bytes per delivered copy,
//! connections held) and the mechanisms ranked by p50 and p99, in every format but
//! HTML.

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
            "{}\n\n{}\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).markdown(),
            ranking(report)
        ),
        Format::Table => format!(
            "{}\n\n{}\n{}",
            wrap(&heading(report), "", "", 100),
            grid(report, true).text(""),
            ranking(report)
        ),
        Format::Html => return None,
    };
    Some(text)
}

fn heading(report: &PushReport) -> String {
    let pace = match report.rate {
        Some(rate) => format!(
            "published at {rate} a second whatever the subscribers have (copies missing \
             {} ms after the last are late)",
            report.timeout_ms
        ),
        None => format!(
            "each published once every subscriber has the one before (or after {} ms)",
            report.timeout_ms
        ),
    };
    format!(
        "commlab benchmark push: {} subscribers per mechanism, {} events, {pace}; latency \
         from publishing to each subscriber's having it, one clock; bytes per copy counted \
         on the wire in a pass of their own",
        report.subscribers, report.events
    )
}

/// The mechanisms by p50 and by p99, fastest first.
fn ranking(report: &PushReport) -> String {
    let label = |key: &'static str| -> &'static str {
        report
            .rows
            .iter()
            .find(|r| r.key == key)
            .map_or(key, |r| r.label)
    };
    let line = |keys: &[&'static str]| {
        keys.iter()
            .enumerate()
            .map(|(i, key)| format!("{}. {}", i + 1, label(key)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Fastest to every subscriber by p50: {}\nby p99: {}\n",
        line(&report.ranking_p50),
        line(&report.ranking_p99)
    )
}

/// The table: for people (labels, units) or, not `people`, for CSV (keys, numbers).
fn grid(report: &PushReport, people: bool) -> Grid {
    let headers: Vec<&str> = if people {
        vec![
            "Mechanism",
            "Delivered",
            "Late",
            "Skipped",
            "p50",
            "p99",
            "max",
            "server CPU/delivery",
            "bytes out/in per delivery",
            "conns held",
        ]
    } else {
        vec![
            "key",
            "delivered",
            "late",
            "skipped",
            "p50_us",
            "p99_us",
            "max_us",
            "server_cpu_us_per_delivery",
            "bytes_out_per_delivery",
            "bytes_in_per_delivery",
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
            let mut cells = vec![
                if people { row.label } else { row.key }.to_owned(),
                row.delivered.to_string(),
                row.late.to_string(),
                row.skipped.to_string(),
                time(row.p50_us),
                time(row.p99_us),
                time(row.max_us),
                time(row.server_cpu_us_per_delivery),
            ];
            let bytes = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.0}"));
            if people {
                cells.push(
                    match (row.bytes_out_per_delivery, row.bytes_in_per_delivery) {
                        (Some(out), Some(inward)) => format!("{out:.0}/{inward:.0}"),
                        _ => "—".to_owned(),
                    },
                );
            } else {
                cells.push(bytes(row.bytes_out_per_delivery));
                cells.push(bytes(row.bytes_in_per_delivery));
            }
            cells.push(row.connections_held.to_string());
            cells
        })
        .collect();
    Grid {
        headers: headers.into_iter().map(String::from).collect(),
        rows,
        text_columns: 1,
    }
}
