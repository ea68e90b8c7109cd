//! Per-sender sequence bookkeeping, pure (no I/O): duplicates dropped, gaps reported
//! as lost, late arrivals told apart from new ones.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;

use super::wire::Kind;

/// How many missing sequence numbers are remembered per sender, to recognise late
/// arrivals; beyond that the oldest are forgotten.
pub(super) const MAX_REMEMBERED_GAPS: usize = 1024;

/// What the receiver knows about one sender's sequence numbers.
#[derive(Debug, Default)]
pub(super) struct SenderState {
    /// The next sequence number expected (0: none yet); wider than a sequence number,
    /// so the one after the largest is still a number.
    pub(super) next: u128,
    /// Numbers skipped over and not seen since.
    pub(super) missing: BTreeSet<u64>,
}

/// Per-sender sequence bookkeeping: duplicates, gaps and late arrivals.
#[derive(Debug, Default)]
pub struct SequenceTracker {
    pub(super) senders: HashMap<SocketAddr, SenderState>,
}

/// What the tracker decided about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The next one expected.
    InOrder,
    /// Newer than expected: these were skipped (and may still come).
    AfterGap {
        /// First skipped number.
        first: u64,
        /// Last skipped number.
        last: u64,
    },
    /// Older than the newest, but was missing: it came late.
    Late,
    /// Already seen (or too old to tell): drop it.
    Duplicate,
}

impl SequenceTracker {
    /// Classifies datagram number `seq` from `from`. A `join` starts the sender afresh,
    /// since a restarted program numbers from 1 again.
    pub fn observe(&mut self, from: SocketAddr, kind: Kind, seq: u64) -> Verdict {
        if kind == Kind::Join {
            self.senders.remove(&from);
        }
        let state = self.senders.entry(from).or_default();
        if state.next == 0 {
            // First datagram heard from this sender: whatever came before it is not a loss
            // we can know about (we may have started later).
            state.next = u128::from(seq) + 1;
            return Verdict::InOrder;
        }
        let wide = u128::from(seq);
        if wide == state.next {
            state.next = wide + 1;
            Verdict::InOrder
        } else if wide > state.next {
            // next < seq <= u64::MAX, so next fits a sequence number.
            let first = u64::try_from(state.next).unwrap_or(u64::MAX);
            let last = seq - 1;
            // Remember only the newest gaps: the ones that may still arrive.
            let remembered = last
                .saturating_sub(MAX_REMEMBERED_GAPS as u64 - 1)
                .max(first);
            state.missing.extend(remembered..=last);
            while state.missing.len() > MAX_REMEMBERED_GAPS {
                state.missing.pop_first();
            }
            state.next = wide + 1;
            Verdict::AfterGap { first, last }
        } else if state.missing.remove(&seq) {
            Verdict::Late
        } else {
            Verdict::Duplicate
        }
    }

    /// Forgets a sender (it left).
    pub fn forget(&mut self, from: SocketAddr) {
        self.senders.remove(&from);
    }
}
