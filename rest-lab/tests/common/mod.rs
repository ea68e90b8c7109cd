//! Shared test helpers: a REST server running in this process on a free port.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use rest_lab::{AppState, RestClient, ServerConfig};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use user_store::UserStore;

/// A server running in this test process.
pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    /// A client for this server.
    pub fn client(&self) -> RestClient {
        RestClient::new(&self.url).unwrap()
    }

    /// Stops the server and waits until `run` returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap().unwrap();
    }
}

/// Starts a server with an empty store and default limits.
pub async fn start_server() -> TestServer {
    start_with(AppState::new(UserStore::empty())).await
}

/// Starts a server with the given state.
pub async fn start_with(state: AppState) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(rest_lab::run(
        listener,
        state,
        ServerConfig::default(),
        async move {
            let _ = stopped.await;
        },
    ));
    TestServer {
        addr,
        url: format!("http://{addr}"),
        stop: Some(stop),
        task,
    }
}
