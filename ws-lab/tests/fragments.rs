//! A message that never ends (a first fragment, then empty continuation frames without
//! end) is closed by the idle clock, and other clients are served meanwhile.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lab_kit::SpawnedServer;
use lab_kit::http::HttpPolicy;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use ws_lab::Config;

mod common;
use common::raw_upgrade;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_continuation_frames_are_closed_by_the_idle_clock() {
    const IDLE: Duration = Duration::from_secs(1);
    let config = Config {
        ping_interval: Duration::from_secs(30),
        policy: HttpPolicy {
            idle_timeout: IDLE,
            ..HttpPolicy::default()
        },
        ..Config::default()
    };
    let server = SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
        .await
        .unwrap();
    let addr = server.addr();
    let flood = tokio::spawn(async move {
        let mut stream = raw_upgrade(addr).await;
        // A text frame without FIN (masked, as a client's must be), then empty
        // continuation frames without FIN, as fast as they go.
        stream
            .write_all(&[0x01, 0x81, 1, 2, 3, 4, b'a' ^ 1])
            .await
            .unwrap();
        let batch: Vec<u8> = std::iter::repeat_n([0x00u8, 0x80, 0, 0, 0, 0], 10_000)
            .flatten()
            .collect();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if stream.write_all(&batch).await.is_err() {
                return Some(started.elapsed());
            }
        }
        None
    });
    // An honest client is answered during the flood.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (mut honest, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/echo"))
        .await
        .unwrap();
    honest
        .send(Message::Text(r#"{"message":"hi"}"#.into()))
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(10), honest.next())
        .await
        .expect("the honest client was answered during the flood");
    assert!(
        matches!(reply, Some(Ok(Message::Text(ref t))) if t.contains("HI")),
        "{reply:?}"
    );
    // The flooding connection is closed once the message has not completed for the
    // idle timeout (before, the flood kept it open as long as it lasted).
    let closed_after = flood.await.unwrap();
    eprintln!("flood closed after {closed_after:?}");
    assert!(
        closed_after.is_some(),
        "the flooding connection was still open after 20 s"
    );
    drop(honest);
    server.shutdown().await.unwrap().unwrap();
}
