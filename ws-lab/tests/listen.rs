//! `ws-client sse|poll|hook` against an in-process server: each prints the room's
//! events and stops after `--count`.

use std::process::Stdio;
use std::time::Duration;

use lab_kit::SpawnedServer;
use serde_json::json;
use tokio::process::Command;
use ws_lab::Config;
use ws_lab::server::ServerError;

async fn start() -> (String, SpawnedServer<ServerError>) {
    lab_kit::tls::install_default_provider();
    let server =
        SpawnedServer::start(|listener, stop| ws_lab::run(listener, Config::default(), stop))
            .await
            .unwrap();
    (format!("{}", server.addr()), server)
}

async fn publish(addr: &str, text: &str) {
    let reply = reqwest::Client::new()
        .post(format!("http://{addr}/poll/chat"))
        .json(&json!({"name": "bob", "text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

/// Runs `ws-client --url ws://ADDR ARGS...` to its end (at most 10 s): its stdout.
async fn client(addr: &str, args: &[&str]) -> tokio::process::Child {
    Command::new(env!("CARGO_BIN_EXE_ws-client"))
        .args(["--url", &format!("ws://{addr}")])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn output(child: tokio::process::Child) -> String {
    let done = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("the client stops after --count")
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    String::from_utf8(done.stdout).unwrap()
}

#[tokio::test]
async fn poll_and_sse_print_what_the_room_holds_and_stop_after_the_count() {
    let (addr, _server) = start().await;
    publish(&addr, "first words").await;
    publish(&addr, "second words").await;
    let polled = output(client(&addr, &["poll", "--after", "0", "--count", "2"]).await).await;
    assert!(
        polled.contains("bob: first words") && polled.contains("bob: second words"),
        "{polled}"
    );
    let heard = output(
        client(
            &addr,
            &[
                "sse",
                "--name",
                "ann",
                "--last-event-id",
                "0",
                "--count",
                "2",
            ],
        )
        .await,
    )
    .await;
    assert!(
        heard.contains("bob: first words") && heard.contains("bob: second words"),
        "{heard}"
    );
}

#[tokio::test]
async fn hook_registers_prints_each_delivery_and_unregisters() {
    let (addr, _server) = start().await;
    let child = client(&addr, &["hook", "--count", "1"]).await;
    // Published once the hook is there.
    let list = format!("http://{addr}/hooks");
    for _ in 0..100 {
        let hooks: serde_json::Value = reqwest::get(&list).await.unwrap().json().await.unwrap();
        if !hooks["hooks"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    publish(&addr, "to the hook").await;
    let printed = output(child).await;
    assert!(printed.contains("bob: to the hook"), "{printed}");
    let hooks: serde_json::Value = reqwest::get(&list).await.unwrap().json().await.unwrap();
    assert_eq!(hooks["hooks"], json!([]), "removed on the way out");
}
