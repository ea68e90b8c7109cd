//! Bytes on the connection, counted where they pass: a stream wrapper that adds what
//! each read and write moved to counters the whole measurement shares.
//!
//! These are the bytes the client's protocol stack handed to and took from the socket
//! (TCP and IP headers not included), so a row's "bytes per request" is measured, not
//! worked out from what the protocol ought to send. Beside them, how long the
//! connections took to open: TCP connect, and the TLS handshake, full or resumed.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes sent and received so far, and the connections' set-up times.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    sent: AtomicU64,
    received: AtomicU64,
    opened: AtomicU64,
    connect: Timed,
    full: Timed,
    resumed: Timed,
}

/// How many times a step happened and its total time.
#[derive(Debug, Default)]
struct Timed {
    count: AtomicU64,
    nanos: AtomicU64,
}

impl Timed {
    fn add(&self, took: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn read(&self) -> Steps {
        Steps {
            count: self.count.load(Ordering::Relaxed),
            nanos: self.nanos.load(Ordering::Relaxed),
        }
    }
}

/// Counts and total nanoseconds of one set-up step, at some moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Steps {
    /// How many.
    pub count: u64,
    /// Their time, added up.
    pub nanos: u64,
}

impl Steps {
    /// What happened between `before` and this.
    pub(crate) fn since(self, before: Steps) -> Steps {
        Steps {
            count: self.count.saturating_sub(before.count),
            nanos: self.nanos.saturating_sub(before.nanos),
        }
    }

    /// Adds `other`'s.
    pub(crate) fn add(&mut self, other: Steps) {
        self.count += other.count;
        self.nanos += other.nanos;
    }
}

/// The connections' set-up so far: TCP connects, full and resumed TLS handshakes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SetUpTimes {
    /// TCP connects.
    pub connect: Steps,
    /// Full TLS handshakes.
    pub full: Steps,
    /// Resumed TLS handshakes.
    pub resumed: Steps,
}

impl SetUpTimes {
    /// What happened between `before` and this.
    pub(crate) fn since(self, before: SetUpTimes) -> SetUpTimes {
        SetUpTimes {
            connect: self.connect.since(before.connect),
            full: self.full.since(before.full),
            resumed: self.resumed.since(before.resumed),
        }
    }

    /// Adds `other`'s.
    pub(crate) fn add(&mut self, other: SetUpTimes) {
        self.connect.add(other.connect);
        self.full.add(other.full);
        self.resumed.add(other.resumed);
    }
}

impl Traffic {
    /// A TCP connect took `took`.
    pub(crate) fn connected(&self, took: Duration) {
        self.connect.add(took);
    }

    /// A TLS handshake, `resumed` or full, took `took`.
    pub(crate) fn handshaken(&self, resumed: bool, took: Duration) {
        if resumed {
            self.resumed.add(took);
        } else {
            self.full.add(took);
        }
    }

    /// The set-up times so far.
    pub(crate) fn set_up_times(&self) -> SetUpTimes {
        SetUpTimes {
            connect: self.connect.read(),
            full: self.full.read(),
            resumed: self.resumed.read(),
        }
    }

    /// Connections counted so far: how many the clients really opened.
    pub(crate) fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// `(sent, received)` so far.
    pub(crate) fn snapshot(&self) -> (u64, u64) {
        (
            self.sent.load(Ordering::Relaxed),
            self.received.load(Ordering::Relaxed),
        )
    }
}

/// What a [`Tap`] tells of the bytes it moves.
pub(crate) trait Observer {
    /// A connection was opened through the tap.
    fn opened(&self) {}
    /// `bytes` were read from the connection.
    fn read(&self, bytes: &[u8]);
    /// `bytes` were written to it.
    fn wrote(&self, bytes: &[u8]);
}

impl Observer for Arc<Traffic> {
    fn opened(&self) {
        self.opened.fetch_add(1, Ordering::Relaxed);
    }

    fn read(&self, bytes: &[u8]) {
        self.received
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }

    fn wrote(&self, bytes: &[u8]) {
        self.sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    }
}

/// A stream that tells an [`Observer`] every byte it reads and writes, in order, and
/// otherwise passes everything through: counting ([`Counted`]) and recording (the wire
/// subcommand's tape) are two observers of one tap.
#[derive(Debug)]
pub(crate) struct Tap<S, O> {
    inner: S,
    observer: O,
}

/// A stream whose bytes count into a measurement's [`Traffic`].
pub(crate) type Counted<S> = Tap<S, Arc<Traffic>>;

impl<S, O: Observer> Tap<S, O> {
    /// Wraps a new connection, telling `observer` it opened.
    pub(crate) fn new(inner: S, observer: O) -> Self {
        observer.opened();
        Tap { inner, observer }
    }
}

impl<S: AsyncRead + Unpin, O: Observer + Unpin> AsyncRead for Tap<S, O> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.observer.read(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin, O: Observer + Unpin> AsyncWrite for Tap<S, O> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.observer.wrote(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        // What was written is the first `written` bytes across the slices, in order.
        let mut left = written;
        for slice in bufs {
            if left == 0 {
                break;
            }
            let take = left.min(slice.len());
            this.observer.wrote(&slice[..take]);
            left -= take;
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn counts_exactly_what_passes_each_way() {
        let (near, mut far) = tokio::io::duplex(64);
        let traffic = Arc::new(Traffic::default());
        let mut counted = Counted::new(near, Arc::clone(&traffic));
        counted.write_all(b"hello, world\n").await.unwrap();
        let vectored = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cde")];
        let n = counted.write_vectored(&vectored).await.unwrap();
        let mut got = vec![0u8; 13 + n];
        far.read_exact(&mut got).await.unwrap();
        far.write_all(&[7u8; 40]).await.unwrap();
        drop(far);
        let mut back = Vec::new();
        counted.read_to_end(&mut back).await.unwrap();
        assert_eq!(traffic.snapshot(), (13 + n as u64, 40));
        assert_eq!(back.len(), 40);
    }

    #[test]
    fn set_up_times_add_up_by_kind_between_two_moments() {
        let traffic = Traffic::default();
        traffic.connected(Duration::from_micros(10));
        let before = traffic.set_up_times();
        traffic.connected(Duration::from_micros(20));
        traffic.handshaken(false, Duration::from_micros(300));
        traffic.handshaken(true, Duration::from_micros(100));
        traffic.handshaken(true, Duration::from_micros(50));
        let between = traffic.set_up_times().since(before);
        assert_eq!(
            between.connect,
            Steps {
                count: 1,
                nanos: 20_000
            }
        );
        assert_eq!(
            between.full,
            Steps {
                count: 1,
                nanos: 300_000
            }
        );
        assert_eq!(
            between.resumed,
            Steps {
                count: 2,
                nanos: 150_000
            }
        );
    }
}
