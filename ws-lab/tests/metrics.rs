//! `--metrics`: requests counted by endpoint (a WebSocket's request is its upgrade),
//! served at `/metrics` on the lab's port; absent unless asked for.

mod common;

use common::start;
use lab_kit::metrics::sample;
use ws_lab::Config;

#[tokio::test]
async fn endpoints_are_counted_and_served_at_metrics() {
    let mut config = Config::default();
    config.policy.metrics = Some(ws_lab::server::metrics(
        lab_kit::metrics::ServerMetrics::new(),
    ));
    let (base, server) = start(config).await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(
            http.get(format!("{base}/health"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let gone = http
        .delete(format!("{base}/hooks/no-such-hook"))
        .send()
        .await
        .unwrap();
    assert!(gone.status().is_client_error());
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws/echo", &base[7..]))
        .await
        .unwrap();
    let scraped = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains(r#"commlab_requests_total{route="/health",method="GET",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/hooks/{id}",method="DELETE""#),
        "{text}"
    );
    assert!(!text.contains("no-such-hook"), "{text}");
    assert!(
        text.contains(r#"commlab_requests_total{route="/ws/echo",method="GET",status="101"} 1"#),
        "{text}"
    );
    // The WebSocket's connection and the scrape's.
    assert!(
        sample(&text, "commlab_open_connections").unwrap() >= 2.0,
        "{text}"
    );
    drop(ws);
    server.shutdown().await.unwrap().unwrap();
}

#[tokio::test]
async fn without_metrics_there_is_no_metrics_route() {
    let (base, server) = start(Config::default()).await;
    let scraped = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(scraped.status(), 404);
    server.shutdown().await.unwrap().unwrap();
}
