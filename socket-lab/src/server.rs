//! The socket server: accept loop, connection cap, per-connection handler, shutdown.
//!
//! Each connection runs in its own task and owns its own buffers, so nothing is shared
//! on the request path: no lock, and a slow or broken client only ever holds its own
//! task. The accept loop stops taking new connections when the cap is reached; the
//! kernel's backlog holds the newcomers until a slot frees up.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lab_kit::ReusableTimeout;
use lab_kit::connection::{Admission, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, Slot, admit};
use lab_kit::metrics::{Outcome, RouteMetrics, ServerMetrics};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout_at};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info, warn};

use crate::connection::{Connection, FrameError};
use crate::protocol::{self, DEFAULT_MAX_LINE_BYTES};

/// Default time shutdown waits for open connections to finish (the same for every server).
pub use lab_kit::connection::DEFAULT_DRAIN_TIMEOUT;
/// Default time a connection may take to send a complete line (the same idle timeout
/// as every server's).
pub(crate) use lab_kit::connection::DEFAULT_IDLE_TIMEOUT;
/// Default cap on open connections (the same for every server).
pub(crate) use lab_kit::connection::DEFAULT_MAX_CONNECTIONS;

/// The socket lab's one route and method in its metrics: a line, upper-cased.
const ROUTE: &str = "echo";
const METHOD: &str = "LINE";

/// How long a closing connection waits for the client to read its last reply.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The server's limits.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Longest request line accepted, in bytes, not counting the newline.
    pub max_line_bytes: usize,
    /// Most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Most of those from one source address; a further one is closed at once.
    pub max_connections_per_address: usize,
    /// Longest a connection may take to send one complete line, counted from when the
    /// server starts waiting for it, and longest a reply may wait for the client to read
    /// it. Covers idle clients, clients that stall mid-line and clients that never read.
    pub idle_timeout: Duration,
    /// Longest shutdown waits for connections to finish the request in hand.
    pub drain_timeout: Duration,
    /// TLS, or `None` for cleartext. The handshake is bounded by the idle timeout.
    pub tls: Option<lab_kit::tls::ServerTls>,
    /// Prometheus metrics (`--metrics-addr`), or `None`: off, and no line pays for them.
    pub metrics: Option<ServerMetrics>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            tls: None,
            metrics: None,
        }
    }
}

/// Serves connections from `listener` until `shutdown` completes, then stops accepting,
/// lets every connection finish the request in hand (up to `drain_timeout`) and returns.
///
/// The caller binds the listener (port 0 in tests) and owns the stop signal (Ctrl-C in
/// the binary, a oneshot in tests).
///
/// # Errors
///
/// Never in practice: accept errors are logged and retried with a short back-off, and a
/// connection's errors stay in its own task.
pub async fn run(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future,
) -> io::Result<()> {
    let config = Arc::new(config);
    let mut admission = Admission::new(config.max_connections, config.max_connections_per_address);
    if let Some(metrics) = &config.metrics {
        admission = admission.counted_in(metrics.open_connections());
    }
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    tokio::pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = admit(&listener, &admission) => accepted,
        };
        let (stream, peer, permit) = accepted;
        tasks.spawn(handle(
            stream,
            peer,
            Arc::clone(&config),
            stop.clone(),
            permit,
        ));
    }

    // Connections the kernel completed before the stop (still in the backlog) may
    // carry requests: they are served like the open ones rather than reset.
    stop.cancel();
    while let Some((stream, peer, permit)) =
        lab_kit::connection::already_waiting(&listener, &admission).await
    {
        tasks.spawn(handle(
            stream,
            peer,
            Arc::clone(&config),
            stop.clone(),
            permit,
        ));
    }
    drop(listener);
    info!(
        open = tasks.len(),
        "shutting down: finishing requests in hand"
    );
    tasks.close();
    if tokio::time::timeout(config.drain_timeout, tasks.wait())
        .await
        .is_err()
    {
        warn!(
            open = tasks.len(),
            "drain timeout reached; closing remaining connections"
        );
    }
    Ok(())
}

/// Runs one connection to its end and logs how it ended.
async fn handle(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    stop: CancellationToken,
    _permit: Slot,
) {
    debug!(%peer, "connection opened");
    // Replies are small and latency matters more than packet count.
    let _ = stream.set_nodelay(true);
    // A TLS handshake gets the idle timeout, as a first line does.
    let stream = match lab_kit::tls::accept(config.tls.as_ref(), stream, config.idle_timeout).await
    {
        Ok(stream) => stream,
        Err(e) => {
            debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
    };
    let mut connection = Connection::new(stream, config.max_line_bytes);
    match serve(&mut connection, &config, &stop).await {
        Ok(()) => debug!(%peer, "connection closed"),
        Err(e) => debug!(%peer, error = %e, "connection closed"),
    }
    connection.close(CLOSE_GRACE).await;
}

/// Answers lines until the client leaves, breaks a rule, or the server stops.
async fn serve(
    connection: &mut Connection,
    config: &ServerConfig,
    stop: &CancellationToken,
) -> io::Result<()> {
    // Reused for every request so the steady state allocates nothing.
    let mut reply = Vec::with_capacity(256);
    // The metrics' handles looked up once for the connection, not once a line.
    let mut metrics = config.metrics.as_ref().map(|m| m.route(ROUTE, METHOD));
    let mut scratch = String::new();
    // One idle timer and one stop listener for the whole connection, not one per
    // request: on a request path of a few microseconds, registering them each time shows.
    let mut idle = ReusableTimeout::new(config.idle_timeout);
    let stopping = stop.cancelled();
    tokio::pin!(stopping);
    // Set once the server is stopping: the time by which the request in hand must end.
    let mut drain_deadline = None;

    loop {
        let read = match drain_deadline {
            None => tokio::select! {
                biased;
                read = idle.run(connection.read_frame()) => read.map_err(|_| ()),
                () = &mut stopping => {
                    drain_deadline = Some(Instant::now() + config.drain_timeout);
                    continue;
                }
            },
            Some(drain) => {
                // Once stopping, serve only what the client had already sent.
                if !connection.has_buffered_input() && connection.try_fill()? == 0 {
                    return Ok(());
                }
                let deadline = drain.min(Instant::now() + config.idle_timeout);
                timeout_at(deadline, connection.read_frame())
                    .await
                    .map_err(|_| ())
            }
        };
        reply.clear();
        match read {
            Ok(Ok(Some(line))) => {
                let started = metrics.as_ref().map(RouteMetrics::start);
                protocol::respond(line, &mut reply, &mut scratch);
                if let (Some(metrics), Some(started)) = (&mut metrics, started) {
                    let ok = reply.starts_with(protocol::OK_PREFIX);
                    metrics.finish(started, Outcome::Line(ok));
                }
            }
            Ok(Ok(None)) => return Ok(()),
            Ok(Err(FrameError::Io(e))) => return Err(e),
            Ok(Err(FrameError::TooLong { limit })) => {
                let reason = format!(
                    "line longer than {limit} bytes; closing the connection \
                     (send shorter lines, or start the server with a larger --max-line-bytes)"
                );
                protocol::encode_error(&mut reply, &reason, None);
                write_bounded(connection, &reply, config).await?;
                return Ok(());
            }
            Err(()) => {
                let reason = if drain_deadline.is_some() {
                    "the server is shutting down and the line was not completed in time".into()
                } else {
                    format!(
                        "no complete line received in {}s; closing the connection",
                        config.idle_timeout.as_secs_f64()
                    )
                };
                protocol::encode_error(&mut reply, &reason, None);
                write_bounded(connection, &reply, config).await?;
                return Ok(());
            }
        }
        write_bounded(connection, &reply, config).await?;
    }
}

/// Queues `reply`, waiting at most the idle timeout for a client that is not reading
/// to make room: such a client is dropped, not waited on, and cannot hold its slot.
async fn write_bounded(
    connection: &mut Connection,
    reply: &[u8],
    config: &ServerConfig,
) -> io::Result<()> {
    match tokio::time::timeout(config.idle_timeout, connection.write_frame(reply)).await {
        Ok(written) => written,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client read none of its replies for {}s",
                config.idle_timeout.as_secs_f64()
            ),
        )),
    }
}
