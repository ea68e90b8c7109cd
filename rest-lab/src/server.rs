//! Serving the app over TCP: HTTP/1.1 with keep-alive and HTTP/2 cleartext (prior
//! knowledge) on the same port, time limits on slow clients, and a graceful shutdown
//! that cannot hang.
//!
//! This is hyper-util's connection builder driven directly rather than `axum::serve`,
//! because `axum::serve` gives hyper no timer: without one, hyper enforces no
//! header-read timeout, and a client that sends its headers one byte a minute would
//! hold its connection forever.

use std::future::Future;
use std::io;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use crate::app::{AppState, app};

/// Default time shutdown waits for requests in flight.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How the server runs, beyond what the [`AppState`] holds.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Longest shutdown waits for requests in flight before it gives up on them.
    pub drain_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

/// Serves the API on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish (up to `drain_timeout`) and returns.
///
/// A client gets `state.request_timeout` to send a request's headers, and the same
/// again for the rest of the request (the app's 408).
///
/// # Errors
///
/// Never in practice: accept errors are logged and retried after a pause, and each
/// connection's errors stay with it.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    config: ServerConfig,
    shutdown: impl Future + Send + 'static,
) -> io::Result<()> {
    let header_timeout = state.request_timeout;
    let service = TowerToHyperService::new(app(state));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    let mut backoff = Duration::from_millis(10);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::from_millis(10);
                accepted
            }
            Err(e) => {
                warn!(error = %e, "accept failed; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        // Small JSON responses: send them now rather than waiting to fill a packet.
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection(TokioIo::new(stream), service.clone())
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    info!("shutting down: finishing requests in flight");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.drain_timeout) => {
            warn!("drain timeout reached; dropping the connections still open");
        }
    }
    Ok(())
}
