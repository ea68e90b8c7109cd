//! A client for the socket server, used by the self-test suite, the interactive mode
//! and the benchmark.

use std::io;
use std::time::Duration;

use lab_kit::ReusableTimeout;
use lab_kit::tls::{ClientStream, ClientTls, ClientTlsArgs, MaybeTls, TlsError};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::protocol::{Reply, Request, Status};

/// Default limit on connecting and on each request.
pub const DEFAULT_TIMEOUT: Duration = lab_kit::args::DEFAULT_CLIENT_TIMEOUT.0;

/// Longest reply line the client reads. A reply to the longest request the server takes
/// (64 KiB) fits many times over, even fully escaped; a peer that sends a line with no
/// end gets a [`ClientError::BadReply`] instead of all of the client's memory.
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// Why a request did not get a good reply.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The host name could not be turned into an address.
    #[error("cannot resolve {addr}: {error}")]
    Resolve {
        /// The address as given.
        addr: String,
        /// What the resolver said.
        error: io::Error,
    },
    /// Nothing accepted the connection (nothing listening, a firewall).
    #[error("cannot connect to {addr}: {error} (is socket-server running there?)")]
    Connect {
        /// The address as given.
        addr: String,
        /// What the operating system said.
        error: io::Error,
    },
    /// The step did not finish in time.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was being waited for.
        what: &'static str,
        /// The limit that ran out.
        after: Duration,
    },
    /// The TLS handshake failed (an untrusted certificate, a cleartext server).
    #[error("TLS with {addr} failed: {error}")]
    Tls {
        /// The address as given.
        addr: String,
        /// What rustls said.
        #[source]
        error: io::Error,
    },
    /// The connection failed after it was made.
    #[error("connection failed: {0}")]
    Io(#[from] io::Error),
    /// The server closed the connection instead of replying.
    #[error("the server closed the connection")]
    Closed,
    /// The server sent a line that is not a reply.
    #[error("malformed reply from server: {0}")]
    BadReply(String),
    /// The server answered with an error reply.
    #[error("server refused the request: {0}")]
    Refused(String),
}

/// One open connection to a socket server: a TCP stream, or any byte stream (the
/// benchmark wraps one to count its bytes).
#[derive(Debug)]
pub struct Client<S = TcpStream> {
    stream: BufReader<S>,
    /// One timer for every request: a request that ends in time costs a clock read.
    timeout: ReusableTimeout,
    line: String,
    request: Vec<u8>,
}

/// Where a client connects and how: `host:port`, in cleartext or over TLS.
#[derive(Debug, Clone)]
pub struct Dial {
    /// `host:port`.
    pub addr: String,
    /// TLS, or `None` for cleartext.
    pub tls: Option<ClientTls>,
}

impl Dial {
    /// `addr` in cleartext.
    pub fn plain(addr: &str) -> Dial {
        Dial {
            addr: addr.to_owned(),
            tls: None,
        }
    }

    /// The `--url` as [`lab_kit::args::tcp_target`] reads it (`host:port`, or
    /// `tls://host:port` for TLS, trusting and showing what `tls` says).
    ///
    /// # Errors
    ///
    /// When a TLS file cannot be read.
    pub fn from_url(url: &str, tls: &ClientTlsArgs) -> Result<Dial, TlsError> {
        Ok(match url.strip_prefix("tls://") {
            Some(addr) => Dial {
                addr: addr.to_owned(),
                tls: Some(tls.client_tls(&[])?),
            },
            None => Dial::plain(url),
        })
    }

    /// Whether it speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

impl Client<ClientStream<TcpStream>> {
    /// Connects as `dial` says (TCP, then TLS when asked for), each step within
    /// `timeout`; the same limit then applies to every request.
    ///
    /// # Errors
    ///
    /// [`ClientError::Resolve`], [`ClientError::Connect`], [`ClientError::Tls`] or
    /// [`ClientError::Timeout`].
    pub async fn open(dial: &Dial, timeout: Duration) -> Result<Self, ClientError> {
        let tcp = tcp(&dial.addr, timeout).await?;
        let stream = match &dial.tls {
            None => MaybeTls::Plain(tcp),
            Some(tls) => {
                let host = dial.addr.rsplit_once(':').map_or(&*dial.addr, |(h, _)| h);
                let handshake = tokio::time::timeout(timeout, tls.connect(host, tcp));
                let session = handshake
                    .await
                    .map_err(|_| ClientError::Timeout {
                        what: "the TLS handshake",
                        after: timeout,
                    })?
                    .map_err(|error| ClientError::Tls {
                        addr: dial.addr.clone(),
                        error,
                    })?;
                MaybeTls::Tls(Box::new(session))
            }
        };
        Ok(Client::from_stream(stream, timeout))
    }
}

impl Client {
    /// Resolves `addr` (`host:port`) and connects in cleartext, each step within
    /// `timeout`; the same limit then applies to every request.
    ///
    /// # Errors
    ///
    /// [`ClientError::Resolve`], [`ClientError::Connect`] or [`ClientError::Timeout`].
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Self, ClientError> {
        Ok(Client::from_stream(tcp(addr, timeout).await?, timeout))
    }
}

/// A TCP connection to `addr` with `TCP_NODELAY`, resolving and connecting each within
/// `timeout`.
async fn tcp(addr: &str, timeout: Duration) -> Result<TcpStream, ClientError> {
    let resolving = tokio::time::timeout(timeout, tokio::net::lookup_host(addr));
    let addrs: Vec<_> = resolving
        .await
        .map_err(|_| ClientError::Timeout {
            what: "name resolution",
            after: timeout,
        })?
        .map_err(|error| ClientError::Resolve {
            addr: addr.to_owned(),
            error,
        })?
        .collect();
    let connecting = tokio::time::timeout(timeout, TcpStream::connect(&addrs[..]));
    let stream = connecting
        .await
        .map_err(|_| ClientError::Timeout {
            what: "connecting",
            after: timeout,
        })?
        .map_err(|error| ClientError::Connect {
            addr: addr.to_owned(),
            error,
        })?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// A client over a stream that is already connected; `timeout` limits each request.
    pub fn from_stream(stream: S, timeout: Duration) -> Self {
        Client {
            stream: BufReader::new(stream),
            timeout: ReusableTimeout::new(timeout),
            line: String::new(),
            request: Vec::new(),
        }
    }

    /// Sends `text` and returns it upper-cased by the server.
    ///
    /// # Errors
    ///
    /// Any failure of [`request`](Self::request), and [`ClientError::Refused`] when the
    /// server answers with an error reply.
    pub async fn uppercase(&mut self, text: &str) -> Result<String, ClientError> {
        let reply = self
            .request(&Request {
                message: text,
                id: None,
            })
            .await?;
        match reply.status {
            Status::Ok => reply
                .message
                .ok_or_else(|| ClientError::BadReply("an ok reply without \"message\"".into())),
            Status::Error => Err(ClientError::Refused(reply.error.unwrap_or_default())),
        }
    }

    /// Sends one request and reads its reply, whatever its status.
    ///
    /// # Errors
    ///
    /// When the connection fails or times out, the server closes it, or the reply is
    /// not valid.
    pub async fn request(&mut self, request: &Request<'_>) -> Result<Reply, ClientError> {
        self.request.clear();
        serde_json::to_writer(&mut self.request, request)
            .map_err(|e| ClientError::BadReply(e.to_string()))?;
        self.request.push(b'\n');
        self.exchange().await
    }

    /// Sends bytes as they are (they should end with `\n`) and reads one reply line.
    /// Useful to show what the server does with malformed input.
    ///
    /// # Errors
    ///
    /// As for [`request`](Self::request).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<Reply, ClientError> {
        self.request.clear();
        self.request.extend_from_slice(bytes);
        self.exchange().await
    }

    /// Writes the prepared request bytes and reads one reply line, within the timeout.
    async fn exchange(&mut self) -> Result<Reply, ClientError> {
        let limit = self.timeout.limit();
        let exchange = write_and_read(&mut self.stream, &self.request, &mut self.line);
        self.timeout
            .run(exchange)
            .await
            .map_err(|_| ClientError::Timeout {
                what: "request",
                after: limit,
            })?
    }
}

async fn write_and_read<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    request: &[u8],
    line: &mut String,
) -> Result<Reply, ClientError> {
    stream.get_mut().write_all(request).await?;
    line.clear();
    // One byte past the limit tells a line at the limit from a longer one.
    let limit = MAX_REPLY_BYTES as u64 + 1;
    let n = (&mut *stream).take(limit).read_line(line).await?;
    if n == 0 {
        return Err(ClientError::Closed);
    }
    if !line.ends_with('\n') && n >= MAX_REPLY_BYTES {
        return Err(ClientError::BadReply(format!(
            "a reply line longer than {MAX_REPLY_BYTES} bytes"
        )));
    }
    serde_json::from_str(line)
        .map_err(|e| ClientError::BadReply(format!("{e}: {}", line.trim_end())))
}
