//! The whole wire contract at the frame level, against an in-process server on port 0.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lab_kit::SpawnedServer;
use lab_kit::http::HttpPolicy;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use ws_lab::Config;
use ws_lab::event::Event;
use ws_lab::server::ServerError;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Server {
    url: String,
    server: SpawnedServer<ServerError>,
}

async fn start(config: Config) -> Server {
    let server = SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
        .await
        .unwrap();
    Server {
        url: format!("ws://{}", server.addr()),
        server,
    }
}

async fn open(url: &str) -> Socket {
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The next text or close frame, skipping pings and pongs.
async fn next(socket: &mut Socket) -> Message {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame in time")
            .expect("the stream is open")
            .expect("no error");
        if !matches!(message, Message::Ping(_) | Message::Pong(_)) {
            return message;
        }
    }
}

async fn text(socket: &mut Socket) -> String {
    match next(socket).await {
        Message::Text(text) => text.to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

async fn close_code(socket: &mut Socket) -> u16 {
    match next(socket).await {
        Message::Close(Some(frame)) => frame.code.into(),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

async fn event(socket: &mut Socket) -> Event {
    serde_json::from_str(&text(socket).await).unwrap()
}

#[tokio::test]
async fn echo_answers_exactly_as_the_socket_lab_and_stays_open() {
    let server = start(Config::default()).await;
    let mut ws = open(&format!("{}/ws/echo", server.url)).await;
    let exchanges = [
        (
            r#"{"message": "straße", "id": 7}"#,
            r#"{"status":"ok","message":"STRASSE","id":7}"#,
        ),
        (
            r#"{"message": 42}"#,
            r#"{"status":"error","error":"field \"message\" must be a string"}"#,
        ),
        (
            "not json",
            r#"{"status":"error","error":"invalid JSON: expected ident at line 1 column 2"}"#,
        ),
        (
            "[1]",
            r#"{"status":"error","error":"request must be a JSON object, like {\"message\": \"hello\"}"}"#,
        ),
        (
            r#"{"id": "x"}"#,
            r#"{"status":"error","error":"missing field \"message\" (a string)","id":"x"}"#,
        ),
    ];
    for (request, reply) in exchanges {
        ws.send(Message::Text(request.into())).await.unwrap();
        assert_eq!(text(&mut ws).await, reply, "{request}");
    }
    // A binary message gets an error reply; the connection stays open.
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert!(
        text(&mut ws)
            .await
            .contains("binary messages are not accepted")
    );
    // Pipelined: replies come back in order.
    for i in 0..20 {
        ws.send(Message::Text(
            format!(r#"{{"message":"m{i}","id":{i}}}"#).into(),
        ))
        .await
        .unwrap();
    }
    for i in 0..20 {
        assert_eq!(
            text(&mut ws).await,
            format!(r#"{{"status":"ok","message":"M{i}","id":{i}}}"#)
        );
    }
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn a_message_over_the_limit_closes_with_1009() {
    let server = start(Config {
        max_message_bytes: 1024,
        ..Config::default()
    })
    .await;
    let mut ws = open(&format!("{}/ws/echo", server.url)).await;
    let big = format!(r#"{{"message":"{}"}}"#, "x".repeat(2048));
    ws.send(Message::Text(big.into())).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn three_members_chat_with_join_leave_and_their_own_messages() {
    let server = start(Config::default()).await;
    let chat = |name: &str| format!("{}/ws/chat?name={name}", server.url);
    let mut ann = open(&chat("ann")).await;
    let mut bob = open(&chat("bob")).await;
    assert!(matches!(event(&mut ann).await, Event::Join { sender, .. } if sender == "bob"));
    let mut cat = open(&chat("cat")).await;
    for member in [&mut ann, &mut bob] {
        assert!(matches!(event(member).await, Event::Join { sender, .. } if sender == "cat"));
    }
    ann.send(Message::Text("hello all".into())).await.unwrap();
    for member in [&mut ann, &mut bob, &mut cat] {
        match event(member).await {
            Event::Message {
                sender,
                text,
                timestamp,
            } => {
                assert_eq!((sender.as_str(), text.as_str()), ("ann", "hello all"));
                assert!(chrono::DateTime::parse_from_rfc3339(&timestamp).is_ok());
            }
            other => panic!("expected ann's message, got {other:?}"),
        }
    }
    cat.close(None).await.unwrap();
    for member in [&mut ann, &mut bob] {
        assert!(matches!(event(member).await, Event::Leave { sender, .. } if sender == "cat"));
    }
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn a_slow_member_skips_ahead_and_is_told_how_many_it_missed() {
    let server = start(Config {
        room_capacity: 4,
        max_message_bytes: 64 * 1024,
        ..Config::default()
    })
    .await;
    let chat = |name: &str| format!("{}/ws/chat?name={name}", server.url);
    let mut slow = open(&chat("slow")).await;
    let mut fast = open(&chat("fast")).await;
    assert!(matches!(event(&mut slow).await, Event::Join { .. }));
    // The slow member reads nothing while the fast one talks: megabytes, more than the
    // socket buffers hold, so the server cannot hand everything over.
    let body = "y".repeat(60 * 1024);
    for _ in 0..300 {
        fast.send(Message::Text(body.clone().into())).await.unwrap();
        assert!(matches!(event(&mut fast).await, Event::Message { .. }));
    }
    let mut told = false;
    for _ in 0..300 {
        if let Event::Notice { text } = event(&mut slow).await {
            assert!(text.contains("messages were skipped"), "{text}");
            told = true;
            break;
        }
    }
    assert!(told, "the slow member was never told it fell behind");
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn a_name_is_required_and_a_full_room_is_refused_before_the_upgrade() {
    let server = start(Config {
        max_members: 1,
        ..Config::default()
    })
    .await;
    for query in ["", "?name=", "?name=%20%20"] {
        let refused =
            tokio_tungstenite::connect_async(format!("{}/ws/chat{query}", server.url)).await;
        match refused {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 400, "{query:?}");
            }
            other => panic!("expected 400 for {query:?}, got {other:?}"),
        }
    }
    let _first = open(&format!("{}/ws/chat?name=ann", server.url)).await;
    match tokio_tungstenite::connect_async(format!("{}/ws/chat?name=bob", server.url)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected 503, got {other:?}"),
    }
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn shutdown_sends_every_client_close_1001() {
    let mut server = start(Config::default()).await;
    let mut echo = open(&format!("{}/ws/echo", server.url)).await;
    let mut member = open(&format!("{}/ws/chat?name=ann", server.url)).await;
    echo.send(Message::Text(r#"{"message":"last"}"#.into()))
        .await
        .unwrap();
    assert_eq!(text(&mut echo).await, r#"{"status":"ok","message":"LAST"}"#);
    server.server.trigger_shutdown();
    assert_eq!(close_code(&mut echo).await, 1001);
    assert_eq!(close_code(&mut member).await, 1001);
    let finished = tokio::time::timeout(Duration::from_secs(10), server.server.finished()).await;
    finished.expect("run returns").unwrap().unwrap();
}

#[tokio::test]
async fn a_peer_that_never_answers_pings_is_dropped_and_a_live_one_is_kept() {
    let server = start(Config {
        ping_interval: Duration::from_millis(100),
        policy: HttpPolicy {
            idle_timeout: Duration::from_millis(400),
            ..HttpPolicy::default()
        },
        ..Config::default()
    })
    .await;
    let url = format!("{}/ws/echo", server.url);
    // Reading keeps the client answering pings: it stays past the idle timeout.
    let mut live = open(&url).await;
    let until = tokio::time::Instant::now() + Duration::from_millis(1200);
    while let Ok(Some(frame)) = tokio::time::timeout_at(until, live.next()).await {
        assert!(matches!(frame, Ok(Message::Ping(_))), "{frame:?}");
    }
    live.send(Message::Text(r#"{"message":"still"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        text(&mut live).await,
        r#"{"status":"ok","message":"STILL"}"#
    );
    // Not reading: no pong goes back, so the server gives up.
    let mut silent = open(&url).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(close_code(&mut silent).await, u16::from(CloseCode::Normal));
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn health_answers_json() {
    let server = start(Config::default()).await;
    let addr = server.url.trim_start_matches("ws://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""status":"healthy""#), "{reply}");
    server.server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn the_self_test_passes_against_a_live_server_and_reports_a_closed_port() {
    let server = start(Config::default()).await;
    let mut out = Vec::new();
    let summary =
        ws_lab::selftest::run_self_test(&server.url, Duration::from_secs(5), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");
    assert_eq!(summary.total, 6, "{text}");
    let url = server.url.clone();
    server.server.shutdown().await.unwrap().unwrap();

    let mut out = Vec::new();
    let summary = ws_lab::selftest::run_self_test(&url, Duration::from_secs(2), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert_eq!((summary.passed, summary.total), (0, 6), "{text}");
    assert_eq!(text.matches("nothing listens on").count(), 1, "{text}");
    assert!(text.contains("--bin ws-server"), "{text}");
}

/// A member that never reads what the room pushes holds its writes for the idle
/// timeout at most: then its connection is closed and its seat freed, while the others
/// go on chatting.
#[tokio::test]
async fn a_member_that_never_reads_is_closed_and_its_seat_freed() {
    let server = start(Config {
        max_members: 2,
        ping_interval: Duration::from_secs(30),
        policy: HttpPolicy {
            idle_timeout: Duration::from_millis(500),
            ..HttpPolicy::default()
        },
        ..Config::default()
    })
    .await;
    let chat = |name: &str| format!("{}/ws/chat?name={name}", server.url);
    let _deaf = open(&chat("deaf")).await;
    let mut talker = open(&chat("talker")).await;
    let body = "z".repeat(60 * 1024);
    // Megabytes the deaf member never reads; the talker reads its own copies.
    let talk = async {
        for _ in 0..200 {
            talker
                .send(Message::Text(body.clone().into()))
                .await
                .unwrap();
            loop {
                if let Event::Message { .. } = event(&mut talker).await {
                    break;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), talk)
        .await
        .expect("the talker is never held up by the deaf member");
    // The deaf member's seat comes back: a new member can join a room of two.
    let mut joined = None;
    for _ in 0..100 {
        if let Ok((socket, _)) = tokio_tungstenite::connect_async(chat("late")).await {
            joined = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(joined.is_some(), "the deaf member still holds its seat");
    server.server.shutdown().await.unwrap().unwrap();
}
