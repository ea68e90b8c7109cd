//! x floor and the ranking: each row against the floor, paired round by round, and
//! the rows from best to worst; with the notes, what turns measured rows into a
//! [`Report`].

use crate::analysis::checks;
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
        row.x_floor = floor
            .as_ref()
            .and_then(|floor| x_floor(row, floor, by_throughput));
    }
    // Rank by x floor itself: the same paired figure, "fastest first".
    let entries: Vec<(usize, f64)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.protocol != Lab::Floor)
        .filter_map(|(i, r)| r.x_floor.map(|v| (i, v)))
        .collect();
    let ranking = rank(&entries)
        .into_iter()
        .map(|ranked| {
            let row = &results[ranked.key];
            RankEntry {
                position: ranked.position,
                key: row.key,
                label: row.label,
                value: if by_throughput {
                    row.throughput_rps
                } else {
                    row.p50_us.unwrap_or_default()
                },
                percent_worse: ranked.percent_slower,
            }
        })
        .collect();
    let notes = checks::notes(&settings, &placement, &results);
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
    }
}

/// `row` against the floor: the median over the rounds both ran of each round's
/// ratio (p50 over the floor's, or the floor's throughput over the row's), so drift of
/// the machine between rounds cancels out; the whole-run ratio when no round pairs.
fn x_floor(row: &ResultRow, floor: &ResultRow, by_throughput: bool) -> Option<f64> {
    let ratio = |row: f64, floor: f64| {
        let value = if by_throughput {
            floor / row
        } else {
            row / floor
        };
        (value.is_finite() && value > 0.0).then_some(value)
    };
    let mut paired: Vec<f64> = row
        .rounds
        .iter()
        .zip(&floor.rounds)
        .filter_map(|(r, f)| {
            if by_throughput {
                ratio(r.throughput_rps, f.throughput_rps)
            } else {
                ratio(r.p50_us?, f.p50_us?)
            }
        })
        .collect();
    if paired.is_empty() {
        return if by_throughput {
            ratio(row.throughput_rps, floor.throughput_rps)
        } else {
            ratio(row.p50_us?, floor.p50_us?)
        };
    }
    paired.sort_by(f64::total_cmp);
    let middle = paired.len() / 2;
    Some(if paired.len() % 2 == 1 {
        paired[middle]
    } else {
        (paired[middle - 1] + paired[middle]) / 2.0
    })
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
        assert_eq!(x_floor(&row, &floor, false), Some(2.0));
        assert_eq!(x_floor(&row, &floor, true), Some(2.0));
        // Unpaired rounds (medians unknown): the whole-run ratio.
        row.rounds.iter_mut().for_each(|r| r.p50_us = None);
        assert_eq!(x_floor(&row, &floor, false), Some(2.2));
        row.p50_us = None;
        assert_eq!(x_floor(&row, &floor, false), None);
    }
}
