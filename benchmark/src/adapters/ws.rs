//! The WebSocket lab with its own client (`ws_lab::WsClient`, tokio-tungstenite): the
//! socket lab's request as a text message on an upgraded, kept-open connection. With
//! `--connection new`, every request pays for a fresh TCP connection and HTTP upgrade.
//! The client is already as lean as the protocol allows, so it serves as both the
//! standard and the lean client.

use std::time::{Duration, Instant};

use socket_lab::protocol::{Reply, Status};
use ws_lab::client::ECHO_PATH;
use ws_lab::{WsClient, WsError};

use super::shared::echo::Echo;
use super::shared::echo::check_echo;
use super::shared::link::Link;
use super::shared::users::measured_policy;
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::security::Guard;
use crate::servers::{LabServer, ServeFuture, Shutdown};
use crate::settings::{ConnectionPolicy, Lab, Protocol, Workload};

/// The WebSocket lab's server.
pub(crate) static WS: LabServer = LabServer {
    key: Lab::Ws,
    name: "WebSocket",
    flag: "--ws-url",
    scheme: Some("ws"),
    tls_scheme: Some("wss"),
    alpn: lab_kit::tls::ALPN_HTTP1,
    start_command: "cargo run --release -p ws-lab --bin ws-server",
    serve,
};

fn serve(listener: tokio::net::TcpListener, guard: Guard, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        let mut config = ws_lab::Config::default();
        config.policy = measured_policy(config.policy);
        config.policy.tls = guard.tls;
        config.policy.metrics = guard.metrics.map(ws_lab::server::metrics);
        // Room for the largest --payload; the server is only on 127.0.0.1.
        config.max_message_bytes = crate::settings::MAX_PAYLOAD + 64 * 1024;
        // Room for `benchmark push --subscribers 10000` in the chat and as webhooks.
        config.max_members = 20_000;
        config.max_hooks = 10_000;
        ws_lab::run(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// The WebSocket lab row.
#[derive(Debug)]
pub(crate) struct WsLab;

static INFO: RowInfo = RowInfo {
    key: "ws",
    label: "WebSocket",
    client: "tokio-tungstenite",
    kind: ClientKind::Both,
    lab: &WS,
    protocol: Some(Protocol::Ws),
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
    alpn: lab_kit::tls::ALPN_HTTP1,
};

impl Adapter for WsLab {
    /// The request, and the stream workload's message count.
    type Plan = (Echo, Option<usize>);
    type Probe = WsProbe;
    type Link = WsLink;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(
        &self,
        target: &str,
        setup: &SetUp,
    ) -> anyhow::Result<Prepared<(Echo, Option<usize>)>> {
        // One upgrade, to learn which build answers (its `server` header).
        let url = format!("{target}{ECHO_PATH}");
        let client = WsClient::open(&url, setup.timeout, setup.access.tls.as_ref()).await?;
        let server_id = client.server().map(str::to_owned);
        client.close().await;
        let stream = (setup.workload == Workload::Stream).then_some(setup.list_size);
        let operation = match stream {
            Some(count) => format!("{count} pipelined echo messages, up to {WINDOW} unanswered"),
            None => "uppercase echo".into(),
        };
        Ok(Prepared {
            operation: super::with_payload(operation, setup.payload),
            plan: (Echo::new(setup.payload), stream),
            created: Vec::new(),
            server_id,
            items: stream,
        })
    }

    fn probe(
        &self,
        (echo, stream): &(Echo, Option<usize>),
        context: &ProbeContext,
        link: &WsLink,
        _index: usize,
    ) -> WsProbe {
        WsProbe {
            echo: echo.clone(),
            stream: *stream,
            first_item: None,
            url: format!("{}{ECHO_PATH}", context.target),
            addr: lab_kit::args::url_authority(&context.target),
            timeout: context.timeout,
            policy: context.policy,
            dial: context.dial.clone(),
            link: link.clone(),
        }
    }
}

/// A WebSocket connection; its clients take turns on it (this client does not pipeline).
type WsLink = Link<WsClient<Conn>>;

/// One WebSocket client.
#[derive(Debug)]
pub(crate) struct WsProbe {
    echo: Echo,
    /// The stream workload's message count.
    stream: Option<usize>,
    first_item: Option<Duration>,
    url: String,
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    dial: Dial,
    link: WsLink,
}

impl Probe for WsProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut slot = self.link.turn().await;
        let client = match &mut *slot {
            Some(client) => client,
            None => {
                let stream =
                    super::shared::dial::connect(&self.addr, self.timeout, &self.dial).await?;
                let client = WsClient::upgrade(stream, &self.url, self.timeout)
                    .await
                    .map_err(ws_error)?;
                slot.insert(client)
            }
        };
        if let Some(count) = self.stream {
            let result = stream(client, &self.echo, count).await;
            if result.is_err() || self.policy == ConnectionPolicy::New {
                *slot = None;
            }
            self.first_item = result?;
            return Ok(());
        }
        let result = client.uppercase(&self.echo.text).await;
        if result.is_err() || self.policy == ConnectionPolicy::New {
            *slot = None;
        }
        drop(slot);
        check_echo(result.map_err(ws_error)?, &self.echo.expected)
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}

/// Messages the stream workload leaves unanswered at most: enough to keep the
/// connection busy, few enough that neither side's buffers fill.
const WINDOW: usize = 64;

/// The stream workload: `count` echo requests, up to [`WINDOW`] ahead of their replies;
/// returns how long after the start the first reply came.
async fn stream(
    client: &mut WsClient<Conn>,
    echo: &Echo,
    count: usize,
) -> Result<Option<Duration>, CallError> {
    let line = &echo.line;
    let request = std::str::from_utf8(&line[..line.len() - 1]).unwrap_or_default();
    let started = Instant::now();
    let (mut sent, mut received, mut first) = (0, 0, None);
    while received < count {
        while sent < count && sent - received < WINDOW {
            client.send_text(request).await.map_err(ws_error)?;
            sent += 1;
        }
        let reply = client.next_text().await.map_err(ws_error)?;
        let reply: Reply = serde_json::from_str(&reply)
            .map_err(|_| CallError::new(ErrorKind::WrongReply, format!("reply {reply:?}")))?;
        if reply.status != Status::Ok || reply.message.as_deref() != Some(&*echo.expected) {
            return Err(CallError::new(ErrorKind::WrongReply, format!("{reply:?}")));
        }
        first.get_or_insert_with(|| started.elapsed());
        received += 1;
    }
    Ok(first)
}

fn ws_error(error: WsError) -> CallError {
    let kind = match &error {
        WsError::Connect { .. } => ErrorKind::Connect,
        WsError::Timeout { .. } => ErrorKind::Timeout,
        WsError::Closed(_) | WsError::Protocol(_) => ErrorKind::Transport,
        WsError::Refused(_) => ErrorKind::Status,
        WsError::BadReply(_) => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}
