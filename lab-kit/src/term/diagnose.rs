//! When a client fails, say why in one line with the next step: nothing listens there
//! (and how to start the right server), or something else does (the REST server where
//! the gRPC one was expected, and so on).
//!
//! [`probe`] asks the address once, the way no lab server could mistake: it sends an
//! HTTP/1.1 request and reads the first bytes of the answer. An HTTP/1.1 server
//! answers `HTTP/1.1 ...`, and a lab's names itself in its `server` header
//! (`rest-lab/0.1.0 (release)`, `ws-lab/...`), which tells the REST and WebSocket labs
//! apart although both answer `/health`; an HTTP/2-only server (the gRPC lab) opens
//! with a SETTINGS frame whatever it is sent; the socket lab answers a JSON error line.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The labs a client can expect at an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lab {
    /// The socket lab's JSON-lines server.
    Socket,
    /// The REST lab's HTTP server (HTTP/1.1 and h2c).
    Rest,
    /// The gRPC lab's server (HTTP/2 only).
    Grpc,
    /// Another `grpc-peer` (HTTP/2 only).
    GrpcPeer,
    /// The WebSocket lab's server (HTTP/1.1, upgraded).
    Ws,
}

impl Lab {
    fn what(self) -> &'static str {
        match self {
            Lab::Socket => "the socket server",
            Lab::Rest => "the REST server",
            Lab::Grpc => "the gRPC server",
            Lab::GrpcPeer => "the other grpc-peer",
            Lab::Ws => "the WebSocket server",
        }
    }

    /// The port its server listens on unless told otherwise.
    fn default_port(self) -> Option<u16> {
        match self {
            Lab::Socket => Some(8080),
            Lab::Rest => Some(5000),
            Lab::Grpc => Some(50051),
            Lab::Ws => Some(8765),
            Lab::GrpcPeer => None,
        }
    }

    /// How to start this lab's server where `addr` points: the command, and the port
    /// when it is not the server's default.
    fn how_to_start(self, addr: &str) -> String {
        let command = match self {
            Lab::Socket => "cargo run -p socket-lab --bin socket-server",
            Lab::Rest => "cargo run -p rest-lab --bin rest-server",
            Lab::Grpc => "cargo run -p grpc-lab --bin grpc-server",
            Lab::GrpcPeer => "cargo run -p grpc-lab --bin grpc-peer",
            Lab::Ws => "cargo run -p ws-lab --bin ws-server",
        };
        let port = addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<u16>().ok());
        match port {
            Some(port) if Some(port) != self.default_port() && self != Lab::GrpcPeer => {
                format!("start it with `{command} -- --addr {port}`")
            }
            _ => format!("start it with `{command}`"),
        }
    }

    /// How a URL for it starts: with TLS, and without.
    fn schemes(self) -> (&'static str, &'static str) {
        match self {
            Lab::Socket => ("tls://", "tcp://"),
            Lab::Rest | Lab::Grpc | Lab::GrpcPeer => ("https://", "http://"),
            Lab::Ws => ("wss://", "ws://"),
        }
    }

    /// The name its server gives in its `server` header, where it has one.
    fn server_name(self) -> Option<&'static str> {
        match self {
            Lab::Rest => Some("rest-lab/"),
            Lab::Ws => Some("ws-lab/"),
            _ => None,
        }
    }

    /// Whether what answered is this lab (an HTTP/1.1 server that names another lab in
    /// its `server` header is not).
    pub fn speaks(self, found: &Found) -> bool {
        match (self, found) {
            (Lab::Socket, Found::JsonLines) | (Lab::Grpc | Lab::GrpcPeer, Found::Http2Only) => true,
            (Lab::Rest | Lab::Ws, Found::Http1 { server }) => match server {
                Some(server) if server.contains("-lab/") => self
                    .server_name()
                    .is_some_and(|name| server.starts_with(name)),
                _ => true,
            },
            _ => false,
        }
    }
}

/// What answered at an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The name does not resolve.
    NoSuchHost,
    /// Nothing listens (connection refused).
    Nothing,
    /// No answer in time (a firewall, a host that is down, or a server that waits).
    NoAnswer,
    /// A JSON-lines server (the socket lab's).
    JsonLines,
    /// An HTTP/1.1 server (the REST or WebSocket lab's, or any web server), with its
    /// `server` header when it sent one.
    Http1 {
        /// The `server` header: `rest-lab/0.1.0 (release)`.
        server: Option<String>,
    },
    /// An HTTP/2-only server (the gRPC lab's).
    Http2Only,
    /// A TLS server (it answered a cleartext request with a TLS alert).
    Tls,
    /// Something else; its first bytes, printable.
    Other(String),
}

impl Found {
    fn describe(&self) -> String {
        match self {
            Found::NoSuchHost => "the host name does not resolve".into(),
            Found::Nothing => "nothing listens there".into(),
            Found::NoAnswer => "no answer (a server that waits, or a host that is down)".into(),
            Found::JsonLines => "a JSON-lines server answers (the socket server?)".into(),
            Found::Http1 {
                server: Some(server),
            } if server.starts_with("rest-lab/") => {
                format!("the REST server answers ({server})")
            }
            Found::Http1 {
                server: Some(server),
            } if server.starts_with("ws-lab/") => {
                format!("the WebSocket server answers ({server})")
            }
            Found::Http1 {
                server: Some(server),
            } => {
                format!("an HTTP/1.1 server answers ({server})")
            }
            Found::Http1 { server: None } => {
                "an HTTP/1.1 server answers (the REST or WebSocket server?)".into()
            }
            Found::Http2Only => "an HTTP/2-only server answers (the gRPC server?)".into(),
            Found::Tls => "a TLS server answers".into(),
            Found::Other(start) => format!("something else answers: {start:?}"),
        }
    }
}

/// Asks `addr` (`host:port`) what it is, within `timeout`.
pub async fn probe(addr: &str, timeout: Duration) -> Found {
    let Ok(Ok(mut addrs)) = tokio::time::timeout(timeout, tokio::net::lookup_host(addr)).await
    else {
        return Found::NoSuchHost;
    };
    let Some(target) = addrs.next() else {
        return Found::NoSuchHost;
    };
    let mut stream = match tokio::time::timeout(timeout, TcpStream::connect(target)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Found::Nothing,
        _ => return Found::NoAnswer,
    };
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    // The head of the answer, up to 4 KiB: enough for an HTTP status line and headers.
    let mut first = vec![0u8; 4096];
    let read = async {
        stream.write_all(request.as_bytes()).await?;
        let mut n = 0;
        while n < first.len() {
            let read = stream.read(&mut first[n..]).await?;
            if read == 0 {
                break;
            }
            n += read;
            // Not HTTP/1.x (a JSON line, HTTP/2 frames): the first bytes tell.
            if !first[..n].starts_with(b"HTTP/1.") && n >= 9
                || first[..n].windows(4).any(|w| w == b"\r\n\r\n")
            {
                break;
            }
        }
        Ok::<usize, std::io::Error>(n)
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(Ok(n)) if n > 0 => classify(&first[..n]),
        Ok(_) => Found::Other("(closed without a word)".into()),
        Err(_) => Found::NoAnswer,
    }
}

fn classify(start: &[u8]) -> Found {
    // An HTTP/2 frame header: 3 bytes of length, then the type, SETTINGS (4) or GOAWAY (7).
    const SETTINGS: u8 = 0x4;
    const GOAWAY: u8 = 0x7;
    // TLS record content types.
    const ALERT: u8 = 0x15;
    const HANDSHAKE: u8 = 0x16;
    if start.starts_with(b"HTTP/1.") {
        let head = String::from_utf8_lossy(start);
        let server = head
            .split("\r\n")
            .skip(1)
            .take_while(|line| !line.is_empty())
            .filter_map(|line| line.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("server"))
            .map(|(_, value)| value.trim().to_owned());
        Found::Http1 { server }
    } else if start.len() >= 2 && matches!(start[0], ALERT | HANDSHAKE) && start[1] == 3 {
        // A TLS record (version 3.x) where a cleartext answer was due.
        Found::Tls
    } else if start.first() == Some(&b'{') {
        Found::JsonLines
    } else if start.len() >= 9 && matches!(start[3], SETTINGS | GOAWAY) {
        Found::Http2Only
    } else {
        Found::Other(String::from_utf8_lossy(&start[..start.len().min(24)]).into_owned())
    }
}

/// After a failure talking to `addr`: one line saying why and what to do, when the
/// reason is that the expected lab is not what answers there. `None` when it is (the
/// failure is then the client's original error, worth showing as it is).
pub async fn explain_failure(expected: Lab, addr: &str, timeout: Duration) -> Option<String> {
    explain_failure_over(expected, addr, timeout, false).await
}

/// [`explain_failure`] for a client that spoke TLS (`tls`) or cleartext: a TLS server
/// met in cleartext, or a cleartext one met with TLS, is said so with the URL to use.
pub async fn explain_failure_over(
    expected: Lab,
    addr: &str,
    timeout: Duration,
    tls: bool,
) -> Option<String> {
    let found = probe(addr, timeout.min(Duration::from_secs(2))).await;
    let (secure, plain) = expected.schemes();
    match (&found, tls) {
        (Found::Tls, true) => return None,
        (Found::Tls, false) => {
            return Some(format!(
                "{addr} speaks TLS: connect to {secure}{addr} (with --ca FILE when its CA is a \
                 private one)"
            ));
        }
        (found, true) if expected.speaks(found) => {
            return Some(format!(
                "{addr} answers in cleartext, not TLS ({}): connect to {plain}{addr}",
                found.describe()
            ));
        }
        _ => {}
    }
    if expected.speaks(&found) {
        return None;
    }
    let what = expected.what();
    Some(match found {
        Found::NoSuchHost => format!("cannot resolve {addr}: check the host name"),
        Found::Nothing => {
            format!("nothing listens on {addr}: {}", expected.how_to_start(addr))
        }
        other => format!("{addr} is not {what}: {}", other.describe()),
    })
}

/// `result`, or when it failed because `expected` is not what answers at `addr`, that
/// reason in its place (one line with the next step). Ctrl-C passes through untouched.
///
/// # Errors
///
/// The original error or the explanation.
pub async fn explained<T>(
    result: anyhow::Result<T>,
    expected: Lab,
    addr: &str,
    timeout: Duration,
) -> anyhow::Result<T> {
    explained_over(result, expected, addr, timeout, false).await
}

/// [`explained`] for a client that spoke TLS (`tls`) or cleartext: a failed handshake
/// (an untrusted certificate, a name it is not for, a client certificate asked for) is
/// said in words with the next step.
///
/// # Errors
///
/// The original error or the explanation.
pub async fn explained_over<T>(
    result: anyhow::Result<T>,
    expected: Lab,
    addr: &str,
    timeout: Duration,
    tls: bool,
) -> anyhow::Result<T> {
    match result {
        Err(e) if !super::is_interrupted(&e) => {
            if let Some(line) = explain_failure_over(expected, addr, timeout, tls).await {
                return Err(anyhow::anyhow!(line));
            }
            let handshake = e.chain().find_map(|cause| crate::tls::explain(cause, addr));
            match handshake {
                Some(line) => Err(anyhow::anyhow!(line)),
                None => Err(e),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn first_bytes_tell_the_kind_of_server() {
        assert_eq!(
            classify(b"HTTP/1.1 200 OK\r\n"),
            Found::Http1 { server: None }
        );
        assert_eq!(
            classify(b"HTTP/1.1 200 OK\r\ncontent-type: x\r\nServer: ws-lab/0.1.0 (debug)\r\n\r\n"),
            Found::Http1 {
                server: Some("ws-lab/0.1.0 (debug)".into())
            }
        );
        assert_eq!(classify(br#"{"status":"error"}"#), Found::JsonLines);
        let settings = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 100];
        assert_eq!(classify(&settings), Found::Http2Only);
        assert!(matches!(classify(b"SSH-2.0-OpenSSH"), Found::Other(_)));
    }

    #[tokio::test]
    async fn a_closed_port_is_nothing_and_says_how_to_start_the_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        drop(listener);
        assert_eq!(probe(&addr, Duration::from_secs(1)).await, Found::Nothing);
        let line = explain_failure(Lab::Rest, &addr, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(line.contains("nothing listens on"), "{line}");
        // The port asked for, which is not the server's default, is in the hint.
        let port = addr.rsplit_once(':').unwrap().1;
        assert!(
            line.ends_with(&format!("--bin rest-server -- --addr {port}`")),
            "{line}"
        );
        assert_eq!(
            Lab::Socket.how_to_start("127.0.0.1:8080"),
            "start it with `cargo run -p socket-lab --bin socket-server`"
        );
        assert_eq!(
            Lab::Socket.how_to_start("localhost:5000"),
            "start it with `cargo run -p socket-lab --bin socket-server -- --addr 5000`"
        );
    }

    #[tokio::test]
    async fn the_wrong_kind_of_server_is_named() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 256];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\n\r\n").await;
        });
        let line = explain_failure(Lab::Grpc, &addr, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(line.contains("is not the gRPC server"), "{line}");
        assert!(line.contains("HTTP/1.1"), "{line}");
    }

    #[tokio::test]
    async fn the_rest_and_websocket_labs_are_told_apart_by_their_server_header() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0u8; 256];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nserver: ws-lab/0.1.0 (release)\r\n\r\n{}",
                    )
                    .await;
            }
        });
        let line = explain_failure(Lab::Rest, &addr, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(line.contains("is not the REST server"), "{line}");
        assert!(
            line.contains("the WebSocket server answers (ws-lab/0.1.0"),
            "{line}"
        );
        assert!(
            explain_failure(Lab::Ws, &addr, Duration::from_secs(1))
                .await
                .is_none()
        );
        let line = explain_failure(Lab::Socket, &addr, Duration::from_secs(1))
            .await
            .unwrap();
        assert!(line.contains("the WebSocket server answers"), "{line}");
    }
}
