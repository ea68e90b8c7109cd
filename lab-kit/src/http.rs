//! Serving HTTP (the REST lab's axum router, the gRPC lab's tonic routes) under the
//! shared connection policy: a cap on connections, the idle timeout from accept, bounded
//! writes, HTTP/2 limits, the reply budget, and a graceful shutdown that cannot hang.
//!
//! This is hyper-util's connection builder driven directly, as `axum::serve` and tonic's
//! `Server` do inside, because the policy needs a hand in each connection: its I/O is
//! [`Watched`] and every request on it is counted, so "no request in progress" is known.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tower_service::Service;
use tracing::{debug, info, warn};

use crate::budget::ReplyPermit;
use crate::connection::{
    Activity, Admission, ConnectionArgs, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, HeldReply, RequestGuard, Slot, Watched, admit,
    already_waiting,
};
use crate::metrics::{Outcome, RequestTimer, ServerMetrics, method_label};
use crate::request::{Budgeted, RequestBudget};
use crate::tls::{ServerTls, accept};

/// The activity of the connection a request came on, in the extensions of a request that
/// asks for an upgrade: a handler whose work outlives its response (a WebSocket session after the upgrade)
/// holds a [`RequestGuard`] on it, so the idle timeout does not count that time.
#[derive(Debug, Clone)]
pub struct ConnectionActivity(pub Arc<Activity>);

impl ConnectionActivity {
    /// Marks the connection busy until the guard is dropped.
    pub fn busy(&self) -> RequestGuard {
        RequestGuard::new(self.0.clone())
    }
}

/// Default cap on concurrent HTTP/2 streams per connection.
pub const DEFAULT_MAX_STREAMS: u32 = 100;
/// Default time shutdown waits for requests in flight.
pub use crate::connection::DEFAULT_DRAIN_TIMEOUT;
/// Default time a client has to send a request's headers (HTTP/1.1).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an HTTP/2 peer is pinged, and how long it has to answer.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long open connections go on reading once shutdown begins, before they are asked
/// to close: requests already on their way are answered rather than cut off.
const SETTLE: Duration = Duration::from_millis(100);
/// Reply bytes HTTP/2 buffers per stream beyond what the peer's window lets out.
const SEND_BUFFER_BYTES: usize = 64 << 10;
/// Largest header block an HTTP/2 peer may send.
const MAX_HEADER_LIST_BYTES: u32 = 64 << 10;

/// How an HTTP server treats its connections.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// Most connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Most of those from one source address; a further one is closed at once.
    pub max_connections_per_address: usize,
    /// A connection with no request in progress, a write the peer does not read, or a
    /// budgeted reply left unread for this long is closed.
    pub idle_timeout: Duration,
    /// HTTP/1.1: longest a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// HTTP/2: most streams open at once on one connection (advertised to the peer).
    pub max_streams: u32,
    /// Longest shutdown waits for requests in flight before it drops them.
    pub drain_timeout: Duration,
    /// Serve HTTP/2 only (gRPC), rather than HTTP/1.1 and HTTP/2 with prior knowledge.
    pub http2_only: bool,
    /// Request bytes the whole server may hold in incomplete requests (gRPC messages,
    /// other bodies whole); past it a body fails at once.
    pub request_budget: RequestBudget,
    /// Paths of live streams (the gRPC chat), whose messages may be any time apart: the
    /// idle clock on incomplete requests leaves them alone.
    pub live_paths: &'static [&'static str],
    /// TLS, or `None` for cleartext. The handshake is bounded by the idle timeout.
    pub tls: Option<ServerTls>,
    /// Prometheus metrics (`--metrics`, `--metrics-addr`), or `None`: off, and then no
    /// request pays for them.
    pub metrics: Option<HttpMetrics>,
}

/// A server's metrics and how it names a request's route.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    /// Where requests are counted.
    pub metrics: ServerMetrics,
    /// The route of a request, by method and path: one of the lab's fixed names, or
    /// `other` (so no client can grow the label set).
    pub route: fn(&http::Method, &str) -> &'static str,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_address: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_streams: DEFAULT_MAX_STREAMS,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            http2_only: false,
            request_budget: RequestBudget::default(),
            live_paths: &[],
            tls: None,
            metrics: None,
        }
    }
}

impl HttpPolicy {
    fn builder(&self) -> Builder<TokioExecutor> {
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.max_streams.max(1))
            .max_send_buf_size(SEND_BUFFER_BYTES)
            .max_header_list_size(MAX_HEADER_LIST_BYTES)
            .keep_alive_interval(KEEPALIVE)
            .keep_alive_timeout(KEEPALIVE);
        if self.http2_only {
            builder = builder.http2_only();
        }
        builder
    }
}

/// Serves `service` on `listener` under `policy` until `shutdown` completes, then stops
/// accepting, lets requests in flight finish (up to the drain timeout) and returns.
///
/// # Errors
///
/// Never in practice: accept errors are logged and retried after a pause, and each
/// connection's errors stay with it.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    policy: &HttpPolicy,
    shutdown: impl Future,
) -> io::Result<()>
where
    S: Service<Request<Budgeted<Incoming>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let builder = policy.builder();
    let mut admission = Admission::new(policy.max_connections, policy.max_connections_per_address);
    if let Some(metrics) = &policy.metrics {
        admission = admission.counted_in(metrics.metrics.open_connections());
    }
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    // Serves one accepted connection in its own task, under the policy and watched by
    // the graceful shutdown.
    let spawn = |stream: TcpStream, peer: SocketAddr, slot: Slot| {
        // Small replies: send them now rather than waiting to fill a packet.
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let io = Watched::new(stream, activity.clone(), policy.idle_timeout, Some(slot));
        let service = TowerToHyperService::new(Tracked {
            inner: service.clone(),
            activity,
            budget: policy.request_budget.clone(),
            idle: policy.idle_timeout,
            live_paths: policy.live_paths,
            metrics: policy.metrics.clone(),
        });
        let ended = move |result: Result<(), Box<dyn std::error::Error + Send + Sync>>| {
            if let Err(e) = result {
                debug!(%peer, error = %e, "connection ended with an error");
            }
        };
        let builder = builder.clone();
        let tls = policy.tls.clone();
        let idle = policy.idle_timeout;
        // Watched by the graceful shutdown from accept, so a stop waits for (and
        // bounds) a handshake in progress too.
        let watcher = graceful.watcher();
        let http2_only = policy.http2_only;
        tokio::spawn(async move {
            let io = match accept(tls.as_ref(), io, idle).await {
                Ok(io) => io,
                Err(e) => {
                    debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
            };
            if http2_only {
                let connection = builder
                    .serve_connection(TokioIo::new(io), service)
                    .into_owned();
                ended(watcher.watch(connection).await);
            } else {
                // HTTP/1.1 upgrades (WebSocket) keep the watched connection: its write
                // bound goes on applying after the 101.
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(io), service)
                    .into_owned();
                ended(watcher.watch(connection).await);
            }
        });
    };

    loop {
        let (stream, peer, slot) = tokio::select! {
            _ = &mut shutdown => break,
            admitted = admit(&listener, &admission) => admitted,
        };
        spawn(stream, peer, slot);
    }

    // Connections the kernel completed before the stop (still in the backlog) carry
    // requests their clients have sent: serve them rather than reset them.
    while let Some((stream, peer, slot)) = already_waiting(&listener, &admission).await {
        spawn(stream, peer, slot);
    }
    drop(listener);
    info!("shutting down: finishing requests in flight");
    let drain = async {
        // Requests already sent on open connections (pipelined, or on their way through
        // the kernel) are read and answered before connections are told to close.
        tokio::time::sleep(SETTLE.min(policy.drain_timeout / 2)).await;
        graceful.shutdown().await;
    };
    tokio::select! {
        () = drain => {}
        () = tokio::time::sleep(policy.drain_timeout) => {
            warn!("drain timeout reached; dropping the connections still open");
        }
    }
    Ok(())
}

/// A service that counts each request as in progress on its connection until its
/// reply has been sent, and holds the reply's budget permit, if any, until then.
#[derive(Debug, Clone)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
    budget: RequestBudget,
    idle: Duration,
    live_paths: &'static [&'static str],
    metrics: Option<HttpMetrics>,
}

impl<S, R, B> Service<Request<R>> for Tracked<S>
where
    S: Service<Request<Budgeted<R>>, Response = Response<B>>,
{
    type Response = Response<TrackedBody<B>>;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<R>) -> Self::Future {
        // A handler that keeps the connection busy past its response (a WebSocket
        // session) holds a request of its own through this; only upgrades need it, so
        // ordinary requests pay nothing for it.
        if request.headers().contains_key(http::header::UPGRADE) {
            request
                .extensions_mut()
                .insert(ConnectionActivity(self.activity.clone()));
        }
        // Its body draws on the request budget and, unless it is a live stream, keeps
        // the idle clock.
        let grpc = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|ct| ct.as_bytes().starts_with(b"application/grpc"));
        let live = self.live_paths.contains(&request.uri().path());
        let timer = self.metrics.as_ref().map(|m| {
            let route = (m.route)(request.method(), request.uri().path());
            m.metrics
                .request(route, method_label(request.method().as_str()))
        });
        TrackedFuture {
            guard: Some(RequestGuard::new(self.activity.clone())),
            timer,
            inner: self.inner.call(
                request.map(|body| {
                    Budgeted::new(body, &self.budget, grpc, (!live).then_some(self.idle))
                }),
            ),
        }
    }
}

pin_project_lite::pin_project! {
    /// A tracked request's response, on its way.
    struct TrackedFuture<F> {
        #[pin]
        inner: F,
        guard: Option<RequestGuard>,
        timer: Option<RequestTimer>,
    }
}

impl<F, B, E> Future for TrackedFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<TrackedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        if let Some(timer) = this.timer.take() {
            timer.finish(outcome(&response));
        }
        // A budget permit travels from the response's extensions into its body, and
        // the clock starts on the reply.
        let (mut parts, body) = response.into_parts();
        let guard = this.guard.take();
        let held = parts
            .extensions
            .remove::<ReplyPermit>()
            .zip(guard.as_ref())
            .map(|(permit, guard)| (HeldReply::new(guard.activity().clone()), permit));
        let body = TrackedBody {
            body,
            _guard: guard,
            _held: held,
        };
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}

/// A reply's outcome for the metrics: a gRPC reply's status where it says one in its
/// headers (tonic sends a failed call's status there, as "trailers only"; a reply
/// whose status comes in trailers has started well and counts as OK, `0`), else the
/// HTTP status.
fn outcome<B>(response: &Response<B>) -> Outcome {
    let headers = response.headers();
    let grpc = headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/grpc"));
    if !grpc {
        return Outcome::Http(response.status().as_u16());
    }
    let code = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Outcome::Grpc(code)
}

pin_project_lite::pin_project! {
    /// A reply's body, which ends its request (and frees its budget) when dropped.
    struct TrackedBody<B> {
        #[pin]
        body: B,
        _guard: Option<RequestGuard>,
        _held: Option<(HeldReply, ReplyPermit)>,
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().body.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Largest `--reply-budget-mib` accepted (64 GiB).
const MAX_REPLY_BUDGET_MIB: u64 = 65_536;

/// The connection policy's command-line flags, the same on every HTTP server.
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// The connection cap and idle timeout.
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Most HTTP/2 streams (calls) open at once on one connection (1 to 10000); the
    /// limit is advertised to the client, which queues the rest.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STREAMS,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_streams: u32,
    /// MiB (1 to 65536) that list replies waiting to be read may hold across the
    /// server; further list requests wait for their share.
    #[arg(long, value_name = "MIB", default_value_t = (crate::budget::DEFAULT_REPLY_BUDGET_BYTES >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_REPLY_BUDGET_MIB))]
    pub reply_budget_mib: u64,
    /// MiB (1 to 65536) that requests not yet complete (a gRPC message, any other
    /// body whole) may hold across the server; past it a request fails at once.
    #[arg(long, value_name = "MIB", default_value_t = (crate::request::DEFAULT_REQUEST_BUDGET_BYTES >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_REPLY_BUDGET_MIB))]
    pub request_budget_mib: u64,
}

impl HttpArgs {
    /// The connection policy these flags ask for (other fields at their defaults).
    pub fn policy(&self) -> HttpPolicy {
        HttpPolicy {
            max_connections: self.connection.max_connections(),
            max_connections_per_address: self.connection.max_connections_per_address(),
            idle_timeout: self.connection.idle_timeout.get(),
            max_streams: self.max_streams,
            request_budget: RequestBudget::new(
                usize::try_from(self.request_budget_mib << 20).unwrap_or(usize::MAX),
            ),
            ..HttpPolicy::default()
        }
    }

    /// The reply budget these flags ask for.
    pub fn reply_budget(&self) -> crate::ReplyBudget {
        let bytes = usize::try_from(self.reply_budget_mib << 20).unwrap_or(usize::MAX);
        crate::ReplyBudget::new(bytes)
    }
}
