//! Webhooks against an in-process server on port 0, calling back a receiver in the test:
//! delivered in order, retried after a failure, dropped when they keep failing, a
//! callback outside the allow-list refused, and a callback that hangs holding up no one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use lab_kit::SpawnedServer;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use ws_lab::Config;
use ws_lab::server::ServerError;

async fn start(config: Config) -> (String, SpawnedServer<ServerError>) {
    lab_kit::tls::install_default_provider();
    let server = SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
        .await
        .unwrap();
    (format!("http://{}", server.addr()), server)
}

/// A callback on 127.0.0.1:0 that fails its first `fail_first` calls with 500 (or, with
/// `hang`, never answers), then answers 200 and hands every body it accepted over.
async fn receiver(
    fail_first: u32,
    hang: bool,
) -> (String, mpsc::UnboundedReceiver<Value>, Arc<AtomicU32>) {
    let (bodies, received) = mpsc::unbounded_channel();
    let calls = Arc::new(AtomicU32::new(0));
    let counted = Arc::clone(&calls);
    let app = Router::new().route(
        "/hook",
        post(move |body: axum::Json<Value>| {
            let (bodies, calls) = (bodies.clone(), Arc::clone(&counted));
            async move {
                let call = calls.fetch_add(1, Ordering::Relaxed);
                if hang {
                    std::future::pending::<()>().await;
                }
                if call < fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let _ = bodies.send(body.0);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received, calls)
}

async fn register(base: &str, url: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/hooks"))
        .json(&json!({"url": url}))
        .send()
        .await
        .unwrap()
}

async fn publish(base: &str, text: &str) -> u64 {
    let reply = reqwest::Client::new()
        .post(format!("{base}/poll/chat"))
        .json(&json!({"name": "bob", "text": text}))
        .send()
        .await
        .unwrap();
    reply.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
}

async fn next(received: &mut mpsc::UnboundedReceiver<Value>) -> Value {
    tokio::time::timeout(Duration::from_secs(5), received.recv())
        .await
        .expect("a delivery within 5 s")
        .unwrap()
}

async fn hooks(base: &str) -> Vec<Value> {
    let list: Value = reqwest::get(format!("{base}/hooks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["hooks"].as_array().unwrap().clone()
}

#[tokio::test]
async fn events_reach_a_hook_in_order_and_a_failure_is_retried() {
    let (base, _server) = start(Config::default()).await;
    // The first call fails: the retry delivers the same event.
    let (url, mut received, calls) = receiver(1, false).await;
    let reply = register(&base, &url).await;
    assert_eq!(reply.status(), 201);
    let hook: Value = reply.json().await.unwrap();
    let first = publish(&base, "one").await;
    let second = publish(&base, "two").await;
    let got = next(&mut received).await;
    assert_eq!(got["id"], first);
    assert_eq!(got["event"]["text"], "one");
    assert_eq!(next(&mut received).await["id"], second);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "one failure, one retry, one more"
    );
    // Deleted: no more deliveries, and a second delete is 404.
    let id = hook["id"].as_u64().unwrap();
    let client = reqwest::Client::new();
    let deleted = client
        .delete(format!("{base}/hooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = client
        .delete(format!("{base}/hooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert!(hooks(&base).await.is_empty());
}

#[tokio::test]
async fn a_hook_that_keeps_failing_is_dropped() {
    let (base, _server) = start(Config::default()).await;
    let (url, _received, calls) = receiver(u32::MAX, false).await;
    assert_eq!(register(&base, &url).await.status(), 201);
    assert_eq!(hooks(&base).await.len(), 1);
    for text in ["a", "b", "c"] {
        publish(&base, text).await;
    }
    // Three events of three attempts each, then the hook is gone.
    for _ in 0..100 {
        if hooks(&base).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        hooks(&base).await.is_empty(),
        "the failing hook was dropped"
    );
    assert_eq!(calls.load(Ordering::Relaxed), 9);
}

#[tokio::test]
async fn only_loopback_or_allowed_callbacks_are_registered() {
    let (base, _server) = start(Config::default()).await;
    for (url, status) in [
        ("http://169.254.169.254/latest/meta-data", 403),
        ("http://example.com/hook", 403),
        ("http://10.0.0.1:8080/hook", 403),
        ("ftp://127.0.0.1/hook", 400),
        ("not a url", 400),
    ] {
        let reply = register(&base, url).await;
        assert_eq!(reply.status(), status, "{url}");
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["status"], "error", "{url}");
    }
    assert!(hooks(&base).await.is_empty());
    // A host the server was told to allow is accepted.
    let config = Config {
        hook_allow: vec!["hooks.internal".to_owned()],
        ..Config::default()
    };
    let (allowing, _other) = start(config).await;
    assert_eq!(
        register(&allowing, "http://hooks.internal/x")
            .await
            .status(),
        201
    );
    // And the registry is bounded.
    let config = Config {
        max_hooks: 1,
        ..Config::default()
    };
    let (small, _third) = start(config).await;
    assert_eq!(register(&small, "http://127.0.0.1:9/a").await.status(), 201);
    assert_eq!(register(&small, "http://127.0.0.1:9/b").await.status(), 503);
}

#[tokio::test]
async fn a_callback_that_never_answers_holds_up_no_one() {
    let config = Config {
        hook_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let (base, _server) = start(config).await;
    let (hanging, _never, _calls) = receiver(0, true).await;
    let (good, mut received, _) = receiver(0, false).await;
    assert_eq!(register(&base, &hanging).await.status(), 201);
    assert_eq!(register(&base, &good).await.status(), 201);
    for i in 0..20 {
        let id = publish(&base, &format!("m{i}")).await;
        assert_eq!(next(&mut received).await["id"], id);
    }
}
