//! `benchmark wire`: one annotated exchange per protocol. Each lab's real client sends
//! one request, then a second identical one on the same connection, over a stream that
//! records every byte; the bytes are then read back layer by layer ([`annotate`]):
//! what is framing, what is headers, what is payload, and what the connection costs
//! once. The second request shows what stays the same and what shrinks (HPACK's
//! dynamic table).

pub mod annotate;
mod exchange;
pub(crate) mod record;
mod tls;

use std::fmt::Write as _;

use anyhow::Context as _;
use serde::Serialize;

use crate::adapters;
use crate::adapters::shared::users;

use crate::adapters::Access;
use crate::placement::CpuList;
use crate::security::Security;
use crate::servers::{EmbeddedServer, authority};
use crate::settings::{Protocol, Settings};
use annotate::{Direction, Layer, Part};

/// What one protocol's exchange sent and received.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// `gRPC`, `REST (h2c)`...
    pub protocol: String,
    /// What carries it.
    pub transport: String,
    /// What TLS added, under `--tls`: the handshake's records and messages, each
    /// record's header, tag and inner type, the alerts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tls: Vec<Part>,
    /// What the connection costs once: the HTTP/2 preface and SETTINGS, the WebSocket
    /// upgrade (empty for the socket lab and HTTP/1.1).
    pub setup: Vec<Part>,
    /// What closing the connection sends (HTTP/2's GOAWAY), apart from its set-up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closing: Vec<Part>,
    /// The two requests, in order.
    pub requests: Vec<Phase>,
    /// Bytes the connection counted going out (the benchmark's own byte counter,
    /// apart from the recording).
    pub counted_sent: usize,
    /// Bytes the connection counted coming in.
    pub counted_received: usize,
}

/// One request and its reply.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Every annotated run of bytes, out then in.
    pub parts: Vec<Part>,
}

/// Bytes by direction and layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Framing bytes.
    pub framing: usize,
    /// Header bytes.
    pub headers: usize,
    /// Payload bytes.
    pub payload: usize,
}

impl Tally {
    /// The bytes of `parts` going `direction`, by layer.
    pub fn of(parts: &[Part], direction: Direction) -> Tally {
        let mut tally = Tally::default();
        for part in parts.iter().filter(|p| p.direction == direction) {
            match part.layer {
                Layer::Framing => tally.framing += part.bytes,
                Layer::Headers => tally.headers += part.bytes,
                Layer::Payload => tally.payload += part.bytes,
            }
        }
        tally
    }

    /// All of them.
    pub fn total(self) -> usize {
        self.framing + self.headers + self.payload
    }
}

impl Exchange {
    /// Every part, set-up and requests.
    pub fn all_parts(&self) -> impl Iterator<Item = &Part> {
        self.tls
            .iter()
            .chain(&self.setup)
            .chain(self.requests.iter().flat_map(|r| r.parts.iter()))
            .chain(&self.closing)
    }

    /// Annotated bytes going `direction`, which equal what the connection counted.
    pub fn annotated(&self, direction: Direction) -> usize {
        self.all_parts()
            .filter(|p| p.direction == direction)
            .map(|p| p.bytes)
            .sum()
    }
}

/// Every exchange of a `benchmark wire` run.
#[derive(Debug, Clone, Serialize)]
pub struct WireReport {
    /// One per protocol measured.
    pub exchanges: Vec<Exchange>,
}

/// Records one exchange per protocol `settings` asks for, against the servers it
/// names or against embedded ones.
///
/// # Errors
///
/// When a server cannot be reached or started, or a request fails.
pub async fn run(settings: &Settings) -> anyhow::Result<WireReport> {
    let timeout = settings.timeout;
    let security = Security::new(settings.tls, true, false)?;
    let mut servers = Vec::new();
    let mut exchanges = Vec::new();
    for &protocol in &settings.protocols {
        // REST over h2c is the REST lab's server, spoken to in HTTP/2: shown with REST
        // when both are asked for.
        if protocol == Protocol::RestH2 && settings.wants(Protocol::Rest) {
            continue;
        }
        let lab = adapters::LABS
            .iter()
            .find(|lab| lab.key == protocol.lab())
            .copied()
            .with_context(|| format!("no lab server for {}", protocol.key()))?;
        let addr = match settings.address_of(lab.key) {
            Some(_) if security.tls() => anyhow::bail!(
                "benchmark wire --tls records embedded servers (the run makes their \
                 certificate); leave out {}",
                lab.flag
            ),
            Some(given) => authority(lab, given)?,
            None => {
                // Unpinned, one worker: this is a recording, not a measurement.
                let server =
                    EmbeddedServer::start(lab, &CpuList(Vec::new()), security.guard(lab.alpn)?)
                        .with_context(|| format!("cannot start an embedded {} server", lab.name))?;
                let addr = server.addr().to_string();
                servers.push(server);
                addr
            }
        };
        let access = Access {
            tls: security.client(&[])?,
            token: None,
        };
        let s = &security;
        match protocol {
            Protocol::Socket => exchanges.push(exchange::socket(&addr, timeout, s).await?),
            Protocol::Rest => {
                let id = users::first_rest_user(&addr, timeout, &access).await?;
                exchanges.push(exchange::rest_http1(&addr, &id, timeout, s).await?);
                exchanges.push(exchange::rest_http2(&addr, &id, timeout, s).await?);
            }
            Protocol::RestH2 => {
                let id = users::first_rest_user(&addr, timeout, &access).await?;
                exchanges.push(exchange::rest_http2(&addr, &id, timeout, s).await?);
            }
            Protocol::Grpc => {
                let id = users::first_grpc_user(&addr, timeout, &access).await?;
                exchanges.push(exchange::grpc(&addr, &id, timeout, s).await?);
            }
            Protocol::Ws => exchanges.push(exchange::websocket(&addr, timeout, s).await?),
        }
    }
    drop(servers);
    Ok(WireReport { exchanges })
}

impl WireReport {
    /// Every exchange annotated, then the summary table.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for exchange in &self.exchanges {
            let _ = writeln!(out, "== {}: {} ==", exchange.protocol, exchange.transport);
            if !exchange.tls.is_empty() {
                let _ = writeln!(
                    out,
                    "\nTLS, below the protocol (records decrypted with the session's secrets):"
                );
                write_parts(&mut out, &exchange.tls);
            }
            if !exchange.setup.is_empty() {
                let _ = writeln!(out, "\nconnection, once:");
                write_parts(&mut out, &exchange.setup);
            }
            for (i, request) in exchange.requests.iter().enumerate() {
                let title = if i == 0 {
                    "request 1:".to_owned()
                } else {
                    format!("request {} (same connection):", i + 1)
                };
                let _ = writeln!(out, "\n{title}");
                write_parts(&mut out, &request.parts);
            }
            if !exchange.closing.is_empty() {
                let _ = writeln!(out, "\nconnection, closing:");
                write_parts(&mut out, &exchange.closing);
            }
            let _ = writeln!(
                out,
                "\n{} bytes out and {} in, every one annotated above.\n",
                exchange.counted_sent, exchange.counted_received
            );
        }
        out.push_str(&self.summary());
        out
    }

    /// Bytes per request each way and by layer, for every protocol.
    pub fn summary(&self) -> String {
        let tls = self.exchanges.iter().any(|e| !e.tls.is_empty());
        let mut out = String::from(
            "| protocol | connection once, out/in | request 1 out: framing + headers + payload | request 1 in | request 2 out | request 2 in |",
        );
        out.push_str(if tls {
            " TLS in all, out/in |\n|---|---:|---:|---:|---:|---:|---:|\n"
        } else {
            "\n|---|---:|---:|---:|---:|---:|\n"
        });
        let cell = |t: Tally| {
            format!(
                "{} = {} + {} + {}",
                t.total(),
                t.framing,
                t.headers,
                t.payload
            )
        };
        for exchange in &self.exchanges {
            let setup = (
                Tally::of(&exchange.setup, Direction::Out),
                Tally::of(&exchange.setup, Direction::In),
            );
            let mut row = format!(
                "| {} | {}/{} |",
                exchange.protocol,
                setup.0.total(),
                setup.1.total()
            );
            for request in &exchange.requests {
                for direction in [Direction::Out, Direction::In] {
                    let _ = write!(row, " {} |", cell(Tally::of(&request.parts, direction)));
                }
            }
            if tls {
                let _ = write!(
                    row,
                    " {}/{} |",
                    Tally::of(&exchange.tls, Direction::Out).total(),
                    Tally::of(&exchange.tls, Direction::In).total()
                );
            }
            out.push_str(&row);
            out.push('\n');
        }
        out
    }
}

fn write_parts(out: &mut String, parts: &[Part]) {
    for part in parts {
        let layer = match part.layer {
            Layer::Framing => "framing",
            Layer::Headers => "headers",
            Layer::Payload => "payload",
        };
        let mut lines = part.note.lines();
        let first = lines.next().unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {:>5} B {layer:<7}  {first}",
            part.direction.arrow(),
            part.bytes
        );
        for line in lines {
            let _ = writeln!(out, "                          {line}");
        }
    }
}
