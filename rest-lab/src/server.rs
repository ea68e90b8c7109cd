//! Serving the app over TCP: HTTP/1.1 with keep-alive and HTTP/2 cleartext (prior
//! knowledge) on the same port, and a graceful shutdown that cannot hang.

use std::future::Future;
use std::io;
use std::time::Duration;

use std::future::IntoFuture;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tracing::{info, warn};

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
/// # Errors
///
/// When serving fails in a way hyper cannot recover from (rare: per-connection errors
/// are handled inside).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    config: ServerConfig,
    shutdown: impl Future + Send + 'static,
) -> io::Result<()> {
    // Small JSON responses: send them now rather than waiting to fill a packet.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let server = axum::serve(listener, app(state)).with_graceful_shutdown(async move {
        shutdown.await;
        info!("shutting down: finishing requests in flight");
        let _ = stopping_tx.send(());
    });
    let deadline = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(config.drain_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            warn!("drain timeout reached; dropping the connections still open");
            Ok(())
        }
    }
}
