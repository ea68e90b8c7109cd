//! A client for the WebSocket server, used by the self-test, the prompt, the chat and
//! the benchmark: one upgraded connection, kept open.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lab_kit::tls::{ClientStream, ClientTls};
use socket_lab::protocol::{Reply, Request, Status};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

/// The echo endpoint's path.
pub const ECHO_PATH: &str = "/ws/echo";
/// The chat endpoint's path.
pub const CHAT_PATH: &str = "/ws/chat";

/// Why a request did not get a good reply.
#[derive(Debug, thiserror::Error)]
pub enum WsError {
    /// The TCP connection or the upgrade failed.
    #[error("cannot open {url}: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The step did not finish in time.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The server closed the connection.
    #[error("the server closed the connection{}", .0.as_ref().map(|f| format!(" ({} {})", f.code, f.reason)).unwrap_or_default())]
    Closed(Option<CloseFrame>),
    /// The connection failed.
    #[error("connection failed: {0}")]
    Protocol(String),
    /// The server sent something that is not a reply.
    #[error("malformed reply from server: {0}")]
    BadReply(String),
    /// The server answered with an error reply.
    #[error("server refused the request: {0}")]
    Refused(String),
}

/// One open WebSocket connection: over TCP, or any byte stream (the benchmark wraps one
/// to count its bytes).
#[derive(Debug)]
pub struct WsClient<S = ClientStream<TcpStream>> {
    stream: WebSocketStream<S>,
    timeout: Duration,
    server: Option<String>,
}

/// The largest message the client sends or takes: the server's own largest limit.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The client's limits: messages up to [`MAX_MESSAGE_BYTES`], and a write buffer that
/// stops growing (tungstenite's default is unbounded) at two of them, so a server that
/// never reads cannot make it hold more. The read buffer stays at its default: a
/// client's connections are its own, and the benchmark moves 1 MB messages through it.
fn config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
        .max_write_buffer_size(2 * MAX_MESSAGE_BYTES + (128 << 10))
}

impl WsClient {
    /// Connects to `url` (`ws://host:port/path`) in cleartext and upgrades, within
    /// `timeout`.
    ///
    /// # Errors
    ///
    /// [`WsError::Connect`] or [`WsError::Timeout`].
    pub async fn connect(url: &str, timeout: Duration) -> Result<Self, WsError> {
        WsClient::open(url, timeout, None).await
    }

    /// Connects to `url` and upgrades, within `timeout` each: over TLS for `wss://`
    /// (trusting what `tls` says, the system's CAs when `None`; ALPN `http/1.1`).
    ///
    /// # Errors
    ///
    /// [`WsError::Connect`] (a failed handshake said in words) or [`WsError::Timeout`].
    pub async fn open(
        url: &str,
        timeout: Duration,
        tls: Option<&ClientTls>,
    ) -> Result<Self, WsError> {
        let stream = open_stream(url, timeout, tls).await?;
        WsClient::upgrade(stream, url, timeout).await
    }
}

/// The byte stream under a WebSocket at `url`: TCP, then TLS for `wss://`, each within
/// `timeout`.
///
/// # Errors
///
/// [`WsError::Connect`], a failed TLS handshake said in one line with the next step.
pub async fn open_stream(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
) -> Result<ClientStream<TcpStream>, WsError> {
    let authority = lab_kit::args::url_authority(url);
    let failed = |reason: String| WsError::Connect {
        url: url.to_owned(),
        reason,
    };
    let tls = if lab_kit::args::is_tls_url(url) {
        Some(match tls {
            Some(tls) => tls.with_alpn(lab_kit::tls::ALPN_HTTP1),
            None => ClientTls::new(None, None, lab_kit::tls::ALPN_HTTP1)
                .map_err(|e| failed(e.to_string()))?,
        })
    } else {
        None
    };
    lab_kit::tls::connect(&authority, tls.as_ref(), timeout)
        .await
        .map_err(|e| {
            failed(
                lab_kit::tls::explain(&e, &authority).unwrap_or_else(|| lab_kit::error_chain(&e)),
            )
        })
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsClient<S> {
    /// Upgrades an open byte stream to a WebSocket at `url`, within `timeout`.
    ///
    /// # Errors
    ///
    /// [`WsError::Connect`] when the server refuses the upgrade.
    pub async fn upgrade(stream: S, url: &str, timeout: Duration) -> Result<Self, WsError> {
        let upgrading = tokio_tungstenite::client_async_with_config(url, stream, Some(config()));
        WsClient::handshake(upgrading, "the upgrade", url, timeout).await
    }

    /// Waits up to `timeout` for a client handshake (`what`, for the error) and keeps
    /// the server's `server` header.
    async fn handshake(
        handshake: impl Future<
            Output = Result<
                (WebSocketStream<S>, tungstenite::handshake::client::Response),
                tungstenite::Error,
            >,
        >,
        what: &'static str,
        url: &str,
        timeout: Duration,
    ) -> Result<Self, WsError> {
        let (stream, response) = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| WsError::Timeout {
                what,
                after: timeout,
            })?
            .map_err(|e| connect_error(url, e))?;
        Ok(WsClient {
            stream,
            timeout,
            server: server_header(&response),
        })
    }

    /// The server's `server` header on the upgrade (`ws-lab/0.1.0 (release)`), if sent.
    pub fn server(&self) -> Option<&str> {
        self.server.as_deref()
    }

    /// Sends `text` as the socket lab's request and returns the upper-cased reply.
    ///
    /// # Errors
    ///
    /// [`WsError::Refused`] for an error reply; otherwise the connection's failure.
    pub async fn uppercase(&mut self, text: &str) -> Result<String, WsError> {
        let request = Request {
            message: text,
            id: None,
        };
        let json = serde_json::to_string(&request).map_err(|e| WsError::BadReply(e.to_string()))?;
        let reply = self.request_raw(&json).await?;
        let reply: Reply =
            serde_json::from_str(&reply).map_err(|_| WsError::BadReply(reply.clone()))?;
        match reply.status {
            Status::Ok => reply
                .message
                .ok_or_else(|| WsError::BadReply("no message".into())),
            Status::Error => Err(WsError::Refused(reply.error.unwrap_or_default())),
        }
    }

    /// Sends one text message and returns the next text message the server sends.
    ///
    /// # Errors
    ///
    /// When the connection fails, closes, or the reply is late.
    pub async fn request_raw(&mut self, text: &str) -> Result<String, WsError> {
        self.send(Message::Text(text.into())).await?;
        self.next_text().await
    }

    /// Sends one text message without waiting for a reply (to pipeline several).
    ///
    /// # Errors
    ///
    /// When the connection fails or the send is late.
    pub async fn send_text(&mut self, text: &str) -> Result<(), WsError> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends one message.
    ///
    /// # Errors
    ///
    /// When the connection fails or the send is late.
    pub async fn send(&mut self, message: Message) -> Result<(), WsError> {
        tokio::time::timeout(self.timeout, self.stream.send(message))
            .await
            .map_err(|_| WsError::Timeout {
                what: "sending",
                after: self.timeout,
            })?
            .map_err(stream_error)
    }

    /// The next text message, within the timeout.
    ///
    /// # Errors
    ///
    /// When the connection fails, closes, or nothing comes in time.
    pub async fn next_text(&mut self) -> Result<String, WsError> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.next_text_untimed())
            .await
            .map_err(|_| WsError::Timeout {
                what: "the reply",
                after: timeout,
            })?
    }

    /// The next text message, however long it takes (a chat waits for others).
    ///
    /// # Errors
    ///
    /// When the connection fails or closes.
    pub async fn next_text_untimed(&mut self) -> Result<String, WsError> {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Close(frame))) => return Err(WsError::Closed(frame)),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(stream_error(e)),
                None => return Err(WsError::Closed(None)),
            }
        }
    }

    /// Says goodbye with a normal Close frame.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

fn server_header(response: &tungstenite::handshake::client::Response) -> Option<String> {
    response
        .headers()
        .get("server")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn connect_error(url: &str, error: tungstenite::Error) -> WsError {
    let reason = match error {
        tungstenite::Error::Http(response) => format!(
            "the server refused the upgrade with {} (is it the WebSocket server?)",
            response.status()
        ),
        other => lab_kit::error_chain(&other),
    };
    WsError::Connect {
        url: url.to_owned(),
        reason,
    }
}

fn stream_error(error: tungstenite::Error) -> WsError {
    match error {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            WsError::Closed(None)
        }
        other => WsError::Protocol(lab_kit::error_chain(&other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_buffer_is_bounded_and_messages_limited() {
        let config = config();
        // tungstenite's default is usize::MAX: a server that never read made it grow.
        assert!(config.max_write_buffer_size <= 2 * MAX_MESSAGE_BYTES + (128 << 10));
        assert!(config.max_write_buffer_size > config.write_buffer_size + MAX_MESSAGE_BYTES);
        assert_eq!(config.max_message_size, Some(MAX_MESSAGE_BYTES));
    }
}
