//! The socket lab with its own client (`socket_lab::Client`): JSON lines over TCP. The
//! lab's client is already as lean as the protocol allows, so it serves as both the
//! standard and the lean client.

use std::sync::Arc;
use std::time::Duration;

use socket_lab::{Client, ClientError};
use tokio::net::TcpStream;

use super::lines::LineStream;
use super::pipeline::Pipeline;
use super::{Adapter, ClientKind, LabServer, Link, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::{CallError, ErrorKind, Probe};
use crate::servers::{ServeFuture, Shutdown};
use crate::settings::{ConnectionPolicy, Workload};
use crate::traffic::{Counted, Traffic};

/// The text each request sends.
pub const TEXT: &str = "Hello Socket Server";
/// The reply it expects.
pub const EXPECTED: &str = "HELLO SOCKET SERVER";

/// The socket lab's server.
pub static SOCKET: LabServer = LabServer {
    key: "socket",
    name: "Socket",
    flag: "--socket-url",
    scheme: None,
    start_command: "cargo run --release -p socket-lab --bin socket-server",
    serve,
};

fn serve(listener: tokio::net::TcpListener, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        socket_lab::run(listener, socket_lab::ServerConfig::default(), shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// The socket lab row.
#[derive(Debug)]
pub struct SocketLab;

static INFO: RowInfo = RowInfo {
    key: "socket",
    label: "Socket",
    client: "socket-lab",
    kind: ClientKind::Both,
    lab: &SOCKET,
    protocol: "socket",
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
};

impl Adapter for SocketLab {
    /// The stream workload's lines; none for the echo.
    type Plan = Option<LineStream>;
    type Probe = SocketProbe;
    type Link = Link<Pipeline>;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(
        &self,
        _target: &str,
        setup: &SetUp,
    ) -> anyhow::Result<Prepared<Option<LineStream>>> {
        let plan = (setup.workload == Workload::Stream).then(|| {
            let line = &super::floor::REQUEST;
            let mut reply = Vec::new();
            socket_lab::protocol::respond(&line[..line.len() - 1], &mut reply, &mut String::new());
            LineStream::new(line, &reply, setup.list_size)
        });
        let plan_items = plan.as_ref().map(LineStream::count);
        Ok(Prepared {
            operation: match &plan {
                Some(lines) => format!("{} pipelined echo lines", lines.count()),
                None => "uppercase echo".into(),
            },
            plan,
            created: Vec::new(),
            server_id: None,
            items: plan_items,
        })
    }

    fn probe(
        &self,
        plan: &Option<LineStream>,
        context: &ProbeContext,
        link: &Link<Pipeline>,
        _index: usize,
    ) -> SocketProbe {
        SocketProbe {
            lines: plan.clone(),
            first_item: None,
            link: context.sharing.then(|| link.clone()),
            addr: context.target.clone(),
            timeout: context.timeout,
            policy: context.policy,
            traffic: Arc::clone(&context.traffic),
            client: None,
            raw: None,
        }
    }
}

/// One socket lab client: on its own connection, or pipelining on a shared one.
#[derive(Debug)]
pub struct SocketProbe {
    /// The stream workload's lines, sent on a connection of this client's own.
    lines: Option<LineStream>,
    first_item: Option<Duration>,
    /// The shared connection, when clients share connections.
    link: Option<Link<Pipeline>>,
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    traffic: Arc<Traffic>,
    client: Option<Client<Counted<TcpStream>>>,
    /// The stream workload's connection.
    raw: Option<Counted<TcpStream>>,
}

impl SocketProbe {
    async fn connect(&self) -> Result<Client<Counted<TcpStream>>, CallError> {
        let stream = super::connect(&self.addr, self.timeout, &self.traffic).await?;
        Ok(Client::from_stream(stream, self.timeout))
    }
}

impl SocketProbe {
    /// One request pipelined on the shared connection.
    async fn call_shared(&self, link: &Link<Pipeline>) -> Result<(), CallError> {
        let pipeline = link
            .shared(|| async {
                let stream = super::connect(&self.addr, self.timeout, &self.traffic).await?;
                Ok(Pipeline::new(stream))
            })
            .await?;
        let reply = match tokio::time::timeout(self.timeout, pipeline.uppercase(TEXT)).await {
            Ok(reply) => reply,
            Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
        };
        if pipeline.is_broken() {
            link.drop_if(Pipeline::is_broken).await;
        }
        check_echo(reply?)
    }
}

impl Probe for SocketProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        if let Some(lines) = &self.lines {
            let (first, stream) = super::lines::over_tcp(
                lines,
                self.raw.take(),
                &self.addr,
                self.timeout,
                &self.traffic,
            )
            .await?;
            self.first_item = first;
            if self.policy == ConnectionPolicy::Reuse {
                self.raw = Some(stream);
            }
            return Ok(());
        }
        if let Some(link) = &self.link {
            return self.call_shared(link).await;
        }
        let client = match &mut self.client {
            Some(client) => client,
            None => {
                let client = self.connect().await?;
                self.client.insert(client)
            }
        };
        let result = client.uppercase(TEXT).await;
        if result.is_err() || self.policy == ConnectionPolicy::New {
            self.client = None;
        }
        check_echo(result.map_err(socket_error)?)
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}

/// Checks an echo's text.
fn check_echo(reply: String) -> Result<(), CallError> {
    if reply == EXPECTED {
        Ok(())
    } else {
        Err(CallError::new(
            ErrorKind::WrongReply,
            format!("echo was {reply:?}"),
        ))
    }
}

fn socket_error(error: ClientError) -> CallError {
    let kind = match &error {
        ClientError::Resolve { .. } | ClientError::Connect { .. } => ErrorKind::Connect,
        ClientError::Timeout { .. } => ErrorKind::Timeout,
        ClientError::Io(_) | ClientError::Closed => ErrorKind::Transport,
        ClientError::Refused(_) => ErrorKind::Status,
        ClientError::BadReply(_) => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_sends_exactly_what_the_socket_client_sends() {
        let request = socket_lab::protocol::Request {
            message: TEXT,
            id: None,
        };
        let mut bytes = serde_json::to_vec(&request).unwrap();
        bytes.push(b'\n');
        assert_eq!(bytes, super::super::floor::REQUEST);
    }
}
