//! Idle upgraded connections cost the server little: a small read buffer each, not
//! tungstenite's default 128 KiB. In its own test binary, so no other test's
//! allocations move the process's resident memory while it is read.

use std::time::Duration;

use lab_kit::SpawnedServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use ws_lab::Config;

/// This process's resident memory, in bytes.
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// An upgraded echo connection that then says nothing: the handshake by hand, so the
/// client side holds no WebSocket buffers of its own.
async fn idle_upgrade(addr: std::net::SocketAddr) -> TcpStream {
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

#[tokio::test]
async fn an_idle_upgraded_connection_costs_a_few_kilobytes() {
    // Under the default cap of 1,000 connections from one address.
    const CONNECTIONS: u64 = 900;
    let server =
        SpawnedServer::start(|listener, stop| ws_lab::run(listener, Config::default(), stop))
            .await
            .unwrap();
    // One first, so what every connection shares (the runtime, the first buffers) is
    // not counted.
    let mut held = vec![idle_upgrade(server.addr()).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = resident();
    for _ in 0..CONNECTIONS {
        held.push(idle_upgrade(server.addr()).await);
    }
    // Let every session reach its first read, where its buffer is allocated.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let each = resident().saturating_sub(before) / CONNECTIONS;
    eprintln!("{each} bytes per idle upgraded connection");
    // With tungstenite's default 128 KiB read buffer, about 129 KB each (measured with
    // 10,000 connections); with a 4 KiB one, a few kilobytes.
    assert!(each < 32 * 1024, "{} KB per idle connection", each / 1024);
    drop(held);
    server.shutdown().await.unwrap().unwrap();
}
