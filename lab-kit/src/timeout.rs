//! A per-request timeout that costs (almost) nothing per request.
//!
//! `tokio::time::timeout` registers a timer entry for every call and removes it again,
//! which shows up when requests take microseconds. [`ReusableTimeout`] keeps one timer
//! armed and only moves it when it fires: a wait that ends in time costs one clock read.
//! When the timer fires for a deadline that belongs to an earlier wait, it is re-armed
//! for the current one, so every wait still gets its full limit.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The wait took longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed;

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// A timeout of a fixed length, reused for a sequence of waits (one at a time).
#[derive(Debug)]
pub struct ReusableTimeout {
    limit: Duration,
    timer: Pin<Box<Sleep>>,
}

impl ReusableTimeout {
    /// A timeout of `limit` for each wait.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with time enabled (like `tokio::time::sleep`).
    pub fn new(limit: Duration) -> Self {
        ReusableTimeout {
            limit,
            timer: Box::pin(tokio::time::sleep(limit)),
        }
    }

    /// The limit each wait gets.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Waits for `future`, giving up with [`Elapsed`] once it has taken longer than the
    /// limit. Dropping the returned future cancels the wait and nothing else.
    ///
    /// # Errors
    ///
    /// [`Elapsed`] when the limit passes first.
    pub async fn run<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        let deadline = Instant::now() + self.limit;
        tokio::pin!(future);
        loop {
            tokio::select! {
                biased;
                output = &mut future => return Ok(output),
                () = self.timer.as_mut() => {
                    let now = Instant::now();
                    if now >= deadline {
                        self.timer.as_mut().reset(now + self.limit);
                        return Err(Elapsed);
                    }
                    // The timer was set for an earlier wait: move it to this one's deadline.
                    self.timer.as_mut().reset(deadline);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn quick_waits_pass_and_slow_ones_time_out() {
        let mut timeout = ReusableTimeout::new(Duration::from_secs(5));
        assert_eq!(timeout.run(async { 7 }).await, Ok(7));
        let slow = tokio::time::sleep(Duration::from_secs(6));
        assert_eq!(timeout.run(slow).await, Err(Elapsed));
    }

    #[tokio::test(start_paused = true)]
    async fn every_wait_gets_its_full_limit() {
        let mut timeout = ReusableTimeout::new(Duration::from_secs(5));
        // Use up most of the first timer's period with short waits...
        for _ in 0..4 {
            let short = tokio::time::sleep(Duration::from_secs(1));
            assert!(timeout.run(short).await.is_ok());
        }
        // ...then a wait of 4.5 s: the timer fires at 5 s (set for the first wait), but
        // this wait's own deadline is 9 s, so it must go on and succeed.
        let started = Instant::now();
        let wait = tokio::time::sleep(Duration::from_millis(4500));
        assert!(timeout.run(wait).await.is_ok());
        assert_eq!(started.elapsed(), Duration::from_millis(4500));
        // And a wait longer than the limit still times out at its own deadline.
        let started = Instant::now();
        let long = tokio::time::sleep(Duration::from_secs(60));
        assert_eq!(timeout.run(long).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
