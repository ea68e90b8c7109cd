//! x floor and the ranking: each row against the floor, paired round by round, and
//! the rows from best to worst; with the notes, what turns measured rows into a
//! [`Report`].

use crate::analysis::checks;
use crate::interval::{Interval, median, median_interval};
use crate::machine::Machine;
use crate::model::{RankEntry, RankedBy, Report, ResultRow};
use crate::placement::Placement;
use crate::settings::{Lab, Settings};
use crate::stats::rank;

/// The report of a run: fills in x floor, ranks the rows and writes the notes.
pub(crate) fn assemble(
    settings: Settings,
    placement: Placement,
    machine: Machine,
    mut results: Vec<ResultRow>,
    interrupted: bool,
) -> Report {
    // In an open loop every row is offered the same rate: rank by (corrected) latency.
    let by_throughput = settings.clients() > 1 && settings.rate.is_none();
    let floor = results.iter().find(|r| r.protocol == Lab::Floor).cloned();
    for row in &mut results {
        row.invalid = checks::invalid_reason(row);
        let Some(floor) = &floor else { continue };
        if row.protocol == Lab::Floor {
            // 1 by definition, with nothing to be unsure of.
            row.x_floor = Some(1.0);
            continue;
        }
        let (x, interval) = x_floor(row, floor, by_throughput);
        row.x_floor = x;
        row.x_floor_lo = interval.map(|i| i.lo);
        row.x_floor_hi = interval.map(|i| i.hi);
    }
    let ranking = rank_rows(&results, by_throughput, |row| {
        row.invalid.is_none() && !checks::echo_only(row, &settings)
    });
    let mut notes = checks::notes(&settings, &placement, &results, &ranking);
    notes.extend(machine.advice.iter().cloned());
    Report {
        settings,
        placement,
        machine,
        results,
        ranked_by: if by_throughput {
            RankedBy::Throughput
        } else {
            RankedBy::P50
        },
        ranking,
        notes,
        interrupted,
        comparison: None,
        link_tally: None,
        http2_windows: Vec::new(),
        shard: None,
    }
}

/// The contestants from best to worst by x floor, each against the best, and tied
/// with the one above where their paired rounds cannot tell them apart.
/// Only rows that did the run's work (`ranked`) take part.
fn rank_rows(
    results: &[ResultRow],
    by_throughput: bool,
    ranked: impl Fn(&ResultRow) -> bool,
) -> Vec<RankEntry> {
    let entries: Vec<(usize, f64)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.protocol != Lab::Floor && ranked(r))
        .filter_map(|(i, r)| r.x_floor.map(|v| (i, v)))
        .collect();
    let mut ranking: Vec<RankEntry> = Vec::new();
    for (index, ranked) in rank(&entries).into_iter().enumerate() {
        let row = &results[ranked.key];
        let tied = ranking
            .last()
            .and_then(|above| results.iter().find(|r| r.key == above.key))
            .is_some_and(|above| indistinguishable(above, row, by_throughput));
        let position = match ranking.last() {
            Some(above) if tied => above.position,
            _ => index + 1,
        };
        ranking.push(RankEntry {
            position,
            key: row.key,
            label: row.label,
            value: if by_throughput {
                row.throughput_rps
            } else {
                row.p50_us.unwrap_or_default()
            },
            percent_worse: ranked.percent_slower,
            x_floor: ranked.value,
            x_floor_lo: row.x_floor_lo,
            x_floor_hi: row.x_floor_hi,
            tied,
        });
    }
    ranking
}

/// True when the 95% interval of `b`'s round-by-round ratio to `a` holds 1: the
/// rounds, paired as they ran, do not show which is faster. With too few rounds for an
/// interval, the x floor intervals are compared instead, and without those the rows are
/// told apart (nothing says they tie).
fn indistinguishable(a: &ResultRow, b: &ResultRow, by_throughput: bool) -> bool {
    if let Some(interval) = median_interval(&paired_ratios(b, a, by_throughput)) {
        return interval.contains(1.0);
    }
    match (a.x_floor_hi, b.x_floor_lo) {
        (Some(a_hi), Some(b_lo)) => b_lo <= a_hi,
        _ => false,
    }
}

/// Each round's ratio of `row` to `reference` over the rounds both ran: p50 over p50,
/// or the reference's throughput over the row's, so above 1 is always slower. Rounds
/// without the figure are left out.
fn paired_ratios(row: &ResultRow, reference: &ResultRow, by_throughput: bool) -> Vec<f64> {
    row.rounds
        .iter()
        .zip(&reference.rounds)
        .filter_map(|(r, f)| {
            if by_throughput {
                ratio(f.throughput_rps, r.throughput_rps)
            } else {
                ratio(r.p50_us?, f.p50_us?)
            }
        })
        .collect()
}

/// `row` against `reference` over the whole run, where no round pairs.
fn whole_run_ratio(row: &ResultRow, reference: &ResultRow, by_throughput: bool) -> Option<f64> {
    if by_throughput {
        ratio(reference.throughput_rps, row.throughput_rps)
    } else {
        ratio(row.p50_us?, reference.p50_us?)
    }
}

fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    let value = numerator / denominator;
    (value.is_finite() && value > 0.0).then_some(value)
}

/// `row` against the floor: the median over the rounds both ran of each round's ratio,
/// so drift of the machine between rounds cancels out, with its 95% interval; the
/// whole-run ratio, and no interval, when no round pairs.
fn x_floor(
    row: &ResultRow,
    floor: &ResultRow,
    by_throughput: bool,
) -> (Option<f64>, Option<Interval>) {
    let paired = paired_ratios(row, floor, by_throughput);
    if paired.is_empty() {
        (whole_run_ratio(row, floor, by_throughput), None)
    } else {
        (median(&paired), median_interval(&paired))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_floor_pairs_rounds_and_a_slow_moment_does_not_move_it() {
        use crate::engine::Round;
        let rounds = |p50s: &[f64], rps: &[f64]| -> Vec<Round> {
            p50s.iter()
                .zip(rps)
                .map(|(&p50, &rps)| Round {
                    throughput_rps: rps,
                    seconds: 1.0,
                    p50_us: Some(p50),
                    p99_us: Some(p50 * 2.0),
                })
                .collect()
        };
        let mut floor = crate::analysis::checks::tests::row();
        let mut row = floor.clone();
        // The machine was three times slower in round 2, for both.
        floor.rounds = rounds(
            &[20.0, 20.0, 60.0, 20.0, 20.0],
            &[100.0, 100.0, 30.0, 100.0, 100.0],
        );
        row.rounds = rounds(
            &[40.0, 40.0, 150.0, 40.0, 44.0],
            &[40.0, 50.0, 10.0, 50.0, 50.0],
        );
        // Whole-run p50s would give 44/20 = 2.2; paired, the median ratio is 2.0.
        (floor.p50_us, row.p50_us) = (Some(20.0), Some(44.0));
        assert_eq!(x_floor(&row, &floor, false).0, Some(2.0));
        assert_eq!(x_floor(&row, &floor, true).0, Some(2.0));
        // Unpaired rounds (medians unknown): the whole-run ratio.
        row.rounds.iter_mut().for_each(|r| r.p50_us = None);
        assert_eq!(x_floor(&row, &floor, false).0, Some(2.2));
        row.p50_us = None;
        assert_eq!(x_floor(&row, &floor, false).0, None);
    }

    #[test]
    fn rows_the_rounds_cannot_tell_apart_share_a_place() {
        use crate::engine::Round;
        let rounds = |p50s: &[f64]| -> Vec<Round> {
            p50s.iter()
                .map(|&p50| Round {
                    throughput_rps: 1e6 / p50,
                    seconds: 1.0,
                    p50_us: Some(p50),
                    p99_us: None,
                })
                .collect()
        };
        let base = crate::analysis::checks::tests::row();
        let with = |key, label, protocol, p50s: &[f64]| {
            let mut row = base.clone();
            (row.key, row.label, row.protocol) = (key, label, protocol);
            row.rounds = rounds(p50s);
            row.p50_us = median(p50s);
            row
        };
        let noisy = [20.0, 22.0, 18.0, 21.0, 19.0, 20.0, 23.0, 17.0, 20.0, 20.0];
        // a is 2% slower than b on average, but round by round either wins.
        let a: Vec<f64> = noisy.iter().map(|f| f * 2.04).collect();
        let b: Vec<f64> = noisy
            .iter()
            .enumerate()
            .map(|(i, f)| f * if i % 2 == 0 { 1.9 } else { 2.1 })
            .collect();
        // c is clearly slower: three times the floor every round.
        let c: Vec<f64> = noisy.iter().map(|f| f * 3.0).collect();
        let results = vec![
            with("floor", "Floor", Lab::Floor, &noisy),
            with("a", "A", Lab::Rest, &a),
            with("b", "B", Lab::Grpc, &b),
            with("c", "C", Lab::Socket, &c),
        ];
        let settings = <crate::Cli as clap::Parser>::parse_from(["benchmark"]).settings;
        let placement = Placement::decide(&[0, 1], None, None, None).unwrap();
        let report = assemble(settings, placement, Machine::detect(), results, false);
        let places: Vec<_> = report
            .ranking
            .iter()
            .map(|r| (r.key, r.position, r.tied))
            .collect();
        assert_eq!(places, [("b", 1, false), ("a", 1, true), ("c", 3, false)]);
        let a = &report.results[1];
        assert_eq!(a.x_floor, Some(2.04));
        let (lo, hi) = (a.x_floor_lo.unwrap(), a.x_floor_hi.unwrap());
        assert!(
            (lo - 2.04).abs() < 1e-9 && (hi - 2.04).abs() < 1e-9,
            "{lo} {hi}"
        );
        let b = &report.results[2];
        assert_eq!((b.x_floor_lo, b.x_floor_hi), (Some(1.9), Some(2.1)));
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.starts_with("B and A: not distinguishable")),
            "{:?}",
            report.notes
        );
    }
}
