//! `ws-client sse|poll|hook`: the chat room heard the other ways, each line printed as
//! `ws-client chat` prints it: as Server-Sent Events, by long polling, and as webhooks
//! (a callback served here, registered with the server and removed on the way out).
//! `--count N` stops after N events (for scripts); otherwise Ctrl-C stops (status 130).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::post;
use lab_kit::tls::ClientTls;
use serde_json::Value;
use tokio::sync::mpsc;

use super::chat::{describe, encode};

/// How many events to print: all (`None`) or a count.
type Count = Option<u64>;

/// The server's HTTP base for a `ws://`/`wss://` URL.
fn http_base(url: &str) -> String {
    match url.split_once("://") {
        Some(("wss", rest)) => format!("https://{rest}"),
        Some((_, rest)) => format!("http://{rest}"),
        None => format!("http://{url}"),
    }
}

fn client(tls: Option<&ClientTls>, timeout: Duration) -> anyhow::Result<reqwest::Client> {
    lab_kit::tls::install_default_provider();
    let mut builder = reqwest::Client::builder().connect_timeout(timeout);
    if let Some(tls) = tls {
        let config = tls.with_alpn(&[b"http/1.1"]).config();
        builder = builder.use_preconfigured_tls((*config).clone());
    }
    builder.build().context("cannot build the HTTP client")
}

/// Prints one event's line (the chat's wording; none of your own are typed here, so
/// every message shows).
fn show(event: &str) {
    if let Some(line) = describe(event, "") {
        println!("{line}");
    }
}

/// Until `listening` ends, or Ctrl-C (130).
async fn until_interrupted(
    listening: impl Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<ExitCode> {
    tokio::select! {
        done = listening => done.map(|()| ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::from(130)),
    }
}

/// `ws-client sse --name NAME [--last-event-id N]`.
pub(crate) async fn sse(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    name: &str,
    last_event_id: Option<u64>,
    count: Count,
) -> anyhow::Result<ExitCode> {
    let http = client(tls, timeout)?;
    let base = http_base(url);
    let mut request = http.get(format!("{base}/sse/chat?name={}", encode(name)));
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id.to_string());
    }
    let mut reply = request.send().await?;
    anyhow::ensure!(
        reply.status().is_success(),
        "the server refused: {}",
        reply.text().await.unwrap_or_default()
    );
    eprintln!("Listening to the chat at {base} as Server-Sent Events; Ctrl-C stops.");
    until_interrupted(async move {
        let mut pending = String::new();
        let mut shown = 0;
        while count.is_none_or(|n| shown < n) {
            let Some(chunk) = reply.chunk().await? else {
                anyhow::bail!("the server ended the stream");
            };
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let block: String = pending.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if !data.is_empty() {
                    show(&data.join("\n"));
                    shown += 1;
                }
            }
        }
        Ok(())
    })
    .await
}

/// `ws-client poll [--after N]`.
pub(crate) async fn poll(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    after: Option<u64>,
    count: Count,
) -> anyhow::Result<ExitCode> {
    let http = client(tls, timeout)?;
    let base = http_base(url);
    eprintln!("Long polling the chat at {base}; Ctrl-C stops.");
    until_interrupted(async move {
        let mut after = after;
        let mut shown = 0;
        while count.is_none_or(|n| shown < n) {
            let mut request = http.get(format!("{base}/poll/chat"));
            if let Some(after) = after {
                request = request.query(&[("after", after)]);
            }
            let answer: Value = request.send().await?.error_for_status()?.json().await?;
            if let Some(skipped) = answer["skipped"].as_u64().filter(|n| *n > 0) {
                println!("! {skipped} events were no longer held: you fell behind");
            }
            for event in answer["events"].as_array().into_iter().flatten() {
                show(&event["event"].to_string());
                shown += 1;
            }
            after = answer["next"].as_u64().or(after);
        }
        Ok(())
    })
    .await
}

/// `ws-client hook [--listen ADDR]`.
pub(crate) async fn hook(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    listen: &str,
    count: Count,
) -> anyhow::Result<ExitCode> {
    let http = client(tls, timeout)?;
    let base = http_base(url);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let callback = format!("http://{}/hook", listener.local_addr()?);
    // Deliveries are queued here for printing: bounded, the server retries a refusal.
    let (deliveries, mut delivered) = mpsc::channel::<Value>(256);
    let app = Router::new().route(
        "/hook",
        post(move |body: axum::Json<Value>| {
            let deliveries = deliveries.clone();
            async move {
                match deliveries.try_send(body.0) {
                    Ok(()) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let reply = http
        .post(format!("{base}/hooks"))
        .json(&serde_json::json!({"url": callback}))
        .send()
        .await?;
    let registered: Value = reply.json().await?;
    let Some(id) = registered["id"].as_u64() else {
        anyhow::bail!("the server refused the hook: {}", registered["message"]);
    };
    eprintln!("Hook {id} registered at {base}: events arrive at {callback}; Ctrl-C stops.");
    let status = until_interrupted(async {
        let mut shown = 0;
        while count.is_none_or(|n| shown < n) {
            let Some(event) = delivered.recv().await else {
                break;
            };
            show(&event["event"].to_string());
            shown += 1;
        }
        Ok(())
    })
    .await;
    // Unregistered on the way out, whatever ended the listening.
    let _ = http.delete(format!("{base}/hooks/{id}")).send().await;
    serving.abort();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_websocket_url_gives_the_http_base() {
        assert_eq!(http_base("ws://127.0.0.1:8765"), "http://127.0.0.1:8765");
        assert_eq!(http_base("wss://host:443"), "https://host:443");
    }
}
