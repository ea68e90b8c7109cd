//! The connection policy every server shares: how many connections at once, and when a
//! connection is closed because nothing is happening on it or its peer stopped reading.
//!
//! A connection is watched by its I/O ([`Watched`]) and by its requests ([`Activity`]).
//! It is closed when, for the idle timeout:
//! - no request has been in progress (this starts at accept, so it covers a client that
//!   never sends a byte, never finishes the HTTP/2 preface, or only answers pings);
//! - a write has been waiting for the peer to read;
//! - a reply that holds a share of the reply budget has not been read to its end (an
//!   HTTP/2 stream whose window stays shut would otherwise hold its reply forever).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use std::net::{IpAddr, SocketAddr};

use crate::args::Span;
use crate::metrics::{OpenConnections, Opened};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// Default cap on open connections, the same for every server.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// Default idle timeout, the same for every server.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default time a stopping server waits for open connections to finish, the same for
/// every server.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Default cap on connections from one source address: room for a classroom behind one
/// NAT (a hundred people with several connections each), while one client cannot take
/// every slot of the default 10,000.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: usize = 1_000;

/// Who may connect: the server's connection slots, and how many of them each source
/// address holds. Shared by the accept loop and every connection's [`Slot`].
#[derive(Debug, Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    per_address: usize,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
    open: Option<OpenConnections>,
}

/// An admitted connection's hold on a server slot and on its address's share; both are
/// given back when it drops.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    source: IpAddr,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
    _opened: Option<Opened>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = held.get_mut(&self.source) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.source);
            }
        }
    }
}

impl Admission {
    /// At most `max_connections` at once (at least one), and `per_address` of them (at
    /// least one) from any one source address.
    pub fn new(max_connections: usize, per_address: usize) -> Self {
        Admission {
            slots: Arc::new(Semaphore::new(
                max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            per_address: per_address.max(1),
            held: Arc::default(),
            open: None,
        }
    }

    /// Counts every admitted connection in `open` while it stays open (the server's
    /// metrics).
    pub fn counted_in(mut self, open: OpenConnections) -> Self {
        self.open = Some(open);
        self
    }

    /// Connections `source` holds now.
    pub fn held_by(&self, source: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        held.get(&source).copied().unwrap_or(0)
    }

    /// Gives `peer` the slot `permit`, or `None` when its address already holds its
    /// share (the map holds only addresses with a connection open, so it is bounded by
    /// the slots).
    fn claim(&self, permit: OwnedSemaphorePermit, peer: SocketAddr) -> Option<Slot> {
        let source = peer.ip();
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(source).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(Slot {
            _permit: permit,
            source,
            held: Arc::clone(&self.held),
            _opened: self.open.as_ref().map(OpenConnections::opened),
        })
    }
}

/// Waits for one of the server's connection slots, then for a connection, and returns
/// both. Over the cap, newcomers wait in the kernel's backlog until a slot frees up; a
/// connection from an address that already holds its share (`--max-connections-per-
/// address`) is closed at once, so one client cannot take every slot. Accept errors
/// (out of file descriptors, a connection reset before it was accepted) are logged and
/// retried after a pause that grows up to one second, so a persistent error cannot spin
/// the CPU.
pub async fn admit(listener: &TcpListener, admission: &Admission) -> (TcpStream, SocketAddr, Slot) {
    let mut backoff = Duration::from_millis(10);
    loop {
        // The servers never close their semaphore, so acquiring only waits.
        let Ok(permit) = Arc::clone(&admission.slots).acquire_owned().await else {
            continue;
        };
        match listener.accept().await {
            Ok((stream, peer)) => match admission.claim(permit, peer) {
                Some(slot) => return (stream, peer, slot),
                None => {
                    tracing::debug!(%peer, "closed: its address holds its share of connections");
                    drop(stream);
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// Longest idle timeout a server accepts (one day).
pub const MAX_IDLE_TIMEOUT: Duration = Duration::from_secs(86_400);

/// Largest `--max-connections` accepted.
const MAX_CONNECTIONS_LIMIT: u64 = 1_000_000;

/// The connection flags every server takes, socket and HTTP alike.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// Most connections served at once (1 to 1000000); further ones wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS_LIMIT))]
    pub max_connections: u64,
    /// Most of those from one source address (1 to 1000000); a further connection from
    /// it is closed at once, so one client cannot take every slot.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_CONNECTIONS_LIMIT))]
    pub max_connections_per_address: u64,
    /// How long (up to 24h) a connection may go with no request in progress, or leave
    /// a reply unread, before it is closed: `300s`, `5m`, `1.5s`.
    #[arg(long, value_name = "DURATION", default_value_t = Span(DEFAULT_IDLE_TIMEOUT),
          value_parser = crate::args::span_up_to(MAX_IDLE_TIMEOUT))]
    pub idle_timeout: Span,
}

impl ConnectionArgs {
    /// `--max-connections` as a count (range-checked by clap, so it fits).
    pub fn max_connections(&self) -> usize {
        usize::try_from(self.max_connections).unwrap_or(usize::MAX)
    }

    /// `--max-connections-per-address` as a count (range-checked by clap, so it fits).
    pub fn max_connections_per_address(&self) -> usize {
        usize::try_from(self.max_connections_per_address).unwrap_or(usize::MAX)
    }
}

/// A connection the kernel has already completed (waiting in the listener's backlog),
/// or `None` once none turns up within a few milliseconds (the time for the runtime to
/// notice one that is there): how a stopping server serves the clients that connected
/// and sent before the stop, rather than resetting them.
pub async fn already_waiting(
    listener: &TcpListener,
    admission: &Admission,
) -> Option<(TcpStream, SocketAddr, Slot)> {
    loop {
        let permit = Arc::clone(&admission.slots).try_acquire_owned().ok()?;
        let (stream, peer) = waiting(listener).await?;
        if let Some(slot) = admission.claim(permit, peer) {
            return Some((stream, peer, slot));
        }
    }
}

/// A connection already in the backlog, if one turns up within a few milliseconds.
async fn waiting(listener: &TcpListener) -> Option<(TcpStream, SocketAddr)> {
    const NOTICE: Duration = Duration::from_millis(10);
    tokio::time::timeout(NOTICE, listener.accept())
        .await
        .ok()?
        .ok()
}

/// Why a watched connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overdue {
    /// No request was in progress for the idle timeout.
    Idle,
    /// A write waited for the peer to read for the idle timeout.
    NotReading,
    /// A budgeted reply was not read to its end within the idle timeout.
    ReplyUnread,
}

impl Overdue {
    fn error(self, limit: Duration) -> io::Error {
        let what = match self {
            Overdue::Idle => "no request",
            Overdue::NotReading => "the peer did not read",
            Overdue::ReplyUnread => "a reply was not read to its end",
        };
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} for {:.0?}: connection closed", limit),
        )
    }
}

/// What is happening on one connection, shared by its I/O and its requests.
#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// When the last request ended, in nanoseconds after `opened` (0: none yet).
    idle_since: AtomicU64,
    /// Budgeted replies not yet read to their end, by ticket, with their start time.
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    next: u64,
    replies: BTreeMap<u64, Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new()
    }
}

impl Activity {
    /// A connection that has just been accepted: idle, nothing held.
    pub fn new() -> Self {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            held: Mutex::new(Held::default()),
        }
    }

    /// How many requests are in progress.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// When the connection must next be looked at, or why it is over its limit now.
    fn next_check(&self, now: Instant, limit: Duration) -> Result<Instant, Overdue> {
        let mut deadline = if self.in_flight() == 0 {
            let idle_since =
                self.opened + Duration::from_nanos(self.idle_since.load(Ordering::Acquire));
            let deadline = idle_since + limit;
            if now >= deadline {
                return Err(Overdue::Idle);
            }
            deadline
        } else {
            now + limit
        };
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, &oldest)) = held.replies.first_key_value() {
            let due = oldest + limit;
            if now >= due {
                return Err(Overdue::ReplyUnread);
            }
            deadline = deadline.min(due);
        }
        Ok(deadline)
    }
}

/// One request in progress on a connection, from when it is handed to the service until
/// its reply has been sent (or abandoned). Dropping it ends the request.
#[derive(Debug)]
pub struct RequestGuard {
    activity: Arc<Activity>,
}

impl RequestGuard {
    /// Counts a request as in progress on `activity`'s connection.
    pub fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard { activity }
    }

    /// The connection this request is on.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let activity = &self.activity;
        if activity.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            let since = Instant::now().saturating_duration_since(activity.opened);
            let nanos = u64::try_from(since.as_nanos()).unwrap_or(u64::MAX);
            activity.idle_since.store(nanos, Ordering::Release);
        }
    }
}

/// A reply that must be read to its end within the idle timeout, from when it was
/// handed to the connection. Dropping it (the reply was sent or abandoned) ends the clock.
#[derive(Debug)]
pub struct HeldReply {
    activity: Arc<Activity>,
    ticket: u64,
}

impl HeldReply {
    /// Starts the clock on a reply on `activity`'s connection.
    pub fn new(activity: Arc<Activity>) -> Self {
        let ticket = {
            let mut held = activity.held.lock().unwrap_or_else(PoisonError::into_inner);
            let ticket = held.next;
            held.next += 1;
            held.replies.insert(ticket, Instant::now());
            ticket
        };
        HeldReply { activity, ticket }
    }
}

impl Drop for HeldReply {
    fn drop(&mut self) {
        let mut held = self
            .activity
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.replies.remove(&self.ticket);
    }
}

/// A connection's I/O under the connection policy: reads fail with `TimedOut` once the
/// connection is over a limit (see the module docs), and so does a write that has waited
/// for the peer to read for the idle timeout. Holds the connection's slot, if any, until
/// it is dropped.
#[derive(Debug)]
pub struct Watched<IO> {
    io: IO,
    activity: Arc<Activity>,
    limit: Duration,
    /// Armed for the next look at the connection's activity.
    check: Pin<Box<Sleep>>,
    /// Armed while a write waits for the peer.
    stall: Option<Pin<Box<Sleep>>>,
    writing_stalled: bool,
    _slot: Option<Slot>,
}

impl<IO> Watched<IO> {
    /// Watches `io` with the idle timeout `limit`, keeping `slot` until the connection ends.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with time enabled (like `tokio::time::sleep`).
    pub fn new(io: IO, activity: Arc<Activity>, limit: Duration, slot: Option<Slot>) -> Self {
        let first = activity
            .next_check(Instant::now(), limit)
            .unwrap_or_else(|_| Instant::now());
        Watched {
            io,
            activity,
            limit,
            check: Box::pin(tokio::time::sleep_until(first)),
            stall: None,
            writing_stalled: false,
            _slot: slot,
        }
    }

    /// The activity this connection's requests report to.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Pending while the connection is within its limits; an error once it is not.
    fn poll_watch(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            ready!(self.check.as_mut().poll(cx));
            match self.activity.next_check(Instant::now(), self.limit) {
                Ok(next) => self.check.as_mut().reset(next),
                Err(overdue) => return Poll::Ready(Err(overdue.error(self.limit))),
            }
        }
    }

    /// Pending while a stalled write is within the limit; an error once it is not.
    fn poll_stall(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let deadline = Instant::now() + self.limit;
        let stall = self
            .stall
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !self.writing_stalled {
            stall.as_mut().reset(deadline);
            self.writing_stalled = true;
        }
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(Overdue::NotReading.error(self.limit)))
    }

    /// Passes on a write's outcome, watching the time while it is pending.
    fn after_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(result) => {
                self.writing_stalled = false;
                Poll::Ready(result)
            }
            Poll::Pending => match ready!(self.poll_stall(cx)) {
                Err(e) => Poll::Ready(Err(e)),
                Ok(()) => Poll::Pending,
            },
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Pending => {}
            ready => return ready,
        }
        // Nothing to read now: a good moment to see whether the connection is overdue.
        match ready!(this.poll_watch(cx)) {
            Err(e) => Poll::Ready(Err(e)),
            Ok(()) => Poll::Pending,
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        this.after_write(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.after_write(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_flush(cx);
        this.after_write(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_shutdown(cx);
        this.after_write(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const LIMIT: Duration = Duration::from_secs(10);

    fn watched(io: tokio::io::DuplexStream) -> (Watched<tokio::io::DuplexStream>, Arc<Activity>) {
        let activity = Arc::new(Activity::new());
        (Watched::new(io, activity.clone(), LIMIT, None), activity)
    }

    #[tokio::test]
    async fn already_waiting_takes_a_completed_connection_and_never_waits() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admission = Admission::new(4, 4);
        assert!(
            already_waiting(&listener, &admission).await.is_none(),
            "nobody connected"
        );
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (_, peer, _slot) = already_waiting(&listener, &admission)
            .await
            .expect("the completed connection");
        assert_eq!(peer, client.local_addr().unwrap());
    }

    #[test]
    fn an_address_gets_its_share_of_slots_and_gives_them_back() {
        let admission = Admission::new(10, 2);
        let permit = || Arc::clone(&admission.slots).try_acquire_owned().unwrap();
        let (one, two): (SocketAddr, SocketAddr) =
            ("10.0.0.1:1".parse().unwrap(), "10.0.0.2:1".parse().unwrap());
        let a = admission.claim(permit(), one).unwrap();
        let b = admission.claim(permit(), one).unwrap();
        assert!(admission.claim(permit(), one).is_none(), "over its share");
        // The refused claim gave its server slot back at once.
        assert_eq!(admission.slots.available_permits(), 8);
        let c = admission.claim(permit(), two).unwrap();
        assert_eq!(
            (admission.held_by(one.ip()), admission.held_by(two.ip())),
            (2, 1)
        );
        drop(a);
        assert_eq!(admission.held_by(one.ip()), 1);
        assert!(admission.claim(permit(), one).is_some());
        drop((b, c));
        assert_eq!(admission.held_by(two.ip()), 0);
        // Addresses with nothing open are not kept.
        assert!(admission.held.lock().unwrap().len() <= 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_speaks_is_closed_after_the_limit() {
        let (_client, server) = tokio::io::duplex(64);
        let (mut server, _) = watched(server);
        let started = Instant::now();
        let error = server.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_without_a_request_do_not_keep_a_connection_open() {
        let (mut client, server) = tokio::io::duplex(64);
        let (mut server, _) = watched(server);
        let started = Instant::now();
        let reader = tokio::spawn(async move {
            let mut buf = [0; 8];
            loop {
                if let Err(e) = server.read(&mut buf).await {
                    return e;
                }
            }
        });
        // A byte every second: never a request, so the clock keeps running.
        for _ in 0..30 {
            if client.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let error = reader.await.unwrap();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < LIMIT + Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_progress_keeps_it_open_and_the_clock_restarts_when_it_ends() {
        let (_client, server) = tokio::io::duplex(64);
        let (mut server, activity) = watched(server);
        let request = RequestGuard::new(activity.clone());
        let started = Instant::now();
        let read = tokio::spawn(async move { server.read(&mut [0; 8]).await });
        tokio::time::sleep(LIMIT * 5).await;
        assert!(
            !read.is_finished(),
            "closed while a request was in progress"
        );
        drop(request);
        let error = read.await.unwrap().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        // Closed one limit after the request ended, give or take the re-check period.
        let elapsed = started.elapsed();
        assert!(elapsed >= LIMIT * 6 && elapsed <= LIMIT * 7, "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unread_reply_closes_the_connection_even_with_requests_in_progress() {
        let (_client, server) = tokio::io::duplex(64);
        let (mut server, activity) = watched(server);
        let _request = RequestGuard::new(activity.clone());
        let _reply = HeldReply::new(activity.clone());
        let started = Instant::now();
        let error = server.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_fails_the_write_after_the_limit() {
        let (_client, server) = tokio::io::duplex(16);
        let (mut server, activity) = watched(server);
        let _request = RequestGuard::new(activity);
        let started = Instant::now();
        let error = server.write_all(&[b'x'; 64]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_not_dropped() {
        let (mut client, server) = tokio::io::duplex(16);
        let (mut server, activity) = watched(server);
        let _request = RequestGuard::new(activity);
        let reader = tokio::spawn(async move {
            let mut buf = [0; 8];
            let mut total = 0;
            while total < 256 {
                tokio::time::sleep(LIMIT / 2).await;
                total += client.read(&mut buf).await.unwrap();
            }
            total
        });
        server.write_all(&[b'x'; 256]).await.unwrap();
        assert_eq!(reader.await.unwrap(), 256);
    }
}
