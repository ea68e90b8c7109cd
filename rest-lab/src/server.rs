//! Serving the app over TCP: HTTP/1.1 with keep-alive and HTTP/2 cleartext (prior
//! knowledge) on the same port, under the connection policy every lab shares
//! ([`HttpPolicy`](lab_kit::http::HttpPolicy): connection cap, idle timeout from accept,
//! bounded writes, HTTP/2 limits) and with a graceful shutdown that cannot hang.

use std::future::Future;
use std::io;

use tokio::net::TcpListener;

use lab_kit::http::HttpMetrics;

use crate::config::Config;
use crate::router::app;

/// Serves the API on `listener` until `shutdown` completes, then stops accepting, lets
/// requests in flight finish (up to `config.policy.drain_timeout`) and returns.
///
/// A client gets `config.policy.header_timeout` to send a request's headers, and
/// `config.request_timeout` for the rest of the request (the app's 408).
///
/// # Errors
///
/// Never in practice: accept errors are logged and retried after a pause, and each
/// connection's errors stay with it.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future + Send + 'static,
) -> io::Result<()> {
    let mut policy = config.policy.clone();
    policy.metrics = config.metrics.clone().map(|metrics| HttpMetrics {
        metrics,
        route: crate::router::route_of,
    });
    lab_kit::http::serve(listener, app(config), &policy, shutdown).await
}
