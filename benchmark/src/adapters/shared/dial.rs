//! How every probe opens a connection: TCP with TCP_NODELAY, counted where the bytes
//! leave (below TLS, so TLS records count), then a TLS handshake when the run asks for
//! one; the time of each step goes to the measurement's [`Traffic`], so a new
//! connection's time can be split into its parts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use lab_kit::tls::{ClientStream, ClientTls, MaybeTls};
use tokio::net::TcpStream;

use crate::engine::probe::{CallError, ErrorKind};
use crate::engine::traffic::{Counted, Traffic};
use crate::network::relay::Shared;
use crate::network::shaped::Wire;
use crate::settings::link::Link;

/// A probe's connection: across the link (under `--link`), counted, in cleartext or
/// TLS.
pub(crate) type Conn = ClientStream<Counted<Wire>>;

/// What a measurement's probes open connections with: where they count, and the TLS
/// they speak (with the row's ALPN), if any. Cloned into every probe; the TLS
/// configuration, and so its session cache, is shared by them all.
#[derive(Debug, Clone)]
pub(crate) struct Dial {
    /// Where the connections' bytes and set-up times count.
    pub traffic: Arc<Traffic>,
    /// TLS, under `--tls`.
    pub tls: Option<ClientTls>,
    /// Under `--link`, the link and what the run's connections share across it
    /// (bottlenecks, tally): every connection is shaped in its own stream.
    pub link: Option<(Link, Shared)>,
}

impl Dial {
    /// Connections that count into `traffic`, over `tls` when given.
    pub(crate) fn new(traffic: Arc<Traffic>, tls: Option<ClientTls>) -> Self {
        Dial {
            traffic,
            tls,
            link: None,
        }
    }

    /// The same, every connection across `link` (a TCP connect taking its round trip),
    /// through the run's `shared` bottlenecks and tally.
    pub(crate) fn over_link(self, link: Option<(Link, Shared)>) -> Self {
        Dial { link, ..self }
    }

    /// Cleartext connections counting into a traffic of their own (tests).
    #[cfg(test)]
    pub(crate) fn plain() -> Self {
        Dial::new(Arc::default(), None)
    }
}

/// Opens a connection to `addr` (`host:port`) within `timeout`, as `dial` says: how
/// every probe connects, so connecting costs the same in every row.
///
/// # Errors
///
/// A timeout or connect [`CallError`], a failed handshake said in words.
pub(crate) async fn connect(addr: &str, timeout: Duration, dial: &Dial) -> Result<Conn, CallError> {
    let started = Instant::now();
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| CallError::new(ErrorKind::Timeout, "connecting timed out"))?
        .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let wire = match &dial.link {
        None => Wire::direct(stream),
        Some((link, shared)) => {
            // The TCP handshake's round trip on the link.
            crate::network::pipe::wait_until(started + link.rtt).await;
            Wire::across(stream, *link, shared)
        }
    };
    let connected = Instant::now();
    dial.traffic.connected(connected - started);
    let counted = Counted::new(wire, Arc::clone(&dial.traffic));
    let Some(tls) = &dial.tls else {
        return Ok(MaybeTls::Plain(counted));
    };
    let host = addr.rsplit_once(':').map_or(addr, |(host, _)| host);
    let left = timeout.saturating_sub(connected - started);
    let stream = tokio::time::timeout(left, tls.connect(host, counted))
        .await
        .map_err(|_| CallError::new(ErrorKind::Timeout, "the TLS handshake timed out"))?
        .map_err(|e| {
            let said = lab_kit::tls::explain(&e, addr).unwrap_or_else(|| lab_kit::error_chain(&e));
            CallError::new(ErrorKind::Connect, said)
        })?;
    let stream = MaybeTls::Tls(Box::new(stream));
    dial.traffic
        .handshaken(stream.resumed(), connected.elapsed());
    Ok(stream)
}
