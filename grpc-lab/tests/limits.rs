//! The gRPC server's bounds against clients that push them: a flood of CreateUsers,
//! silent connections, and what health checkers see when the server drains.

mod common;

use std::time::Duration;

use common::{start_server, start_with_policy};
use grpc_lab::service::{CREATE_USERS_ERRORS_LISTED, CREATE_USERS_LISTED};
use grpc_lab::{Config, HttpPolicy, SERVICE_NAME, pb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use user_store::UserStore;

#[tokio::test]
async fn a_create_users_flood_gets_an_exact_count_and_a_bounded_summary() {
    let server = start_server().await;
    let mut client = server.client().await;
    let valid = CREATE_USERS_LISTED + 200;
    let invalid = CREATE_USERS_ERRORS_LISTED + 50;
    let requests: Vec<_> = (0..valid)
        .map(|i| pb::CreateUserRequest {
            name: "Flood".into(),
            email: format!("flood{i}@example.com"),
        })
        .chain((0..invalid).map(|_| pb::CreateUserRequest {
            name: String::new(),
            email: "not an email".into(),
        }))
        .collect();
    let summary = client.create_users(requests).await.unwrap();
    assert_eq!(summary.created_count as usize, valid, "every user counted");
    assert_eq!(summary.users.len(), CREATE_USERS_LISTED);
    assert_eq!(summary.errors.len(), CREATE_USERS_ERRORS_LISTED + 1);
    assert!(
        summary.errors[0].starts_with(&format!("#{valid}: ")),
        "{}",
        summary.errors[0]
    );
    assert_eq!(
        summary.errors.last().unwrap(),
        "... and 50 more rejected requests not listed"
    );
    // Every user was created, listed or not.
    assert_eq!(client.get_all_users().await.unwrap().len(), valid);
    server.shutdown().await;
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let policy = HttpPolicy {
        idle_timeout: Duration::from_millis(300),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    silent.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(3), silent.read_to_end(&mut seen)).await;
    assert!(
        closed.is_ok(),
        "a half-sent preface held its connection open"
    );
    // Clients that speak are served all along.
    let mut client = server.client().await;
    assert!(client.get_all_users().await.is_ok());
    server.shutdown().await;
}

#[tokio::test]
async fn health_watchers_see_not_serving_as_soon_as_the_server_drains() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let policy = HttpPolicy {
        drain_timeout: Duration::from_millis(500),
        ..HttpPolicy::default()
    };
    let mut server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    // What `grpc-client check` asks.
    assert!(server.client().await.serving().await.unwrap());
    let channel = tonic::transport::Endpoint::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let mut updates = health
        .watch(HealthCheckRequest {
            service: SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = updates.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    server.trigger_shutdown();
    let next = tokio::time::timeout(Duration::from_secs(2), updates.message())
        .await
        .expect("no health update when the server began to drain")
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    server.shutdown().await;
}

#[tokio::test]
async fn get_all_users_streams_that_never_read_hold_the_budget_only_until_the_timeout() {
    let store = UserStore::empty();
    for i in 0..2_000 {
        store
            .create(user_store::NewUser::new(
                "Reader",
                format!("r{i}@example.com"),
            ))
            .unwrap();
    }
    // Room for about two replies of 2,000 users.
    let budget = lab_kit::ReplyBudget::new(2 * 2_000 * 256);
    let service = Config {
        reply_budget: budget.clone(),
        ..Config::new(store)
    };
    let policy = HttpPolicy {
        idle_timeout: Duration::from_secs(1),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(service, policy).await;

    // A client that advertises a zero window: no reply byte can ever reach it.
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (h2, connection) = h2::client::Builder::new()
        .initial_window_size(0)
        .handshake::<_, bytes::Bytes>(tcp)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..10 {
        let request = http::Request::post(format!(
            "http://{}/users.v1.UserService/GetAllUsers",
            server.addr
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
        let (reply, mut body) = h2.send_request(request, false).unwrap();
        // One empty message: a zero length prefix.
        body.send_data(bytes::Bytes::from_static(&[0, 0, 0, 0, 0]), true)
            .unwrap();
        calls.push(reply);
        h2 = h2.ready().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        budget.available_bytes() < 2_000 * 256,
        "the unread replies do not hold the budget"
    );
    // A reading client still gets its list once the budget frees.
    let mut client = server.client().await;
    let users = tokio::time::timeout(Duration::from_secs(5), client.get_all_users())
        .await
        .expect("a reading client waited forever behind the unread replies")
        .unwrap();
    assert_eq!(users.len(), 2_000);
    let ended = tokio::time::timeout(Duration::from_secs(5), connection).await;
    assert!(
        ended.is_ok(),
        "the connection that never read is still open"
    );
    assert_eq!(budget.available_bytes(), budget.total_bytes());
    server.shutdown().await;
}

/// Starts `streams` calls of `path` on one HTTP/2 connection, each sending the first
/// `sent` bytes of a `declared`-byte message and never the rest; returns their replies.
async fn incomplete_calls(
    addr: std::net::SocketAddr,
    path: &str,
    streams: usize,
    declared: u32,
    sent: usize,
) -> Vec<h2::client::ResponseFuture> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (h2, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut h2 = h2.ready().await.unwrap();
    let mut calls = Vec::new();
    for _ in 0..streams {
        let request = http::Request::post(format!("http://{addr}{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (reply, mut body) = h2.send_request(request, false).unwrap();
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(&declared.to_be_bytes());
        bytes.extend(std::iter::repeat_n(b'x', sent));
        body.send_data(bytes::Bytes::from(bytes), false).unwrap();
        // Kept open, never finished: the stream lives as long as the call does.
        std::mem::forget(body);
        calls.push(reply);
        h2 = h2.ready().await.unwrap();
    }
    calls
}

/// Whether a call ended (an error status in its headers or trailers, or a reset),
/// rather than waiting for the rest of its message.
async fn ended(reply: h2::client::ResponseFuture) -> bool {
    match reply.await {
        Err(_) => true,
        Ok(response) => {
            let status = response.headers().get("grpc-status").cloned();
            match status {
                Some(status) => status != "0",
                None => {
                    let mut body = response.into_body();
                    while let Some(Ok(_)) = body.data().await {}
                    let trailers = body.trailers().await.ok().flatten();
                    trailers
                        .and_then(|t| t.get("grpc-status").cloned())
                        .is_some_and(|s| s != "0")
                }
            }
        }
    }
}

#[tokio::test]
async fn incomplete_messages_draw_on_a_bounded_budget() {
    // No clock to speak of: only the budget can end these calls.
    let budget = lab_kit::request::RequestBudget::new(256 << 10);
    let policy = HttpPolicy {
        idle_timeout: Duration::from_secs(3600),
        request_budget: budget.clone(),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    // Ten calls, each 60 KB into a 4 MB message it never finishes: 600 KB asked of a
    // 256 KiB budget. Before, every one held its bytes (and could hold up to 4 MiB).
    let calls = incomplete_calls(
        server.addr,
        "/users.v1.UserService/CreateUser",
        10,
        4_000_000,
        60_000,
    )
    .await;
    // Four fit (240,020 bytes); the other six are refused at once.
    let mut refused = 0;
    let mut waiting = Vec::new();
    for reply in calls {
        match tokio::time::timeout(Duration::from_secs(1), ended(reply)).await {
            Ok(true) => refused += 1,
            Ok(false) => panic!("a call succeeded without its message"),
            Err(_) => waiting.push(()),
        }
    }
    assert_eq!((refused, waiting.len()), (6, 4));
    assert_eq!(budget.available_bytes(), (256 << 10) - 4 * 60_005);
    // A client meanwhile is served.
    let mut client = server.client().await;
    let users = tokio::time::timeout(Duration::from_secs(5), client.get_all_users())
        .await
        .expect("an honest call waited behind the incomplete ones")
        .unwrap();
    assert!(users.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn an_incomplete_message_ends_its_call_after_the_idle_timeout() {
    let budget = lab_kit::request::RequestBudget::new(32 << 20);
    let policy = HttpPolicy {
        idle_timeout: Duration::from_secs(1),
        request_budget: budget.clone(),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    // Before, a call in flight switched the idle timeout off: these waited for good.
    let calls = incomplete_calls(
        server.addr,
        "/users.v1.UserService/CreateUsers",
        5,
        1_000,
        10,
    )
    .await;
    for reply in calls {
        let done = tokio::time::timeout(Duration::from_secs(10), ended(reply)).await;
        assert_eq!(
            done.ok(),
            Some(true),
            "an incomplete call was still waiting"
        );
    }
    assert_eq!(
        budget.available_bytes(),
        32 << 20,
        "the budget is given back"
    );
    server.shutdown().await;
}
