//! A ping flood whose pongs are never read, against an in-process server: the server's
//! memory stays bounded. In its own test binary, so no other test's allocations move
//! the process's resident memory while it is read.

use std::time::Duration;

use futures_util::SinkExt;
use lab_kit::SpawnedServer;
use tokio_tungstenite::tungstenite::Message;
use ws_lab::Config;

mod common;
use common::resident;

#[tokio::test]
async fn pongs_never_read_do_not_grow_the_server() {
    let server =
        SpawnedServer::start(|listener, stop| ws_lab::run(listener, Config::default(), stop))
            .await
            .unwrap();
    let url = format!("ws://{}/ws/echo", server.addr());
    let (mut flood, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let before = resident();
    // 800,000 pings, about 100 MB of pongs the client never reads. Unbounded
    // (tungstenite's default write buffer), the server held nearly all of them: about
    // 95 MB more after 5 s here. Bounded, a pending pong is replaced by the next and
    // the write buffer stops at its limit. The flood stops early if the server stops
    // reading or closes.
    let payload = vec![7u8; 125];
    let _ = tokio::time::timeout(Duration::from_secs(20), async {
        for _ in 0..800_000 {
            if flood
                .send(Message::Ping(payload.clone().into()))
                .await
                .is_err()
            {
                return;
            }
        }
    })
    .await;
    let grown = resident().saturating_sub(before);
    eprintln!("{grown} bytes more after the flood");
    assert!(
        grown < 32 << 20,
        "the server grew by {} MB for one flooding connection",
        grown >> 20
    );
    // Everyone else is served as before.
    let (mut honest, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    honest
        .send(Message::Text(r#"{"message":"hi"}"#.into()))
        .await
        .unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), async {
        use futures_util::StreamExt;
        loop {
            match honest.next().await {
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(_)) => {}
                other => panic!("no echo: {other:?}"),
            }
        }
    })
    .await
    .expect("the honest client was answered");
    assert!(reply.contains("HI"), "{reply}");
    drop(flood);
    server.shutdown().await.unwrap().unwrap();
}
