//! Peer-to-peer chat over gRPC: every peer is both a `ChattingService` server and a
//! client of the other peer's.
//!
//! The design couples the two peers in time and space: each must know the other's
//! address in advance (space), and a message is delivered only while the other is
//! running (time) — there is no broker to hold it. So a peer waits for the other to
//! answer before chatting, reports a message it could not deliver instead of hiding it,
//! and reaches the other again when it comes back.

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Request, Response, Status};

use crate::chat_pb::chatting_service_client::ChattingServiceClient;
use crate::chat_pb::chatting_service_server::{ChattingService, ChattingServiceServer};
use crate::chat_pb::{Message, NullMsg};

/// Longest pause between attempts to reach the other peer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// Limit on each call to the other peer.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Messages received and not yet shown.
const INBOX: usize = 256;

/// This peer's side of `ChattingService`: answers who it is, and queues what it is sent.
#[derive(Debug)]
struct Inbox {
    name: String,
    messages: mpsc::Sender<Message>,
}

#[tonic::async_trait]
impl ChattingService for Inbox {
    async fn get_information(&self, _: Request<NullMsg>) -> Result<Response<Message>, Status> {
        Ok(Response::new(Message {
            time: now(),
            sender: self.name.clone(),
            msg: String::new(),
        }))
    }

    async fn send_message(&self, request: Request<Message>) -> Result<Response<NullMsg>, Status> {
        self.messages
            .send(request.into_inner())
            .await
            .map_err(|_| Status::unavailable("this peer is shutting down"))?;
        Ok(Response::new(NullMsg {}))
    }
}

/// Why a peer could not start.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The other peer's address is not usable.
    #[error("invalid peer address {address:?}: {reason}")]
    BadAddress {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The listening socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Something answers at the other peer's address, but not a chat peer.
    #[error("{0}")]
    NotAPeer(String),
}

/// Whether the other peer answers, asked once a second (`GetInformation`).
#[derive(Debug, Clone)]
pub struct Presence {
    other: ChattingServiceClient<Channel>,
}

impl Presence {
    /// How often the other peer is asked.
    pub const EVERY: Duration = Duration::from_secs(1);

    /// Waits until the other peer's presence is no longer `present`; returns the new
    /// state (false: it stopped answering; true: it answers again).
    pub async fn changed(&mut self, present: bool) -> bool {
        loop {
            tokio::time::sleep(Self::EVERY).await;
            let answers = self.other.get_information(NullMsg {}).await.is_ok();
            if answers != present {
                return answers;
            }
        }
    }
}

/// One running peer.
#[derive(Debug)]
pub struct Peer {
    name: String,
    local: SocketAddr,
    other: ChattingServiceClient<Channel>,
    /// `host:port` of the other peer, to ask what answers there.
    other_authority: String,
    inbox: mpsc::Receiver<Message>,
    stop: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Peer {
    /// Serves `ChattingService` as `name` on `listener`, and prepares a client for the
    /// peer at `other` (`host:port` or `http://host:port`). Does not wait for it.
    ///
    /// # Errors
    ///
    /// When `other` is not a usable address, or the listener has no address.
    pub fn start(name: &str, listener: TcpListener, other: &str) -> Result<Self, PeerError> {
        let url =
            lab_kit::args::cleartext_http_url(other).map_err(|reason| PeerError::BadAddress {
                address: other.to_owned(),
                reason,
            })?;
        let endpoint = Endpoint::from_shared(url).map_err(|e| PeerError::BadAddress {
            address: other.to_owned(),
            reason: e.to_string(),
        })?;
        // A lazy channel connects on first use and reconnects after the peer comes back.
        let channel = endpoint
            .connect_timeout(CALL_TIMEOUT)
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .connect_lazy();
        let local = listener.local_addr()?;
        let (messages, inbox) = mpsc::channel(INBOX);
        let (stop, stopped) = oneshot::channel::<()>();
        let service = ChattingServiceServer::new(Inbox {
            name: name.to_owned(),
            messages,
        });
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let server = tokio::spawn(
            Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stopped.await;
                }),
        );
        Ok(Peer {
            name: name.to_owned(),
            local,
            other: ChattingServiceClient::new(channel),
            other_authority: lab_kit::args::url_authority(other),
            inbox,
            stop: Some(stop),
            server,
        })
    }

    /// This peer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where this peer listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Asks the other peer who it is, once.
    ///
    /// # Errors
    ///
    /// The call's status, UNAVAILABLE when the other peer is not running.
    pub async fn ask_name(&mut self) -> Result<String, Status> {
        let reply = self.other.get_information(NullMsg {}).await?;
        Ok(reply.into_inner().sender)
    }

    /// Retries [`ask_name`](Self::ask_name) with growing pauses (up to
    /// [`MAX_BACKOFF`]) until the other peer answers; returns its name.
    ///
    /// # Errors
    ///
    /// [`PeerError::NotAPeer`] as soon as something that is not a chat peer answers
    /// there (a gRPC server without the chat, the REST server...): waiting would never
    /// end.
    pub async fn wait_for_other(&mut self) -> Result<String, PeerError> {
        let mut pause = Duration::from_millis(100);
        loop {
            match self.ask_name().await {
                Ok(name) => return Ok(name),
                Err(status) if status.code() == tonic::Code::Unimplemented => {
                    return Err(PeerError::NotAPeer(format!(
                        "{} is not a grpc-peer: a gRPC server without the peer chat answers \
                         (the gRPC lab's server?)",
                        self.other_authority
                    )));
                }
                // Not started yet (refused), or starting: wait for it.
                Err(status) if status.code() == tonic::Code::Unavailable => {}
                Err(_) => {
                    let found = lab_kit::term::explain_failure(
                        lab_kit::term::Lab::GrpcPeer,
                        &self.other_authority,
                        CALL_TIMEOUT,
                    )
                    .await;
                    if let Some(line) = found {
                        return Err(PeerError::NotAPeer(line));
                    }
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
    }

    /// A watch on whether the other peer is there, to tell the person when it leaves
    /// and comes back.
    pub fn presence(&self) -> Presence {
        Presence {
            other: self.other.clone(),
        }
    }

    /// Sends one chat line, stamped now; returns the message as sent.
    ///
    /// # Errors
    ///
    /// The call's status when the other peer did not take it (not delivered).
    pub async fn send(&mut self, text: &str) -> Result<Message, Status> {
        let message = Message {
            time: now(),
            sender: self.name.clone(),
            msg: text.to_owned(),
        };
        self.other.send_message(message.clone()).await?;
        Ok(message)
    }

    /// The next message the other peer sent; `None` once this peer has stopped.
    pub async fn next_message(&mut self) -> Option<Message> {
        self.inbox.recv().await
    }

    /// Splits off the stream of received messages, for a task that shows them.
    pub fn take_inbox(&mut self) -> mpsc::Receiver<Message> {
        let (_, empty) = mpsc::channel(1);
        std::mem::replace(&mut self.inbox, empty)
    }

    /// Stops serving and waits until the server has closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.server).await;
    }
}

/// How a message reads in the terminal: `[HH:MM:SS] name: text`, in local time, as in
/// every chat of the labs.
pub fn describe(message: &Message) -> String {
    let time = lab_kit::term::chat_time(&message.time);
    format!("[{time}] {}: {}", message.sender, message.msg)
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_time_name_text() {
        let message = Message {
            time: "not a time".into(),
            sender: "ann".into(),
            msg: "hi".into(),
        };
        assert_eq!(describe(&message), "[not a time] ann: hi");
        let stamped = Message {
            time: now(),
            ..message
        };
        let text = describe(&stamped);
        assert!(
            text.starts_with('[') && text.ends_with("] ann: hi"),
            "{text}"
        );
        assert_eq!(text.find(']'), Some(9), "HH:MM:SS: {text}");
    }
}
