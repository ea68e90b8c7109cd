//! `--format html`: the report as one self-contained page. Everything is inline (the
//! style and every chart's SVG); nothing is loaded from anywhere, so the file opens
//! the same offline, from an email or from a CI artefact.
//!
//! Every number of the results table carries its raw value and JSON field
//! (`data-field`, `data-value`), so the page can be checked against the JSON report
//! of the same run.

use std::fmt::Write as _;

use crate::model::{Report, SweepReport};
use crate::render::bars;
use crate::render::columns::{Table, View};
use crate::render::grid::Grid;
use crate::render::markup::escape;
use crate::render::plots::{self, Chart, ChartKind, PlotError};
use crate::render::{comparison, sweep, text};

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
  max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.45;
  overflow-wrap: break-word; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
ul.context { list-style: none; padding: 0; color: #444; }
table { border-collapse: collapse; font-size: 0.88rem; margin: 0.8rem 0; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #e4e4e4; }
th { text-align: left; background: #f5f5f7; vertical-align: bottom; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
figure.chart, figure.bars { margin: 1.2rem 0; }
.verdict { font-size: 1.15rem; font-weight: 600; margin: 0.8rem 0 1rem; }
figure.bars svg { max-width: 46rem; height: auto; }
figure.chart svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
.regression { color: #b00020; font-weight: 600; }
details { margin: 0.6rem 0; }
";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// What the run was, where, with what build.
fn context(report: &Report) -> String {
    let mut out = String::from("<ul class=\"context\">\n");
    for line in text::context_lines(report) {
        let _ = writeln!(out, "<li>{}</li>", escape(&line));
    }
    let _ = writeln!(
        out,
        "<li>benchmark {}</li>\n</ul>",
        escape(lab_kit::build::VERSION)
    );
    // Every option, as the JSON report names them.
    let settings = serde_json::to_value(&report.settings).unwrap_or_default();
    if let Some(fields) = settings.as_object() {
        out.push_str("<details><summary>Every setting</summary>\n<table>\n");
        for (name, value) in fields {
            let _ = writeln!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(name),
                escape(&value.to_string())
            );
        }
        out.push_str("</table></details>\n");
    }
    out
}

/// The results table as the page shows it first: the columns a terminal fits, so
/// the table fits the page; every other column behind a toggle under it.
fn results(report: &Report) -> String {
    let narrow = Table::of(report, View::Narrow);
    let wide = Table::of(report, View::Wide);
    let mut out = table(&narrow, "results");
    let _ = write!(
        out,
        "<details class=\"columns\"><summary>Every column ({} more: {})</summary>\n{}</details>\n",
        wide.columns.len() - narrow.columns.len(),
        escape(
            &wide
                .columns
                .iter()
                .filter(|c| !narrow.columns.iter().any(|n| n.csv == c.csv))
                .map(|c| format!("{} {}", c.header.0, c.header.1).trim().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        table(&wide, "results every")
    );
    for row in report.results.iter().filter(|r| r.errors > 0) {
        for (kind, count) in &row.error_kinds {
            let first = row.first_errors.get(kind).map_or("", String::as_str);
            let _ = writeln!(
                out,
                "<p>{} errors: {count} {kind} (first: {})</p>",
                escape(row.label),
                escape(first)
            );
        }
    }
    out
}

/// One results table, each number with its raw value and JSON field.
fn table(table: &Table, class: &str) -> String {
    let mut out = format!("<div class=\"scroll\"><table class=\"{class}\">\n<tr>");
    for column in &table.columns {
        let _ = write!(
            out,
            "<th>{}</th>",
            escape(format!("{} {}", column.header.0, column.header.1).trim())
        );
    }
    out.push_str("</tr>\n");
    for ((key, shown), raw) in table.keys.iter().zip(&table.shown).zip(&table.raw) {
        let _ = write!(out, "<tr data-key=\"{}\">", escape(key));
        for ((column, shown), raw) in table.columns.iter().zip(shown).zip(raw) {
            let _ = write!(
                out,
                "<td class=\"{}\" data-field=\"{}\" data-value=\"{}\">{}</td>",
                if column.text { "text" } else { "number" },
                column.csv,
                escape(raw),
                escape(shown)
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

fn list(items: &[String], ordered: bool) -> String {
    let tag = if ordered { "ol" } else { "ul" };
    let mut out = format!("<{tag}>\n");
    for item in items {
        let _ = writeln!(out, "<li>{}</li>", escape(item));
    }
    let _ = writeln!(out, "</{tag}>");
    out
}

/// A grid as an HTML table; cells that say REGRESSION stand out.
fn grid_table(grid: &Grid) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n<tr>");
    for header in &grid.headers {
        let _ = write!(out, "<th>{}</th>", escape(header));
    }
    out.push_str("</tr>\n");
    for row in &grid.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = match (cell.as_str(), i < grid.text_columns) {
                ("REGRESSION", _) => "regression",
                (_, true) => "text",
                (_, false) => "number",
            };
            let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table></div>\n");
    out
}

/// What each kind of chart shows, under it.
fn caption(chart: &Chart) -> &'static str {
    match chart.kind {
        ChartKind::Spectrum { .. } => {
            "Latency at each percentile, HdrHistogram style: the x axis is 1/(1-q) on a log \
             scale, so 90%, 99% and 99.9% are evenly spaced and the tail shows; latency on a \
             log scale too. Lower is better."
        }
        ChartKind::Histogram => "Share of requests in each latency band (20 bands a decade).",
        ChartKind::OverTime => {
            "Each second of the measurement (the rounds laid end to end), drawn at its middle; \
             percentiles within 1%."
        }
        ChartKind::AgainstSwept => "One whole run per value, one line per row.",
    }
}

fn figure(chart: &Chart) -> String {
    format!(
        "<figure class=\"chart\" id=\"chart-{id}\" data-chart=\"{id}\" data-series=\"{}\">\n{}\n\
         <figcaption>{}</figcaption>\n</figure>\n",
        escape(&chart.series.join(" ")),
        chart.svg,
        caption(chart),
        id = escape(&chart.id),
    )
}

fn figures(charts: &Result<Vec<Chart>, PlotError>) -> String {
    match charts {
        Ok(charts) => charts.iter().map(figure).collect(),
        Err(e) => format!(
            "<p>The charts could not be drawn: {}</p>\n",
            escape(&e.to_string())
        ),
    }
}

/// The body of one run: context, table, ranking, notes, baseline, then `charts`.
fn run_body(report: &Report, charts: &str) -> String {
    let mut out = format!(
        "<p class=\"verdict\">{}</p>\n{}",
        escape(&text::verdict(report)),
        context(report)
    );
    if let Some(chart) = bars::x_floor_chart(report) {
        let _ = write!(
            out,
            "<h2>Ranking</h2>\n<figure class=\"bars\" id=\"chart-x-floor\" \
             data-chart=\"x-floor\">\n{chart}\n<figcaption>x floor per row, best first: each \
             bar is the median of its round-by-round ratios to the floor, the whisker its 95% \
             interval; `=` marks a row the rounds cannot tell from the one above.\
             </figcaption>\n</figure>\n<p>{}</p>\n{}",
            escape(text::ranking_heading(report)),
            list(&text::ranking_lines(report), false)
        );
    }
    if let Some(chart) = bars::time_split_chart(report) {
        let _ = write!(
            out,
            "<h2>Where the time goes</h2>\n<figure class=\"bars\" id=\"chart-time-split\" \
             data-chart=\"time-split\">\n{chart}\n<figcaption>Each row's mean request: the \
             client's CPU and the server's CPU per request, and the rest of the mean latency \
             spent waiting: the wire, the kernel, waking a sleeping CPU (means, which add up; \
             the ranking is by the median).</figcaption>\n</figure>\n"
        );
    }
    let _ = write!(out, "<h2>Results</h2>\n{}", results(report));
    if !report.notes.is_empty() {
        let _ = write!(out, "<h2>Notes</h2>\n{}", list(&report.notes, false));
    }
    if let Some(comparison) = &report.comparison {
        let _ = write!(
            out,
            "<h2>Against the baseline</h2>\n{}{}",
            grid_table(&comparison::grid(comparison)),
            list(&comparison::notes(comparison), false)
        );
    }
    let _ = write!(out, "<h2>Charts</h2>\n{charts}");
    out
}

/// The page of one run, with its charts.
pub(crate) fn report_page(report: &Report) -> String {
    let charts = figures(&plots::run_charts(report));
    let body = format!("<h1>commlab benchmark</h1>\n{}", run_body(report, &charts));
    page("commlab benchmark", &body)
}

/// The page of a sweep: the summary and its charts, then each point.
pub(crate) fn sweep_page(sweep: &SweepReport) -> String {
    let name = sweep.sweep.parameter.name();
    let charts = plots::sweep_charts(sweep);
    let mut body = format!("<h1>commlab benchmark: sweep of {}</h1>\n", escape(name));
    if let Some(first) = sweep.points.first() {
        body.push_str(&context(&first.report));
        let parameter = sweep.sweep.parameter;
        let values: Vec<String> = sweep
            .sweep
            .values
            .iter()
            .map(|v| parameter.show(*v))
            .collect();
        let _ = writeln!(
            body,
            "<p>Swept: <b>{} = {}</b>. The lines above describe point 1; every point \
             has the same settings but its own {}.</p>",
            escape(name),
            escape(&values.join(", ")),
            escape(name)
        );
    }
    let _ = write!(
        body,
        "<h2>Summary</h2>\n{}",
        grid_table(&sweep::grid(sweep, false))
    );
    let (summary_charts, point_charts): (Vec<Chart>, Vec<Chart>) = match charts {
        Ok(charts) => charts
            .into_iter()
            .partition(|c| !matches!(c.kind, ChartKind::Spectrum { .. })),
        Err(e) => {
            let _ = write!(body, "{}", figures(&Err(e)));
            (Vec::new(), Vec::new())
        }
    };
    let _ = write!(
        body,
        "<h2>Against {}</h2>\n{}",
        escape(name),
        summary_charts.iter().map(figure).collect::<String>()
    );
    for (i, point) in sweep.points.iter().enumerate() {
        let charts: String = point_charts
            .iter()
            .filter(|c| {
                c.kind
                    == ChartKind::Spectrum {
                        point: Some(point.value),
                    }
            })
            .map(figure)
            .collect();
        let _ = write!(
            body,
            "<h2>Point {} of {}: {}</h2>\n{}",
            i + 1,
            sweep.points.len(),
            escape(&sweep.sweep.label(point.value)),
            run_body(&point.report, &charts)
        );
    }
    page("commlab benchmark sweep", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
