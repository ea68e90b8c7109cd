//! The push workload's subscribers and publisher: the same room heard five ways (the
//! WebSocket lab's room over WebSocket, Server-Sent Events, long polling and webhooks,
//! and the gRPC lab's `ChatStream` room), each event a text `push:RUN:SEQ` whose
//! arrival every subscriber records against the moment it was published (one clock:
//! everything runs in this process).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::network::relay::{Relay, Shared};
use crate::placement::CpuList;
use crate::settings::link::Link;
use crate::settings::push::Mechanism;

/// What one mechanism's subscribers record, shared with the publisher.
#[derive(Debug)]
pub(crate) struct Deliveries {
    /// This mechanism's tag in the texts, so events of another run are passed over.
    pub(crate) run: String,
    /// When each event was published (0 is the warm-up's).
    published: Vec<OnceLock<Instant>>,
    /// How many subscribers have each event.
    received: Vec<AtomicU32>,
    /// Subscribers that have heard anything of this run: the ready ones.
    ready: AtomicU32,
    /// Publish to receipt, nanoseconds, measured events only.
    latency: Mutex<Histogram<u64>>,
    /// Notices of skipped events.
    pub(crate) skipped: AtomicU64,
}

impl Deliveries {
    /// For `events` measured events (numbered 1 to `events`).
    pub(crate) fn new(run: String, events: u64) -> Deliveries {
        let n = usize::try_from(events)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        Deliveries {
            run,
            published: (0..n).map(|_| OnceLock::new()).collect(),
            received: (0..n).map(|_| AtomicU32::new(0)).collect(),
            ready: AtomicU32::new(0),
            latency: Mutex::new(crate::stats::new_histogram()),
            skipped: AtomicU64::new(0),
        }
    }

    /// The text of event `seq`.
    pub(crate) fn text(&self, seq: u64) -> String {
        format!("push:{}:{seq}", self.run)
    }

    /// Marks event `seq` as published now.
    pub(crate) fn publishing(&self, seq: u64) {
        if let Some(at) = usize::try_from(seq)
            .ok()
            .and_then(|i| self.published.get(i))
        {
            let _ = at.set(Instant::now());
        }
    }

    /// How many subscribers have event `seq`.
    pub(crate) fn count(&self, seq: u64) -> u32 {
        usize::try_from(seq)
            .ok()
            .and_then(|i| self.received.get(i))
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Subscribers that heard something of this run.
    pub(crate) fn ready(&self) -> u32 {
        self.ready.load(Ordering::Relaxed)
    }

    /// The latencies so far.
    pub(crate) fn latency(&self) -> Histogram<u64> {
        self.latency
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A subscriber saw `text`: counted as ready at its first event of this run (its
    /// `first` flag says whether it has had one).
    fn heard(&self, text: &str, first: &mut bool) {
        if self.saw(text) && *first {
            *first = false;
            self.ready.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts `text` if it is an event of this run; true when it is.
    fn saw(&self, text: &str) -> bool {
        let Some(seq) = text
            .strip_prefix("push:")
            .and_then(|t| t.strip_prefix(self.run.as_str()))
            .and_then(|t| t.strip_prefix(':'))
            .and_then(|t| t.parse::<u64>().ok())
        else {
            return false;
        };
        let now = Instant::now();
        let Some(index) = usize::try_from(seq).ok() else {
            return true;
        };
        if let Some(n) = self.received.get(index) {
            n.fetch_add(1, Ordering::Relaxed);
        }
        if seq > 0
            && let Some(at) = self.published.get(index).and_then(OnceLock::get)
        {
            let nanos = u64::try_from((now - *at).as_nanos()).unwrap_or(u64::MAX);
            let mut latency = self.latency.lock().unwrap_or_else(PoisonError::into_inner);
            crate::stats::record(&mut latency, nanos);
        }
        true
    }
}

/// Where the subscribers and the publisher reach the servers.
#[derive(Debug, Clone)]
pub(crate) struct Servers {
    /// The WebSocket lab, `127.0.0.1:PORT`.
    pub(crate) ws: String,
    /// The gRPC lab, `http://127.0.0.1:PORT`.
    pub(crate) grpc: String,
    /// Where webhooks are counted: a relay in front of the callback, sharing these
    /// counts, on these CPUs (the byte-counting pass).
    pub(crate) callback_relay: Option<(Shared, CpuList)>,
}

/// Starts `count` subscribers of `mechanism` into `tasks`; each records into
/// `deliveries`. Webhooks are registered on a callback served in `tasks` too (behind
/// the relay `servers` asks for, which runs until dropped): their ids and the relay.
///
/// # Errors
///
/// When a subscriber cannot connect or register.
pub(crate) async fn subscribe(
    mechanism: Mechanism,
    servers: &Servers,
    count: usize,
    deliveries: &Arc<Deliveries>,
    tasks: &mut JoinSet<()>,
) -> anyhow::Result<(Vec<u64>, Option<Relay>)> {
    let http = http_client()?;
    let mut hooks = Vec::new();
    if mechanism == Mechanism::Hook {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let relay = match &servers.callback_relay {
            Some((shared, cpus)) => Some(Relay::start(
                listener.local_addr()?.to_string(),
                Link::default(),
                shared.clone(),
                cpus,
            )?),
            None => None,
        };
        let reached_at = relay.as_ref().map_or(listener.local_addr()?, Relay::addr);
        let callback = format!("http://{reached_at}/hook");
        let seen = Arc::clone(deliveries);
        // Whether each hook has had an event of this run yet: its first makes it ready.
        let had: Arc<Vec<AtomicBool>> =
            Arc::new((0..count).map(|_| AtomicBool::new(false)).collect());
        let app = axum::Router::new().route(
            "/hook/{id}",
            axum::routing::post(
                move |axum::extract::Path(id): axum::extract::Path<usize>,
                      body: axum::Json<serde_json::Value>| {
                    let (seen, had) = (Arc::clone(&seen), Arc::clone(&had));
                    async move {
                        if let Some(text) = body.0["event"]["text"].as_str()
                            && seen.saw(text)
                            && had
                                .get(id)
                                .is_some_and(|h| !h.swap(true, Ordering::Relaxed))
                        {
                            seen.ready.fetch_add(1, Ordering::Relaxed);
                        }
                        axum::http::StatusCode::OK
                    }
                },
            ),
        );
        tasks.spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        for i in 0..count {
            let reply: serde_json::Value = http
                .post(format!("http://{}/hooks", servers.ws))
                .json(&serde_json::json!({"url": format!("{callback}/{i}")}))
                .send()
                .await?
                .json()
                .await?;
            let id = reply["id"]
                .as_u64()
                .ok_or_else(|| anyhow::anyhow!("the server refused a hook: {reply}"))?;
            hooks.push(id);
        }
        return Ok((hooks, relay));
    }
    for i in 0..count {
        let deliveries = Arc::clone(deliveries);
        let (servers, http) = (servers.clone(), http.clone());
        let name = format!("sub{i}");
        match mechanism {
            Mechanism::Ws => {
                let url = format!("ws://{}/ws/chat?name={name}", servers.ws);
                let (socket, _) = tokio_tungstenite::connect_async(&url).await?;
                tasks.spawn(async move {
                    let (_, mut incoming) = socket.split();
                    let mut first = true;
                    while let Some(Ok(message)) = incoming.next().await {
                        if let tokio_tungstenite::tungstenite::Message::Text(text) = message {
                            on_event(&deliveries, text.as_str(), &mut first);
                        }
                    }
                });
            }
            Mechanism::Sse => {
                let url = format!("http://{}/sse/chat?name={name}", servers.ws);
                let mut reply = http.get(&url).send().await?.error_for_status()?;
                tasks.spawn(async move {
                    let (mut pending, mut first) = (String::new(), true);
                    while let Ok(Some(chunk)) = reply.chunk().await {
                        pending.push_str(&String::from_utf8_lossy(&chunk));
                        while let Some(end) = pending.find("\n\n") {
                            let block: String = pending.drain(..end + 2).collect();
                            for data in block.lines().filter_map(|l| l.strip_prefix("data: ")) {
                                on_event(&deliveries, data, &mut first);
                            }
                        }
                    }
                });
            }
            Mechanism::Poll => {
                let url = format!("http://{}/poll/chat", servers.ws);
                tasks.spawn(async move {
                    // From 0: the warm-up events are among what the room holds. What
                    // it no longer holds from before this run is not a skip.
                    let (mut after, mut first, mut asked_before) = (0u64, true, false);
                    loop {
                        let asked = http.get(&url).query(&[("after", after)]).send().await;
                        let Ok(answer) = asked else { return };
                        let Ok(answer) = answer.json::<serde_json::Value>().await else {
                            return;
                        };
                        if asked_before && answer["skipped"].as_u64().is_some_and(|n| n > 0) {
                            deliveries.skipped.fetch_add(1, Ordering::Relaxed);
                        }
                        asked_before = true;
                        for event in answer["events"].as_array().into_iter().flatten() {
                            if let Some(text) = event["event"]["text"].as_str() {
                                deliveries.heard(text, &mut first);
                            }
                        }
                        after = answer["next"].as_u64().unwrap_or(after);
                    }
                });
            }
            Mechanism::Grpc => {
                let mut client =
                    grpc_lab::GrpcClient::connect(&servers.grpc, Duration::from_secs(5)).await?;
                // A member that never speaks: its outbound stream stays open.
                let (_keep, quiet) = mpsc::channel::<grpc_lab::pb::ChatMessage>(1);
                let mut incoming = client
                    .chat_as(&name, tokio_stream::wrappers::ReceiverStream::new(quiet))
                    .await?;
                tasks.spawn(async move {
                    let _keep = _keep;
                    let mut first = true;
                    while let Some(Ok(message)) = incoming.next().await {
                        deliveries.heard(&message.content, &mut first);
                    }
                });
            }
            Mechanism::Hook => {}
        }
    }
    Ok((hooks, None))
}

/// One event's JSON (the WebSocket lab's wording) seen by a subscriber.
fn on_event(deliveries: &Deliveries, json: &str, first: &mut bool) {
    let Ok(event) = serde_json::from_str::<serde_json::Value>(json) else {
        return;
    };
    match event["kind"].as_str() {
        Some("message") => {
            if let Some(text) = event["text"].as_str() {
                deliveries.heard(text, first);
            }
        }
        Some("notice") => {
            deliveries.skipped.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    }
}

/// Sends the events: to the WebSocket lab's room over `POST /poll/chat`, to the gRPC
/// room as one more member.
pub(crate) enum Publisher {
    /// The WebSocket lab's room.
    Room { http: reqwest::Client, url: String },
    /// The gRPC room, through a member's outbound stream.
    Grpc {
        outbound: mpsc::Sender<grpc_lab::pb::ChatMessage>,
        _incoming: Box<tonic::Streaming<grpc_lab::pb::ChatMessage>>,
    },
}

impl Publisher {
    /// A publisher into `mechanism`'s room.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached.
    pub(crate) async fn new(mechanism: Mechanism, servers: &Servers) -> anyhow::Result<Publisher> {
        if mechanism == Mechanism::Grpc {
            let mut client =
                grpc_lab::GrpcClient::connect(&servers.grpc, Duration::from_secs(5)).await?;
            let (outbound, queued) = mpsc::channel(16);
            let incoming = client
                .chat_as(
                    "publisher",
                    tokio_stream::wrappers::ReceiverStream::new(queued),
                )
                .await?;
            return Ok(Publisher::Grpc {
                outbound,
                _incoming: Box::new(incoming),
            });
        }
        Ok(Publisher::Room {
            http: http_client()?,
            url: format!("http://{}/poll/chat", servers.ws),
        })
    }

    /// Publishes `text`.
    ///
    /// # Errors
    ///
    /// When the server refuses it or is gone.
    pub(crate) async fn publish(&self, text: String) -> anyhow::Result<()> {
        match self {
            Publisher::Room { http, url } => {
                http.post(url)
                    .json(&serde_json::json!({"name": "publisher", "text": text}))
                    .send()
                    .await?
                    .error_for_status()?;
            }
            Publisher::Grpc { outbound, .. } => {
                let message = grpc_lab::pb::ChatMessage {
                    sender: "publisher".to_owned(),
                    content: text,
                    timestamp: String::new(),
                };
                outbound
                    .send(message)
                    .await
                    .map_err(|_| anyhow::anyhow!("the gRPC chat stream closed"))?;
            }
        }
        Ok(())
    }
}

fn http_client() -> anyhow::Result<reqwest::Client> {
    lab_kit::tls::install_default_provider();
    Ok(reqwest::Client::builder().build()?)
}
