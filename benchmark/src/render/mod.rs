//! Every rendering of a report: table, markdown, CSV, JSON and the HTML page, over the
//! model and nothing else. One entry point per kind of report ([`report`],
//! [`sweep::render`]); the columns are defined once ([`columns`]) and every table
//! format is written over them.

pub(crate) mod columns;
pub(crate) mod comparison;
pub(crate) mod grid;
pub(crate) mod hdr;
pub(crate) mod html;
pub(crate) mod plots;
pub(crate) mod sweep;
pub(crate) mod text;

use crate::model::Report;
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
