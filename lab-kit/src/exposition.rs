//! A server's metrics over HTTP: the `/metrics` reply, for a lab whose own port speaks
//! HTTP (REST, WebSocket), and a server of their own on another address
//! (`--metrics-addr`, for gRPC and the socket lab, whose ports speak only their
//! protocol).

use crate::metrics::{CONTENT_TYPE, PATH, ServerMetrics};

/// The reply to `method path` on a metrics endpoint: the metrics for `GET` or `HEAD`
/// of [`PATH`], 405 for another method there, 404 elsewhere.
fn reply(metrics: &ServerMetrics, method: &http::Method, path: &str) -> http::Response<String> {
    use http::{Method, StatusCode, header};
    let (status, body, kind) = if path != PATH {
        (
            StatusCode::NOT_FOUND,
            format!("not found: metrics are at {PATH}\n"),
            "text/plain",
        )
    } else if method == Method::GET || method == Method::HEAD {
        (StatusCode::OK, metrics.render(), CONTENT_TYPE)
    } else {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET\n".to_owned(),
            "text/plain",
        )
    };
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(kind));
    response
}

/// Serves the metrics alone on `listener` (`--metrics-addr`, for the servers whose own
/// port speaks only their protocol) under the shared connection policy, until
/// `shutdown` completes.
///
/// # Errors
///
/// Never in practice, as [`crate::http::serve`].
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: ServerMetrics,
    shutdown: impl std::future::Future,
) -> std::io::Result<()> {
    let policy = crate::http::HttpPolicy {
        // A scraper or two, and a person with curl.
        max_connections: 64,
        ..crate::http::HttpPolicy::default()
    };
    crate::http::serve(listener, MetricsService(metrics), &policy, shutdown).await
}

/// `--metrics-addr ADDR`: binds `addr` and serves fresh metrics there in a task of
/// their own (for as long as the runtime runs); returns them, for `server` to count in.
///
/// # Errors
///
/// When `addr` cannot be bound, saying what to try.
pub async fn serve_at(addr: &str, server: &str) -> anyhow::Result<ServerMetrics> {
    let name = format!("{server} metrics");
    let listener = crate::listen::bind_flag(addr, &name, "--metrics-addr").await?;
    let metrics = ServerMetrics::new();
    tokio::spawn(serve(
        listener,
        metrics.clone(),
        std::future::pending::<()>(),
    ));
    Ok(metrics)
}

/// The metrics endpoint as a service: what `--metrics-addr` serves, and what a lab whose
/// port speaks HTTP routes `/metrics` to (axum's `route_service`).
#[derive(Debug, Clone)]
pub struct MetricsService(pub ServerMetrics);

impl<B> tower_service::Service<http::Request<B>> for MetricsService {
    type Response = http::Response<String>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        std::future::ready(Ok(reply(&self.0, request.method(), request.uri().path())))
    }
}
