//! `--metrics-addr`: every line counted as ok or error, connections open, and the
//! metrics served over HTTP on an address of their own.

mod common;

use std::time::Duration;

use common::start_server;
use lab_kit::metrics::{ServerMetrics, sample};
use socket_lab::ServerConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// `GET /metrics` over a plain TCP connection, the whole reply.
async fn scrape(addr: std::net::SocketAddr) -> String {
    scrape_path(addr, "/metrics").await
}

#[tokio::test]
async fn lines_are_counted_and_the_metrics_served_on_their_own_address() {
    let metrics = ServerMetrics::new();
    let exposition = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_addr = exposition.local_addr().unwrap();
    tokio::spawn(lab_kit::exposition::serve(
        exposition,
        metrics.clone(),
        std::future::pending::<()>(),
    ));
    let server = start_server(ServerConfig {
        metrics: Some(metrics.clone()),
        ..ServerConfig::default()
    })
    .await;

    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut lines = BufReader::new(stream);
    for request in [
        &b"{\"message\":\"hi\"}\n"[..],
        b"{\"message\":\"yo\"}\n",
        b"not json\n",
    ] {
        lines.get_mut().write_all(request).await.unwrap();
        let mut reply = String::new();
        lines.read_line(&mut reply).await.unwrap();
    }
    let reply = scrape(metrics_addr).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("text/plain; version=0.0.4"), "{reply}");
    assert!(
        reply.contains(r#"commlab_requests_total{route="echo",method="LINE",status="ok"} 2"#),
        "{reply}"
    );
    assert!(
        reply.contains(r#"commlab_requests_total{route="echo",method="LINE",status="error"} 1"#),
        "{reply}"
    );
    let body = reply.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(sample(body, "commlab_open_connections"), Some(1.0));
    assert_eq!(sample(body, "commlab_requests_in_flight"), Some(0.0));

    // The connection closes: the gauge goes back to zero once the server has seen it.
    drop(lines);
    let mut open = None;
    for _ in 0..100 {
        open = sample(&metrics.render(), "commlab_open_connections");
        if open == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, Some(0.0));
    // Anything but /metrics is not found there.
    assert!(
        scrape_path(metrics_addr, "/")
            .await
            .starts_with("HTTP/1.1 404")
    );
    server.shutdown().await;
}

/// `GET path` over a plain TCP connection, the whole reply.
async fn scrape_path(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}
