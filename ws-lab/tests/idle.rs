//! Idle upgraded connections cost the server little: a small read buffer each, not
//! tungstenite's default 128 KiB. In its own test binary, so no other test's
//! allocations move the process's resident memory while it is read.

use std::time::Duration;

use lab_kit::SpawnedServer;
use ws_lab::Config;

mod common;
use common::{raw_upgrade, resident};

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
    let mut held = vec![raw_upgrade(server.addr()).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = resident();
    for _ in 0..CONNECTIONS {
        held.push(raw_upgrade(server.addr()).await);
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
