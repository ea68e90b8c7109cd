//! The socket lab with its own client (`socket_lab::Client`): JSON lines over TCP. The
//! lab's client is already as lean as the protocol allows, so it serves as both the
//! standard and the lean client.

use std::sync::Arc;
use std::time::Duration;

use socket_lab::{Client, ClientError};
use tokio::net::TcpStream;

use super::{Adapter, ClientKind, LabServer, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::{CallError, ErrorKind, Probe};
use crate::servers::{ServeFuture, Shutdown};
use crate::settings::ConnectionPolicy;
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
    type Plan = ();
    type Probe = SocketProbe;

    fn info(&self) -> &'static RowInfo {
        &INFO
    }

    async fn set_up(&self, _target: &str, _setup: &SetUp) -> anyhow::Result<Prepared<()>> {
        Ok(Prepared {
            plan: (),
            operation: "uppercase echo".into(),
            created: Vec::new(),
            server_id: None,
        })
    }

    fn probe(&self, _plan: &(), context: &ProbeContext, _index: usize) -> SocketProbe {
        SocketProbe {
            addr: context.target.clone(),
            timeout: context.timeout,
            policy: context.policy,
            traffic: Arc::clone(&context.traffic),
            client: None,
        }
    }
}

/// One socket lab client.
#[derive(Debug)]
pub struct SocketProbe {
    addr: String,
    timeout: Duration,
    policy: ConnectionPolicy,
    traffic: Arc<Traffic>,
    client: Option<Client<Counted<TcpStream>>>,
}

impl SocketProbe {
    async fn connect(&self) -> Result<Client<Counted<TcpStream>>, CallError> {
        let stream = super::connect(&self.addr, self.timeout, &self.traffic).await?;
        Ok(Client::from_stream(stream, self.timeout))
    }
}

impl Probe for SocketProbe {
    async fn call(&mut self) -> Result<(), CallError> {
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
        match result.map_err(socket_error)? {
            reply if reply == EXPECTED => Ok(()),
            reply => Err(CallError::new(
                ErrorKind::WrongReply,
                format!("echo was {reply:?}"),
            )),
        }
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
