//! What the tests share: a server in this process, this process's resident memory,
//! and an upgrade done by hand, so a test can write frames raw and the client holds no
//! WebSocket buffers.

#![allow(dead_code, reason = "each test binary uses its own part")]

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with `config` on `127.0.0.1:0`, and its `http://` base URL.
pub(crate) async fn start(
    config: ws_lab::Config,
) -> (String, lab_kit::SpawnedServer<ws_lab::server::ServerError>) {
    // reqwest is built without a crypto provider of its own.
    lab_kit::tls::install_default_provider();
    let server =
        lab_kit::SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
            .await
            .unwrap();
    (format!("http://{}", server.addr()), server)
}

/// This process's resident memory, in bytes.
pub(crate) fn resident() -> u64 {
    lab_kit::metrics::resident_memory().expect("a Linux /proc")
}

/// An upgraded echo connection, the handshake written by hand.
pub(crate) async fn raw_upgrade(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            b"GET /ws/echo HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
              sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}
