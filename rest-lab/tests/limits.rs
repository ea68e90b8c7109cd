//! The connection policy against clients that misbehave on purpose: silent connections,
//! half a preface, too many connections, HTTP/2 streams that never read their replies.

mod common;

use std::time::Duration;

use common::start_with_policy;
use lab_kit::ReplyBudget;
use reqwest::StatusCode;
use rest_lab::{Config, HttpPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use user_store::{NewUser, UserStore};

const IDLE: Duration = Duration::from_millis(500);

fn policy() -> HttpPolicy {
    HttpPolicy {
        idle_timeout: IDLE,
        ..HttpPolicy::default()
    }
}

/// Reads until the server closes the connection; fails the test after `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let mut seen = Vec::new();
    tokio::time::timeout(limit, stream.read_to_end(&mut seen))
        .await
        .expect("the server kept the connection open")
        .ok();
    seen
}

#[tokio::test]
async fn silent_and_half_spoken_connections_are_closed_after_the_idle_timeout() {
    let server = start_with_policy(Config::new(UserStore::empty()), policy()).await;
    let greetings: [&[u8]; 3] = [
        b"",
        b"PRI * HTTP/2.0\r\n\r\nSM",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    ];
    for greeting in greetings {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(greeting).await.unwrap();
        closed_within(&mut stream, IDLE * 6).await;
    }
    // A kept-alive HTTP/1.1 connection that goes quiet after a request is closed too.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let seen = closed_within(&mut stream, IDLE * 6).await;
    assert!(
        seen.starts_with(b"HTTP/1.1 200"),
        "the request was answered first"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_connection_over_the_cap_waits_for_a_free_slot() {
    let policy = HttpPolicy {
        max_connections: 1,
        ..policy()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut reply = [0; 12];
    first.read_exact(&mut reply).await.unwrap();
    assert_eq!(&reply, b"HTTP/1.1 200");
    // The second connection is not served while the first holds the only slot...
    let second = tokio::time::timeout(IDLE / 5, server.client().health()).await;
    assert!(
        second.is_err(),
        "a second connection was served over the cap"
    );
    // ...and is served once the first is gone.
    drop(first);
    let reply = tokio::time::timeout(IDLE * 4, server.client().health())
        .await
        .expect("the waiting connection was never served")
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn http2_streams_that_never_read_hold_at_most_the_budget_and_only_until_the_timeout() {
    let store = UserStore::empty();
    for i in 0..2_000 {
        store
            .create(NewUser::new("Reader", format!("r{i}@example.com")))
            .unwrap();
    }
    // Room for about two lists of 2,000 users.
    let budget = ReplyBudget::new(2 * 2_000 * 320);
    let state = Config {
        reply_budget: budget.clone(),
        ..Config::new(store)
    };
    let policy = HttpPolicy {
        idle_timeout: Duration::from_secs(1),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(state, policy).await;

    // A client that advertises a zero window: no reply byte can ever be sent to it.
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (h2, connection) = h2::client::Builder::new()
        .initial_window_size(0)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    let mut replies = Vec::new();
    for _ in 0..20 {
        let request = http::Request::get(format!("http://{}/api/users", server.addr))
            .body(())
            .unwrap();
        let (reply, _) = h2.send_request(request, true).unwrap();
        replies.push(reply);
        h2 = h2.ready().await.unwrap();
    }
    // Two lists are built and wait for a window that never opens; the rest wait for
    // the budget. Other clients are still served, even a list once the budget frees.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        budget.available_bytes() < 2_000 * 320,
        "the unread lists do not hold the budget"
    );
    assert_eq!(
        server.client().health().await.unwrap().status,
        StatusCode::OK
    );
    let list = tokio::time::timeout(Duration::from_secs(5), server.client().list_users())
        .await
        .expect("a reading client waited forever behind the unread lists")
        .unwrap();
    assert_eq!(list.status, StatusCode::OK);
    // The idle timeout closed the non-reading connection and gave the budget back.
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(
        ended.is_ok(),
        "the connection that never read is still open"
    );
    assert_eq!(budget.available_bytes(), budget.total_bytes());
    server.shutdown().await;
}

/// A connection from another loopback address (all of 127/8 is this machine).
async fn connect_from(source: [u8; 4], server: std::net::SocketAddr) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind((source, 0).into()).unwrap();
    socket.connect(server).await.unwrap()
}

#[tokio::test]
async fn one_address_cannot_take_every_slot() {
    let policy = HttpPolicy {
        max_connections: 6,
        max_connections_per_address: 3,
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    // Three kept-alive connections hold the address's share (kept: the idle timeout is
    // the default five minutes); each answered once, so the server surely holds them.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from([127, 0, 0, 3], server.addr).await;
        stream
            .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        held.push(stream);
    }
    for _ in 0..10 {
        let mut extra = connect_from([127, 0, 0, 3], server.addr).await;
        closed_within(&mut extra, Duration::from_secs(5)).await;
    }
    // Another address is served while the share is held.
    let reply = reqwest::Client::new()
        .get(format!("http://{}/health", server.addr))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("an honest client was served");
    assert_eq!(reply.status(), StatusCode::OK);
    drop(held);
    server.shutdown().await;
}

#[tokio::test]
async fn incomplete_h2_bodies_draw_on_a_bounded_request_budget() {
    // No clock to speak of (the request timeout is 30 s): only the budget bounds them.
    let budget = lab_kit::request::RequestBudget::new(256 << 10);
    let policy = HttpPolicy {
        request_budget: budget.clone(),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let (h2, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    // Ten bodies 60 KB into the 1 MiB they announce, never finished: 600 KB asked of a
    // 256 KiB budget. Before, each held its part (up to connections x streams x 1 MiB).
    let mut replies = Vec::new();
    for _ in 0..10 {
        let request = http::Request::post(format!("http://{}/api/users", server.addr))
            .header("content-type", "application/json")
            .header("content-length", "1048575")
            .body(())
            .unwrap();
        let (reply, mut body) = h2.send_request(request, false).unwrap();
        body.send_data(bytes::Bytes::from(vec![b' '; 60_000]), false)
            .unwrap();
        std::mem::forget(body);
        replies.push(reply);
        h2 = h2.ready().await.unwrap();
    }
    // Four fit; the other six are answered at once.
    let mut answered = 0;
    for reply in replies {
        if let Ok(reply) = tokio::time::timeout(Duration::from_secs(1), reply).await {
            let status = reply.map(|r| r.status());
            assert!(
                !matches!(status, Ok(StatusCode::CREATED)),
                "a user was made of half a body"
            );
            answered += 1;
        }
    }
    assert_eq!(answered, 6);
    assert_eq!(budget.available_bytes(), (256 << 10) - 4 * 60_000);
    // Another client is served meanwhile.
    let health = reqwest::get(format!("http://{}/health", server.addr))
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    server.shutdown().await;
}
