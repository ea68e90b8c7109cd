//! Bytes on the connection, counted where they pass: a stream wrapper that adds what
//! each read and write moved to counters the whole measurement shares.
//!
//! These are the bytes the client's protocol stack handed to and took from the socket
//! (TCP and IP headers not included), so a row's "bytes per request" is measured, not
//! worked out from what the protocol ought to send.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes sent and received so far.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    sent: AtomicU64,
    received: AtomicU64,
    opened: AtomicU64,
}

impl Traffic {
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
}
