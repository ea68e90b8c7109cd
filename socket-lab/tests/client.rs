//! The library client, the self-test suite and the CLI against an in-process server.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::start_server;
use socket_lab::cli::{ClientCli, client};
use socket_lab::selftest::run_self_test;
use socket_lab::{Client, ClientError, ServerConfig};

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn self_test_passes_against_a_live_server() {
    let server = start_server(ServerConfig::default()).await;
    let mut out = Vec::new();
    let summary = run_self_test(&server.addr.to_string(), TIMEOUT, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");
    assert_eq!(summary.total, 5);
    assert!(text.contains("Test Results: 5/5 Passed"), "{text}");
    assert!(text.contains("5/5 successful"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn self_test_fails_against_a_closed_port() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let mut out = Vec::new();
    let summary = run_self_test(&addr, TIMEOUT, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(!summary.all_passed(), "{text}");
    // Only the error-handling test can pass without a server, and it needs the server
    // for its last check.
    assert_eq!(summary.passed, 0, "{text}");
    assert!(text.contains("cannot connect"), "{text}");
}

#[tokio::test]
async fn client_reports_refusals_and_connection_errors() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = Client::connect(&server.addr.to_string(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(client.uppercase("abc").await.unwrap(), "ABC");
    let reply = client.send_raw(b"42\n").await.unwrap();
    assert!(reply.error.unwrap().contains("object"));
    server.shutdown().await;

    let error = Client::connect("no-such-host.invalid:1", Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Resolve { .. } | ClientError::Timeout { .. }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn cli_send_and_check_work_against_a_live_server() {
    let server = start_server(ServerConfig::default()).await;
    let addr = server.addr.to_string();
    for args in [
        vec!["socket-client", "--addr", &addr, "send", "a", "b"],
        vec!["socket-client", "--addr", &addr, "check"],
    ] {
        let code = client(ClientCli::parse_from(args)).await.unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
    }
    server.shutdown().await;
    let refused = client(ClientCli::parse_from([
        "socket-client",
        "--addr",
        &addr,
        "check",
    ]))
    .await;
    assert!(refused.is_err());
}

#[test]
fn cli_rejects_a_bad_timeout() {
    assert!(ClientCli::try_parse_from(["socket-client", "--timeout", "-1"]).is_err());
    assert!(ClientCli::try_parse_from(["socket-client", "--timeout", "soon"]).is_err());
}

#[tokio::test]
async fn a_reply_line_that_never_ends_is_refused_not_buffered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A peer that answers any request with more bytes than a reply may hold, and no
    // newline.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 256];
        let _ = stream.read(&mut request).await;
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..(socket_lab::client::MAX_REPLY_BYTES / chunk.len() + 4) {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut client = Client::connect(&addr, TIMEOUT).await.unwrap();
    match client.uppercase("hi").await {
        Err(ClientError::BadReply(reason)) => assert!(reason.contains("longer than"), "{reason}"),
        other => panic!("expected a refused reply, got {other:?}"),
    }
    drop(client);
    peer.await.unwrap();
}

#[tokio::test]
async fn a_client_works_over_any_stream() {
    let server = start_server(ServerConfig::default()).await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut client = Client::from_stream(stream, TIMEOUT);
    assert_eq!(client.uppercase("any stream").await.unwrap(), "ANY STREAM");
    server.shutdown().await;
}
