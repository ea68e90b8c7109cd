//! The report's charts, drawn by plotters as SVG: every chart has one line per row
//! (protocol and client), in the same colour on every chart.
//!
//! - the percentile spectrum, HdrHistogram style: latency against 1/(1-q) on a log
//!   axis, so 90%, 99% and 99.9% are evenly spaced and the tail shows (the latency on
//!   a log axis too, so a median of 20 us and a tail of 50 ms both read);
//! - the latency histogram: the share of requests in each latency band (20 bands a
//!   decade, log axis);
//! - in a `--duration` run, throughput, p50 and p99 over the run's time;
//! - in a sweep, throughput, p50 and p99 against the swept value.

use std::ops::Range;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::model::{Report, ResultRow, SweepReport};
use crate::render::hdr::spectrum;

/// How wide a series' line is, in pixels: nothing else on a chart is as wide.
pub(crate) const SERIES_WIDTH: u32 = 2;

/// A chart's size in pixels.
const SIZE: (u32, u32) = (860, 440);

/// One colour per row, in the report's order; distinct on white and for most colour
/// blindness (Okabe and Ito's palette, then two more).
const COLOURS: [RGBColor; 10] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(0, 114, 178),
    RGBColor(204, 121, 167),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
    RGBColor(150, 75, 0),
];

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlotError {
    /// plotters refused (it should not: the ranges are checked first).
    #[error("cannot draw the chart {0}: {1}")]
    Draw(String, String),
    /// A chart could not be written to `--plots`.
    #[error("cannot write {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// What a chart shows, which says how it is captioned and where a page puts it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ChartKind {
    /// Latency by percentile, of a run or (with its value) of one sweep point.
    Spectrum {
        /// The swept value of the point, in a sweep.
        point: Option<f64>,
    },
    /// Share of requests in each latency band.
    Histogram,
    /// A figure per second of a `--duration` run.
    OverTime,
    /// A figure against the swept value.
    AgainstSwept,
}

/// A finished chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chart {
    /// What it shows.
    pub(crate) kind: ChartKind,
    /// Its name, the file name under `--plots` (`spectrum`, `throughput-over-time`).
    pub id: String,
    /// What it shows, for people.
    pub title: String,
    /// The rows it draws, one line each, by key.
    pub series: Vec<String>,
    /// The SVG document.
    pub svg: String,
}

/// One line: a row's label and its points.
struct Line<'a> {
    key: &'a str,
    label: &'a str,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
}

/// How one axis is laid out.
#[derive(Clone, Copy)]
enum Axis {
    /// Evenly spaced values.
    Linear,
    /// Powers of ten evenly spaced.
    Log,
    /// 1/(1-q) on a log axis, labelled as the percentile q.
    Percentile,
}

impl Axis {
    fn is_log(self) -> bool {
        !matches!(self, Axis::Linear)
    }
}

/// What to draw: titles, axes and lines.
struct Plot<'a> {
    kind: ChartKind,
    id: String,
    title: String,
    x: (&'a str, Axis),
    y: (&'a str, Axis),
    lines: Vec<Line<'a>>,
}

fn colour(index: usize) -> RGBColor {
    COLOURS[index % COLOURS.len()]
}

/// The range of `values` for an axis, `headroom` times the largest at the top (room
/// for the legend, which sits top left); a log axis starts above zero.
fn span(values: impl Iterator<Item = f64>, axis: Axis, headroom: f64) -> Range<f64> {
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !low.is_finite() {
        return 0.0..1.0;
    }
    match axis {
        Axis::Linear => {
            let low = if low >= 0.0 { 0.0 } else { low * 1.1 };
            let high = if high > low {
                high * headroom
            } else {
                low + 1.0
            };
            low..high
        }
        Axis::Log | Axis::Percentile => {
            let low = low.max(1e-9);
            let high = high.max(low * 10.0);
            low / 1.2..high * headroom.max(1.2)
        }
    }
}

/// Fewest requests in every row for the latency histogram to be drawn.
const HISTOGRAM_SAMPLES: u64 = 500;

/// A percentile label for a point of the 1/(1-q) axis: 10 is 90%, 1000 is 99.9%.
fn percentile_label(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x);
    if q < 1e-9 {
        "0%".to_owned()
    } else if (q - q.round()).abs() < 1e-6 {
        format!("{q:.0}%")
    } else {
        let digits = (-(100.0 - q).log10() - 1e-6).ceil().max(1.0) as usize;
        format!("{q:.digits$}%")
    }
}

/// The percentile axis labelled at its decades only (0%, 90%, 99%, 99.9%...): the log
/// axis ticks every step in between too, and 80% 83.3% 85.7%... would overlap.
fn decade_label(x: f64) -> String {
    let decade = x.log10();
    if x >= 1.0 && (decade - decade.round()).abs() < 1e-9 {
        percentile_label(x)
    } else {
        String::new()
    }
}

fn short_number(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.abs() >= 100.0 || v == v.round() {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

impl Plot<'_> {
    fn draw(self) -> Result<Chart, PlotError> {
        let mut svg = String::new();
        let fail = |e: &dyn std::fmt::Display| PlotError::Draw(self.id.clone(), e.to_string());
        let xs = span(
            self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)),
            self.x.1,
            1.02,
        );
        let ys = span(
            self.lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)),
            self.y.1,
            1.4,
        );
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(&e))?;
            match (self.x.1.is_log(), self.y.1.is_log()) {
                (false, false) => self.lines_on(&root, xs, ys),
                (true, false) => self.lines_on(&root, xs.log_scale(), ys),
                (false, true) => self.lines_on(&root, xs, ys.log_scale()),
                (true, true) => self.lines_on(&root, xs.log_scale(), ys.log_scale()),
            }
            .map_err(|e| fail(&e))?;
            root.present().map_err(|e| fail(&e))?;
        }
        Ok(Chart {
            kind: self.kind,
            id: self.id,
            title: self.title,
            series: self.lines.iter().map(|l| l.key.to_owned()).collect(),
            svg,
        })
    }

    fn lines_on<X, Y>(
        &self,
        root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        x: X,
        y: Y,
    ) -> Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>
    where
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: ValueFormatter<f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 26))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .build_cartesian_2d(x, y)?;
        let percentile = matches!(self.x.1, Axis::Percentile);
        let x_label = move |v: &f64| {
            if percentile {
                decade_label(*v)
            } else {
                short_number(*v)
            }
        };
        chart
            .configure_mesh()
            .x_desc(self.x.0)
            .y_desc(self.y.0)
            .x_label_formatter(&x_label)
            .y_label_formatter(&|v| short_number(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 17))
            .draw()?;
        for line in &self.lines {
            // Series are the only lines 2 px wide (axes and ticks are 1).
            let style = line.colour.stroke_width(SERIES_WIDTH);
            let (colour, label) = (line.colour, line.label);
            chart
                .draw_series(LineSeries::new(line.points.iter().copied(), style))?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .label_font(("sans-serif", 16))
            .draw()?;
        Ok(())
    }
}

/// The percentile spectrum of each row: one point per step of HdrHistogram's
/// percentile iteration, 1/(1-q) against latency (the last, q = 1, at the count).
pub(crate) fn spectrum_points(histogram: &Histogram<u64>, nanos_per_unit: f64) -> Vec<(f64, f64)> {
    let count = histogram.len().max(1) as f64;
    spectrum(histogram)
        .into_iter()
        .map(|(q, nanos)| {
            let x = (1.0 / (1.0 - q)).min(count);
            (x, nanos as f64 / nanos_per_unit)
        })
        .collect()
}

/// The share of requests, percent, in each of 20 latency bands a decade.
pub(crate) fn histogram_points(histogram: &Histogram<u64>, nanos_per_unit: f64) -> Vec<(f64, f64)> {
    let total = histogram.len();
    if total == 0 {
        return Vec::new();
    }
    let step = 10f64.powf(1.0 / 20.0);
    let mut low = (histogram.min() as f64).max(1.0);
    let high = histogram.max() as f64;
    let mut points = Vec::new();
    while low <= high {
        let up = low * step;
        let count = histogram.count_between(low as u64, (up as u64).saturating_sub(1));
        let middle = (low * up).sqrt() / nanos_per_unit;
        points.push((middle, 100.0 * count as f64 / total as f64));
        low = up;
    }
    points
}

/// Microseconds on a log axis: the median and a tail 1,000 times slower both show.
const LATENCY: (&str, f64) = ("Latency (us, log scale)", 1e3);

/// One line per row of `report` that measured something, in the report's order and
/// colours.
fn row_lines<'a>(
    report: &'a Report,
    points: impl Fn(&ResultRow) -> Vec<(f64, f64)>,
) -> Vec<Line<'a>> {
    report
        .results
        .iter()
        .filter(|row| row.requests > 0)
        .enumerate()
        .map(|(i, row)| Line {
            key: row.key,
            label: row.label,
            colour: colour(i),
            points: points(row),
        })
        .collect()
}

/// A run's percentile spectrum, named `id`.
///
/// # Errors
///
/// When plotters cannot draw it.
pub(crate) fn spectrum_chart(
    report: &Report,
    point: Option<(&str, f64)>,
) -> Result<Chart, PlotError> {
    Plot {
        kind: ChartKind::Spectrum {
            point: point.map(|(_, value)| value),
        },
        id: match point {
            Some((name, value)) => format!("spectrum-{name}-{value}"),
            None => "spectrum".into(),
        },
        title: "Latency by percentile".into(),
        x: ("Percentile (log scale of 1/(1-q))", Axis::Percentile),
        y: (LATENCY.0, Axis::Log),
        lines: row_lines(report, |row| spectrum_points(&row.histogram, LATENCY.1)),
    }
    .draw()
}

/// The spectrum and histogram charts of a run, and its timeline charts in a
/// `--duration` run.
///
/// # Errors
///
/// When plotters cannot draw one.
pub(crate) fn run_charts(report: &Report) -> Result<Vec<Chart>, PlotError> {
    let lines = |points: &dyn Fn(&ResultRow) -> Vec<(f64, f64)>| row_lines(report, points);
    let (latency, per_unit) = LATENCY;
    let mut charts = vec![spectrum_chart(report, None)?];
    // Fifty samples in sixty bands are spikes on a zero line, not a shape.
    if report
        .results
        .iter()
        .all(|r| r.histogram.len() >= HISTOGRAM_SAMPLES)
    {
        charts.push(
            Plot {
                kind: ChartKind::Histogram,
                id: "histogram".into(),
                title: "Latency histogram".into(),
                x: (latency, Axis::Log),
                y: ("Requests (%)", Axis::Linear),
                lines: lines(&|row| histogram_points(&row.histogram, per_unit)),
            }
            .draw()?,
        );
    }
    if report.results.iter().any(|r| r.timeline.is_some()) {
        type Pick = fn(&crate::engine::timeline::Slot) -> Option<f64>;
        let over_time: [(&str, &str, &str, Pick); 3] = [
            (
                "throughput-over-time",
                "Throughput over the run",
                "Requests per second",
                |s| Some(s.throughput_rps),
            ),
            (
                "p50-over-time",
                "Median latency over the run",
                "p50 (us)",
                |s| s.p50_us,
            ),
            (
                "p99-over-time",
                "99th percentile over the run",
                "p99 (us)",
                |s| s.p99_us,
            ),
        ];
        for (id, title, y, pick) in over_time {
            charts.push(
                Plot {
                    kind: ChartKind::OverTime,
                    id: id.into(),
                    title: title.into(),
                    x: ("Seconds into the measurement", Axis::Linear),
                    y: (y, Axis::Linear),
                    lines: lines(&|row| {
                        row.timeline
                            .iter()
                            .flatten()
                            .filter_map(|slot| {
                                Some((slot.start_s + slot.span_s / 2.0, pick(slot)?))
                            })
                            .collect()
                    }),
                }
                .draw()?,
            );
        }
    }
    Ok(charts)
}

/// A sweep's charts: throughput, p50 and p99 against the swept value, one line per
/// row; then each point's spectrum.
///
/// # Errors
///
/// When plotters cannot draw one.
pub(crate) fn sweep_charts(sweep: &SweepReport) -> Result<Vec<Chart>, PlotError> {
    let name = sweep.sweep.parameter.name();
    let axis = sweep.sweep.parameter.axis();
    let values = &sweep.sweep.values;
    let spread = values.iter().copied().fold(f64::INFINITY, f64::min) > 0.0
        && values.iter().copied().fold(0.0, f64::max)
            >= 10.0 * values.iter().copied().fold(f64::INFINITY, f64::min);
    let x_axis = if spread { Axis::Log } else { Axis::Linear };
    // Rows in the order they first appear.
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for row in &sweep.summary {
        if !keys.iter().any(|(k, _)| *k == row.key) {
            keys.push((row.key, row.label));
        }
    }
    type Pick = fn(&crate::model::SummaryRow) -> Option<f64>;
    let figures: [(&str, &str, Pick); 4] = [
        ("throughput", "Requests per second", |r| {
            Some(r.throughput_rps)
        }),
        ("p50", "p50 (us)", |r| r.p50_us),
        ("p99", "p99 (us)", |r| r.p99_us),
        ("round-trips", "p50 in round trips", |r| r.round_trips),
    ];
    let mut charts = Vec::new();
    for (figure, y, pick) in figures {
        // Round trips only where a link gave the rows some.
        if !sweep.summary.iter().any(|r| pick(r).is_some()) {
            continue;
        }
        let lines = keys
            .iter()
            .enumerate()
            .map(|(i, (key, label))| Line {
                key,
                label,
                colour: colour(i),
                points: sweep
                    .summary
                    .iter()
                    .filter(|r| r.key == *key)
                    .filter_map(|r| Some((r.value, pick(r)?)))
                    .collect(),
            })
            .collect();
        charts.push(
            Plot {
                kind: ChartKind::AgainstSwept,
                id: format!("{figure}-vs-{name}"),
                title: format!(
                    "{} against {name}",
                    match figure {
                        "throughput" => "Throughput",
                        "round-trips" => "Round trips",
                        other => other,
                    }
                ),
                x: (&axis, x_axis),
                y: (y, Axis::Linear),
                lines,
            }
            .draw()?,
        );
    }
    for point in &sweep.points {
        charts.push(spectrum_chart(&point.report, Some((name, point.value)))?);
    }
    Ok(charts)
}

/// Writes each chart as `DIR/ID.svg` (making DIR), and returns the files.
///
/// # Errors
///
/// When the folder or a file cannot be written.
pub(crate) fn write_svgs(dir: &Path, charts: &[Chart]) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Write {
        path: dir.to_owned(),
        source,
    })?;
    charts
        .iter()
        .map(|chart| {
            let path = dir.join(format!("{}.svg", chart.id));
            std::fs::write(&path, &chart.svg).map_err(|source| PlotError::Write {
                path: path.clone(),
                source,
            })?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{new_histogram, record};

    /// The lines drawn as series.
    fn series_lines(svg: &str) -> usize {
        svg.lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""))
            .count()
    }

    #[test]
    fn the_percentile_axis_is_labelled_as_percentiles() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(100_000.0), "99.999%");
        // Only the decades get a label on the axis.
        assert_eq!(decade_label(1000.0), "99.9%");
        assert_eq!(decade_label(1.0), "0%");
        assert_eq!(decade_label(5.0), "");
        assert_eq!(decade_label(20.0), "");
    }

    #[test]
    fn spectrum_and_histogram_points_describe_the_histogram() {
        let mut histogram = new_histogram();
        for _ in 0..900 {
            record(&mut histogram, 100_000);
        }
        for _ in 0..100 {
            record(&mut histogram, 1_000_000);
        }
        let spectrum = spectrum_points(&histogram, 1e3);
        assert_eq!(spectrum[0].0, 1.0);
        // Up to 90% (x = 10) the latency is 100 us, past it 1 ms.
        assert!(
            spectrum
                .iter()
                .filter(|p| p.0 <= 10.0)
                .all(|p| (p.1 - 100.0).abs() < 0.1)
        );
        assert!((spectrum.last().unwrap().1 - 1000.0).abs() < 1.0);
        assert_eq!(spectrum.last().unwrap().0, 1000.0);
        let bands = histogram_points(&histogram, 1e3);
        let total: f64 = bands.iter().map(|p| p.1).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
        let peak = bands.iter().map(|p| p.1).fold(0.0, f64::max);
        assert_eq!(peak, 90.0);
    }

    #[test]
    fn the_histogram_waits_for_enough_requests_to_have_a_shape() {
        let report_with = |samples: u64| {
            let mut row = crate::analysis::checks::tests::row();
            for i in 0..samples {
                crate::stats::record(&mut row.histogram, 50_000 + i * 100);
            }
            let settings = <crate::Cli as clap::Parser>::parse_from(["benchmark"]).settings;
            Report {
                settings,
                placement: crate::placement::Placement::decide(&[0, 1], None, None, None).unwrap(),
                machine: crate::machine::Machine::detect(),
                results: vec![row],
                ranked_by: crate::model::RankedBy::P50,
                ranking: Vec::new(),
                notes: Vec::new(),
                interrupted: false,
                comparison: None,
                link_tally: None,
                http2_windows: Vec::new(),
                shard: None,
            }
        };
        let ids = |samples| -> Vec<String> {
            run_charts(&report_with(samples))
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect()
        };
        assert_eq!(ids(50), ["spectrum"]);
        assert_eq!(ids(HISTOGRAM_SAMPLES), ["spectrum", "histogram"]);
    }

    #[test]
    fn a_chart_draws_one_line_per_row_with_its_legend() {
        let chart = Plot {
            kind: ChartKind::Histogram,
            id: "t".into(),
            title: "Test & title".into(),
            x: ("x", Axis::Log),
            y: ("y", Axis::Linear),
            lines: vec![
                Line {
                    key: "a",
                    label: "REST (hyper)",
                    colour: colour(0),
                    points: vec![(1.0, 1.0), (10.0, 2.0)],
                },
                Line {
                    key: "b",
                    label: "gRPC <h2>",
                    colour: colour(1),
                    points: vec![(1.0, 3.0), (100.0, 1.0)],
                },
            ],
        }
        .draw()
        .unwrap();
        assert_eq!(series_lines(&chart.svg), 2, "{}", chart.svg);
        assert!(chart.svg.contains("REST (hyper)"));
        assert!(!chart.svg.contains("gRPC <h2>"), "text is escaped");
        assert_eq!(chart.series, ["a", "b"]);
    }
}
