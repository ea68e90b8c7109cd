//! `--metrics`: requests counted by route template, method and status; `/metrics`
//! served on the API's port in Prometheus's text format; absent unless asked for.

mod common;

use common::start_with;
use lab_kit::metrics::{ServerMetrics, sample};
use rest_lab::Config;
use user_store::UserStore;

#[tokio::test]
async fn a_server_with_metrics_counts_requests_by_route_and_serves_them() {
    let config = Config {
        metrics: Some(ServerMetrics::new()),
        ..Config::new(UserStore::new())
    };
    let server = start_with(config).await;
    let http = reqwest::Client::new();
    let base = &server.url;
    for _ in 0..3 {
        let listed = http.get(format!("{base}/api/users")).send().await.unwrap();
        assert_eq!(listed.status(), 200);
    }
    // Two different ids, one route: the label set cannot grow with the ids asked for.
    for id in ["0b7e1b7e-0000-4000-8000-000000000000", "not-a-uuid"] {
        let missing = http
            .get(format!("{base}/api/users/{id}"))
            .send()
            .await
            .unwrap();
        assert!(missing.status().is_client_error());
    }
    let scraped = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let kind = scraped.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains(r#"commlab_requests_total{route="/api/users",method="GET",status="200"} 3"#),
        "{text}"
    );
    let by_id = text
        .lines()
        .filter(|l| l.starts_with(r#"commlab_requests_total{route="/api/users/{id}""#))
        .count();
    assert!((1..=2).contains(&by_id), "{text}");
    assert!(!text.contains("not-a-uuid"), "{text}");
    assert!(
        text.contains(r#"commlab_request_duration_seconds_count{route="/api/users"} 3"#),
        "{text}"
    );
    // The scrape itself is in flight while it renders; the connection it came on is open.
    assert_eq!(sample(&text, "commlab_requests_in_flight"), Some(1.0));
    assert!(sample(&text, "commlab_open_connections").unwrap() >= 1.0);
    assert!(sample(&text, "process_cpu_seconds_total").unwrap() > 0.0);
    // Only GET and HEAD read them.
    let posted = http.post(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(posted.status(), 405);
    server.shutdown().await;
}

#[tokio::test]
async fn without_metrics_there_is_no_metrics_route() {
    let server = start_with(Config::new(UserStore::new())).await;
    let scraped = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap();
    assert_eq!(scraped.status(), 404);
    let body: serde_json::Value = scraped.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    server.shutdown().await;
}
