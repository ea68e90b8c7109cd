//! The wire contract of the socket server, tested at the byte level against a server
//! running in this process.

mod common;

use std::time::Duration;

use common::{RawClient, start_server};
use serde_json::json;
use socket_lab::ServerConfig;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

#[tokio::test]
async fn uppercases_with_full_unicode() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    assert_eq!(
        client.ask(r#"{"message": "straße"}"#).await,
        json!({"status": "ok", "message": "STRASSE"})
    );
    assert_eq!(
        client.ask(r#"{"message": "héllo wörld ñ ǳ"}"#).await["message"],
        "HÉLLO WÖRLD Ñ Ǳ"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn echoes_the_id_of_every_kind() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    for id in [json!(1), json!("abc"), json!(2.5), json!(true), json!(null)] {
        let request = json!({"message": "x", "id": id}).to_string();
        let reply = client.ask(&request).await;
        assert_eq!(reply, json!({"status": "ok", "message": "X", "id": id}));
    }
    // Without an id, the reply has none.
    let reply = client.ask(r#"{"message": "x"}"#).await;
    assert!(reply.get("id").is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn empty_message_is_served() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    assert_eq!(
        client.ask(r#"{"message": ""}"#).await,
        json!({"status": "ok", "message": ""})
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_json_gets_an_error_and_the_connection_goes_on() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    let reply = client.ask("{not json").await;
    assert_eq!(reply["status"], "error");
    assert!(reply["error"].as_str().unwrap().starts_with("invalid JSON"));
    assert_eq!(
        client.ask(r#"{"message": "next"}"#).await["message"],
        "NEXT"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_utf8_gets_an_error_and_the_connection_goes_on() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    client.send(b"{\"message\": \"\xc3\x28\"}\n").await;
    let reply = client.reply().await.unwrap();
    assert_eq!(reply["status"], "error");
    assert_eq!(client.ask(r#"{"message": "ok"}"#).await["message"], "OK");
    server.shutdown().await;
}

#[tokio::test]
async fn missing_or_mistyped_message_is_refused_with_the_id() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    let reply = client.ask(r#"{"id": 9, "text": "hi"}"#).await;
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["id"], 9);
    assert!(reply["error"].as_str().unwrap().contains("message"));

    let reply = client.ask(r#"{"id": "a", "message": ["hi"]}"#).await;
    assert_eq!(reply["status"], "error");
    assert_eq!(reply["id"], "a");

    let reply = client.ask(r#"["not", "an", "object"]"#).await;
    assert_eq!(reply["status"], "error");
    assert!(reply["error"].as_str().unwrap().contains("object"));
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    let reply = client
        .ask(r#"{"message": "a", "lang": "en", "meta": {"x": [1]}}"#)
        .await;
    assert_eq!(reply, json!({"status": "ok", "message": "A"}));
    server.shutdown().await;
}

#[tokio::test]
async fn pipelined_lines_are_answered_in_order() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    let mut batch = String::new();
    for i in 0..100 {
        batch.push_str(&format!("{{\"message\": \"line {i}\", \"id\": {i}}}\n"));
    }
    client.send(batch.as_bytes()).await;
    for i in 0..100 {
        let reply = client.reply().await.expect("a reply per line");
        assert_eq!(reply["id"], i);
        assert_eq!(reply["message"], format!("LINE {i}"));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_200_clients_at_once() {
    let server = start_server(ServerConfig::default()).await;
    let addr = server.addr;
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..200 {
        clients.spawn(async move {
            let mut client = RawClient::connect(addr).await;
            for r in 0..20 {
                let text = format!("client {c} request {r}");
                let reply = client
                    .ask(&json!({"message": text, "id": r}).to_string())
                    .await;
                assert_eq!(reply["message"], text.to_uppercase());
                assert_eq!(reply["id"], r);
            }
        });
    }
    let mut done = 0;
    while let Some(result) = clients.join_next().await {
        result.expect("client task succeeded");
        done += 1;
    }
    assert_eq!(done, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn an_over_limit_line_gets_an_error_then_the_connection_closes() {
    let config = ServerConfig {
        max_line_bytes: 1024,
        ..ServerConfig::default()
    };
    let server = start_server(config).await;
    let mut client = RawClient::connect(server.addr).await;
    let long = format!("{{\"message\": \"{}\"}}\n", "a".repeat(2000));
    client.send(long.as_bytes()).await;
    let reply = client.reply().await.expect("an error reply before closing");
    assert_eq!(reply["status"], "error");
    assert!(reply["error"].as_str().unwrap().contains("1024"));
    assert!(client.is_closed().await);

    // Other connections are unaffected.
    let mut other = RawClient::connect(server.addr).await;
    assert_eq!(other.ask(r#"{"message": "fine"}"#).await["message"], "FINE");
    server.shutdown().await;
}

#[tokio::test]
async fn the_limit_holds_before_the_newline_arrives() {
    let config = ServerConfig {
        max_line_bytes: 1024,
        ..ServerConfig::default()
    };
    let server = start_server(config).await;
    let mut client = RawClient::connect(server.addr).await;
    // No newline at all: the server must not wait for one past the limit.
    client.send(&[b'x'; 1500]).await;
    let reply = client.reply().await.expect("an error reply");
    assert_eq!(reply["status"], "error");
    assert!(client.is_closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn a_line_of_exactly_the_limit_is_accepted() {
    let limit = 1024;
    let config = ServerConfig {
        max_line_bytes: limit,
        ..ServerConfig::default()
    };
    let server = start_server(config).await;
    let mut client = RawClient::connect(server.addr).await;
    let frame = r#"{"message": ""}"#.len();
    let line = format!("{{\"message\": \"{}\"}}", "b".repeat(limit - frame));
    assert_eq!(line.len(), limit);
    let reply = client.ask(&line).await;
    assert_eq!(reply["status"], "ok");
    assert_eq!(reply["message"].as_str().unwrap().len(), limit - frame);
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_vanishing_mid_line_does_not_disturb_others() {
    let server = start_server(ServerConfig::default()).await;
    let mut steady = RawClient::connect(server.addr).await;
    assert_eq!(steady.ask(r#"{"message": "one"}"#).await["message"], "ONE");
    for _ in 0..10 {
        let mut leaver = RawClient::connect(server.addr).await;
        leaver.send(br#"{"message": "half a li"#).await;
        drop(leaver);
    }
    assert_eq!(steady.ask(r#"{"message": "two"}"#).await["message"], "TWO");
    let mut fresh = RawClient::connect(server.addr).await;
    assert_eq!(
        fresh.ask(r#"{"message": "three"}"#).await["message"],
        "THREE"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_final_line_without_newline_is_answered_at_end_of_stream() {
    let server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    client.send(br#"{"message": "last"}"#).await;
    client.stream.get_mut().shutdown().await.unwrap();
    let reply = client
        .reply()
        .await
        .expect("reply to the unterminated line");
    assert_eq!(reply["message"], "LAST");
    assert!(client.is_closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_finishes_the_request_in_hand() {
    let mut server = start_server(ServerConfig::default()).await;
    let mut client = RawClient::connect(server.addr).await;
    assert_eq!(
        client.ask(r#"{"message": "before"}"#).await["message"],
        "BEFORE"
    );
    // Half a request is in hand when the stop signal arrives...
    client.send(br#"{"message": "in fl"#).await;
    // ...give the kernel a moment to deliver those bytes to the server's socket.
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.trigger_shutdown();
    client.send(b"ight\"}\n").await;
    let reply = client
        .reply()
        .await
        .expect("the in-flight request is answered");
    assert_eq!(reply["message"], "IN FLIGHT");
    assert!(client.is_closed().await, "then the connection closes");
    tokio::time::timeout(Duration::from_secs(5), server.finished())
        .await
        .expect("the server stops within seconds");
}

#[tokio::test]
async fn shutdown_answers_a_request_from_a_connection_not_yet_accepted() {
    for _ in 0..10 {
        let mut server = start_server(ServerConfig::default()).await;
        // Connected (the kernel completed the handshake) and sent, then the stop: the
        // server may not have accepted the connection yet.
        let mut client = RawClient::connect(server.addr).await;
        client.send(b"{\"message\": \"just in time\"}\n").await;
        server.trigger_shutdown();
        let reply = client.reply().await.expect("the request is answered");
        assert_eq!(reply["message"], "JUST IN TIME");
        tokio::time::timeout(Duration::from_secs(5), server.finished())
            .await
            .expect("the server stops within seconds");
    }
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_stops_accepting() {
    let server = start_server(ServerConfig::default()).await;
    let addr = server.addr;
    let mut idle = RawClient::connect(addr).await;
    assert_eq!(idle.ask(r#"{"message": "hi"}"#).await["message"], "HI");
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown does not wait for idle clients");
    assert!(idle.is_closed().await);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_stalled_client_is_closed_after_the_idle_timeout() {
    let config = ServerConfig {
        idle_timeout: Duration::from_secs(300),
        ..ServerConfig::default()
    };
    let server = start_server(config).await;
    let mut client = RawClient::connect(server.addr).await;
    client.send(br#"{"message": "never fini"#).await;
    // Time is paused: it jumps ahead while both sides wait.
    let reply = client.reply().await.expect("an error reply on timeout");
    assert_eq!(reply["status"], "error");
    assert!(reply["error"].as_str().unwrap().contains("300"));
    assert!(client.is_closed().await);
    server.shutdown().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_slot() {
    let config = ServerConfig {
        max_connections: 1,
        ..ServerConfig::default()
    };
    let server = start_server(config).await;
    let mut first = RawClient::connect(server.addr).await;
    assert_eq!(first.ask(r#"{"message": "a"}"#).await["message"], "A");

    // The second connects (the kernel's backlog accepts it) but is not served yet.
    let mut second = RawClient::connect(server.addr).await;
    second.send(b"{\"message\": \"b\"}\n").await;
    let early = tokio::time::timeout(Duration::from_millis(200), second.reply()).await;
    assert!(early.is_err(), "served while the only slot was taken");

    drop(first);
    let reply = tokio::time::timeout(Duration::from_secs(5), second.reply())
        .await
        .expect("served once the slot is free");
    assert_eq!(reply.unwrap()["message"], "B");
    server.shutdown().await;
}

/// A client from another loopback address (all of 127/8 is this machine).
async fn connect_from(source: [u8; 4], server: std::net::SocketAddr) -> RawClient {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    RawClient {
        stream: tokio::io::BufReader::new(socket.connect(server).await.unwrap()),
    }
}

#[tokio::test]
async fn one_address_holding_its_share_leaves_the_other_slots_to_others() {
    let server = start_server(ServerConfig {
        max_connections: 6,
        max_connections_per_address: 3,
        ..ServerConfig::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut client = connect_from([127, 0, 0, 2], server.addr).await;
        assert_eq!(client.ask(r#"{"message": "a"}"#).await["message"], "A");
        held.push(client);
    }
    // Further connections from that address are closed at once (before, they took the
    // remaining slots and then waited in the backlog with everyone else).
    for _ in 0..10 {
        let mut extra = connect_from([127, 0, 0, 2], server.addr).await;
        let closed = tokio::time::timeout(Duration::from_secs(5), extra.is_closed()).await;
        assert_eq!(closed.ok(), Some(true), "an extra connection was kept");
    }
    // An honest client from another address is served while the share is held.
    let mut honest = RawClient::connect(server.addr).await;
    let reply = tokio::time::timeout(Duration::from_secs(5), honest.ask(r#"{"message": "hi"}"#))
        .await
        .expect("the honest client was served");
    assert_eq!(reply["message"], "HI");
    // A connection given back makes room for the address again.
    drop(held.pop());
    let reply = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            // The server gives the slot back when it sees the close: until then a new
            // connection from the address is closed, so try again.
            let mut again = connect_from([127, 0, 0, 2], server.addr).await;
            let _ = again
                .stream
                .get_mut()
                .write_all(b"{\"message\": \"b\"}\n")
                .await;
            let mut line = String::new();
            if matches!(again.stream.read_line(&mut line).await, Ok(n) if n > 0) {
                return serde_json::from_str::<serde_json::Value>(&line).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("served again");
    assert_eq!(reply["message"], "B");
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_frees_its_slot() {
    let server = start_server(ServerConfig {
        max_connections: 1,
        idle_timeout: Duration::from_millis(500),
        ..ServerConfig::default()
    })
    .await;
    // Requests of 60 KB whose replies are three times their size (U+0390 upper-cases
    // to six bytes), sent by a client that never reads a byte back: each reply is past
    // the 64 KiB the server queues, so it is written at once, while the server is not
    // waiting for input.
    let mut hog = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let line = format!("{{\"message\": \"{}\"}}\n", "\u{390}".repeat(30_000));
    let writer = tokio::spawn(async move {
        for _ in 0..300 {
            if hog.write_all(line.as_bytes()).await.is_err() {
                return true;
            }
        }
        false
    });
    // The server's only slot is taken; once the hog has stopped reading for the idle
    // timeout it is dropped, and the next client is served.
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        let mut next = RawClient::connect(server.addr).await;
        next.ask(r#"{"message": "my turn"}"#).await
    })
    .await
    .expect("the never-reading client gave up its slot within seconds");
    assert_eq!(served["message"], "MY TURN");
    let refused = tokio::time::timeout(Duration::from_secs(10), writer)
        .await
        .expect("the hog's writes end")
        .unwrap();
    assert!(refused, "the server closed the hog's connection");
    server.shutdown().await;
}

#[test]
fn out_of_range_limits_are_refused_at_start_up() {
    use clap::Parser;
    use socket_lab::cli::server::ServerCli;
    let parse = |args: &[&str]| {
        let mut all = vec!["socket-server"];
        all.extend_from_slice(args);
        ServerCli::try_parse_from(all)
    };
    for bad in [
        &["--idle-timeout", "18446744073709551615"][..],
        &["--idle-timeout", "0"],
        &["--idle-timeout", "25h"],
        &["--addr", "nowhere"],
        &["--max-line-bytes", "18446744073709551615"],
        &["--max-line-bytes", "0"],
    ] {
        let error = parse(bad).expect_err("refused");
        assert!(error.to_string().contains(bad[0]), "{error}");
    }
    let config = parse(&["--idle-timeout", "24h", "--max-line-bytes", "1048576"])
        .unwrap()
        .config();
    assert_eq!(config.idle_timeout, Duration::from_secs(86_400));
    let short = parse(&["--idle-timeout", "1.5s"]).unwrap().config();
    assert_eq!(short.idle_timeout, Duration::from_millis(1500));
    assert_eq!(
        parse(&["--addr", "9000"]).unwrap().server.addr,
        "0.0.0.0:9000"
    );
    assert_eq!(config.max_line_bytes, 1 << 20);
    assert_eq!(
        parse(&[]).unwrap().config().idle_timeout,
        Duration::from_secs(300)
    );
}
