//! The WebSocket lab with its own client (`ws_lab::WsClient`, tokio-tungstenite): the
//! socket lab's request as a text message on an upgraded, kept-open connection. With
//! `--connection new`, every request pays for a fresh TCP connection and HTTP upgrade.
//! The client is already as lean as the protocol allows, so it serves as both the
//! standard and the lean client.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use ws_lab::client::ECHO_PATH;
use ws_lab::{WsClient, WsError};

use super::socket::{EXPECTED, TEXT};
use super::{Adapter, ClientKind, LabServer, Link, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::{CallError, ErrorKind, Probe};
use crate::servers::{ServeFuture, Shutdown};
use crate::settings::ConnectionPolicy;
use crate::traffic::{Counted, Traffic};

/// The WebSocket lab's server.
pub static WS: LabServer = LabServer {
    key: "ws",
    name: "WebSocket",
    flag: "--ws-url",
    scheme: Some("ws"),
    start_command: "cargo run --release -p ws-lab --bin ws-server",
    serve,
};

fn serve(listener: tokio::net::TcpListener, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        let mut config = ws_lab::Config::default();
        config.policy.drain_timeout = Duration::from_secs(1);
        ws_lab::run(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// The WebSocket lab row.
#[derive(Debug)]
pub struct WsLab;

static INFO: RowInfo = RowInfo {
    key: "ws",
    label: "WebSocket",
    client: "tokio-tungstenite",
    kind: ClientKind::Both,
    lab: &WS,
    protocol: "ws",
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
};

impl Adapter for WsLab {
    type Plan = ();
    type Probe = WsProbe;
    type Link = WsLink;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(&self, target: &str, setup: &SetUp) -> anyhow::Result<Prepared<()>> {
        // One upgrade, to learn which build answers (its `server` header).
        let client = WsClient::connect(&format!("{target}{ECHO_PATH}"), setup.timeout).await?;
        let server_id = client.server().map(str::to_owned);
        client.close().await;
        Ok(Prepared {
            plan: (),
            operation: "uppercase echo".into(),
            created: Vec::new(),
            server_id,
        })
    }

    fn probe(&self, _plan: &(), context: &ProbeContext, link: &WsLink, _index: usize) -> WsProbe {
        WsProbe {
            url: format!("{}{ECHO_PATH}", context.target),
            addr: lab_kit::args::url_authority(&context.target),
            timeout: context.timeout,
            policy: context.policy,
            traffic: Arc::clone(&context.traffic),
            link: link.clone(),
        }
    }
}

/// A WebSocket connection; its clients take turns on it (this client does not pipeline).
type WsLink = Link<WsClient<Counted<TcpStream>>>;

/// One WebSocket client.
#[derive(Debug)]
pub struct WsProbe {
    url: String,
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    traffic: Arc<Traffic>,
    link: WsLink,
}

impl Probe for WsProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut slot = self.link.turn().await;
        let client = match &mut *slot {
            Some(client) => client,
            None => {
                let stream = super::connect(&self.addr, self.timeout, &self.traffic).await?;
                let client = WsClient::upgrade(stream, &self.url, self.timeout)
                    .await
                    .map_err(ws_error)?;
                slot.insert(client)
            }
        };
        let result = client.uppercase(TEXT).await;
        if result.is_err() || self.policy == ConnectionPolicy::New {
            *slot = None;
        }
        drop(slot);
        match result.map_err(ws_error)? {
            reply if reply == EXPECTED => Ok(()),
            reply => Err(CallError::new(
                ErrorKind::WrongReply,
                format!("echo was {reply:?}"),
            )),
        }
    }
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
