//! Rows take turns: round k of every row runs alone, one row after the other, before
//! round k+1 of any.
//!
//! A shared machine is slower at some moments than others, and a row measured in one
//! stretch takes whatever moment it gets. Cut into rounds and interleaved, the floor and
//! every protocol sample the same stretches, so their ratio (x floor) holds still from
//! run to run even when the absolute times drift. Nothing is measured until every row
//! has set up and warmed up, and no row cleans up until every row has finished, so the
//! unmeasured work of one row never lands in another's measurement.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How often a waiting row looks at the stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// Where a row stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seat {
    /// Setting up or warming up.
    Preparing,
    /// Ready for its rounds.
    Taking,
    /// Done, failed or stopped: no more turns.
    Left,
}

#[derive(Debug)]
struct State {
    seats: Vec<Seat>,
    /// Whose turn it is: (round, row).
    turn: (u32, usize),
    aborted: bool,
}

impl State {
    /// Moves the turn on from `row` to the next row still taking turns.
    fn pass(&mut self, row: usize) {
        let (round, _) = self.turn;
        let next_in_round = (row + 1..self.seats.len()).find(|&r| self.seats[r] != Seat::Left);
        self.turn = match next_in_round {
            Some(next) => (round, next),
            None => {
                let first = (0..self.seats.len()).find(|&r| self.seats[r] != Seat::Left);
                (round + 1, first.unwrap_or(0))
            }
        };
    }
}

/// The turn order of one run's rows.
#[derive(Debug)]
pub(crate) struct Turns {
    state: Mutex<State>,
    changed: Condvar,
    stop: Arc<AtomicBool>,
}

impl Turns {
    /// Turns for `rows` rows, every one preparing; setting `stop` releases every wait.
    pub(crate) fn new(rows: usize, stop: Arc<AtomicBool>) -> Self {
        Turns {
            state: Mutex::new(State {
                seats: vec![Seat::Preparing; rows],
                turn: (0, 0),
                aborted: false,
            }),
            changed: Condvar::new(),
            stop,
        }
    }

    /// Row `row`'s place in the order; leaves it when dropped.
    pub(crate) fn seat(&self, row: usize) -> Place<'_> {
        Place { turns: self, row }
    }

    /// Ends every row's turns: after a failure, nothing more is measured.
    pub(crate) fn abort(&self) {
        self.lock().aborted = true;
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits, re-checking every `STOP_CHECK`, until `done` holds or the run stops.
    fn wait_until(&self, mut done: impl FnMut(&State) -> bool) -> Option<MutexGuard<'_, State>> {
        let mut state = self.lock();
        loop {
            if state.aborted || self.stop.load(Ordering::Relaxed) {
                return None;
            }
            if done(&state) {
                return Some(state);
            }
            state = match self.changed.wait_timeout(state, STOP_CHECK) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// One row's place in the turn order.
#[derive(Debug)]
pub(crate) struct Place<'a> {
    turns: &'a Turns,
    row: usize,
}

impl Place<'_> {
    /// Blocks until it is this row's turn for `round` and every row has prepared;
    /// false when the run stopped or was aborted.
    pub(crate) fn wait_turn(&self, round: u32) -> bool {
        {
            let mut state = self.turns.lock();
            if state.seats[self.row] == Seat::Preparing {
                state.seats[self.row] = Seat::Taking;
            }
        }
        self.turns.changed.notify_all();
        let row = self.row;
        self.turns
            .wait_until(|state| {
                !state.seats.contains(&Seat::Preparing) && state.turn == (round, row)
            })
            .is_some()
    }

    /// This row's turn is over.
    pub(crate) fn pass(&self) {
        let mut state = self.turns.lock();
        if state.turn.1 == self.row {
            state.pass(self.row);
        }
        drop(state);
        self.turns.changed.notify_all();
    }

    /// This row takes no more turns.
    pub(crate) fn leave(&self) {
        let mut state = self.turns.lock();
        state.seats[self.row] = Seat::Left;
        if state.turn.1 == self.row {
            state.pass(self.row);
        }
        drop(state);
        self.turns.changed.notify_all();
    }

    /// Leaves, then waits until every other row has too: the moment to clean up
    /// without disturbing anyone's measurement. Returns at once after a stop.
    pub(crate) fn leave_and_wait_for_all(&self) {
        self.leave();
        let _ = self
            .turns
            .wait_until(|state| state.seats.iter().all(|&seat| seat == Seat::Left));
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::time::Instant;

    use super::*;

    /// Runs `rows` rows of `rounds` rounds on their own threads; row `quitter` leaves
    /// after its first round. Returns the order in which turns were taken.
    fn take_turns(rows: usize, rounds: u32, quitter: Option<usize>) -> Vec<(u32, usize)> {
        let turns = Turns::new(rows, Arc::default());
        let order = StdMutex::new(Vec::new());
        std::thread::scope(|scope| {
            for row in (0..rows).rev() {
                let (turns, order) = (&turns, &order);
                scope.spawn(move || {
                    let place = turns.seat(row);
                    // Later rows prepare first: turns still start with row 0.
                    std::thread::sleep(Duration::from_millis(5 * row as u64));
                    for round in 0..rounds {
                        assert!(place.wait_turn(round));
                        order.lock().unwrap().push((round, row));
                        place.pass();
                        if quitter == Some(row) {
                            break;
                        }
                    }
                    place.leave_and_wait_for_all();
                    order.lock().unwrap().push((u32::MAX, row));
                });
            }
        });
        order.into_inner().unwrap()
    }

    #[test]
    fn rows_take_each_round_in_order() {
        let order = take_turns(3, 2, None);
        let measured = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)];
        assert_eq!(order[..6], measured);
        // Nobody leaves to clean up before the last turn.
        assert_eq!(order.len(), 9);
    }

    #[test]
    fn a_row_that_leaves_early_is_skipped() {
        let order = take_turns(3, 3, Some(1));
        let measured = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 2)];
        assert_eq!(order[..7], measured);
    }

    #[test]
    fn nobody_starts_while_a_row_prepares_and_abort_or_stop_release_every_wait() {
        let stop = Arc::new(AtomicBool::new(false));
        let turns = Turns::new(2, Arc::clone(&stop));
        let ready = turns.seat(0);
        let _preparing = turns.seat(1);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let started = Instant::now();
                (ready.wait_turn(0), started.elapsed())
            });
            std::thread::sleep(Duration::from_millis(100));
            turns.abort();
            let (granted, waited) = waiting.join().unwrap();
            assert!(!granted, "row 1 never prepared, so row 0 never got a turn");
            assert!(waited >= Duration::from_millis(90));
        });

        let turns = Turns::new(2, Arc::clone(&stop));
        let first = turns.seat(0);
        let _second = turns.seat(1);
        stop.store(true, Ordering::Relaxed);
        let started = Instant::now();
        assert!(!first.wait_turn(0));
        first.leave_and_wait_for_all();
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
