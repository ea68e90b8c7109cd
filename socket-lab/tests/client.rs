//! The library client, the self-test suite and the CLI against an in-process server.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use common::start_server;
use socket_lab::cli::client::{ClientCli, run as client};
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
    // Said once, with the next step; every planned test reported as not run.
    assert_eq!(summary.passed, 0, "{text}");
    assert_eq!(summary.total, 5, "{text}");
    assert_eq!(text.matches("nothing listens on").count(), 1, "{text}");
    assert!(text.contains("--bin socket-server"), "{text}");
    assert_eq!(text.matches(": not run").count(), 5, "{text}");
}

#[tokio::test]
async fn a_client_pointed_at_an_http_server_says_so() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let error = client(ClientCli::parse_from([
        "socket-client",
        "--url",
        &addr,
        "check",
    ]))
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("is not the socket server"), "{error}");
    assert!(error.contains("HTTP/1.1"), "{error}");
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
        vec!["socket-client", "--url", &addr, "send", "a", "b"],
        vec!["socket-client", "--url", &addr, "check"],
    ] {
        let code = client(ClientCli::parse_from(args)).await.unwrap();
        assert_eq!(code, ExitCode::SUCCESS);
    }
    server.shutdown().await;
    let refused = client(ClientCli::parse_from([
        "socket-client",
        "--url",
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

/// The real binary at its prompt, with piped input: `help` and `quit` are obeyed, not
/// sent; Ctrl-C (SIGINT) leaves at once with status 130.
#[tokio::test]
async fn the_interactive_binary_obeys_quit_and_leaves_on_ctrl_c_with_130() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    let server = start_server(ServerConfig::default()).await;
    let addr = server.addr.to_string();
    let binary = env!("CARGO_BIN_EXE_socket-client");
    let session = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || {
            let mut child = Command::new(binary)
                .args(["--url", &addr, "interactive"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"hello\nhelp\nquit\nafter quit\n").unwrap();
            drop(stdin);
            child.wait_with_output().unwrap()
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&session.stdout);
    assert!(session.status.success(), "{text}");
    assert!(text.contains("HELLO"), "{text}");
    assert!(text.contains("recall earlier lines"), "{text}");
    assert!(!text.contains("HELP") && !text.contains("QUIT"), "{text}");
    assert!(!text.contains("AFTER QUIT"), "{text}");

    let interrupted = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(binary)
            .args(["--url", &addr, "interactive"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until it is at its prompt, then press Ctrl-C.
        let mut greeting = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut greeting)
            .unwrap();
        assert!(greeting.starts_with("Connected"), "{greeting}");
        let pid = child.id().to_string();
        Command::new("kill").args(["-INT", &pid]).status().unwrap();
        // Input stays open: only Ctrl-C can end the session.
        let stdin = child.stdin.take();
        let status = child.wait().unwrap();
        drop(stdin);
        status
    })
    .await
    .unwrap();
    assert_eq!(interrupted.code(), Some(130));
    server.shutdown().await;
}
