//! The socket lab with its own client (`socket_lab::Client`): JSON lines over TCP. The
//! lab's client is already as lean as the protocol allows, so it serves as both the
//! standard and the lean client.

use std::time::Duration;

use socket_lab::{Client, ClientError};

use super::shared::echo::{Echo, check_echo};
use super::shared::lines::LineStream;
use super::shared::link::Link;
use super::shared::pipeline::Pipeline;
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::security::Guard;
use crate::servers::{LabServer, ServeFuture, Shutdown};
use crate::settings::{ConnectionPolicy, Lab, Protocol};

/// The socket lab's server.
pub(crate) static SOCKET: LabServer = LabServer {
    key: Lab::Socket,
    name: "Socket",
    flag: "--socket-url",
    scheme: None,
    tls_scheme: None,
    alpn: &[],
    start_command: "cargo run --release -p socket-lab --bin socket-server",
    serve,
};

fn serve(listener: tokio::net::TcpListener, guard: Guard, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        // Room for the largest --payload; the server is only on 127.0.0.1.
        let config = socket_lab::ServerConfig {
            max_line_bytes: crate::settings::MAX_PAYLOAD + 64 * 1024,
            // Every client comes from this one address.
            max_connections_per_address: socket_lab::ServerConfig::default().max_connections,
            tls: guard.tls,
            metrics: guard.metrics,
            ..socket_lab::ServerConfig::default()
        };
        socket_lab::run(listener, config, shutdown)
            .await
            .map_err(|e| e.to_string())
    })
}

/// The socket lab row.
#[derive(Debug)]
pub(crate) struct SocketLab;

static INFO: RowInfo = RowInfo {
    key: "socket",
    label: "Socket",
    client: "socket-lab",
    kind: ClientKind::Both,
    lab: &SOCKET,
    protocol: Some(Protocol::Socket),
    bytes_unmeasured: None,
    server_cpu_unmeasured: None,
    alpn: &[],
};

impl Adapter for SocketLab {
    /// The request, and the stream workload's lines.
    type Plan = (Echo, Option<LineStream>);
    type Probe = SocketProbe;
    type Link = Link<Pipeline>;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(
        &self,
        _target: &str,
        setup: &SetUp,
    ) -> anyhow::Result<Prepared<(Echo, Option<LineStream>)>> {
        Ok(super::shared::echo::prepare_lines(
            setup,
            false,
            "uppercase echo",
            "pipelined echo lines",
        ))
    }

    fn probe(
        &self,
        (echo, lines): &(Echo, Option<LineStream>),
        context: &ProbeContext,
        link: &Link<Pipeline>,
        _index: usize,
    ) -> SocketProbe {
        SocketProbe {
            echo: echo.clone(),
            lines: lines.clone(),
            first_item: None,
            link: context.sharing.then(|| link.clone()),
            addr: context.target.clone(),
            timeout: context.timeout,
            policy: context.policy,
            dial: context.dial.clone(),
            client: None,
            raw: None,
        }
    }
}

/// One socket lab client: on its own connection, or pipelining on a shared one.
#[derive(Debug)]
pub(crate) struct SocketProbe {
    echo: Echo,
    /// The stream workload's lines, sent on a connection of this client's own.
    lines: Option<LineStream>,
    first_item: Option<Duration>,
    /// The shared connection, when clients share connections.
    link: Option<Link<Pipeline>>,
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    dial: Dial,
    client: Option<Client<Conn>>,
    /// The stream workload's connection.
    raw: Option<Conn>,
}

impl SocketProbe {
    async fn connect(&self) -> Result<Client<Conn>, CallError> {
        let stream = super::shared::dial::connect(&self.addr, self.timeout, &self.dial).await?;
        Ok(Client::from_stream(stream, self.timeout))
    }
}

impl SocketProbe {
    /// One request pipelined on the shared connection.
    async fn call_shared(&self, link: &Link<Pipeline>) -> Result<(), CallError> {
        let pipeline = link
            .shared(|| async {
                let stream =
                    super::shared::dial::connect(&self.addr, self.timeout, &self.dial).await?;
                Ok(Pipeline::new(stream))
            })
            .await?;
        let reply =
            match tokio::time::timeout(self.timeout, pipeline.uppercase(&self.echo.text)).await {
                Ok(reply) => reply,
                Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
            };
        if pipeline.is_broken() {
            link.drop_if(Pipeline::is_broken).await;
        }
        check_echo(reply?, &self.echo.expected)
    }
}

impl Probe for SocketProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        if let Some(lines) = &self.lines {
            let (first, stream) = super::shared::lines::over_tcp(
                lines,
                self.raw.take(),
                &self.addr,
                self.timeout,
                &self.dial,
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
        let result = client.uppercase(&self.echo.text).await;
        if result.is_err() || self.policy == ConnectionPolicy::New {
            self.client = None;
        }
        check_echo(result.map_err(socket_error)?, &self.echo.expected)
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}

fn socket_error(error: ClientError) -> CallError {
    let kind = match &error {
        ClientError::Resolve { .. } | ClientError::Connect { .. } | ClientError::Tls { .. } => {
            ErrorKind::Connect
        }
        ClientError::Timeout { .. } => ErrorKind::Timeout,
        ClientError::Io(_) | ClientError::Closed => ErrorKind::Transport,
        ClientError::Refused(_) => ErrorKind::Status,
        ClientError::BadReply(_) => ErrorKind::WrongReply,
    };
    CallError::new(kind, error.to_string())
}

#[cfg(test)]
mod tests {
    use crate::adapters::shared::echo::TEXT;

    #[test]
    fn the_floor_sends_exactly_what_the_socket_client_sends() {
        let request = socket_lab::protocol::Request {
            message: TEXT,
            id: None,
        };
        let mut bytes = serde_json::to_vec(&request).unwrap();
        bytes.push(b'\n');
        assert_eq!(bytes, super::super::shared::echo::tests::REQUEST);
    }
}
