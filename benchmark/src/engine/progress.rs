//! Progress while a measurement runs, on stderr so stdout keeps only the report.
//!
//! On a terminal: an `indicatif` bar per row, all rows together (they take turns), shown
//! once a measurement has lasted more than a moment. Otherwise (a log, CI): the original
//! lab's `Completed: 10/50` lines, one at each fifth of a row, named by the row.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::probe::Shared;
use crate::settings::Length;

/// A measurement shorter than this shows no bar.
const MOMENT: Duration = Duration::from_millis(300);
const TICK: Duration = Duration::from_millis(50);

/// Where every row's progress is drawn: one bar per row on a terminal, lines otherwise.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Bars when standard error is a terminal, lines when it is not.
    pub(crate) fn to_stderr() -> Self {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            bars: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
        }
    }
}

/// Follows `shared` until every one of `clients` has finished, reporting progress.
/// Runs on its own thread beside the clients.
pub(crate) fn follow(
    progress: &Progress,
    label: &str,
    clients: usize,
    length: Length,
    shared: &Shared,
) {
    let total = match length {
        Length::Iterations(n) => Some(n.saturating_mul(clients as u64)),
        Length::Duration(_) => None,
    };
    // Hidden until the row has measured for a moment, then drawn among the others.
    let bar = progress
        .bars
        .as_ref()
        .map(|bars| (bars, new_bar(label, length, total)));
    let mut shown = false;
    if bar.is_none() {
        eprintln!("Benchmarking {label}...");
    }
    let mut started: Option<Instant> = None;
    let mut fifths_printed = 0u64;
    loop {
        let done = shared.finished.load(Ordering::Relaxed) >= clients;
        if started.is_none() && shared.measuring.load(Ordering::Relaxed) > 0 {
            started = Some(Instant::now());
        }
        let completed = shared.completed.load(Ordering::Relaxed);
        let elapsed = started.map(|s| s.elapsed()).unwrap_or_default();
        match &bar {
            Some((bars, bar)) => {
                if elapsed > MOMENT && !shown {
                    bars.add(bar.clone());
                    shown = true;
                }
                match length {
                    Length::Iterations(_) => bar.set_position(completed),
                    Length::Duration(d) => {
                        // The row's own measured time: its rounds done, not the wall
                        // clock, which runs through the other rows' turns too.
                        let share = rounds_share(shared);
                        bar.set_position((d.as_millis() as f64 * share) as u64);
                        bar.set_message(format!(
                            "{:.1}/{:.1} s measured, round {}/{}, {completed} requests",
                            d.as_secs_f64() * share,
                            d.as_secs_f64(),
                            shared.rounds_done.load(Ordering::Relaxed),
                            shared.rounds.load(Ordering::Relaxed).max(1)
                        ));
                    }
                }
            }
            None => {
                // Print each fifth the run has passed, with the original lab's wording.
                let fifth_reached = match (length, total) {
                    (Length::Iterations(_), Some(total)) if total > 0 => completed * 5 / total,
                    (Length::Duration(_), _) => (rounds_share(shared) * 5.0).floor() as u64,
                    _ => 0,
                };
                while fifths_printed < fifth_reached.min(5) {
                    fifths_printed += 1;
                    match (length, total) {
                        (Length::Iterations(_), Some(total)) => {
                            eprintln!("{label}: Completed: {}/{total}", total * fifths_printed / 5);
                        }
                        _ => {
                            eprintln!(
                                "{label}: {}% of its rounds measured, {completed} requests so far",
                                fifths_printed * 20
                            )
                        }
                    }
                }
            }
        }
        if done {
            break;
        }
        std::thread::sleep(TICK);
    }
    if let Some((bars, bar)) = bar {
        bar.finish_and_clear();
        if shown {
            bars.remove(&bar);
        }
    }
}

/// The share of its rounds a row has measured.
fn rounds_share(shared: &Shared) -> f64 {
    let total = shared.rounds.load(Ordering::Relaxed);
    if total == 0 {
        return 0.0;
    }
    f64::from(shared.rounds_done.load(Ordering::Relaxed)) / f64::from(total)
}

fn new_bar(label: &str, length: Length, total: Option<u64>) -> ProgressBar {
    let (len, template) = match (length, total) {
        (Length::Iterations(_), Some(total)) => (
            total,
            "{prefix:>8} [{bar:40}] {pos}/{len} requests ({per_sec})",
        ),
        (Length::Duration(d), _) => (d.as_millis() as u64, "{prefix:>8} [{bar:40}] {msg}"),
        _ => (0, "{prefix:>8} {pos}"),
    };
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}
