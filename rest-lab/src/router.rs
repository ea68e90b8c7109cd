//! The router: every route, the JSON fallbacks for 404 and 405, and the layers. It
//! imports the handlers and the OpenAPI document; neither imports it.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::openapi;
use crate::routes::{self, health, users};

/// Builds the application: the routes of the contract plus `/api/openapi.json`.
///
/// Tests drive it in memory with `tower::ServiceExt::oneshot`; [`run`](crate::run) serves
/// it over TCP.
pub fn app(state: Config) -> Router {
    let routes = Router::new()
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route("/api/users/search", get(users::search_users))
        .route(
            "/api/users/{id}",
            get(users::get_user)
                .put(users::update_user)
                .delete(users::delete_user),
        )
        .route("/health", get(health::health))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.max_body_bytes));
    // Only a server with a token pays for checking it (a middleware costs the request
    // path thousands of instructions).
    let routes = match &state.auth_token {
        Some(_) => routes.layer(middleware::from_fn_with_state(
            state.clone(),
            writes_need_the_token,
        )),
        None => routes,
    };
    // Only a server asked for metrics has the route (the counting is the connection
    // layer's: see `crate::run`).
    let routes = match &state.metrics {
        Some(metrics) => routes.route_service(
            lab_kit::metrics::PATH,
            lab_kit::exposition::MetricsService(metrics.clone()),
        ),
        None => routes,
    };
    routes
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::SERVER,
            server_header(),
        ))
        .with_state(state)
}

/// The route a request counts under in the metrics: the contract's routes by their
/// templates, anything else `other`.
pub(crate) fn route_of(_method: &axum::http::Method, path: &str) -> &'static str {
    match path {
        "/api/users" => "/api/users",
        "/api/users/search" => "/api/users/search",
        "/health" => "/health",
        "/api/openapi.json" => "/api/openapi.json",
        lab_kit::metrics::PATH => lab_kit::metrics::PATH,
        _ if path
            .strip_prefix("/api/users/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/')) =>
        {
            "/api/users/{id}"
        }
        _ => "other",
    }
}

/// `rest-lab/0.1.0 (release)`: which build answered, for the benchmark's report.
fn server_header() -> HeaderValue {
    let id = lab_kit::build::server_id("rest-lab", env!("CARGO_PKG_VERSION"));
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("rest-lab"))
}

/// With `--auth-token`: a write (anything but GET, HEAD and OPTIONS) without the token
/// is refused with 401, its body never reaching a handler; reads stay open.
async fn writes_need_the_token(
    State(state): State<Config>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = &state.auth_token else {
        return next.run(request).await;
    };
    let read = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if read || token.matches_bearer(presented) {
        return next.run(request).await;
    }
    // The body is read (up to the body limit) and dropped before the 401: HTTP/2 lets
    // a server answer early and reset the stream with NO_ERROR, but clients such as
    // curl 7.88 then report a framing error instead of the response.
    let _ = axum::body::to_bytes(request.into_body(), state.max_body_bytes).await;
    ApiError::Unauthorized.into_response()
}

/// Abandons a request that takes longer than the limit, so a client that stalls while
/// sending its body cannot hold a connection and a task forever.
async fn request_timeout(State(state): State<Config>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout {
            secs: state.request_timeout.as_secs_f64(),
        }
        .into_response(),
    }
}
