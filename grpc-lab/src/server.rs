//! Serving the user service with health checking and reflection, and a graceful
//! shutdown that cannot hang on long-lived chat streams.

use std::future::Future;
use std::time::Duration;

use http::{HeaderValue, header};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::{info, warn};

use crate::greet::GreetService;
use crate::greet_pb::greet_service_server::GreetServiceServer;
use crate::pb;
use crate::pb::user_service_server::UserServiceServer;
use crate::service::UserService;

/// Default time shutdown waits for calls in flight.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The reflection service could not read the descriptor set (a build problem).
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `users.v1.UserService`, `greet.GreetService`, `grpc.health.v1.Health`
/// (SERVING for `""`, `users.v1.UserService` and `greet.GreetService`) and server
/// reflection v1 on `listener` until `shutdown`
/// completes; then closes the chat room, lets calls in flight finish (up to
/// `drain_timeout`) and returns.
///
/// Messages keep tonic's default 4 MiB decoding limit.
///
/// # Errors
///
/// [`ServerError`] when reflection cannot be built or the transport fails.
pub async fn run(
    listener: TcpListener,
    service: UserService,
    drain_timeout: Duration,
    shutdown: impl Future + Send + 'static,
) -> Result<(), ServerError> {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<UserServiceServer<UserService>>()
        .await;
    health_reporter
        .set_serving::<GreetServiceServer<GreetService>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;

    let room = service.room().clone();
    let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        info!("shutting down: finishing calls in flight");
        // Chat streams never end by themselves; end them so the drain can finish.
        room.close();
        let _ = stopping_tx.send(());
    };
    // Small messages: send them now rather than waiting to fill a packet.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    // `server` response metadata names the build, for the benchmark's report.
    let id = lab_kit::build::server_id("grpc-lab", env!("CARGO_PKG_VERSION"));
    let server_id = HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("grpc-lab"));
    let server = Server::builder()
        .layer(SetResponseHeaderLayer::overriding(
            header::SERVER,
            server_id,
        ))
        .add_service(health)
        .add_service(reflection)
        .add_service(service.into_server())
        .add_service(GreetService.into_server())
        .serve_with_incoming_shutdown(incoming, signal);
    let deadline = async {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(drain_timeout).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = server => Ok(result?),
        () = deadline => {
            warn!("drain timeout reached; dropping the calls still open");
            Ok(())
        }
    }
}
