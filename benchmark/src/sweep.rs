//! `--sweep NAME=v1,v2,...`: one whole run per value of one setting (same warm-up,
//! same checks), and a summary across the points: how each protocol scales is a
//! curve, not a row.

use std::fmt::Write as _;

use serde::Serialize;

use crate::grid::Grid;
use crate::report::{Report, format_time};
use crate::settings::{Format, Settings, parse_rate};

/// The settings a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parameter {
    /// `--concurrency`: clients at once.
    Concurrency,
    /// `--list-size`: users listed, or items streamed.
    ListSize,
    /// `--rate`: requests per second of an open loop (needs `--duration`).
    Rate,
    /// `--connections`: connections the clients share.
    Connections,
}

impl Parameter {
    /// Its name on the command line, without the dashes.
    pub fn name(self) -> &'static str {
        match self {
            Parameter::Concurrency => "concurrency",
            Parameter::ListSize => "list-size",
            Parameter::Rate => "rate",
            Parameter::Connections => "connections",
        }
    }

    fn parse(name: &str) -> Result<Parameter, String> {
        match name.trim() {
            "concurrency" => Ok(Parameter::Concurrency),
            "list-size" => Ok(Parameter::ListSize),
            "rate" => Ok(Parameter::Rate),
            "connections" => Ok(Parameter::Connections),
            other => Err(format!(
                "cannot sweep {other:?}: sweep concurrency, list-size, rate or connections"
            )),
        }
    }

    /// Checks one value the way its own option would, and returns it as a number.
    fn value(self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        let count = |low: u64, high: u64| -> Result<f64, String> {
            match text.parse::<u64>() {
                Ok(n) if (low..=high).contains(&n) => Ok(n as f64),
                _ => Err(format!(
                    "{} value {text:?} must be a whole number from {low} to {high}",
                    self.name()
                )),
            }
        };
        match self {
            Parameter::Concurrency | Parameter::Connections => count(1, 10_000),
            Parameter::ListSize => count(0, 1_000_000),
            Parameter::Rate => parse_rate(text),
        }
    }
}

/// A parsed `--sweep`: which setting, and its values in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The setting.
    pub parameter: Parameter,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// Most points one sweep runs.
pub const MAX_POINTS: usize = 64;

impl Sweep {
    /// Parses `NAME=v1,v2,...`.
    ///
    /// # Errors
    ///
    /// On an unknown name, a value its option would refuse, or no values.
    pub fn parse(text: &str) -> Result<Sweep, String> {
        let (name, values) = text.split_once('=').ok_or_else(|| {
            format!("{text:?} is not NAME=v1,v2,... (for example concurrency=1,2,4,8)")
        })?;
        let parameter = Parameter::parse(name)?;
        let values = values
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(|v| parameter.value(v))
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err(format!("--sweep {name}= has no values"));
        }
        if values.len() > MAX_POINTS {
            return Err(format!("a sweep runs at most {MAX_POINTS} points"));
        }
        Ok(Sweep { parameter, values })
    }

    /// The settings of one point: `base` with the swept setting at `value`.
    ///
    /// # Errors
    ///
    /// When the value needs another option the run does not have (`rate` needs
    /// `--duration`).
    pub fn apply(&self, base: &Settings, value: f64) -> Result<Settings, String> {
        let mut settings = base.clone();
        match self.parameter {
            Parameter::Concurrency => settings.concurrency = value as u16,
            Parameter::ListSize => settings.list_size = value as usize,
            Parameter::Connections => settings.connections = Some(value as u16),
            Parameter::Rate => {
                if settings.duration.is_none() {
                    return Err(
                        "--sweep rate=... needs --duration (an open loop runs for a \
                                time, not a count)"
                            .to_owned(),
                    );
                }
                settings.rate = Some(value);
            }
        }
        Ok(settings)
    }

    /// `concurrency = 8`.
    pub fn label(&self, value: f64) -> String {
        format!("{} = {value}", self.parameter.name())
    }
}

/// One point of a sweep: the value and the whole run at it.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The swept setting's value.
    pub value: f64,
    /// The run.
    pub report: Report,
}

/// One row of the summary: a row of one point.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// The swept setting's value.
    pub value: f64,
    /// The row's key.
    pub key: &'static str,
    /// The row's label.
    pub label: &'static str,
    /// Successful requests.
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Median latency, microseconds.
    pub p50_us: Option<f64>,
    /// 99th percentile, microseconds.
    pub p99_us: Option<f64>,
    /// Against the floor at the same point.
    pub x_floor: Option<f64>,
}

/// Every point of a sweep, and the summary across them.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// What was swept.
    pub sweep: Sweep,
    /// One row per row of each point, point by point.
    pub summary: Vec<SummaryRow>,
    /// Each point's whole report.
    pub points: Vec<Point>,
}

impl SweepReport {
    /// Gathers the points (fewer than the sweep's values when Ctrl-C ended it).
    pub fn new(sweep: Sweep, points: Vec<Point>) -> SweepReport {
        let summary = points
            .iter()
            .flat_map(|point| {
                point.report.results.iter().map(|row| SummaryRow {
                    value: point.value,
                    key: row.key,
                    label: row.label,
                    requests: row.requests,
                    errors: row.errors,
                    throughput_rps: row.throughput_rps,
                    p50_us: row.p50_us,
                    p99_us: row.p99_us,
                    x_floor: row.x_floor,
                })
            })
            .collect();
        SweepReport {
            sweep,
            summary,
            points,
        }
    }

    /// The worst exit status of the points (130 first: the sweep was interrupted).
    pub fn exit_code(&self) -> u8 {
        let codes = self.points.iter().map(|p| p.report.exit_code());
        if self.points.iter().any(|p| p.report.interrupted) {
            130
        } else {
            codes.max().unwrap_or(0)
        }
    }

    /// The summary as a grid: for people (labels, units) or, `raw`, for CSV (keys
    /// and bare numbers, as the JSON names them).
    pub fn grid(&self, raw: bool) -> Grid {
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
        let rows = self
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
            headers: std::iter::once(self.sweep.parameter.name())
                .chain(headers)
                .map(String::from)
                .collect(),
            rows,
            text_columns: 2,
        }
    }

    /// The sweep in `format`: the summary first, then each point's report (CSV: the
    /// summary alone, one line per row of each point).
    pub fn render(&self, format: Format, wide: bool) -> String {
        let heading = format!(
            "Sweep of {} over {} point{}",
            self.sweep.parameter.name(),
            self.points.len(),
            if self.points.len() == 1 { "" } else { "s" }
        );
        let point_heading = |i: usize, point: &Point| {
            format!(
                "Point {} of {}: {}",
                i + 1,
                self.points.len(),
                self.sweep.label(point.value)
            )
        };
        match format {
            Format::Json => {
                let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
                text.push('\n');
                text
            }
            Format::Csv => self.grid(true).csv(),
            Format::Html => crate::html::sweep_page(self),
            Format::Markdown => {
                let mut out = format!("## {heading}\n\n{}", self.grid(false).markdown());
                for (i, point) in self.points.iter().enumerate() {
                    let _ = write!(
                        out,
                        "\n## {}\n\n{}",
                        point_heading(i, point),
                        point.report.render(format, wide)
                    );
                }
                out
            }
            _ => {
                let mut out = format!("{heading}:\n{}", self.grid(false).text("  "));
                for (i, point) in self.points.iter().enumerate() {
                    let _ = write!(
                        out,
                        "\n== {} ==\n{}",
                        point_heading(i, point),
                        point.report.render(Format::Table, wide)
                    );
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_parse_like_their_options() {
        let sweep = Sweep::parse("concurrency=1,2, 8").unwrap();
        assert_eq!(sweep.parameter, Parameter::Concurrency);
        assert_eq!(sweep.values, [1.0, 2.0, 8.0]);
        assert_eq!(
            Sweep::parse("rate=1000,2500.5").unwrap().values,
            [1000.0, 2500.5]
        );
        assert_eq!(Sweep::parse("list-size=0,10").unwrap().values, [0.0, 10.0]);
        for bad in [
            "concurrency",
            "threads=1,2",
            "concurrency=0",
            "connections=1,x",
            "concurrency=",
            "rate=-5",
        ] {
            assert!(Sweep::parse(bad).is_err(), "{bad}");
        }
    }
}
