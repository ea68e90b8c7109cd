//! A comparison with a baseline, for people: a grid of changes and the notes that say
//! how to read them.

use crate::model::{Comparison, Figure};
use crate::render::grid::Grid;
use crate::units::format_time;

/// The comparison as a grid: a line per row and figure.
pub(crate) fn grid(comparison: &Comparison) -> Grid {
    let rows = comparison
        .changes
        .iter()
        .map(|c| {
            let verdict = match (c.regression, c.beyond_noise, c.noise_percent, c.worse) {
                (true, ..) => "REGRESSION",
                (_, true, _, true) => "worse",
                (_, true, _, false) => "better",
                (_, false, None, _) => "noise unknown",
                (_, false, Some(_), _) => "within noise",
            };
            vec![
                c.label.clone(),
                name(c.figure).to_owned(),
                show(c.figure, c.before),
                show(c.figure, c.after),
                format!("{:+.1}%", c.percent),
                c.noise_percent
                    .map_or_else(|| "?".to_owned(), |n| format!("±{n:.1}%")),
                verdict.to_owned(),
            ]
        })
        .collect();
    Grid {
        headers: [
            "Row", "Figure", "Baseline", "Now", "Change", "Noise", "Verdict",
        ]
        .map(String::from)
        .to_vec(),
        rows,
        text_columns: 2,
    }
}

/// What to say above and below the grid.
pub(crate) fn notes(comparison: &Comparison) -> Vec<String> {
    let mut notes = vec![format!(
        "Against the baseline {}. Noise: each figure's spread over the rounds of a \
         run ((largest - smallest) / median), the larger of the two runs'; a change \
         within it is not marked.{}",
        comparison.file,
        match comparison.fail_on_percent {
            Some(limit) => format!(
                " A change for the worse past the noise and past {limit}% (--fail-on) \
                 is a REGRESSION and fails the exit status (3)."
            ),
            None => String::new(),
        }
    )];
    if comparison.changes.iter().any(|c| c.noise_percent.is_none()) {
        notes.push(
            "Noise unknown: a run of one round, or too few requests a round for the \
             percentile. Run with --rounds 3 or more and enough requests."
                .to_owned(),
        );
    }
    if !comparison.different_settings.is_empty() {
        notes.push(format!(
            "The two runs measured differently ({}): read the changes with that in mind.",
            comparison.different_settings.join(", ")
        ));
    }
    if !comparison.unmatched.is_empty() {
        notes.push(format!(
            "Not compared: {}.",
            comparison.unmatched.join(", ")
        ));
    }
    notes
}

fn name(figure: Figure) -> &'static str {
    match figure {
        Figure::P50 => "p50",
        Figure::P99 => "p99",
        Figure::Throughput => "throughput",
        Figure::XFloor => "x floor",
    }
}

fn show(figure: Figure, value: f64) -> String {
    match figure {
        Figure::P50 | Figure::P99 => format_time(value),
        Figure::Throughput => format!("{value:.0} req/s"),
        Figure::XFloor => format!("{value:.2}x"),
    }
}
