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

/// A stream that counts what passes into a shared [`Traffic`].
#[derive(Debug)]
pub(crate) struct Counted<S> {
    inner: S,
    traffic: Arc<Traffic>,
}

impl<S> Counted<S> {
    /// Wraps `inner`, counting into `traffic`.
    pub(crate) fn new(inner: S, traffic: Arc<Traffic>) -> Self {
        traffic.opened.fetch_add(1, Ordering::Relaxed);
        Counted { inner, traffic }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let read = (buf.filled().len() - before) as u64;
        this.traffic.received.fetch_add(read, Ordering::Relaxed);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.traffic
            .sent
            .fetch_add(written as u64, Ordering::Relaxed);
        Poll::Ready(Ok(written))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, bufs))?;
        this.traffic
            .sent
            .fetch_add(written as u64, Ordering::Relaxed);
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
