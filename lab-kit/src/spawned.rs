//! A lab server running as a task on `127.0.0.1:0`, with its stop switch: how the labs'
//! tests start a server in-process, and stop it, all the same way.
//!
//! Every lab server has the signature `run(listener, .., shutdown)`; [`SpawnedServer`]
//! binds the listener, hands the server a [`StopSignal`] as its shutdown future, and keeps
//! the task so a test can wait until `run` has returned.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};

/// The shutdown future handed to a spawned server: completes when
/// [`SpawnedServer::trigger_shutdown`] is called or the handle is dropped.
#[derive(Debug)]
pub struct StopSignal(oneshot::Receiver<()>);

impl Future for StopSignal {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A dropped sender means the handle is gone: stop then too.
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// A server task in the current tokio runtime.
#[derive(Debug)]
pub struct SpawnedServer<E> {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), E>>,
}

impl<E: Send + 'static> SpawnedServer<E> {
    /// Binds `127.0.0.1:0` and spawns `serve(listener, stop)`. The listener is bound
    /// before this returns, so clients can connect at once.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub async fn start<F, Fut>(serve: F) -> io::Result<Self>
    where
        F: FnOnce(TcpListener, StopSignal) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, StopSignal(stopped)));
        Ok(SpawnedServer {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Asks the server to stop, without waiting for it.
    pub fn trigger_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits until the server's `run` returns (after a shutdown was triggered).
    ///
    /// # Errors
    ///
    /// The [`JoinError`] when the task panicked; otherwise what `run` returned.
    pub async fn finished(self) -> Result<Result<(), E>, JoinError> {
        self.task.await
    }

    /// Asks the server to stop and waits until its `run` returns.
    ///
    /// # Errors
    ///
    /// As [`finished`](Self::finished).
    pub async fn shutdown(mut self) -> Result<Result<(), E>, JoinError> {
        self.trigger_shutdown();
        self.finished().await
    }
}

/// Opens a connection to `addr`, sends the first bytes of a TLS ClientHello and no more,
/// and returns how long the server took to close it (EOF or reset), or `None` when it
/// kept it open for `give_up`: how the labs' tests check that a handshake that never
/// finishes is bounded by the idle timeout.
pub async fn stalled_handshake_closed_after(
    addr: SocketAddr,
    give_up: std::time::Duration,
) -> Option<std::time::Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream
        .write_all(&[0x16, 0x03, 0x01, 0x00, 0x80])
        .await
        .ok()?;
    let started = std::time::Instant::now();
    let mut sink = [0u8; 64];
    let closed = async {
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    };
    tokio::time::timeout(give_up, closed)
        .await
        .ok()
        .map(|()| started.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_server_sees_its_stop_signal_and_returns() {
        let server = SpawnedServer::start(|listener, stop| async move {
            tokio::select! {
                () = stop => Ok::<_, io::Error>(()),
                accepted = listener.accept() => accepted.map(|_| ()),
            }
        })
        .await
        .unwrap();
        assert!(server.addr().ip().is_loopback());
        server.shutdown().await.unwrap().unwrap();
    }
}
