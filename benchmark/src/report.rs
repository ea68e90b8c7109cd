//! The results of a run and their four renderings: table, markdown, JSON and CSV.
//!
//! Collecting (the runner), computing (`stats`) and rendering (here) are kept apart: a
//! [`Report`] holds finished numbers, and each format only lays them out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::machine::Machine;
use crate::runner::Measurement;
use crate::settings::{Format, RankBy, Settings};
use crate::stats::{Stats, rank};

/// One row of results: a protocol, or the floor.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    /// `floor`, `socket`, `rest` or `grpc`.
    pub protocol: &'static str,
    /// `Floor`, `Socket`, `REST` or `gRPC`.
    pub label: &'static str,
    /// What each request did.
    pub operation: String,
    /// True when the server was started in-process for this run.
    pub embedded: bool,
    /// Where the server was.
    pub target: String,
    /// Successful requests measured.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Failed requests by kind.
    pub error_kinds: BTreeMap<&'static str, u64>,
    /// The first message of each kind of failure.
    pub first_errors: BTreeMap<&'static str, String>,
    /// Mean latency, microseconds.
    pub mean_us: Option<f64>,
    /// Sample standard deviation (n-1), microseconds.
    pub stddev_us: Option<f64>,
    /// Smallest latency, microseconds.
    pub min_us: Option<f64>,
    /// Median, microseconds.
    pub p50_us: Option<f64>,
    /// 90th percentile, microseconds.
    pub p90_us: Option<f64>,
    /// 99th percentile, microseconds.
    pub p99_us: Option<f64>,
    /// 99.9th percentile, microseconds.
    pub p999_us: Option<f64>,
    /// Largest latency, microseconds.
    pub max_us: Option<f64>,
    /// Successful requests per second of wall time.
    pub throughput_rps: f64,
    /// p50 over the floor's p50.
    pub x_floor: Option<f64>,
    /// Wall time of the measurement, seconds.
    pub wall_s: f64,
    /// False when Ctrl-C cut this measurement short.
    pub complete: bool,
}

impl ResultRow {
    /// Builds a row from a measurement.
    pub fn new(
        protocol: &'static str,
        label: &'static str,
        operation: String,
        embedded: bool,
        target: String,
        measurement: &Measurement,
    ) -> Self {
        let stats = Stats::from_histogram(&measurement.histogram);
        let us = |nanos: u64| nanos as f64 / 1000.0;
        ResultRow {
            protocol,
            label,
            operation,
            embedded,
            target,
            requests: measurement.histogram.len(),
            errors: measurement.error_count(),
            error_kinds: measurement
                .errors
                .iter()
                .map(|(k, v)| (k.key(), *v))
                .collect(),
            first_errors: measurement
                .first_errors
                .iter()
                .map(|(k, v)| (k.key(), v.clone()))
                .collect(),
            mean_us: stats.map(|s| s.mean / 1000.0),
            stddev_us: stats.and_then(|s| s.stddev).map(|s| s / 1000.0),
            min_us: stats.map(|s| us(s.min)),
            p50_us: stats.map(|s| us(s.p50)),
            p90_us: stats.map(|s| us(s.p90)),
            p99_us: stats.map(|s| us(s.p99)),
            p999_us: stats.map(|s| us(s.p999)),
            max_us: stats.map(|s| us(s.max)),
            throughput_rps: measurement.throughput(),
            x_floor: None,
            wall_s: measurement.wall.as_secs_f64(),
            complete: measurement.complete,
        }
    }

    fn rank_value(&self, by: RankBy) -> Option<f64> {
        match by {
            RankBy::Mean => self.mean_us,
            RankBy::P50 => self.p50_us,
            RankBy::P99 => self.p99_us,
        }
    }
}

/// One place in the ranking.
#[derive(Debug, Clone, Serialize)]
pub struct RankEntry {
    /// 1 for the fastest.
    pub position: usize,
    /// `socket`, `rest` or `grpc`.
    pub protocol: &'static str,
    /// `Socket`, `REST` or `gRPC`.
    pub label: &'static str,
    /// The ranked figure, microseconds.
    pub value_us: f64,
    /// How much slower than the fastest, percent.
    pub percent_slower: f64,
}

/// Everything a run found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the run did.
    pub settings: Settings,
    /// Where it ran.
    pub machine: Machine,
    /// The floor first, then each protocol.
    pub results: Vec<ResultRow>,
    /// Protocols from fastest to slowest by `settings.rank_by` (the floor is the
    /// reference, not a contestant).
    pub ranking: Vec<RankEntry>,
    /// Things a reader should know to read the numbers right.
    pub notes: Vec<String>,
    /// True when Ctrl-C ended the run early.
    pub interrupted: bool,
}

impl Report {
    /// Assembles a report: fills in `x floor` and ranks the protocols.
    pub fn new(
        settings: Settings,
        machine: Machine,
        mut results: Vec<ResultRow>,
        notes: Vec<String>,
        interrupted: bool,
    ) -> Self {
        let floor_p50 = results
            .iter()
            .find(|r| r.protocol == "floor")
            .and_then(|r| r.p50_us)
            .filter(|p50| *p50 > 0.0);
        for row in &mut results {
            row.x_floor = match (row.p50_us, floor_p50) {
                (Some(p50), Some(floor)) => Some(p50 / floor),
                _ => None,
            };
        }
        let entries: Vec<(usize, f64)> = results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.protocol != "floor")
            .filter_map(|(i, r)| r.rank_value(settings.rank_by).map(|v| (i, v)))
            .collect();
        let ranking = rank(&entries)
            .into_iter()
            .map(|ranked| RankEntry {
                position: ranked.position,
                protocol: results[ranked.key].protocol,
                label: results[ranked.key].label,
                value_us: ranked.value,
                percent_slower: ranked.percent_slower,
            })
            .collect();
        Report {
            settings,
            machine,
            results,
            ranking,
            notes,
            interrupted,
        }
    }

    /// The report in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.table(),
            Format::Markdown => self.markdown(),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
                text.push('\n');
                text
            }
            Format::Csv => self.csv(),
        }
    }

    fn headline(&self) -> String {
        let s = &self.settings;
        let length = match s.duration {
            Some(d) => format!("{:.1} s", d.as_secs_f64()),
            None => format!("{} requests", s.iterations),
        };
        let workload = match s.workload {
            crate::settings::Workload::Get => "get".to_owned(),
            crate::settings::Workload::List => format!("list ({} users created)", s.list_size),
            crate::settings::Workload::Create => "create".to_owned(),
        };
        format!(
            "workload {workload}, connection {}, {} client{} x {length} after {} warm-up",
            match s.connection {
                crate::settings::ConnectionPolicy::Reuse => "reuse",
                crate::settings::ConnectionPolicy::New => "new per request",
            },
            s.concurrency,
            if s.concurrency == 1 { "" } else { "s" },
            s.warmup,
        )
    }

    fn machine_line(&self) -> String {
        format!(
            "{} CPU{}, {}, {}",
            self.machine.cpus,
            if self.machine.cpus == 1 { "" } else { "s" },
            self.machine.cpu_model,
            self.machine.os
        )
    }

    fn cells(row: &ResultRow) -> Vec<String> {
        let time = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), format_time);
        vec![
            row.label.to_owned(),
            row.operation.clone(),
            if row.protocol == "floor" {
                "in-process".to_owned()
            } else if row.embedded {
                "embedded".to_owned()
            } else {
                row.target.clone()
            },
            row.requests.to_string(),
            row.errors.to_string(),
            time(row.mean_us),
            time(row.stddev_us),
            time(row.min_us),
            time(row.p50_us),
            time(row.p90_us),
            time(row.p99_us),
            time(row.p999_us),
            time(row.max_us),
            format!("{:.0}/s", row.throughput_rps),
            row.x_floor
                .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x")),
        ]
    }

    const HEADERS: [&'static str; 15] = [
        "Protocol",
        "Operation",
        "Server",
        "Requests",
        "Errors",
        "Mean",
        "Stddev",
        "Min",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "Max",
        "Throughput",
        "x floor",
    ];

    fn ranking_lines(&self) -> Vec<String> {
        let width = self
            .ranking
            .iter()
            .map(|r| r.label.len())
            .max()
            .unwrap_or(0);
        self.ranking
            .iter()
            .map(|r| {
                let verdict = if r.position == 1 {
                    "(fastest)".to_owned()
                } else {
                    format!("({:.0}% slower)", r.percent_slower)
                };
                format!(
                    "{}. {:<width$}  {} {verdict}",
                    r.position,
                    r.label,
                    format_time(r.value_us)
                )
            })
            .collect()
    }

    fn table(&self) -> String {
        let rows: Vec<Vec<String>> = self.results.iter().map(Report::cells).collect();
        let mut widths: Vec<usize> = Report::HEADERS.iter().map(|h| h.len()).collect();
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::new();
            for (i, (cell, width)) in cells.iter().zip(&widths).enumerate() {
                // Text columns align left, numbers right.
                if i < 3 {
                    let _ = write!(text, "{cell:<width$}  ");
                } else {
                    let _ = write!(text, "{cell:>width$}  ");
                }
            }
            text.trim_end().to_owned()
        };
        let mut out = String::new();
        let _ = writeln!(out, "commlab benchmark: {}", self.headline());
        let _ = writeln!(out, "machine: {}", self.machine_line());
        if self.interrupted {
            let _ = writeln!(
                out,
                "INTERRUPTED: these are the figures measured before Ctrl-C."
            );
        }
        let _ = writeln!(out);
        let headers: Vec<String> = Report::HEADERS.iter().map(|h| (*h).to_owned()).collect();
        let _ = writeln!(out, "{}", line(&headers));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        self.write_errors(&mut out);
        if !self.ranking.is_empty() {
            let _ = writeln!(out, "\nRanking by {}:", self.settings.rank_by.describe());
            for ranked in self.ranking_lines() {
                let _ = writeln!(out, "  {ranked}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\nNotes:");
            for note in &self.notes {
                let _ = writeln!(out, "  - {note}");
            }
        }
        out
    }

    fn write_errors(&self, out: &mut String) {
        for row in self.results.iter().filter(|r| r.errors > 0) {
            for (kind, count) in &row.error_kinds {
                let first = row.first_errors.get(kind).map(String::as_str).unwrap_or("");
                let _ = writeln!(
                    out,
                    "  {} errors: {count} {kind} (first: {first})",
                    row.label
                );
            }
        }
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "**commlab benchmark**: {}  ", self.headline());
        let _ = writeln!(out, "machine: {}\n", self.machine_line());
        if self.interrupted {
            let _ = writeln!(out, "_Interrupted: figures measured before Ctrl-C._\n");
        }
        let _ = writeln!(out, "| {} |", Report::HEADERS.join(" | "));
        let align: Vec<&str> = (0..Report::HEADERS.len())
            .map(|i| if i < 3 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(out, "|{}|", align.join("|"));
        for row in &self.results {
            let cells: Vec<String> = Report::cells(row)
                .into_iter()
                .map(|c| c.replace('|', "\\|"))
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if !self.ranking.is_empty() {
            let _ = writeln!(out, "\nRanking by {}:\n", self.settings.rank_by.describe());
            for ranked in self.ranking_lines() {
                let _ = writeln!(out, "{ranked}  ");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    fn csv(&self) -> String {
        let mut out = String::from(
            "protocol,operation,embedded,target,requests,errors,mean_us,stddev_us,min_us,\
             p50_us,p90_us,p99_us,p999_us,max_us,throughput_rps,x_floor,complete\n",
        );
        let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.3}"));
        for row in &self.results {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1},{},{}",
                row.protocol,
                csv_field(&row.operation),
                row.embedded,
                csv_field(&row.target),
                row.requests,
                row.errors,
                number(row.mean_us),
                number(row.stddev_us),
                number(row.min_us),
                number(row.p50_us),
                number(row.p90_us),
                number(row.p99_us),
                number(row.p999_us),
                number(row.max_us),
                row.throughput_rps,
                number(row.x_floor),
                row.complete,
            );
        }
        out
    }
}

/// A latency for people: microseconds below one millisecond, milliseconds above,
/// always with its unit.
pub fn format_time(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.1} us")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_a_readable_unit() {
        assert_eq!(format_time(13.6), "13.6 us");
        assert_eq!(format_time(999.94), "999.9 us");
        assert_eq!(format_time(1270.0), "1.27 ms");
        assert_eq!(format_time(2_100_000.0), "2100.00 ms");
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("GetUser"), "GetUser");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
