//! The floor: the fastest echo this machine can do under the same client model.
//!
//! The server side is the least a TCP echo can do on a tokio runtime like the labs'
//! (read what came, write it back; under `--tls`, the same inside a TLS session, so the
//! floor pays what every row pays for TLS); the client side sends the socket lab's
//! request bytes and reads until the newline. Every protocol does at least this much, on the same
//! CPUs, so no row can beat it, at any concurrency.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use lab_kit::ReusableTimeout;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpListener;

use super::shared::dial::{Conn, Dial};
use super::shared::echo::Echo;
use super::shared::lines::LineStream;
use super::{Adapter, ClientKind, Prepared, ProbeContext, RowInfo, SetUp};
use crate::engine::probe::{CallError, ErrorKind, Probe};
use crate::security::Guard;
use crate::servers::{LabServer, ServeFuture, Shutdown};
use crate::settings::{ConnectionPolicy, Lab};

/// The floor's echo server.
pub(crate) static FLOOR: LabServer = LabServer {
    key: Lab::Floor,
    name: "Floor",
    flag: "--floor-url",
    scheme: None,
    tls_scheme: None,
    alpn: &[],
    start_command: "cargo run --release -p benchmark -- serve floor --addr HOST:PORT",
    serve,
};

/// How long a client may take over its TLS handshake before the floor's echo closes it.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

fn serve(listener: TcpListener, guard: Guard, shutdown: Shutdown) -> ServeFuture {
    Box::pin(async move {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else {
                // Out of descriptors and the like: let the moment pass.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let tls = guard.tls.clone();
            tokio::spawn(async move {
                if let Ok(stream) =
                    lab_kit::tls::accept(tls.as_ref(), stream, HANDSHAKE_LIMIT).await
                {
                    echo(stream).await;
                }
            });
        }
    })
}

/// How long, in microseconds, the floor's echo keeps looking for the next request
/// before it sleeps: 200 unless `benchmark serve floor --spin-us` says otherwise (0
/// under `benchmark cost`, where looking costs instructions that depend on timing).
static SPIN_US: AtomicU64 = AtomicU64::new(200);

/// Sets how long the floor's echo in this process looks for the next request before
/// it sleeps.
pub(crate) fn set_spin(spin: Duration) {
    SPIN_US.store(
        u64::try_from(spin.as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

/// Writes back whatever arrives, until the client leaves.
///
/// After each reply it looks for the next request without sleeping for a moment
/// (yielding to other connections between looks), so a request that follows at once
/// finds the server awake: no protocol server does less, so none can be faster.
async fn echo<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let mut buffer = [0u8; 4096];
    loop {
        let mut read = None;
        let spin = Duration::from_micros(SPIN_US.load(Ordering::Relaxed));
        let spinning = std::time::Instant::now();
        while !spin.is_zero() && spinning.elapsed() < spin {
            // One look, without waiting: a read that is not ready now is looked at
            // again after the other connections had their turn.
            let looked = {
                let mut look = ReadBuf::new(&mut buffer);
                let mut context = Context::from_waker(Waker::noop());
                match Pin::new(&mut stream).poll_read(&mut context, &mut look) {
                    Poll::Pending => None,
                    Poll::Ready(done) => Some(done.map(|()| look.filled().len())),
                }
            };
            match looked {
                None => tokio::task::yield_now().await,
                Some(done) => {
                    read = Some(done);
                    break;
                }
            }
        }
        let read = match read {
            Some(read) => read,
            None => stream.read(&mut buffer).await,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The floor row.
#[derive(Debug)]
pub(crate) struct FloorEcho;

static INFO: RowInfo = RowInfo {
    key: "floor",
    label: "Floor",
    client: "tokio",
    kind: ClientKind::Both,
    lab: &FLOOR,
    protocol: None,
    bytes_unmeasured: None,
    server_cpu_unmeasured: Some(
        "its server looks for the next request without sleeping for a moment, so its CPU \
         time is mostly waiting",
    ),
    alpn: &[],
};

impl Adapter for FloorEcho {
    /// The request, and the stream workload's lines.
    type Plan = (Echo, Option<LineStream>);
    type Probe = FloorProbe;
    /// The floor keeps one connection per client: what a round trip costs without a
    /// queue or a multiplexer.
    type Link = ();

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
            true,
            "raw TCP echo",
            "pipelined raw TCP echoes",
        ))
    }

    fn probe(
        &self,
        (echo, lines): &(Echo, Option<LineStream>),
        context: &ProbeContext,
        _link: &(),
        _index: usize,
    ) -> FloorProbe {
        FloorProbe {
            request: Arc::clone(&echo.line),
            lines: lines.clone(),
            first_item: None,
            addr: context.target.clone(),
            policy: context.policy,
            dial: context.dial.clone(),
            timeout: ReusableTimeout::new(context.timeout),
            connection: None,
            reply: Vec::with_capacity(echo.line.len()),
        }
    }
}

/// One floor client.
#[derive(Debug)]
pub(crate) struct FloorProbe {
    /// The request line, echoed back.
    request: Arc<[u8]>,
    /// The stream workload's lines.
    lines: Option<LineStream>,
    first_item: Option<Duration>,
    addr: String,
    policy: ConnectionPolicy,
    dial: Dial,
    timeout: ReusableTimeout,
    connection: Option<Conn>,
    reply: Vec<u8>,
}

impl FloorProbe {
    async fn exchange(
        stream: &mut Conn,
        request: &[u8],
        reply: &mut Vec<u8>,
    ) -> Result<(), CallError> {
        let failed = |e: std::io::Error| CallError::new(ErrorKind::Transport, e.to_string());
        stream.write_all(request).await.map_err(failed)?;
        reply.clear();
        let mut chunk = [0u8; 4096];
        while !reply.ends_with(b"\n") {
            let n = stream.read(&mut chunk).await.map_err(failed)?;
            if n == 0 {
                return Err(CallError::new(ErrorKind::Transport, "echo server closed"));
            }
            reply.extend_from_slice(&chunk[..n]);
            if reply.len() > request.len() {
                break;
            }
        }
        if reply == request {
            Ok(())
        } else {
            Err(CallError::new(ErrorKind::WrongReply, "echo differs"))
        }
    }
}

impl Probe for FloorProbe {
    async fn call(&mut self) -> Result<(), CallError> {
        if let Some(lines) = &self.lines {
            let limit = self.timeout.limit();
            let kept = self.connection.take();
            let (first, stream) =
                super::shared::lines::over_tcp(lines, kept, &self.addr, limit, &self.dial).await?;
            self.first_item = first;
            if self.policy == ConnectionPolicy::Reuse {
                self.connection = Some(stream);
            }
            return Ok(());
        }
        let mut stream = match self.connection.take() {
            Some(stream) => stream,
            None => {
                super::shared::dial::connect(&self.addr, self.timeout.limit(), &self.dial).await?
            }
        };
        let exchange = FloorProbe::exchange(&mut stream, &self.request, &mut self.reply);
        let result = match self.timeout.run(exchange).await {
            Ok(result) => result,
            Err(_) => Err(CallError::new(ErrorKind::Timeout, "no echo in time")),
        };
        if result.is_ok() && self.policy == ConnectionPolicy::Reuse {
            self.connection = Some(stream);
        }
        result
    }

    fn first_item(&self) -> Option<Duration> {
        self.first_item
    }
}
