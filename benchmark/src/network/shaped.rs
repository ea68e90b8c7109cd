//! A probe's own connection across the link: shaped inside the client's stream, with
//! no relay and so no extra hop (a relay's two more system calls each way cost a
//! quarter of a loopback round trip on a small VM). A link that holds nothing
//! (`--link loopback`) only counts each chunk as it passes; one that holds chunks puts
//! the client on an in-memory pipe whose far end two tasks move across the link to the
//! socket, as a relay's would.

use std::io;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::net::TcpStream;

use super::pipe::{self, Shape};
use super::relay::Shared;
use crate::engine::traffic::{Observer, Tap};
use crate::settings::link::Link;

/// Bytes the in-memory pipe holds each way before the writer waits (the link's own
/// queue holds more, behind it).
const PIPE: usize = 64 * 1024;

/// A client's connection: the socket, or the socket across the link.
#[derive(Debug)]
pub(crate) enum Wire {
    /// No link: the socket, and nothing else in the path.
    Direct(TcpStream),
    /// A link that holds nothing: the socket, each chunk counted (and its HTTP/2
    /// windows read) as the link counts it.
    Counted(Box<Tap<TcpStream, Counting>>),
    /// A link that holds chunks: the near end of a pipe whose far end is moved across
    /// the link to the socket.
    Shaped(DuplexStream),
}

/// What a link that holds nothing does with each chunk: counts it, and reads the
/// HTTP/2 windows off it, as the link would (each direction's shape behind a lock no
/// one else takes).
#[derive(Debug)]
pub(crate) struct Counting {
    up: Mutex<Shape>,
    down: Mutex<Shape>,
}

impl Observer for Counting {
    fn opened(&self) {}

    fn read(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            lock(&self.down).saw(bytes, false);
        }
    }

    fn wrote(&self, bytes: &[u8]) {
        if !bytes.is_empty() {
            lock(&self.up).saw(bytes, false);
        }
    }
}

fn lock(shape: &Mutex<Shape>) -> std::sync::MutexGuard<'_, Shape> {
    shape.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Wire {
    /// `stream` as it is, with no link.
    pub(crate) fn direct(stream: TcpStream) -> Self {
        Wire::Direct(stream)
    }

    /// `stream`, just connected, across `link`, through the run's `shared` bottlenecks
    /// and tally. The connect has already waited its round trip, so nothing more holds
    /// the first bytes. Spawns the pipe's tasks on the current runtime.
    pub(crate) fn across(stream: TcpStream, link: Link, shared: &Shared) -> Self {
        let number = shared.open_connection();
        let (up, down) = shared.shapes(link, number, None);
        if up.passes_through() && down.passes_through() {
            let counting = Counting {
                up: Mutex::new(up),
                down: Mutex::new(down),
            };
            return Wire::Counted(Box::new(Tap::new(stream, counting)));
        }
        let (near, far) = tokio::io::duplex(PIPE);
        let (far_read, far_write) = tokio::io::split(far);
        let (socket_read, socket_write) = stream.into_split();
        tokio::spawn(pipe::run(far_read, socket_write, up));
        tokio::spawn(pipe::run(socket_read, far_write, down));
        Wire::Shaped(near)
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Direct(stream) => Pin::new(stream).poll_read(cx, buf),
            Wire::Shaped(near) => Pin::new(near).poll_read(cx, buf),
            Wire::Counted(tap) => Pin::new(tap.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Wire::Direct(stream) => Pin::new(stream).poll_write(cx, buf),
            Wire::Shaped(near) => Pin::new(near).poll_write(cx, buf),
            Wire::Counted(tap) => Pin::new(tap.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Wire::Direct(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Wire::Shaped(near) => Pin::new(near).poll_write_vectored(cx, bufs),
            Wire::Counted(tap) => Pin::new(tap.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Wire::Direct(stream) => stream.is_write_vectored(),
            Wire::Shaped(near) => near.is_write_vectored(),
            Wire::Counted(tap) => tap.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Direct(stream) => Pin::new(stream).poll_flush(cx),
            Wire::Shaped(near) => Pin::new(near).poll_flush(cx),
            Wire::Counted(tap) => Pin::new(tap.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Wire::Direct(stream) => Pin::new(stream).poll_shutdown(cx),
            Wire::Shaped(near) => Pin::new(near).poll_shutdown(cx),
            Wire::Counted(tap) => Pin::new(tap.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// An echo server on 127.0.0.1:0, and a client connected to it across `link`.
    async fn echo_across(link: &str) -> (Wire, Shared) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut server, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            loop {
                match server.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => server.write_all(&buf[..n]).await.unwrap(),
                }
            }
        });
        let link = Link::parse(link).unwrap();
        let shared = Shared::of(&link);
        let stream = TcpStream::connect(addr).await.unwrap();
        (Wire::across(stream, link, &shared), shared)
    }

    async fn round_trip(wire: &mut Wire, message: &[u8]) -> Duration {
        let start = Instant::now();
        wire.write_all(message).await.unwrap();
        let mut back = vec![0u8; message.len()];
        wire.read_exact(&mut back).await.unwrap();
        assert_eq!(back, message);
        start.elapsed()
    }

    #[tokio::test]
    async fn a_link_that_holds_nothing_counts_every_chunk_on_the_socket_itself() {
        let (mut wire, shared) = echo_across("rtt=0ms").await;
        assert!(matches!(wire, Wire::Counted(_)), "{wire:?}");
        for _ in 0..5 {
            round_trip(&mut wire, b"ping\n").await;
        }
        let [chunks, held, connections, _] = shared.tally();
        // Five writes and at least five reads; nothing held.
        assert!(chunks >= 10, "{chunks}");
        assert_eq!((held, connections), (0, 1));
        assert_eq!(shared.bytes(), (25, 25));
    }

    #[tokio::test]
    async fn a_link_with_a_delay_holds_each_way_for_half_the_round_trip() {
        let (mut wire, shared) = echo_across("rtt=20ms").await;
        assert!(matches!(wire, Wire::Shaped(_)), "{wire:?}");
        let mut took = Vec::new();
        for _ in 0..3 {
            took.push(round_trip(&mut wire, b"ping\n").await);
        }
        // Never sooner than the round trip; the quickest well under two of them.
        assert!(
            took.iter().all(|t| *t >= Duration::from_millis(20)),
            "{took:?}"
        );
        let quickest = took.iter().min().unwrap();
        assert!(*quickest < Duration::from_millis(40), "{took:?}");
        assert_eq!(shared.bytes(), (15, 15));
        // Closing the client ends both of the pipe's tasks (the server sees the end).
        wire.shutdown().await.unwrap();
        drop(wire);
    }
}
