//! Shared test helpers: an in-process server on a free port, and a raw line client.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;

use lab_kit::SpawnedServer;
use socket_lab::ServerConfig;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A server running in this test process.
pub struct TestServer {
    pub addr: SocketAddr,
    server: SpawnedServer<std::io::Error>,
}

impl TestServer {
    /// Asks the server to stop and waits until `run` returns.
    pub async fn shutdown(self) {
        self.server.shutdown().await.unwrap().unwrap();
    }

    /// Asks the server to stop without waiting.
    pub fn trigger_shutdown(&mut self) {
        self.server.trigger_shutdown();
    }

    /// Waits for `run` to return after a shutdown was triggered.
    pub async fn finished(self) {
        self.server.finished().await.unwrap().unwrap();
    }
}

/// Starts a server on `127.0.0.1:0` with `config`.
pub async fn start_server(config: ServerConfig) -> TestServer {
    let server = SpawnedServer::start(|listener, stop| socket_lab::run(listener, config, stop))
        .await
        .unwrap();
    TestServer {
        addr: server.addr(),
        server,
    }
}

/// A client that speaks raw bytes, to test the wire format itself.
pub struct RawClient {
    pub stream: BufReader<TcpStream>,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).await.unwrap();
        RawClient {
            stream: BufReader::new(stream),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
    }

    /// Reads one reply line as JSON; `None` at end of stream.
    pub async fn reply(&mut self) -> Option<serde_json::Value> {
        let mut line = String::new();
        let n = self.stream.read_line(&mut line).await.unwrap();
        if n == 0 {
            return None;
        }
        assert!(line.ends_with('\n'), "reply is a full line: {line:?}");
        Some(serde_json::from_str(&line).expect("reply is JSON"))
    }

    /// Sends one line and reads its reply.
    pub async fn ask(&mut self, line: &str) -> serde_json::Value {
        self.send(format!("{line}\n").as_bytes()).await;
        self.reply().await.expect("a reply")
    }

    /// True when the server has closed the connection (EOF or reset, no more data).
    pub async fn is_closed(&mut self) -> bool {
        let mut rest = String::new();
        match self.stream.read_line(&mut rest).await {
            Ok(0) => true,
            Ok(_) => false,
            Err(_) => true,
        }
    }
}
