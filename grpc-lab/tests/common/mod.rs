//! Shared test helpers: a gRPC server running in this process on a free port.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::Duration;

use grpc_lab::config::ChatLimits;
use grpc_lab::server::ServerError;
use grpc_lab::{Config, GrpcClient, HttpPolicy};
use lab_kit::SpawnedServer;
use user_store::UserStore;

/// A server running in this test process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    server: SpawnedServer<ServerError>,
}

impl TestServer {
    /// A connected client.
    pub async fn client(&self) -> GrpcClient {
        GrpcClient::connect(&self.url, Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// Asks the server to stop, without waiting for it.
    pub fn trigger_shutdown(&mut self) {
        self.server.trigger_shutdown();
    }

    /// Stops the server and waits until `run` returns.
    pub async fn shutdown(self) {
        self.server.shutdown().await.unwrap().unwrap();
    }
}

/// Starts a server with an empty store.
pub async fn start_server() -> TestServer {
    start_with(Config::new(UserStore::empty())).await
}

/// Starts a server with a given store and a chat room of the given capacity.
pub async fn start_with_room(store: UserStore, room_capacity: usize) -> TestServer {
    let chat = ChatLimits {
        capacity: room_capacity,
        ..ChatLimits::default()
    };
    start_with(Config {
        chat,
        ..Config::new(store)
    })
    .await
}

/// Starts a server with the given configuration with the given connection policy.
pub async fn start_with_policy(config: Config, policy: HttpPolicy) -> TestServer {
    start_with(Config { policy, ..config }).await
}

/// Starts a server with `config`. The listener is bound before this returns, so
/// clients can connect at once: no sleep, no retry.
pub async fn start_with(config: Config) -> TestServer {
    let server = SpawnedServer::start(|listener, stop| grpc_lab::run(listener, config, stop))
        .await
        .unwrap();
    let addr = server.addr();
    TestServer {
        addr,
        url: format!("http://{addr}"),
        server,
    }
}
