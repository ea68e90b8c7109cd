//! The raw client (`--client raw`): requests encoded once in advance and replies
//! checked by the least correct means, as wrk and h2load do, so a saturated row
//! measures the server and not the client library. REST over HTTP/1.1 (the status line,
//! `Content-Length` and the body's bytes), REST over h2c and gRPC (a hand-kept HTTP/2
//! session, [`RawH2`]), the WebSocket (a masked text frame, the reply frame's length
//! and bytes). The first reply of each client teaches the bytes every later one must
//! have; the WebSocket's are known before it is sent (the socket lab's reply).
//!
//! Raw rows run the default workload (`get`, the WebSocket's echo) without
//! `--payload`, one connection per client, one request at a time on it.

use lab_kit::ReusableTimeout;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::shared::echo::Echo;
use super::shared::raw_h2::{RawH2, RequestFrames};
use super::shared::users::{self, UserOp};
use super::ws::WS;
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::adapters::shared::dial::{Conn, Dial};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::settings::{ConnectionPolicy, Protocol};

/// Largest reply head (status line and headers) read.
const MAX_HEAD: usize = 16 * 1024;
/// Largest reply body read.
const MAX_BODY: usize = rest_lab::client::MAX_REPLY_BYTES;

/// Which protocol a raw row speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    /// REST over HTTP/1.1.
    Http1,
    /// REST over HTTP/2 with prior knowledge.
    H2c,
    /// gRPC's GetUser.
    Grpc,
    /// The WebSocket lab's echo.
    WebSocket,
}

/// A raw row.
#[derive(Debug)]
pub(crate) struct Raw {
    info: &'static RowInfo,
    wire: Wire,
}

const fn info(
    key: &'static str,
    label: &'static str,
    lab: &'static crate::servers::LabServer,
    protocol: Protocol,
    alpn: &'static [&'static [u8]],
) -> RowInfo {
    RowInfo {
        key,
        label,
        client: "raw",
        kind: ClientKind::Raw,
        lab,
        protocol: Some(protocol),
        bytes_unmeasured: None,
        server_cpu_unmeasured: None,
        alpn,
    }
}

/// REST over HTTP/1.1, raw.
pub(crate) static REST: Raw = Raw {
    info: &info(
        "rest-raw",
        "REST (raw)",
        &users::REST,
        Protocol::Rest,
        lab_kit::tls::ALPN_HTTP1,
    ),
    wire: Wire::Http1,
};

/// REST over h2c, raw.
pub(crate) static REST_H2: Raw = Raw {
    info: &info(
        "rest-h2-raw",
        "REST h2c (raw)",
        &users::REST,
        Protocol::RestH2,
        lab_kit::tls::ALPN_H2,
    ),
    wire: Wire::H2c,
};

/// gRPC, raw.
pub(crate) static GRPC: Raw = Raw {
    info: &info(
        "grpc-raw",
        "gRPC (raw h2)",
        &users::GRPC,
        Protocol::Grpc,
        lab_kit::tls::ALPN_H2,
    ),
    wire: Wire::Grpc,
};

/// The WebSocket lab, raw.
pub(crate) static WEBSOCKET: Raw = Raw {
    info: &info(
        "ws-raw",
        "WebSocket (raw)",
        &WS,
        Protocol::Ws,
        lab_kit::tls::ALPN_HTTP1,
    ),
    wire: Wire::WebSocket,
};

/// What a raw row's set-up decided: the user to read (none for the WebSocket).
#[derive(Debug, Clone)]
pub(crate) struct RawPlan {
    id: Option<String>,
}

impl Adapter for Raw {
    type Plan = RawPlan;
    type Probe = RawProbe;
    type Link = ();

    fn info(&self) -> &'static RowInfo {
        self.info
    }

    async fn set_up(&self, target: &str, setup: &SetUp) -> anyhow::Result<Prepared<RawPlan>> {
        if self.wire == Wire::WebSocket {
            return Ok(Prepared {
                plan: RawPlan { id: None },
                operation: "uppercase echo, raw frames".into(),
                created: Vec::new(),
                server_id: None,
                items: None,
            });
        }
        let prepared = if self.wire == Wire::Grpc {
            users::set_up_grpc(target, setup).await?
        } else {
            users::set_up_rest(target, setup).await?
        };
        let UserOp::Get { id } = prepared.plan else {
            anyhow::bail!("the raw client sends the get workload only");
        };
        Ok(Prepared {
            plan: RawPlan { id: Some(id) },
            operation: format!("{}, raw", prepared.operation),
            created: prepared.created,
            server_id: prepared.server_id,
            items: None,
        })
    }

    fn probe(&self, plan: &RawPlan, context: &ProbeContext, (): &(), _index: usize) -> RawProbe {
        let authority = context.authority.clone();
        let id = plan.id.clone().unwrap_or_default();
        let scheme = if context.dial.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let auth = context
            .token
            .as_ref()
            .map(lab_kit::token::Bearer::header_value);
        // HTTP/1.1's header line, and HTTP/2's header, under --auth.
        let auth_line = auth
            .as_ref()
            .map_or_else(String::new, |value| format!("Authorization: {value}\r\n"));
        let auth_h2: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|value| ("authorization", value))
            .into_iter()
            .collect();
        let request = match self.wire {
            Wire::Http1 => Encoded::Http1(
                format!("GET /api/users/{id} HTTP/1.1\r\nHost: {authority}\r\n{auth_line}\r\n")
                    .into_bytes(),
            ),
            Wire::H2c => Encoded::H2(RequestFrames::new(
                &[
                    &[
                        (":method", "GET"),
                        (":scheme", scheme),
                        (":authority", &authority),
                        (":path", &format!("/api/users/{id}")),
                    ][..],
                    &auth_h2,
                ]
                .concat(),
                None,
            )),
            Wire::Grpc => Encoded::H2(RequestFrames::new(
                &[
                    &[
                        (":method", "POST"),
                        (":scheme", scheme),
                        (":authority", &authority),
                        (":path", "/users.v1.UserService/GetUser"),
                        ("content-type", "application/grpc"),
                        ("te", "trailers"),
                    ][..],
                    &auth_h2,
                ]
                .concat(),
                Some(&grpc_message(&protobuf_string(1, &id))),
            )),
            Wire::WebSocket => {
                let echo = Echo::new(None);
                let text = &echo.line[..echo.line.len() - 1];
                let reply = &echo.reply_line[..echo.reply_line.len() - 1];
                Encoded::WebSocket {
                    upgrade: format!(
                        "GET {} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\n\
                         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                         Sec-WebSocket-Version: 13\r\n\r\n",
                        ws_lab::client::ECHO_PATH
                    )
                    .into_bytes(),
                    frame: masked_text_frame(text),
                    reply: reply.to_vec(),
                }
            }
        };
        let expected = match &request {
            Encoded::WebSocket { reply, .. } => reply.clone(),
            _ => Vec::new(),
        };
        RawProbe {
            addr: authority,
            request,
            expected,
            policy: context.policy,
            dial: context.dial.clone(),
            timeout: ReusableTimeout::new(context.timeout),
            connection: None,
            buffer: Vec::with_capacity(4096),
        }
    }

    async fn clean_up(&self, target: &str, ids: Vec<String>, setup: &SetUp) -> usize {
        if self.wire == Wire::Grpc {
            users::clean_up_grpc(target, ids, setup).await
        } else {
            users::clean_up_rest(target, ids, setup).await
        }
    }
}

/// A request in its wire form, made once.
#[derive(Debug)]
enum Encoded {
    Http1(Vec<u8>),
    H2(RequestFrames),
    WebSocket {
        upgrade: Vec<u8>,
        frame: Vec<u8>,
        reply: Vec<u8>,
    },
}

/// A kept connection.
#[derive(Debug)]
enum Connection {
    Tcp(Conn),
    H2(Box<RawH2>),
}

/// One raw client on its own connection.
#[derive(Debug)]
pub(crate) struct RawProbe {
    addr: String,
    request: Encoded,
    /// The bytes every reply's body must have (learned from the first, where not known).
    expected: Vec<u8>,
    policy: ConnectionPolicy,
    dial: Dial,
    timeout: ReusableTimeout,
    connection: Option<Connection>,
    /// Reply bytes read and not yet used (HTTP/1.1 and WebSocket).
    buffer: Vec<u8>,
}

impl RawProbe {
    async fn open(&mut self) -> Result<Connection, CallError> {
        let limit = self.timeout.limit();
        self.buffer.clear();
        match &self.request {
            Encoded::H2(_) => Ok(Connection::H2(Box::new(
                RawH2::connect(&self.addr, limit, &self.dial).await?,
            ))),
            Encoded::Http1(_) => Ok(Connection::Tcp(
                super::shared::dial::connect(&self.addr, limit, &self.dial).await?,
            )),
            Encoded::WebSocket { upgrade, .. } => {
                let mut stream =
                    super::shared::dial::connect(&self.addr, limit, &self.dial).await?;
                stream.write_all(upgrade).await.map_err(transport)?;
                let head = read_head(&mut stream, &mut self.buffer).await?;
                if !self.buffer[..head].starts_with(b"HTTP/1.1 101 ") {
                    return Err(wrong("the upgrade was not answered with 101"));
                }
                self.buffer.drain(..head);
                Ok(Connection::Tcp(stream))
            }
        }
    }
}

/// One request and its reply on `connection`; `buffer` holds what was read past them.
async fn exchange(
    request: &mut Encoded,
    expected: &mut Vec<u8>,
    buffer: &mut Vec<u8>,
    connection: &mut Connection,
) -> Result<(), CallError> {
    match (request, connection) {
        (Encoded::H2(frames), Connection::H2(session)) => session.exchange(frames, expected).await,
        (Encoded::Http1(request), Connection::Tcp(stream)) => {
            stream.write_all(request).await.map_err(transport)?;
            let head = read_head(stream, buffer).await?;
            if !buffer.starts_with(b"HTTP/1.1 200 ") {
                return Err(wrong("the status is not 200"));
            }
            let length = content_length(&buffer[..head])
                .ok_or_else(|| wrong("a reply without Content-Length"))?;
            if length > MAX_BODY {
                return Err(wrong(format!("a {length}-byte body, past {MAX_BODY}")));
            }
            read_at_least(stream, buffer, head + length).await?;
            let body = &buffer[head..head + length];
            let result = check_body(body, expected);
            buffer.drain(..head + length);
            result
        }
        (Encoded::WebSocket { frame, .. }, Connection::Tcp(stream)) => {
            stream.write_all(frame).await.map_err(transport)?;
            read_at_least(stream, buffer, 2).await?;
            let (opcode, short) = (buffer[0] & 0x0f, usize::from(buffer[1] & 0x7f));
            if buffer[1] & 0x80 != 0 {
                return Err(wrong("a masked frame from the server"));
            }
            let (at, length) = match short {
                126 => {
                    read_at_least(stream, buffer, 4).await?;
                    (4, usize::from(u16::from_be_bytes([buffer[2], buffer[3]])))
                }
                127 => return Err(wrong("a reply frame past 64 KiB")),
                n => (2, n),
            };
            if opcode != 0x1 {
                return Err(wrong(format!("a frame of opcode {opcode}, not text")));
            }
            read_at_least(stream, buffer, at + length).await?;
            let result = check_body(&buffer[at..at + length], expected);
            buffer.drain(..at + length);
            result
        }
        _ => Err(transport("the connection is not the request's kind")),
    }
}

impl Probe for RawProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.open().await?,
        };
        let exchanged = exchange(
            &mut self.request,
            &mut self.expected,
            &mut self.buffer,
            &mut connection,
        );
        let result = match self.timeout.run(exchanged).await {
            Ok(result) => result,
            Err(_) => Err(CallError::new(ErrorKind::Timeout, "no reply in time")),
        };
        if result.is_ok() && self.policy == ConnectionPolicy::Reuse {
            self.connection = Some(connection);
        } else {
            self.buffer.clear();
        }
        result
    }
}

fn transport(e: impl ToString) -> CallError {
    CallError::new(ErrorKind::Transport, e.to_string())
}

fn wrong(message: impl Into<String>) -> CallError {
    CallError::new(ErrorKind::WrongReply, message)
}

/// `body` against `expected`, which the first reply fills in.
fn check_body(body: &[u8], expected: &mut Vec<u8>) -> Result<(), CallError> {
    if expected.is_empty() {
        if body.is_empty() {
            return Err(wrong("an empty first reply"));
        }
        expected.extend_from_slice(body);
        Ok(())
    } else if body == expected.as_slice() {
        Ok(())
    } else {
        Err(wrong(format!(
            "the reply differs from the first ({} bytes, not {})",
            body.len(),
            expected.len()
        )))
    }
}

/// Reads until `buffer` holds a whole reply head; returns its length (blank line
/// included).
async fn read_head(stream: &mut Conn, buffer: &mut Vec<u8>) -> Result<usize, CallError> {
    let mut searched: usize = 0;
    loop {
        if let Some(at) = find(&buffer[searched.saturating_sub(3)..], b"\r\n\r\n") {
            return Ok(searched.saturating_sub(3) + at + 4);
        }
        if buffer.len() > MAX_HEAD {
            return Err(wrong(format!("a reply head past {MAX_HEAD} bytes")));
        }
        searched = buffer.len();
        read_more(stream, buffer).await?;
    }
}

async fn read_at_least(
    stream: &mut Conn,
    buffer: &mut Vec<u8>,
    want: usize,
) -> Result<(), CallError> {
    while buffer.len() < want {
        read_more(stream, buffer).await?;
    }
    Ok(())
}

async fn read_more(stream: &mut Conn, buffer: &mut Vec<u8>) -> Result<(), CallError> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await.map_err(transport)?;
    if n == 0 {
        return Err(transport("the server closed the connection"));
    }
    buffer.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `Content-Length` of a reply head, its name in any case.
fn content_length(head: &[u8]) -> Option<usize> {
    let head = std::str::from_utf8(head).ok()?;
    head.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    })
}

/// A protobuf string field: its key (field number, wire type 2), its length, its bytes.
fn protobuf_string(field: u32, text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 6);
    varint(&mut out, u64::from(field << 3 | 2));
    varint(&mut out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
    out
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A gRPC message: uncompressed, its length, the protobuf.
fn grpc_message(protobuf: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(
        &u32::try_from(protobuf.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(protobuf);
    out
}

/// A client's text frame: final, masked (RFC 6455 requires it; a fixed key does, since
/// nothing here passes through a proxy that the mask protects).
fn masked_text_frame(text: &[u8]) -> Vec<u8> {
    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![0x81];
    match text.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= usize::from(u16::MAX) => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&KEY);
    out.extend(text.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_by_hand() {
        // field 1, wire type 2: key 0x0a, then the length.
        assert_eq!(protobuf_string(1, "ab"), [0x0a, 2, b'a', b'b']);
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        assert_eq!(grpc_message(&[7, 8]), [0, 0, 0, 0, 2, 7, 8]);
        // RFC 6455 5.7's masked "Hello" used key 37 fa 21 3d.
        assert_eq!(
            masked_text_frame(b"Hello"),
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
    }

    #[test]
    fn reply_heads_are_read_by_length() {
        let head =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 17\r\n\r\n";
        assert_eq!(content_length(head), Some(17));
        assert_eq!(content_length(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(find(b"ab\r\n\r\ncd", b"\r\n\r\n"), Some(2));
        let mut expected = Vec::new();
        assert!(check_body(b"{}", &mut expected).is_ok());
        assert!(check_body(b"{}", &mut expected).is_ok());
        assert!(check_body(b"{ }", &mut expected).is_err());
        assert!(check_body(b"", &mut Vec::new()).is_err());
    }

    /// A server on 127.0.0.1:0 that answers each request with the next of `replies`.
    async fn replying(replies: Vec<&'static [u8]>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut chunk = [0u8; 1024];
            for reply in replies {
                if stream.read(&mut chunk).await.unwrap_or(0) == 0 {
                    return;
                }
                let _ = stream.write_all(reply).await;
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_reply_unlike_the_first_is_wrong_and_a_bad_status_too() {
        let addr = replying(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{ }",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}",
        ])
        .await;
        let dial = crate::adapters::shared::dial::Dial::plain();
        let mut connection = Connection::Tcp(
            crate::adapters::shared::dial::connect(&addr, std::time::Duration::from_secs(5), &dial)
                .await
                .unwrap(),
        );
        let mut request = Encoded::Http1(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec());
        let (mut expected, mut buffer) = (Vec::new(), Vec::new());
        let mut call =
            async || exchange(&mut request, &mut expected, &mut buffer, &mut connection).await;
        assert!(call().await.is_ok());
        assert!(call().await.is_ok());
        let differs = call().await.unwrap_err();
        assert_eq!(differs.kind, ErrorKind::WrongReply);
        let not_found = call().await.unwrap_err();
        assert!(
            not_found.message.contains("not 200"),
            "{}",
            not_found.message
        );
    }

    #[tokio::test]
    async fn a_websocket_reply_is_checked_against_the_socket_labs() {
        let echo = Echo::new(None);
        let reply = &echo.reply_line[..echo.reply_line.len() - 1];
        let mut good = vec![0x81, reply.len() as u8];
        good.extend_from_slice(reply);
        let good: &'static [u8] = Box::leak(good.into_boxed_slice());
        let addr = replying(vec![good, b"\x81\x02no", b"\x82\x02no"]).await;
        let dial = crate::adapters::shared::dial::Dial::plain();
        let mut connection = Connection::Tcp(
            crate::adapters::shared::dial::connect(&addr, std::time::Duration::from_secs(5), &dial)
                .await
                .unwrap(),
        );
        let mut request = Encoded::WebSocket {
            upgrade: Vec::new(),
            frame: masked_text_frame(b"x"),
            reply: reply.to_vec(),
        };
        let (mut expected, mut buffer) = (reply.to_vec(), Vec::new());
        let mut call =
            async || exchange(&mut request, &mut expected, &mut buffer, &mut connection).await;
        assert!(call().await.is_ok());
        assert_eq!(call().await.unwrap_err().kind, ErrorKind::WrongReply);
        assert!(call().await.unwrap_err().message.contains("opcode 2"));
    }
}
