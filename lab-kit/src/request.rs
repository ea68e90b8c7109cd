//! Request bodies under a clock and a budget, so a client cannot pin memory with
//! requests it never finishes.
//!
//! Every request body the HTTP servers read goes through [`Budgeted`]:
//! - **the budget**: each byte received draws from one server-wide [`RequestBudget`]
//!   (`--request-budget-mib`) until the unit it belongs to is complete (a gRPC message,
//!   by its length prefix; any other body, as a whole). When the budget is spent the
//!   body fails at once, so the worst case is that figure, not connections x streams x
//!   message size;
//! - **the clock**: a unit that is not complete within the idle timeout (counted from
//!   the request, then from the last complete message) fails the body. Live streams
//!   (the gRPC chat, whose messages come when people type) are exempt from the clock,
//!   not from the budget.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Default request budget: request bytes buffered across the whole server.
pub const DEFAULT_REQUEST_BUDGET_BYTES: usize = 32 << 20;

/// Request bytes the whole server may hold in incomplete units at once.
#[derive(Debug, Clone)]
pub struct RequestBudget {
    bytes: Arc<Semaphore>,
}

impl Default for RequestBudget {
    fn default() -> Self {
        RequestBudget::new(DEFAULT_REQUEST_BUDGET_BYTES)
    }
}

impl RequestBudget {
    /// A budget of `bytes` (at least one).
    pub fn new(bytes: usize) -> Self {
        RequestBudget {
            bytes: Arc::new(Semaphore::new(bytes.clamp(1, Semaphore::MAX_PERMITS))),
        }
    }

    /// Bytes not held by any request now.
    pub fn available_bytes(&self) -> usize {
        self.bytes.available_permits()
    }
}

/// Why a request body was cut short.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// The server's request budget is spent.
    #[error("the server's request budget is spent: try again shortly")]
    Budget,
    /// A unit stayed incomplete for the idle timeout.
    #[error("the request did not complete a message within {0:?}")]
    Incomplete(Duration),
    /// The body itself failed (the connection broke).
    #[error("reading the request failed: {0}")]
    Body(Box<dyn std::error::Error + Send + Sync>),
}

/// How a body's bytes fall into units.
#[derive(Debug)]
enum Units {
    /// The whole body is one unit.
    Whole,
    /// gRPC's length-prefixed messages: bytes of the 5-byte prefix seen so far, then
    /// the bytes of the message still to come.
    Grpc { prefix: Vec<u8>, remaining: usize },
}

pin_project_lite::pin_project! {
    /// A request body that draws on the budget and keeps the clock (see the module).
    pub struct Budgeted<B> {
        #[pin]
        inner: B,
        budget: Arc<Semaphore>,
        held: Option<OwnedSemaphorePermit>,
        units: Units,
        idle: Duration,
        // When the unit in hand must be complete (`None` for a live stream), and the
        // timer for it, made only once the body has to wait (most bodies never do).
        deadline: Option<Instant>,
        timer: Option<Pin<Box<Sleep>>>,
        failed: bool,
    }
}

impl<B> std::fmt::Debug for Budgeted<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budgeted")
            .field(
                "held",
                &self.held.as_ref().map(OwnedSemaphorePermit::num_permits),
            )
            .field("units", &self.units)
            .finish_non_exhaustive()
    }
}

impl<B> Budgeted<B> {
    /// `inner` under `budget`; gRPC bodies (`grpc`) counted by message; with a clock of
    /// `idle` unless the request is a live stream (`None`).
    pub fn new(inner: B, budget: &RequestBudget, grpc: bool, idle: Option<Duration>) -> Self {
        Budgeted {
            inner,
            budget: Arc::clone(&budget.bytes),
            held: None,
            units: if grpc {
                Units::Grpc {
                    prefix: Vec::with_capacity(5),
                    remaining: 0,
                }
            } else {
                Units::Whole
            },
            idle: idle.unwrap_or(Duration::MAX),
            deadline: idle.map(|idle| Instant::now() + idle),
            timer: None,
            failed: false,
        }
    }
}

/// Walks `data` through gRPC's framing; returns how many of its bytes end complete
/// messages (those can give their budget back), counting the whole run of messages
/// that complete within it.
fn completed_bytes(units: &mut Units, data: &[u8]) -> usize {
    let Units::Grpc { prefix, remaining } = units else {
        return 0;
    };
    let mut done = 0;
    let mut at = 0;
    while at < data.len() {
        if *remaining > 0 {
            let take = (*remaining).min(data.len() - at);
            *remaining -= take;
            at += take;
        } else {
            let take = (5 - prefix.len()).min(data.len() - at);
            prefix.extend_from_slice(&data[at..at + take]);
            at += take;
            if prefix.len() == 5 {
                let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]);
                *remaining = length as usize;
                prefix.clear();
            } else {
                continue;
            }
        }
        if *remaining == 0 && prefix.is_empty() {
            done = at;
        }
    }
    done
}

impl<B> Body for Budgeted<B>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = RequestError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        // The clock first, so a stream of bytes that never completes cannot keep it
        // from being looked at.
        if this
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            *this.failed = true;
            *this.held = None;
            return Poll::Ready(Some(Err(RequestError::Incomplete(*this.idle))));
        }
        let frame = match this.inner.poll_frame(cx) {
            Poll::Pending => {
                // Waiting on the client: wake when its time is up.
                if let Some(deadline) = *this.deadline {
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                    if timer.deadline() != deadline {
                        timer.as_mut().reset(deadline);
                    }
                    if timer.as_mut().poll(cx).is_ready() {
                        *this.failed = true;
                        *this.held = None;
                        return Poll::Ready(Some(Err(RequestError::Incomplete(*this.idle))));
                    }
                }
                return Poll::Pending;
            }
            Poll::Ready(None) => {
                // The body is complete: its bytes are the handler's now.
                *this.held = None;
                return Poll::Ready(None);
            }
            Poll::Ready(Some(Err(e))) => {
                *this.failed = true;
                *this.held = None;
                return Poll::Ready(Some(Err(RequestError::Body(e.into()))));
            }
            Poll::Ready(Some(Ok(frame))) => frame,
        };
        let Some(data) = frame.data_ref() else {
            return Poll::Ready(Some(Ok(frame)));
        };
        let n = data.remaining();
        if n > 0 {
            let Ok(permit) = Arc::clone(this.budget)
                .try_acquire_many_owned(u32::try_from(n).unwrap_or(u32::MAX))
            else {
                *this.failed = true;
                *this.held = None;
                return Poll::Ready(Some(Err(RequestError::Budget)));
            };
            match this.held {
                Some(held) => held.merge(permit),
                None => *this.held = Some(permit),
            }
            // Complete gRPC messages give their share back, and restart the clock.
            let done = completed_bytes(this.units, data.chunk_prefix(n));
            if done > 0 {
                if let Some(held) = this.held.as_mut() {
                    let give_back = held.num_permits().min(done);
                    drop(held.split(give_back));
                }
                if this.deadline.is_some() {
                    *this.deadline = Some(Instant::now() + *this.idle);
                }
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The bytes of a data frame as one slice, for the framing walk (a frame's `Buf` is one
/// chunk for hyper's bodies; only its first chunk is walked otherwise).
trait ChunkPrefix {
    fn chunk_prefix(&self, n: usize) -> &[u8];
}

impl<T: Buf> ChunkPrefix for T {
    fn chunk_prefix(&self, n: usize) -> &[u8] {
        let chunk = self.chunk();
        &chunk[..chunk.len().min(n)]
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use bytes::Bytes;
    use http_body_util::BodyExt;

    use super::*;

    /// A body that yields `chunks`, then waits forever (a client that stopped sending).
    struct Stalls(VecDeque<Bytes>);

    impl Body for Stalls {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            match self.0.pop_front() {
                Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
                None => Poll::Pending,
            }
        }
    }

    fn grpc_message(len: usize) -> Vec<u8> {
        let mut bytes = vec![0];
        bytes.extend_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
        bytes.extend(std::iter::repeat_n(7u8, len));
        bytes
    }

    #[test]
    fn grpc_framing_counts_the_bytes_of_complete_messages() {
        let mut units = Units::Grpc {
            prefix: Vec::new(),
            remaining: 0,
        };
        let two = [grpc_message(3), grpc_message(0)].concat();
        assert_eq!(completed_bytes(&mut units, &two), 13);
        // A message split anywhere, its prefix included.
        let one = grpc_message(4);
        assert_eq!(completed_bytes(&mut units, &one[..2]), 0);
        assert_eq!(completed_bytes(&mut units, &one[2..7]), 0);
        assert_eq!(completed_bytes(&mut units, &one[7..]), 2);
        assert_eq!(completed_bytes(&mut Units::Whole, &one), 0);
    }

    #[tokio::test]
    async fn bytes_of_incomplete_requests_draw_on_one_budget() {
        let budget = RequestBudget::new(1000);
        let chunk = || Stalls(VecDeque::from([Bytes::from(vec![1u8; 600])]));
        let mut first = Budgeted::new(chunk(), &budget, false, None);
        assert!(first.frame().await.unwrap().is_ok());
        assert_eq!(budget.available_bytes(), 400);
        // A second incomplete request would pass the budget: refused at once.
        let mut second = Budgeted::new(chunk(), &budget, false, None);
        assert!(matches!(
            second.frame().await,
            Some(Err(RequestError::Budget))
        ));
        drop(first);
        assert_eq!(budget.available_bytes(), 1000);
    }

    #[tokio::test]
    async fn a_complete_grpc_message_gives_its_share_back() {
        let budget = RequestBudget::new(100);
        let bytes = [grpc_message(40), grpc_message(40)[..20].to_vec()].concat();
        let body = Stalls(VecDeque::from([Bytes::from(bytes)]));
        let mut body = Budgeted::new(body, &budget, true, None);
        assert!(body.frame().await.unwrap().is_ok());
        // The first message (45 bytes) is complete; the second's 20 are held.
        assert_eq!(budget.available_bytes(), 80);
    }

    #[tokio::test(start_paused = true)]
    async fn an_incomplete_unit_fails_after_the_idle_timeout_unless_live() {
        let budget = RequestBudget::new(1 << 20);
        let half = || {
            Stalls(VecDeque::from([Bytes::from(
                grpc_message(100)[..50].to_vec(),
            )]))
        };
        let mut body = Budgeted::new(half(), &budget, true, Some(Duration::from_secs(3)));
        assert!(body.frame().await.unwrap().is_ok());
        let started = Instant::now();
        assert!(matches!(
            body.frame().await,
            Some(Err(RequestError::Incomplete(_)))
        ));
        assert!(started.elapsed() >= Duration::from_secs(2));
        assert_eq!(budget.available_bytes(), 1 << 20, "its share is given back");
        // A live stream waits for as long as its client takes.
        let mut live = Budgeted::new(half(), &budget, true, None);
        assert!(live.frame().await.unwrap().is_ok());
        let waited = tokio::time::timeout(Duration::from_secs(3600), live.frame()).await;
        assert!(waited.is_err());
    }
}
