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
