//! Serving the user service with health checking and reflection, under the connection
//! policy every lab shares ([`HttpPolicy`]: connection cap, idle timeout from accept,
//! bounded writes, HTTP/2 stream limit, keep-alive pings), and a graceful shutdown that
//! cannot hang on long-lived chat streams.
//!
//! tonic's services are served as [`Routes`] on the same hyper-based loop as the REST
//! lab (tonic's own `Server` is that loop too, without a hand in each connection).

use std::future::Future;

use http::{HeaderValue, header};
use lab_kit::http::HttpPolicy;
use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::info;

use crate::chat::ChatRoom;
use crate::config::Config;
use crate::greet::GreetService;
use crate::pb;
use crate::service::UserService;
use crate::{GREET_SERVICE_NAME, SERVICE_NAME};

/// Counting in `metrics` under [`route_of`]'s names (`--metrics-addr`).
pub fn metrics(metrics: lab_kit::metrics::ServerMetrics) -> lab_kit::http::HttpMetrics {
    lab_kit::http::HttpMetrics {
        metrics,
        route: route_of,
    }
}

/// The route a call counts under in the metrics: the served methods by their paths,
/// anything else `other`.
fn route_of(_method: &http::Method, path: &str) -> &'static str {
    const METHODS: [&str; 13] = [
        "/users.v1.UserService/GetAllUsers",
        "/users.v1.UserService/GetUser",
        "/users.v1.UserService/CreateUser",
        "/users.v1.UserService/UpdateUser",
        "/users.v1.UserService/DeleteUser",
        "/users.v1.UserService/ListUsers",
        "/users.v1.UserService/CreateUsers",
        "/users.v1.UserService/ChatStream",
        "/greet.GreetService/Greet",
        "/grpc.health.v1.Health/Check",
        "/grpc.health.v1.Health/Watch",
        "/grpc.health.v1.Health/List",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    ];
    METHODS
        .iter()
        .find(|known| **known == path)
        .copied()
        .unwrap_or("other")
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The reflection service could not read the descriptor set (a build problem).
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// Serving failed.
    #[error("gRPC server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `users.v1.UserService`, `greet.GreetService`, `grpc.health.v1.Health`
/// and server reflection v1 on `listener` (HTTP/2 only, whatever `config.policy` says)
/// until `shutdown` completes; then reports NOT_SERVING, closes the chat room, lets
/// calls in flight finish (up to `config.policy.drain_timeout`) and returns.
///
/// Health is SERVING for `""`, `users.v1.UserService` and `greet.GreetService` while the
/// server accepts calls. Messages keep tonic's default 4 MiB decoding limit.
///
/// # Errors
///
/// [`ServerError`] when reflection cannot be built.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future + Send + 'static,
) -> Result<(), ServerError> {
    let room = ChatRoom::with_limits(config.chat);
    let service = UserService::with_room(config.store, room)
        .with_reply_budget(config.reply_budget)
        .with_auth_token(config.auth_token);
    let (health_reporter, health) = tonic_health::server::health_reporter();
    for name in ["", SERVICE_NAME, GREET_SERVICE_NAME] {
        health_reporter
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let room = service.room().clone();
    let signal = async move {
        shutdown.await;
        info!("shutting down: finishing calls in flight");
        // Health checkers learn first, so a balancer stops sending calls here.
        for name in ["", SERVICE_NAME, GREET_SERVICE_NAME] {
            health_reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        // Chat streams never end by themselves; end them so the drain can finish.
        room.close();
    };
    // `server` response metadata names the build, for the benchmark's report.
    let id = lab_kit::build::server_id("grpc-lab", env!("CARGO_PKG_VERSION"));
    let server_id = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("grpc-lab"));
    let routes = Routes::new(health)
        .add_service(reflection)
        .add_service(service.into_server())
        .add_service(GreetService.into_server())
        .prepare()
        .into_axum_router()
        .layer(SetResponseHeaderLayer::overriding(
            header::SERVER,
            server_id,
        ));
    let policy = HttpPolicy {
        http2_only: true,
        // Chat messages come when people type: no clock on their stream.
        live_paths: &["/users.v1.UserService/ChatStream"],
        ..config.policy
    };
    lab_kit::http::serve(listener, routes, &policy, signal).await?;
    Ok(())
}
