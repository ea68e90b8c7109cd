//! Serving the endpoints (`/ws/echo`, `/ws/chat`, `/sse/chat`, `/poll/chat`, `/hooks`)
//! and `/health` under the connection policy every lab shares,
//! with a shutdown that sends each client a Close frame (1001) after the message in
//! hand.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json};
use lab_kit::http::ConnectionActivity;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::chat::{self, Room};
use crate::config::Config;
use crate::event::Event;
use crate::hooks::{HookLimits, Hooks, Refusal};
use crate::poll::{After, Post};
use crate::session::Session;
use crate::{echo, poll, sse};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Serving failed.
    #[error("WebSocket server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// What every handler reaches.
#[derive(Debug, Clone)]
struct AppState {
    config: Config,
    room: Room,
    hooks: Hooks,
    stop: CancellationToken,
    sessions: TaskTracker,
}

/// Builds the application, with `stop` ending its sessions and `sessions` tracking them.
pub fn app(config: Config, stop: CancellationToken, sessions: TaskTracker) -> Router {
    let room = Room::new(config.max_members, config.room_capacity);
    let limits = HookLimits {
        allowed_hosts: config.hook_allow.clone(),
        max_hooks: config.max_hooks,
        timeout: config.hook_timeout,
    };
    let hooks = Hooks::new(room.clone(), limits, stop.clone(), sessions.clone());
    let id = lab_kit::build::server_id("ws-lab", env!("CARGO_PKG_VERSION"));
    let server_id = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("ws-lab"));
    let router = match &config.policy.metrics {
        Some(http) => Router::new().route_service(
            lab_kit::metrics::PATH,
            lab_kit::exposition::MetricsService(http.metrics.clone()),
        ),
        None => Router::new(),
    };
    router
        .route("/health", get(health))
        .route("/ws/echo", get(echo_upgrade))
        .route("/ws/chat", get(chat_upgrade))
        .route("/sse/chat", get(sse_chat))
        .route(
            "/hooks",
            get(list_hooks)
                .post(add_hook)
                .layer(DefaultBodyLimit::max(16 * 1024)),
        )
        .route("/hooks/{id}", axum::routing::delete(delete_hook))
        .route(
            "/poll/chat",
            get(poll_chat)
                .post(post_chat)
                .layer(DefaultBodyLimit::max(config.max_message_bytes + 1024)),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::SERVER,
            server_id,
        ))
        .with_state(AppState {
            config,
            room,
            hooks,
            stop,
            sessions,
        })
}

/// Serves on `listener` until `shutdown` completes; then every session finishes the
/// message in hand and sends Close 1001, and `run` returns once they have (up to the
/// policy's drain timeout).
///
/// # Errors
///
/// Never in practice: accept errors are logged and retried.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future + Send + 'static,
) -> Result<(), ServerError> {
    let stop = CancellationToken::new();
    let sessions = TaskTracker::new();
    let policy = config.policy.clone();
    let router = app(config, stop.clone(), sessions.clone());
    let signal = {
        let stop = stop.clone();
        async move {
            shutdown.await;
            stop.cancel();
        }
    };
    lab_kit::http::serve(listener, router, &policy, signal).await?;
    sessions.close();
    let drain = policy.drain_timeout.max(Duration::from_millis(100));
    if tokio::time::timeout(drain, sessions.wait()).await.is_err() {
        tracing::warn!("WebSocket sessions still open after {drain:?}; dropping them");
    }
    Ok(())
}

/// Counting in `metrics` (`--metrics`): by the connection layer under [`route_of`]'s
/// names, served at `/metrics` by [`app`].
pub fn metrics(metrics: lab_kit::metrics::ServerMetrics) -> lab_kit::http::HttpMetrics {
    lab_kit::http::HttpMetrics {
        metrics,
        route: route_of,
    }
}

/// The route a request counts under in the metrics: the endpoints by name (a
/// WebSocket's request is its upgrade), anything else `other`.
fn route_of(_method: &axum::http::Method, path: &str) -> &'static str {
    const ROUTES: [&str; 7] = [
        "/health",
        "/ws/echo",
        "/ws/chat",
        "/sse/chat",
        "/poll/chat",
        "/hooks",
        lab_kit::metrics::PATH,
    ];
    if let Some(known) = ROUTES.iter().find(|route| **route == path) {
        return known;
    }
    if path
        .strip_prefix("/hooks/")
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    {
        return "/hooks/{id}";
    }
    "other"
}

async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "healthy",
        "chat_members": state.room.members(),
    }))
}

fn session(state: &AppState, activity: Option<&ConnectionActivity>) -> Session {
    Session {
        _busy: activity.map(ConnectionActivity::busy),
        stop: state.stop.clone(),
        idle: state.config.policy.idle_timeout,
        ping_interval: state.config.ping_interval,
    }
}

async fn echo_upgrade(
    State(state): State<AppState>,
    activity: Option<Extension<ConnectionActivity>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let session = session(&state, activity.as_deref());
    let limit = state.config.max_message_bytes;
    let sessions = state.sessions.clone();
    bounded(upgrade, limit)
        .on_upgrade(move |socket| sessions.track_future(echo::serve(socket, session, limit)))
}

/// The chat's query: `?name=NAME`.
#[derive(Debug, Deserialize)]
struct ChatQuery {
    name: Option<String>,
}

/// The member's name from `?name=`, trimmed, or the answer that refuses it.
fn member_name(
    query: Result<Query<ChatQuery>, QueryRejection>,
    path: &str,
    limit: usize,
) -> Result<String, Refused> {
    let name = query
        .ok()
        .and_then(|Query(q)| q.name)
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    let Some(name) = name else {
        return Err(Refused(
            StatusCode::BAD_REQUEST,
            format!("a name is required: {path}?name=ann"),
        ));
    };
    if name.len() > limit / 2 {
        return Err(Refused(
            StatusCode::BAD_REQUEST,
            "the name is too long".to_owned(),
        ));
    }
    Ok(name)
}

/// A seat in the room, or the 503 that says it is full.
fn seat(room: &Room) -> Result<chat::Seat, Refused> {
    room.seat().ok_or_else(|| {
        let full = format!(
            "the chat room is full ({} members); try again later",
            room.max_members()
        );
        Refused(StatusCode::SERVICE_UNAVAILABLE, full)
    })
}

/// A request refused before it is served: its status and the message that says why.
#[derive(Debug)]
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refuse(self.0, &self.1)
    }
}

async fn chat_upgrade(
    State(state): State<AppState>,
    activity: Option<Extension<ConnectionActivity>>,
    query: Result<Query<ChatQuery>, QueryRejection>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let limit = state.config.max_message_bytes;
    let name = match member_name(query, "/ws/chat", limit) {
        Ok(name) => name,
        Err(refused) => return refused.into_response(),
    };
    let seat = match seat(&state.room) {
        Ok(seat) => seat,
        Err(refused) => return refused.into_response(),
    };
    let session = session(&state, activity.as_deref());
    let room = state.room.clone();
    let sessions = state.sessions.clone();
    bounded(upgrade, limit).on_upgrade(move |socket| {
        sessions.track_future(chat::serve(socket, session, room, name, seat, limit))
    })
}

async fn sse_chat(
    State(state): State<AppState>,
    query: Result<Query<ChatQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let name = match member_name(query, "/sse/chat", state.config.max_message_bytes) {
        Ok(name) => name,
        Err(refused) => return refused.into_response(),
    };
    let resume = match headers
        .get("last-event-id")
        .map(|v| v.to_str().map(str::parse))
    {
        None => None,
        Some(Ok(Ok(id))) => Some(id),
        Some(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "Last-Event-ID must be an event's number, as the stream's id lines give it",
            );
        }
    };
    let seat = match seat(&state.room) {
        Ok(seat) => seat,
        Err(refused) => return refused.into_response(),
    };
    let events = sse::stream(state.room.clone(), seat, name, resume, state.stop.clone());
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.config.ping_interval))
        .into_response()
}

async fn poll_chat(
    State(state): State<AppState>,
    query: Result<Query<After>, QueryRejection>,
) -> Response {
    let Ok(Query(After { after })) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "after must be an event's number: /poll/chat?after=7",
        );
    };
    let timeout = state.config.poll_timeout;
    Json(poll::answer(&state.room, after, timeout, &state.stop).await).into_response()
}

async fn post_chat(
    State(state): State<AppState>,
    body: Result<Json<Post>, JsonRejection>,
) -> Response {
    let limit = state.config.max_message_bytes;
    let post = match body {
        Ok(Json(post)) => post,
        Err(rejection) => {
            let status = match rejection {
                JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let said =
                format!("the body must be {{\"name\":\"ann\",\"text\":\"hi\"}}: {rejection}");
            return refuse(status, &said);
        }
    };
    let name = post.name.trim();
    if name.is_empty() || name.len() > limit / 2 {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a name of 1 to half the message limit is required",
        );
    }
    if post.text.len() > limit {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the text is over the message limit",
        );
    }
    let id = state
        .room
        .publish(0, false, &Event::message(name, &post.text));
    Json(json!({"status": "published", "id": id})).into_response()
}

/// `POST /hooks`'s body.
#[derive(Debug, Deserialize)]
struct NewHook {
    url: String,
}

async fn add_hook(
    State(state): State<AppState>,
    body: Result<Json<NewHook>, JsonRejection>,
) -> Response {
    let Ok(Json(NewHook { url })) = body else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the body must be {\"url\":\"http://127.0.0.1:9000/hook\"}",
        );
    };
    match state.hooks.register(&url) {
        Ok(hook) => (StatusCode::CREATED, Json(hook)).into_response(),
        Err(refusal) => {
            let status = match refusal {
                Refusal::NotAUrl(_) => StatusCode::BAD_REQUEST,
                Refusal::NotAllowed(_) => StatusCode::FORBIDDEN,
                Refusal::Full(_) | Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            refuse(status, &refusal.to_string())
        }
    }
}

async fn list_hooks(State(state): State<AppState>) -> Response {
    Json(json!({"hooks": state.hooks.list()})).into_response()
}

async fn delete_hook(
    State(state): State<AppState>,
    id: Result<axum::extract::Path<u64>, axum::extract::rejection::PathRejection>,
) -> Response {
    match id {
        Ok(axum::extract::Path(id)) if state.hooks.remove(id) => {
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(_) => refuse(StatusCode::NOT_FOUND, "no such hook"),
        Err(_) => refuse(StatusCode::BAD_REQUEST, "a hook's number: DELETE /hooks/3"),
    }
}

/// What one upgraded connection may buffer: the read buffer that the socket is read
/// into (tungstenite's default is 128 KiB a connection, idle or not).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;
/// Replies gathered before they are written to the socket.
pub const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// The most a connection's write buffer may hold while its peer does not read, for
/// messages of at most `limit` bytes: the gathered replies, two of the largest
/// messages (a chat line and the pong or close behind it) and their framing. Past it
/// the connection ends, rather than grow for a peer that sends pings and never reads
/// the pongs (tungstenite's default is unbounded).
pub fn max_write_buffer_bytes(limit: usize) -> usize {
    WRITE_BUFFER_BYTES + 2 * limit + 1024
}

/// Every upgrade's limits: message and frame size, and bounded read and write buffers.
fn bounded(upgrade: WebSocketUpgrade, limit: usize) -> WebSocketUpgrade {
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(max_write_buffer_bytes(limit))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"status": "error", "message": message}))).into_response()
}
