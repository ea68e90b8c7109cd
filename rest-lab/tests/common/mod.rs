//! Shared test helpers: a REST server running in this process on a free port.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use lab_kit::SpawnedServer;
use rest_lab::{Config, HttpPolicy, RestClient};
use user_store::UserStore;

/// A server running in this test process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    server: SpawnedServer<std::io::Error>,
}

impl TestServer {
    /// A client for this server.
    pub fn client(&self) -> RestClient {
        RestClient::new(&self.url).unwrap()
    }

    /// Asks the server to stop, without waiting for it.
    pub fn trigger_shutdown(&mut self) {
        self.server.trigger_shutdown();
    }

    /// Waits until `run` returns (after a shutdown was triggered).
    pub async fn finished(self) {
        self.server.finished().await.unwrap().unwrap();
    }

    /// Stops the server and waits until `run` returns.
    pub async fn shutdown(self) {
        self.server.shutdown().await.unwrap().unwrap();
    }
}

/// Starts a server with an empty store and default limits.
pub async fn start_server() -> TestServer {
    start_with(Config::new(UserStore::empty())).await
}

/// Starts a server with the given configuration.
pub async fn start_with_policy(config: Config, policy: HttpPolicy) -> TestServer {
    start_with(Config { policy, ..config }).await
}

/// Starts a server with the given configuration.
pub async fn start_with(config: Config) -> TestServer {
    // The tests' own reqwest clients build a rustls configuration from the default.
    lab_kit::tls::install_default_provider();
    let server = SpawnedServer::start(|listener, stop| rest_lab::run(listener, config, stop))
        .await
        .unwrap();
    let addr = server.addr();
    TestServer {
        addr,
        url: format!("http://{addr}"),
        server,
    }
}
