//! Each row's latencies in HdrHistogram's own file formats (`--histograms DIR`), so the
//! standard tools read them: an interval log (`.hlog`, read by HistogramLogAnalyzer
//! and the hdrhistogram libraries) and a percentile distribution (`.hgrm`, the text
//! HdrHistogram's `outputPercentileDistribution` prints, read by its plotter).
//!
//! Values are recorded in nanoseconds; the `.hgrm` file prints them in milliseconds,
//! as the plotter expects, and the interval log's max column is in milliseconds too.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

/// Nanoseconds in a millisecond: the unit of the files.
const NANOS_PER_MS: f64 = 1e6;

/// Percentile ticks per halving of the distance to 100%, as HdrHistogram's own
/// percentile output uses.
pub(crate) const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Why the histograms could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExportError {
    /// A file or the folder could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The histogram could not be encoded (it should always encode).
    #[error("cannot encode the histogram of {0}: {1}")]
    Encode(String, String),
}

/// A row's histogram to write: its key names the files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Named<'a> {
    /// The row's key, `grpc-hyper`: the files are `grpc-hyper.hlog` and `.hgrm`.
    pub key: &'a str,
    /// Its latencies, in nanoseconds.
    pub histogram: &'a Histogram<u64>,
    /// How long the measurement took.
    pub wall: Duration,
}

/// Writes `<key>.hlog` and `<key>.hgrm` for each row into `dir` (made if missing), and
/// returns the files written.
///
/// # Errors
///
/// When the folder or a file cannot be written.
pub(crate) fn write_all(dir: &Path, rows: &[Named<'_>]) -> Result<Vec<PathBuf>, ExportError> {
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for row in rows {
        let log = interval_log(row)?;
        let distribution = percentile_distribution(row.histogram);
        for (extension, bytes) in [("hlog", log), ("hgrm", distribution.into_bytes())] {
            let path = dir.join(format!("{}.{extension}", row.key));
            std::fs::write(&path, bytes).map_err(|source| ExportError::Io {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
    }
    Ok(written)
}

/// An interval log holding the row's whole measurement as one interval, tagged with
/// the row's key.
///
/// # Errors
///
/// When the histogram cannot be encoded.
pub(crate) fn interval_log(row: &Named<'_>) -> Result<Vec<u8>, ExportError> {
    let fail = |e: &dyn std::fmt::Display| ExportError::Encode(row.key.to_owned(), e.to_string());
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let now = SystemTime::now();
    let started = now.checked_sub(row.wall).unwrap_or(now);
    let mut builder = IntervalLogWriterBuilder::new();
    builder
        .add_comment(&format!(
            "commlab benchmark {}: {} latencies in nanoseconds",
            lab_kit::build::VERSION,
            row.key
        ))
        .with_start_time(started)
        .with_max_value_divisor(NANOS_PER_MS);
    let mut writer = builder
        .begin_log_with(&mut bytes, &mut serializer)
        .map_err(|e| fail(&e))?;
    let tag = Tag::new(row.key);
    writer
        .write_histogram(row.histogram, Duration::ZERO, row.wall, tag)
        .map_err(|e| fail(&e))?;
    Ok(bytes)
}

/// The percentile distribution HdrHistogram prints (`outputPercentileDistribution`
/// with 5 ticks per half distance), values in milliseconds.
pub(crate) fn percentile_distribution(histogram: &Histogram<u64>) -> String {
    let ms = |nanos: f64| nanos / NANOS_PER_MS;
    let mut text = format!(
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    for step in histogram.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
        let value = ms(histogram.highest_equivalent(step.value_iterated_to()) as f64);
        let quantile = step.quantile_iterated_to();
        if quantile < 1.0 {
            let _ = writeln!(
                text,
                "{value:12.6} {quantile:2.12} {:10} {:14.2}",
                histogram.count_between(0, step.value_iterated_to()),
                1.0 / (1.0 - quantile)
            );
        } else {
            let _ = writeln!(
                text,
                "{value:12.6} {quantile:2.12} {:10}",
                histogram.count_between(0, step.value_iterated_to())
            );
        }
    }
    let _ = writeln!(
        text,
        "#[Mean    = {:12.6}, StdDeviation   = {:12.6}]",
        ms(histogram.mean()),
        ms(histogram.stdev())
    );
    let _ = writeln!(
        text,
        "#[Max     = {:12.6}, Total count    = {:12}]",
        ms(histogram.max() as f64),
        histogram.len()
    );
    let _ = writeln!(
        text,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        histogram.buckets(),
        (2 * 10u64.pow(u32::from(histogram.sigfig()))).next_power_of_two()
    );
    text
}

/// The percentile spectrum: each step of HdrHistogram's percentile iteration as
/// (quantile, latency in nanoseconds), up to the largest value.
pub(crate) fn spectrum(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    histogram
        .iter_quantiles(TICKS_PER_HALF_DISTANCE)
        .map(|step| {
            (
                step.quantile_iterated_to(),
                histogram.highest_equivalent(step.value_iterated_to()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use super::*;
    use crate::stats::{new_histogram, record};

    fn sample() -> Histogram<u64> {
        let mut histogram = new_histogram();
        for i in 1..=10_000u64 {
            record(&mut histogram, 20_000 + i * 37);
        }
        record(&mut histogram, 40_000_000);
        histogram
    }

    #[test]
    fn the_interval_log_reads_back_into_the_same_histogram() {
        let histogram = sample();
        let row = Named {
            key: "grpc-hyper",
            histogram: &histogram,
            wall: Duration::from_secs(2),
        };
        let bytes = interval_log(&row).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("#[StartTime: "), "{text}");
        let intervals: Vec<_> = IntervalLogIterator::new(&bytes)
            .filter_map(|entry| match entry.unwrap() {
                LogEntry::Interval(interval) => Some(interval),
                _ => None,
            })
            .collect();
        assert_eq!(intervals.len(), 1);
        let interval = &intervals[0];
        assert_eq!(interval.tag().map(|t| t.as_str()), Some("grpc-hyper"));
        assert_eq!(interval.duration(), Duration::from_secs(2));
        // The max column is in milliseconds.
        assert!((interval.max() - 40.0).abs() < 0.1, "{}", interval.max());
        let encoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .unwrap();
        let back: Histogram<u64> = Deserializer::new()
            .deserialize(&mut Cursor::new(encoded))
            .unwrap();
        assert_eq!(back, histogram);
        assert_eq!(
            back.value_at_quantile(0.99),
            histogram.value_at_quantile(0.99)
        );
    }

    #[test]
    fn the_percentile_distribution_lists_the_histogram_in_milliseconds() {
        let histogram = sample();
        let text = percentile_distribution(&histogram);
        let rows: Vec<Vec<f64>> = text
            .lines()
            .skip(2)
            .take_while(|line| !line.starts_with('#'))
            .map(|line| {
                line.split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect()
            })
            .collect();
        assert!(rows.len() > 20, "{text}");
        for row in &rows {
            let (value_ms, quantile, count) = (row[0], row[1], row[2]);
            // Each line's value is the histogram's own value at that percentile.
            let nanos = histogram.highest_equivalent(histogram.value_at_quantile(quantile));
            assert!((value_ms - nanos as f64 / 1e6).abs() < 1e-6, "{row:?}");
            assert_eq!(count as u64, histogram.count_between(0, nanos), "{row:?}");
            if quantile < 1.0 {
                assert!((row[3] - 1.0 / (1.0 - quantile)).abs() < 0.01, "{row:?}");
            }
        }
        let last = rows.last().unwrap();
        assert_eq!((last[1], last[2] as u64), (1.0, histogram.len()));
        assert!(text.contains(&format!("Total count    = {:12}", histogram.len())));
    }

    #[test]
    fn every_row_gets_both_files() {
        let dir = std::env::temp_dir().join(format!("commlab-hdr-{}", std::process::id()));
        let histogram = sample();
        let rows = [
            Named {
                key: "floor",
                histogram: &histogram,
                wall: Duration::from_secs(1),
            },
            Named {
                key: "socket",
                histogram: &histogram,
                wall: Duration::from_secs(1),
            },
        ];
        let written = write_all(&dir, &rows).unwrap();
        let names: Vec<_> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["floor.hlog", "floor.hgrm", "socket.hlog", "socket.hgrm"]
        );
        assert!(written.iter().all(|p| p.metadata().unwrap().len() > 100));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
