//! The reply budget: a bound on the memory that replies waiting to be read can hold
//! across the whole server.
//!
//! A handler that builds a large reply (a list of every user) reserves its estimated
//! size first and hands the [`ReplyPermit`] to the connection with the reply (in the
//! response's extensions). The permit is released when the reply has been sent or
//! abandoned, and the connection policy closes a connection that leaves such a reply
//! unread for the idle timeout. So clients that open many streams and never read them
//! hold at most the budget, and only for a bounded time; other large replies wait.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default reply budget: 32 MiB.
pub const DEFAULT_REPLY_BUDGET_BYTES: usize = 32 << 20;

const UNIT: usize = 1024;

/// Memory that replies in progress may hold, shared by every connection of a server.
/// Cheap to clone: clones share the budget.
#[derive(Debug, Clone)]
pub struct ReplyBudget {
    units: Arc<Semaphore>,
    total_units: u32,
}

impl Default for ReplyBudget {
    fn default() -> Self {
        ReplyBudget::new(DEFAULT_REPLY_BUDGET_BYTES)
    }
}

impl ReplyBudget {
    /// A budget of `bytes` (rounded up to whole KiB, at least 1 KiB).
    pub fn new(bytes: usize) -> Self {
        let total_units = u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX);
        ReplyBudget {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
        }
    }

    /// The whole budget, in bytes.
    pub fn total_bytes(&self) -> usize {
        self.total_units as usize * UNIT
    }

    /// The part of the budget no reply holds now, in bytes.
    pub fn available_bytes(&self) -> usize {
        self.units.available_permits() * UNIT
    }

    /// Waits until `bytes` of the budget are free and takes them. A reply larger than
    /// the whole budget waits for the whole budget, so it is served alone.
    pub async fn reserve(&self, bytes: usize) -> ReplyPermit {
        let units = u32::try_from(bytes.div_ceil(UNIT).max(1))
            .unwrap_or(u32::MAX)
            .min(self.total_units);
        // The semaphore is never closed, so this cannot fail; if it ever were, the reply
        // would go ahead unbudgeted rather than fail.
        let permit = self.units.clone().acquire_many_owned(units).await.ok();
        ReplyPermit(permit.map(Arc::new))
    }
}

/// A share of the reply budget, held until the reply that carries it is sent or
/// abandoned. Put it in the response's extensions; the connection takes it from there.
#[derive(Debug, Clone)]
pub struct ReplyPermit(
    #[allow(dead_code, reason = "held, never read: dropping it frees the budget")]
    Option<Arc<OwnedSemaphorePermit>>,
);

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn replies_wait_for_the_budget_and_free_it_when_dropped() {
        let budget = ReplyBudget::new(10 * UNIT);
        let first = budget.reserve(6 * UNIT).await;
        assert_eq!(budget.available_bytes(), 4 * UNIT);
        let second = budget.reserve(6 * UNIT);
        tokio::pin!(second);
        let waited = tokio::time::timeout(Duration::from_millis(50), &mut second).await;
        assert!(waited.is_err(), "a reply went over the budget");
        drop(first);
        let _second = second.await;
        assert_eq!(budget.available_bytes(), 4 * UNIT);
    }

    #[tokio::test]
    async fn a_reply_larger_than_the_budget_takes_all_of_it() {
        let budget = ReplyBudget::new(10 * UNIT);
        let whole = budget.reserve(1 << 30).await;
        assert_eq!(budget.available_bytes(), 0);
        drop(whole);
        assert_eq!(budget.available_bytes(), budget.total_bytes());
    }
}
