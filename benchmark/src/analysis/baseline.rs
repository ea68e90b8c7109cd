//! A run against a saved one (`--baseline FILE`): each row's change in p50, p99,
//! throughput and x floor, marked when it is larger than the run-to-run noise, and a
//! regression past `--fail-on PERCENT` for the exit status.
//!
//! **Noise** is measured in the two runs themselves: every run is cut into rounds
//! (`--rounds`, 10 by default) that take turns with the other rows, so each figure is
//! measured once per round. A figure's noise in one run is the spread of its round
//! values, (largest - smallest) / median; the comparison uses the larger of the two
//! runs' noise. A change inside it is what the machine does between two moments of
//! the same run, so it is not marked; with fewer than two rounds (or too few requests
//! a round for a percentile) the noise is unknown and says so.

use std::path::Path;

use crate::model::{Baseline, Change, Comparison, Figure, Figures, RankedBy};
use crate::settings::Lab;

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("cannot read the baseline {path}")]
    Read {
        /// The file.
        path: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not a benchmark JSON report.
    #[error("{path} is not a benchmark JSON report (save one with --save-baseline FILE)")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said.
        source: serde_json::Error,
    },
}

impl Baseline {
    /// Reads a JSON report saved with `--save-baseline` (or `--format json`).
    ///
    /// # Errors
    ///
    /// When the file cannot be read or is not such a report.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| BaselineError::Parse {
            path: shown,
            source,
        })
    }
}

impl Figure {
    /// The figure of a whole run.
    fn of(self, row: &Figures) -> Option<f64> {
        match self {
            Figure::P50 => row.p50_us,
            Figure::P99 => row.p99_us,
            Figure::Throughput => Some(row.throughput_rps),
            Figure::XFloor => row.x_floor,
        }
        .filter(|v| v.is_finite() && *v > 0.0)
    }

    /// The figure of each round; x floor pairs each round with the floor's same round,
    /// as the report does.
    fn per_round(self, row: &Figures, floor: Option<&Figures>, by_throughput: bool) -> Vec<f64> {
        let values: Vec<Option<f64>> = match self {
            Figure::P50 => row.rounds.iter().map(|r| r.p50_us).collect(),
            Figure::P99 => row.rounds.iter().map(|r| r.p99_us).collect(),
            Figure::Throughput => row.rounds.iter().map(|r| Some(r.throughput_rps)).collect(),
            Figure::XFloor => {
                let Some(floor) = floor else {
                    return Vec::new();
                };
                row.rounds
                    .iter()
                    .zip(&floor.rounds)
                    .map(|(r, f)| {
                        if by_throughput {
                            Some(f.throughput_rps / r.throughput_rps)
                        } else {
                            Some(r.p50_us? / f.p50_us?)
                        }
                    })
                    .collect()
            }
        };
        values
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect()
    }

    /// Whether going from `before` to `after` is worse.
    fn worse(self, before: f64, after: f64) -> bool {
        match self {
            Figure::Throughput => after < before,
            _ => after > before,
        }
    }
}

/// A run's noise in a figure: the spread of its round values over their median, as a
/// fraction; `None` below two rounds.
pub(crate) fn noise(rounds: &[f64]) -> Option<f64> {
    if rounds.len() < 2 {
        return None;
    }
    let mut sorted = rounds.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    };
    let spread = sorted[sorted.len() - 1] - sorted[0];
    (median > 0.0).then(|| spread / median)
}

/// The settings worth warning about when they differ.
const COMPARED_SETTINGS: [&str; 11] = [
    "workload",
    "list_size",
    "payload",
    "connection",
    "concurrency",
    "connections",
    "iterations",
    "duration",
    "rate",
    "rounds",
    "client_cpus",
];

/// Compares `now` against `before` (both as a baseline keeps them).
pub(crate) fn compare(
    file: &str,
    before: &Baseline,
    now: &Baseline,
    fail_on: Option<f64>,
) -> Comparison {
    let floor_of = |run: &Baseline| run.results.iter().find(|r| is_floor(r)).cloned();
    let (floor_before, floor_now) = (floor_of(before), floor_of(now));
    let mut changes = Vec::new();
    let mut unmatched = Vec::new();
    for row in &now.results {
        let Some(old) = before.results.iter().find(|r| r.key == row.key) else {
            unmatched.push(format!("{} (not in the baseline)", row.label));
            continue;
        };
        for figure in Figure::ALL {
            let (Some(was), Some(is)) = (figure.of(old), figure.of(row)) else {
                continue;
            };
            if figure == Figure::XFloor && is_floor(row) {
                continue;
            }
            let spread = |run: &Baseline, r: &Figures, floor: &Option<Figures>| {
                noise(&figure.per_round(r, floor.as_ref(), run.ranked_by == RankedBy::Throughput))
            };
            let noise = match (
                spread(before, old, &floor_before),
                spread(now, row, &floor_now),
            ) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
            let change = is / was - 1.0;
            let beyond_noise = noise.is_some_and(|n| change.abs() > n);
            let worse = figure.worse(was, is);
            let past_threshold = fail_on.is_some_and(|limit| change.abs() * 100.0 > limit);
            changes.push(Change {
                key: row.key.clone(),
                label: row.label.clone(),
                figure,
                before: was,
                after: is,
                percent: change * 100.0,
                noise_percent: noise.map(|n| n * 100.0),
                beyond_noise,
                worse,
                regression: worse && past_threshold && (beyond_noise || noise.is_none()),
            });
        }
    }
    for old in &before.results {
        if !now.results.iter().any(|r| r.key == old.key) {
            unmatched.push(format!("{} (not in this run)", old.label));
        }
    }
    let different_settings = COMPARED_SETTINGS
        .iter()
        .filter_map(|name| {
            let (was, is) = (before.settings.get(name)?, now.settings.get(name)?);
            (was != is).then(|| format!("{name}: {was} -> {is}"))
        })
        .collect();
    Comparison {
        file: file.to_owned(),
        fail_on_percent: fail_on,
        changes,
        unmatched,
        different_settings,
    }
}

/// Whether a baseline's row is the floor's: by its server where the report says, by
/// its key in older reports.
fn is_floor(row: &Figures) -> bool {
    row.protocol
        .map_or(row.key == Lab::Floor.key(), |lab| lab == Lab::Floor)
}

/// True when a figure got worse past `--fail-on` and past the noise.
pub(crate) fn regressed(comparison: &Comparison) -> bool {
    comparison.changes.iter().any(|c| c.regression)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Round;
    use crate::render::comparison::{grid, notes};

    fn rounds(values: &[(f64, f64, f64)]) -> Vec<Round> {
        values
            .iter()
            .map(|&(rps, p50, p99)| Round {
                throughput_rps: rps,
                seconds: 1.0,
                p50_us: Some(p50),
                p99_us: Some(p99),
            })
            .collect()
    }

    fn row(key: &str, rps: f64, p50: f64, spread: f64) -> Figures {
        // Three rounds spread by `spread` either side of the whole-run figures.
        let (low, high) = (1.0 - spread, 1.0 + spread);
        Figures {
            protocol: None,
            key: key.into(),
            label: key.to_uppercase(),
            p50_us: Some(p50),
            p99_us: Some(p50 * 3.0),
            throughput_rps: rps,
            x_floor: None,
            rounds: rounds(&[
                (rps * low, p50 * high, p50 * 3.0 * high),
                (rps, p50, p50 * 3.0),
                (rps * high, p50 * low, p50 * 3.0 * low),
            ]),
        }
    }

    fn run(rows: Vec<Figures>) -> Baseline {
        Baseline {
            results: rows,
            ranked_by: RankedBy::Throughput,
            settings: serde_json::json!({"concurrency": 8}),
        }
    }

    fn change<'a>(c: &'a Comparison, key: &str, figure: Figure) -> &'a Change {
        c.changes
            .iter()
            .find(|x| x.key == key && x.figure == figure)
            .unwrap()
    }

    #[test]
    fn noise_is_the_spread_of_the_rounds_over_their_median() {
        assert_eq!(noise(&[90.0, 100.0, 110.0]), Some(0.2));
        assert_eq!(noise(&[100.0, 110.0]), Some(10.0 / 105.0));
        assert_eq!(noise(&[100.0]), None);
    }

    #[test]
    fn a_planted_regression_is_flagged_and_a_change_within_the_noise_is_not() {
        // Rounds spread 5% either side: noise 10%.
        let before = run(vec![
            row("floor", 100_000.0, 20.0, 0.05),
            row("grpc", 40_000.0, 130.0, 0.05),
            row("rest", 80_000.0, 90.0, 0.05),
        ]);
        // gRPC lost 30% of its throughput and its p50 rose 40%; REST moved 4%.
        let now = run(vec![
            row("floor", 101_000.0, 20.0, 0.05),
            row("grpc", 28_000.0, 182.0, 0.05),
            row("rest", 76_800.0, 93.6, 0.05),
        ]);
        let c = compare("base.json", &before, &now, Some(10.0));
        let grpc = change(&c, "grpc", Figure::Throughput);
        assert!((grpc.percent + 30.0).abs() < 1e-9);
        assert!((grpc.noise_percent.unwrap() - 10.0).abs() < 1e-9);
        assert!(grpc.beyond_noise && grpc.worse && grpc.regression);
        assert!(change(&c, "grpc", Figure::P50).regression);
        let rest = change(&c, "rest", Figure::Throughput);
        assert!(rest.worse && !rest.beyond_noise && !rest.regression);
        assert!(!change(&c, "rest", Figure::P50).regression);
        assert!(regressed(&c));
        let text = grid(&c).text("");
        assert!(
            text.contains("REGRESSION") && text.contains("within noise"),
            "{text}"
        );
        // Without --fail-on the change is marked, but nothing fails.
        let marked = compare("base.json", &before, &now, None);
        assert!(!regressed(&marked));
        assert!(grid(&marked).text("").contains("worse"));
    }

    #[test]
    fn a_better_run_is_not_a_regression_and_a_noisier_run_widens_the_noise() {
        let before = run(vec![row("grpc", 40_000.0, 130.0, 0.01)]);
        let faster = run(vec![row("grpc", 60_000.0, 100.0, 0.01)]);
        let c = compare("b", &before, &faster, Some(5.0));
        assert!(!regressed(&c));
        assert!(change(&c, "grpc", Figure::Throughput).beyond_noise);
        // 20% slower, but this run's rounds spread 15% either side (30% noise).
        let noisy = run(vec![row("grpc", 32_000.0, 130.0, 0.15)]);
        let c = compare("b", &before, &noisy, Some(5.0));
        let t = change(&c, "grpc", Figure::Throughput);
        assert!(!t.beyond_noise && !t.regression, "{t:?}");
    }

    #[test]
    fn unknown_noise_settings_and_missing_rows_are_said() {
        let mut one_round = row("grpc", 40_000.0, 130.0, 0.0);
        one_round.rounds.truncate(1);
        let before = run(vec![one_round.clone(), row("ws", 1.0, 1.0, 0.0)]);
        let mut now = run(vec![Figures {
            throughput_rps: 20_000.0,
            ..one_round
        }]);
        now.settings = serde_json::json!({"concurrency": 1});
        let c = compare("b", &before, &now, Some(10.0));
        let t = change(&c, "grpc", Figure::Throughput);
        // Past --fail-on with the noise unknown: a regression.
        assert!(t.noise_percent.is_none() && t.regression);
        let notes = notes(&c).join("\n");
        assert!(notes.contains("Noise unknown"), "{notes}");
        assert!(notes.contains("concurrency: 8 -> 1"), "{notes}");
        assert!(notes.contains("WS (not in this run)"), "{notes}");
    }

    #[test]
    fn a_report_reads_back_as_a_baseline() {
        let mut row = crate::analysis::checks::tests::row();
        row.rounds = rounds(&[(10.0, 100.0, 200.0), (12.0, 90.0, 180.0)]);
        let json = serde_json::to_string(&serde_json::json!({
            "results": [row],
            "ranked_by": "p50",
        }))
        .unwrap();
        let path = std::env::temp_dir().join(format!("commlab-base-{}.json", std::process::id()));
        std::fs::write(&path, json).unwrap();
        let baseline = Baseline::load(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(baseline.results[0].key, row.key);
        assert_eq!(baseline.results[0].rounds.len(), 2);
        let bad = std::env::temp_dir().join(format!("commlab-bad-{}.json", std::process::id()));
        std::fs::write(&bad, "{}").unwrap();
        let error = Baseline::load(&bad).unwrap_err().to_string();
        std::fs::remove_file(&bad).unwrap();
        assert!(error.contains("not a benchmark JSON report"), "{error}");
    }
}
