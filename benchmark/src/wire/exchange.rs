//! One recorded exchange per protocol: connect, one request, then a second identical
//! request on the same connection, each through the protocol's real client stack over a
//! [`Recorded`] stream.

use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpStream;

use lab_kit::tls::{ClientStream, MaybeTls};

use super::annotate::{self, Direction, Part};
use super::record::{Recorded, Recording, Tape, bytes, mark};
use super::tls::{Secrets, chosen_suite, unwrap};
use super::{Exchange, Phase};
use crate::adapters::grpc_hyper::H2Connection;
use crate::adapters::shared::echo::TEXT;
use crate::engine::traffic::{Counted, Traffic};
use crate::security::Security;
use std::sync::Arc;

/// The connection as it goes over the network: recorded (the TLS records, under
/// `--tls`) and counted (the same counter the benchmark's bytes column uses, as the
/// check that nothing was missed).
type Network = Recorded<Counted<TcpStream>>;

/// The connection as the protocol sees it: recorded again above TLS, to check the
/// decryption against.
type Wire = Recorded<ClientStream<Network>>;

/// One recorded connection: what went over the network, what the protocol saw, the
/// counter, and the session's secrets under TLS.
struct Session {
    tape: Tape,
    network: Tape,
    traffic: Arc<Traffic>,
    secrets: Option<Arc<Secrets>>,
}

impl Session {
    /// The protocol's bytes to annotate and what TLS added: in cleartext, the
    /// recording itself; under TLS, the network's records decrypted with the session's
    /// secrets, which must give the bytes the protocol saw.
    fn read_back(&self) -> anyhow::Result<(Tape, Vec<Part>)> {
        let Some(secrets) = &self.secrets else {
            return Ok((Arc::clone(&self.tape), Vec::new()));
        };
        let (sent, received) = bytes(&self.network);
        let suite =
            chosen_suite(&received).context("the server's first bytes are no ServerHello")?;
        let out = unwrap(&sent, Direction::Out, suite, secrets)?;
        let back = unwrap(&received, Direction::In, suite, secrets)?;
        let (seen_sent, seen_received) = bytes(&self.tape);
        anyhow::ensure!(
            out.plaintext == seen_sent && back.plaintext == seen_received,
            "the decrypted records differ from what the client sent and read"
        );
        let mut parts = out.parts;
        parts.extend(back.parts);
        let tape = Arc::new(std::sync::Mutex::new(Recording {
            sent: out.plaintext,
            received: back.plaintext,
        }));
        Ok((tape, parts))
    }
}

/// Connects to `addr`, over TLS asking for `alpn` when `security` says so.
async fn open(
    addr: &str,
    timeout: Duration,
    security: &Security,
    alpn: &[&[u8]],
) -> anyhow::Result<(Wire, Session)> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .with_context(|| format!("connecting to {addr} timed out"))?
        .with_context(|| format!("cannot connect to {addr}"))?;
    let _ = stream.set_nodelay(true);
    let (tape, network, traffic) = (
        Tape::default(),
        Tape::default(),
        Arc::new(Traffic::default()),
    );
    let counted = Recorded::new(Counted::new(stream, Arc::clone(&traffic)), network.clone());
    let (stream, secrets) = match security.client(alpn)? {
        None => (MaybeTls::Plain(counted), None),
        Some(tls) => {
            let secrets = Arc::new(Secrets::default());
            let tls = tls.with_key_log(Arc::clone(&secrets) as Arc<dyn rustls::KeyLog>);
            let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
            let stream = tokio::time::timeout(timeout, tls.connect(host, counted))
                .await
                .with_context(|| format!("the TLS handshake with {addr} timed out"))?
                .with_context(|| format!("the TLS handshake with {addr} failed"))?;
            (MaybeTls::Tls(Box::new(stream)), Some(secrets))
        }
    };
    let session = Session {
        tape: tape.clone(),
        network,
        traffic,
        secrets,
    };
    Ok((Recorded::new(stream, tape), session))
}

/// Splits a recording at `marks` (phase ends) and annotates each slice of each
/// direction with `annotate(bytes, direction, phase index)`.
fn phases(
    tape: &Tape,
    marks: &[(usize, usize)],
    mut annotate: impl FnMut(&[u8], Direction, usize) -> Vec<Part>,
) -> Vec<Vec<Part>> {
    let (sent, received) = bytes(tape);
    let mut from = (0, 0);
    let mut out = Vec::new();
    for (i, &to) in marks.iter().enumerate() {
        let mut parts = annotate(&sent[from.0..to.0], Direction::Out, i);
        parts.extend(annotate(&received[from.1..to.1], Direction::In, i));
        out.push(parts);
        from = to;
    }
    out
}

/// The exchange's record; with `setup`, the first phase is what the connection costs
/// once (the HTTP/2 preface and SETTINGS, the WebSocket upgrade), the rest are requests.
fn exchange(
    protocol: &str,
    transport: &str,
    session: &Session,
    tls: Vec<Part>,
    setup: bool,
    mut phased: Vec<Vec<Part>>,
) -> Exchange {
    let (sent, received) = session.traffic.snapshot();
    let (sent, received) = (
        usize::try_from(sent).unwrap_or(usize::MAX),
        usize::try_from(received).unwrap_or(usize::MAX),
    );
    let setup = if setup && !phased.is_empty() {
        phased.remove(0)
    } else {
        Vec::new()
    };
    // HTTP/2's GOAWAY at the end is the connection's too, but a cost of closing it, not
    // of setting it up.
    let (closing, setup): (Vec<Part>, Vec<Part>) = setup
        .into_iter()
        .partition(|part| part.note.starts_with("GOAWAY"));
    let (protocol, transport) = if session.secrets.is_some() {
        (
            protocol.replace("(h2c)", "(h2)"),
            format!(
                "{}, in TLS 1.3 records",
                transport.replace("HTTP/2 cleartext", "HTTP/2")
            ),
        )
    } else {
        (protocol.to_owned(), transport.to_owned())
    };
    Exchange {
        protocol,
        transport,
        tls,
        setup,
        closing,
        requests: phased.into_iter().map(|parts| Phase { parts }).collect(),
        counted_sent: sent,
        counted_received: received,
    }
}

/// The socket lab: the request line, the reply line, twice.
pub(super) async fn socket(
    addr: &str,
    timeout: Duration,
    security: &Security,
) -> anyhow::Result<Exchange> {
    let (stream, session) = open(addr, timeout, security, &[]).await?;
    let mut client = socket_lab::Client::from_stream(stream, timeout);
    let mut marks = Vec::new();
    for _ in 0..2 {
        client.uppercase(TEXT).await?;
        marks.push(mark(&session.tape));
    }
    let (tape, tls) = session.read_back()?;
    let phased = phases(&tape, &marks, |b, d, _| annotate::lines(b, d));
    Ok(exchange(
        "Socket",
        "JSON lines over TCP",
        &session,
        tls,
        false,
        phased,
    ))
}

/// REST over HTTP/1.1: `GET /api/users/{id}` twice on one keep-alive connection.
pub(super) async fn rest_http1(
    addr: &str,
    id: &str,
    timeout: Duration,
    security: &Security,
) -> anyhow::Result<Exchange> {
    let (stream, session) = open(addr, timeout, security, lab_kit::tls::ALPN_HTTP1).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut marks = Vec::new();
    for _ in 0..2 {
        let request = http::Request::get(format!("/api/users/{id}"))
            .header(http::header::HOST, addr)
            .body(Empty::<Bytes>::new())?;
        tokio::time::timeout(timeout, sender.ready()).await??;
        let response = tokio::time::timeout(timeout, sender.send_request(request)).await??;
        response.into_body().collect().await?;
        marks.push(mark(&session.tape));
    }
    let (tape, tls) = session.read_back()?;
    let phased = phases(&tape, &marks, |b, d, _| annotate::http1(b, d));
    Ok(exchange(
        "REST (HTTP/1.1)",
        "HTTP/1.1, JSON",
        &session,
        tls,
        false,
        phased,
    ))
}

/// Closes the connection (the client has been dropped, so HTTP/2 says GOAWAY) and waits
/// until no byte has moved for a moment, so the tape and the counter end at the same
/// byte (at most a second).
async fn settle<T>(connection: tokio::task::JoinHandle<T>, traffic: &Traffic) {
    let quiet = Duration::from_millis(30);
    let mut last = traffic.snapshot();
    for _ in 0..30 {
        tokio::time::sleep(quiet).await;
        let now = traffic.snapshot();
        if now == last {
            break;
        }
        last = now;
    }
    connection.abort();
    let _ = connection.await;
}

/// Groups HTTP/2 parts: stream 0 (the preface, SETTINGS, window updates, pings) is the
/// connection's, shown once; then one phase per request stream, in order.
fn by_stream(parts: Vec<Part>) -> Vec<Vec<Part>> {
    let mut connection = Vec::new();
    let mut streams: Vec<(u32, Vec<Part>)> = Vec::new();
    for part in parts {
        match part.stream.unwrap_or(0) {
            0 => connection.push(part),
            id => match streams.iter_mut().find(|(s, _)| *s == id) {
                Some((_, list)) => list.push(part),
                None => streams.push((id, vec![part])),
            },
        }
    }
    let mut out = vec![connection];
    out.extend(streams.into_iter().map(|(_, parts)| parts));
    out
}

fn http2_phases(tape: &Tape, grpc: bool) -> Vec<Vec<Part>> {
    let (sent, received) = bytes(tape);
    let mut out_decoder = loona_hpack::Decoder::new();
    let mut in_decoder = loona_hpack::Decoder::new();
    let mut parts = annotate::http2::http2(&sent, Direction::Out, &mut out_decoder, grpc);
    parts.extend(annotate::http2::http2(
        &received,
        Direction::In,
        &mut in_decoder,
        grpc,
    ));
    by_stream(parts)
}

/// REST over HTTP/2 with prior knowledge (h2c): `GET /api/users/{id}` twice, two
/// streams of one connection.
pub(super) async fn rest_http2(
    addr: &str,
    id: &str,
    timeout: Duration,
    security: &Security,
) -> anyhow::Result<Exchange> {
    let (stream, session) = open(addr, timeout, security, lab_kit::tls::ALPN_H2).await?;
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    for _ in 0..2 {
        let scheme = if security.tls() { "https" } else { "http" };
        let request = http::Request::get(format!("{scheme}://{addr}/api/users/{id}"))
            .body(Empty::<Bytes>::new())?;
        tokio::time::timeout(timeout, sender.ready()).await??;
        let response = tokio::time::timeout(timeout, sender.send_request(request)).await??;
        response.into_body().collect().await?;
    }
    drop(sender);
    settle(connection, &session.traffic).await;
    let (tape, tls) = session.read_back()?;
    Ok(exchange(
        "REST (h2c)",
        "HTTP/2 cleartext, JSON",
        &session,
        tls,
        true,
        http2_phases(&tape, false),
    ))
}

/// gRPC: `GetUser` twice, two streams of one HTTP/2 connection, through the generated
/// tonic client.
pub(super) async fn grpc(
    addr: &str,
    id: &str,
    timeout: Duration,
    security: &Security,
) -> anyhow::Result<Exchange> {
    use grpc_lab::pb::UserRequest;
    use grpc_lab::pb::user_service_client::UserServiceClient;
    let (stream, session) = open(addr, timeout, security, lab_kit::tls::ALPN_H2).await?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    let connection = tokio::spawn(connection);
    let scheme = if security.tls() { "https" } else { "http" };
    let origin: http::Uri = format!("{scheme}://{addr}").parse()?;
    let mut client = UserServiceClient::with_origin(H2Connection::new(sender), origin);
    for _ in 0..2 {
        let request = UserRequest { id: id.to_owned() };
        tokio::time::timeout(timeout, client.get_user(request)).await??;
    }
    drop(client);
    settle(connection, &session.traffic).await;
    let (tape, tls) = session.read_back()?;
    Ok(exchange(
        "gRPC",
        "HTTP/2, Protocol Buffers",
        &session,
        tls,
        true,
        http2_phases(&tape, true),
    ))
}

/// The WebSocket lab: the upgrade once, then the echo request twice as frames.
pub(super) async fn websocket(
    addr: &str,
    timeout: Duration,
    security: &Security,
) -> anyhow::Result<Exchange> {
    let (stream, session) = open(addr, timeout, security, lab_kit::tls::ALPN_HTTP1).await?;
    let scheme = if security.tls() { "wss" } else { "ws" };
    let url = format!("{scheme}://{addr}{}", ws_lab::client::ECHO_PATH);
    let mut client = ws_lab::WsClient::upgrade(stream, &url, timeout).await?;
    let mut marks = vec![mark(&session.tape)];
    for _ in 0..2 {
        client.uppercase(TEXT).await?;
        marks.push(mark(&session.tape));
    }
    let (tape, tls) = session.read_back()?;
    let phased = phases(&tape, &marks, |b, d, phase| {
        if phase == 0 {
            annotate::http1(b, d)
        } else {
            annotate::websocket(b, d)
        }
    });
    Ok(exchange(
        "WebSocket",
        "upgraded HTTP/1.1, JSON text frames",
        &session,
        tls,
        true,
        phased,
    ))
}
