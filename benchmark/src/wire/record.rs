//! A stream that keeps a copy of every byte it moves, each direction apart, so an
//! exchange can be read back afterwards exactly as it went over the connection.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Everything sent and received so far.
#[derive(Debug, Default)]
pub struct Recording {
    /// Client to server.
    pub sent: Vec<u8>,
    /// Server to client.
    pub received: Vec<u8>,
}

/// A shared handle on a [`Recording`].
pub type Tape = Arc<Mutex<Recording>>;

/// `(sent, received)` lengths now: where a phase ends.
pub fn mark(tape: &Tape) -> (usize, usize) {
    let recording = tape.lock().unwrap_or_else(PoisonError::into_inner);
    (recording.sent.len(), recording.received.len())
}

/// A copy of what was recorded.
pub fn bytes(tape: &Tape) -> (Vec<u8>, Vec<u8>) {
    let recording = tape.lock().unwrap_or_else(PoisonError::into_inner);
    (recording.sent.clone(), recording.received.clone())
}

/// A stream that records into a [`Tape`].
#[derive(Debug)]
pub struct Recorded<S> {
    inner: S,
    tape: Tape,
}

impl<S> Recorded<S> {
    /// Wraps `inner`, recording into `tape`.
    pub fn new(inner: S, tape: Tape) -> Self {
        Recorded { inner, tape }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let mut recording = this.tape.lock().unwrap_or_else(PoisonError::into_inner);
        recording
            .received
            .extend_from_slice(&buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        let mut recording = this.tape.lock().unwrap_or_else(PoisonError::into_inner);
        recording.sent.extend_from_slice(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
