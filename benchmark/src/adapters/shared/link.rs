//! A connection the clients mapped to it share (`--connections K`): opened by the first
//! client that needs it, dropped when it breaks. With one client per connection (the
//! default) a link has one user and costs one uncontended lock.
//!
//! Two ways to share, as the protocols allow: a multiplexing connection (HTTP/2 streams,
//! the socket lab's pipeline) is [`Link::shared`]: each client takes a handle and sends
//! at once; a connection that carries one request at a time (HTTP/1.1, this benchmark's
//! WebSocket client) is [`Link::turn`]: clients queue for it, and the wait is part of
//! their latency.

use std::future::Future;
use std::rc::Rc;

use tokio::sync::{Mutex, MutexGuard};

use crate::engine::probe::CallError;

/// One connection and the clients that share it; cloned into each of them. Lives on one
/// load thread, like its clients.
#[derive(Debug)]
pub(crate) struct Link<C>(Rc<Mutex<Option<C>>>);

impl<C> Default for Link<C> {
    fn default() -> Self {
        Link(Rc::new(Mutex::new(None)))
    }
}

impl<C> Clone for Link<C> {
    fn clone(&self) -> Self {
        Link(Rc::clone(&self.0))
    }
}

impl<C> Link<C> {
    /// Waits until no other client is using the connection and holds it: the slot is
    /// empty when there is no connection yet (or the last one broke); put one back to
    /// keep it for the next client.
    pub(crate) async fn turn(&self) -> MutexGuard<'_, Option<C>> {
        self.0.lock().await
    }

    /// How many clients share this link.
    #[cfg(test)]
    pub(crate) fn clients(&self) -> usize {
        Rc::strong_count(&self.0)
    }
}

impl<C: Clone> Link<C> {
    /// A handle on the connection, opened by `connect` when there is none: clients send
    /// on their handles at once. Clients arriving while it opens wait for it, so only
    /// one connection is opened.
    ///
    /// # Errors
    ///
    /// What `connect` failed with.
    pub(crate) async fn shared<F, Fut>(&self, connect: F) -> Result<C, CallError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<C, CallError>>,
    {
        let mut slot = self.0.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = connect().await?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Drops the connection when `broken` says it is, so the next client opens another.
    pub(crate) async fn drop_if(&self, broken: impl FnOnce(&C) -> bool) {
        let mut slot = self.0.lock().await;
        if slot.as_ref().is_some_and(broken) {
            *slot = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn clients_of_a_shared_link_open_one_connection() {
        let link: Link<u32> = Link::default();
        let other = link.clone();
        let opened = Cell::new(0);
        let open = || async {
            opened.set(opened.get() + 1);
            tokio::task::yield_now().await;
            Ok(opened.get())
        };
        let (a, b) = tokio::join!(link.shared(open), other.shared(open));
        assert_eq!((a, b), (Ok(1), Ok(1)));
        assert_eq!(opened.get(), 1);
        assert_eq!(link.clients(), 2);
        link.drop_if(|c| *c == 1).await;
        assert_eq!(other.shared(open).await, Ok(2));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_turn_waits_for_the_client_before() {
        let link: Link<u32> = Link::default();
        let second = link.clone();
        tokio::task::LocalSet::new()
            .run_until(async move {
                let mut first = link.turn().await;
                *first = Some(7);
                let waiting = tokio::task::spawn_local(async move { *second.turn().await });
                tokio::task::yield_now().await;
                assert!(!waiting.is_finished());
                drop(first);
                assert_eq!(waiting.await.unwrap(), Some(7));
            })
            .await;
    }
}
