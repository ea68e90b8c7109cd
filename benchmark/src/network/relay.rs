//! A relay in front of one server: clients connect to it as they would to the server;
//! it opens a connection to the server for each and moves the bytes both ways through
//! the emulated link, on a runtime of its own (pinned to the load's CPUs: it stands for
//! the client machine's network stack, and its CPU time is neither row's).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::pipe::{self, Bottleneck, Dice, Shape, Tally};
use super::windows::{Seen, Side, Watch, Windows};
use crate::placement::{CpuList, pin_current_thread};
use crate::settings::link::Link;

/// What every relay of a run shares: both directions' bottlenecks and the run's tally
/// of chunks moved and held.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shared {
    up: Option<Arc<Bottleneck>>,
    down: Option<Arc<Bottleneck>>,
    tally: Arc<Tally>,
    windows: Arc<Seen>,
    /// Bytes moved from the clients to the server, and back.
    bytes: [Arc<AtomicU64>; 2],
}

impl Shared {
    /// A bottleneck each way at `link`'s rate, if it has one, and a tally at zero.
    pub(crate) fn of(link: &Link) -> Self {
        Shared {
            up: link.rate_bps.map(|r| Arc::new(Bottleneck::new(r))),
            down: link.rate_bps.map(|r| Arc::new(Bottleneck::new(r))),
            tally: Arc::default(),
            windows: Arc::default(),
            bytes: Default::default(),
        }
    }

    /// Bytes moved so far: `(to the server, to the clients)`.
    pub(crate) fn bytes(&self) -> (u64, u64) {
        let [up, down] = &self.bytes;
        (up.load(Ordering::Relaxed), down.load(Ordering::Relaxed))
    }

    /// The HTTP/2 windows each side announced on the run's cleartext connections.
    pub(crate) fn windows(&self) -> Vec<(Side, Windows)> {
        self.windows.all()
    }

    /// Counts a connection opened across the link, and numbers it (its dice's seed).
    pub(crate) fn open_connection(&self) -> u64 {
        self.tally.connections.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// How connection `number`'s two directions are shaped: to the server (no byte
    /// before `not_before`, when given) and back, each through the run's bottleneck
    /// that way, both counting in a tally of the connection's own and the run's.
    pub(crate) fn shapes(
        &self,
        link: Link,
        number: u64,
        not_before: Option<Instant>,
    ) -> (Shape, Shape) {
        let tally = Arc::<Tally>::default();
        let up = Shape {
            link,
            bottleneck: self.up.clone(),
            not_before,
            dice: Dice::new(number * 2),
            tallies: [Arc::clone(&tally), Arc::clone(&self.tally)],
            watch: Some((Watch::new(Side::Client), Arc::clone(&self.windows))),
            bytes: Some(Arc::clone(&self.bytes[0])),
        };
        let down = Shape {
            link,
            bottleneck: self.down.clone(),
            not_before: None,
            dice: Dice::new(number * 2 + 1),
            tallies: [tally, Arc::clone(&self.tally)],
            watch: Some((Watch::new(Side::Server), Arc::clone(&self.windows))),
            bytes: Some(Arc::clone(&self.bytes[1])),
        };
        (up, down)
    }

    /// The run's tally so far: chunks moved and held, connections accepted and those
    /// of them that had a chunk held.
    pub(crate) fn tally(&self) -> [u64; 4] {
        let t = &self.tally;
        [&t.chunks, &t.held, &t.connections, &t.connections_held]
            .map(|count| count.load(Ordering::Relaxed))
    }
}

/// A relay running until dropped.
#[derive(Debug)]
pub(crate) struct Relay {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Listens on `127.0.0.1:0` and relays every connection to `upstream`
    /// (`host:port`) across `link`, through the run's `shared` bottlenecks and tally,
    /// on a thread pinned to the
    /// first of `cpus`.
    ///
    /// # Errors
    ///
    /// When no port can be bound or the runtime cannot be built.
    pub(crate) fn start(
        upstream: String,
        link: Link,
        shared: Shared,
        cpus: &CpuList,
    ) -> std::io::Result<Relay> {
        Relay::start_at("127.0.0.1:0", upstream, link, shared, cpus)
    }

    /// As [`Relay::start`], listening on `addr` (`benchmark relay`'s `--addr`).
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound or the runtime cannot be built.
    pub(crate) fn start_at(
        addr: &str,
        upstream: String,
        link: Link,
        shared: Shared,
        cpus: &CpuList,
    ) -> std::io::Result<Relay> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let cpu = cpus.for_thread(0);
        let thread = std::thread::Builder::new()
            .name("link-relay".into())
            .spawn(move || {
                if let Some(cpu) = cpu {
                    pin_current_thread(cpu);
                }
                runtime.block_on(async move {
                    let Ok(listener) = TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = stopped => {}
                        () = accept(listener, upstream, link, shared) => {}
                    }
                });
            })?;
        Ok(Relay {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Where clients connect.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: TcpListener, upstream: String, link: Link, shared: Shared) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors and the like: let the moment pass.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let accepted = Instant::now();
        let number = shared.open_connection();
        let (upstream, shared) = (upstream.clone(), shared.clone());
        tokio::spawn(async move {
            relay_one(client, &upstream, link, &shared, accepted, number).await;
        });
    }
}

/// Moves one client's bytes to a connection of its own to the server and back, each
/// way shaped by the link, until both directions end.
async fn relay_one(
    client: TcpStream,
    upstream: &str,
    link: Link,
    shared: &Shared,
    accepted: Instant,
    number: u64,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    // The TCP handshake's round trip, before the first byte can go.
    let handshake = (!link.rtt.is_zero()).then(|| accepted + link.rtt);
    let (up, down) = shared.shapes(link, number, handshake);
    let going = tokio::spawn(pipe::run(client_read, server_write, up));
    pipe::run(server_read, client_write, down).await;
    let _ = going.await;
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::{BodyExt as _, Empty};
    use hyper::Request;
    use hyper::body::Bytes;
    use hyper::client::conn::{http1, http2};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    use super::*;

    const CLIENTS: usize = 16;
    const REQUESTS: usize = 10;

    /// The REST lab on 127.0.0.1:0 behind a relay across `link`, the relay's shared
    /// tally, and the server's stop (it stops when the sender is dropped).
    fn rest_behind(link: &Link) -> (Relay, Shared, oneshot::Sender<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let upstream = listener.local_addr().unwrap().to_string();
        let listener = TcpListener::from_std(listener).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let mut config = rest_lab::Config::new(user_store::UserStore::new());
        // Every connection comes from the relay's one address.
        config.policy.max_connections_per_address = 4 * CLIENTS;
        tokio::spawn(rest_lab::run(
            listener,
            config,
            Box::pin(async move {
                let _ = stopped.await;
            }),
        ));
        let shared = Shared::of(link);
        let relay = Relay::start(upstream, *link, shared.clone(), &CpuList(Vec::new()));
        (relay.unwrap(), shared, stop)
    }

    fn health(uri: &str) -> Request<Empty<Bytes>> {
        Request::get(uri)
            .header("host", "localhost")
            .body(Empty::new())
            .unwrap()
    }

    /// The slowest of a client's requests: with ten, its p99.
    fn slowest(took: &[Duration]) -> Duration {
        took.iter().copied().max().unwrap_or_default()
    }

    /// One HTTP/1.1 connection doing its requests one after another: each one's
    /// latency.
    async fn http1_client(relay: SocketAddr) -> Vec<Duration> {
        let stream = TcpStream::connect(relay).await.unwrap();
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        let connection = tokio::spawn(connection);
        let mut took = Vec::new();
        for _ in 0..REQUESTS {
            let start = Instant::now();
            let reply = sender.send_request(health("/health")).await.unwrap();
            assert!(reply.status().is_success());
            reply.into_body().collect().await.unwrap();
            took.push(start.elapsed());
        }
        drop(sender);
        let _ = connection.await;
        took
    }

    /// `loss=5%`: on one HTTP/2 connection a held chunk stalls every stream behind it,
    /// so every client's p99 takes a retransmission timeout; with an HTTP/1.1
    /// connection per client only the clients whose own chunks were held pay it. How
    /// many those are, the relay says (connections with a chunk held), not their
    /// latencies: exactly that many clients are slow, and the rest keep their p99.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_held_chunk_stalls_every_http2_stream_but_one_http1_connection() {
        let link = Link::parse("rtt=2ms,loss=5%").unwrap();
        let timeout = link.retransmission_timeout();

        // HTTP/1.1: a connection each.
        let (relay, shared, _stop) = rest_behind(&link);
        let addr = relay.addr();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| tokio::spawn(http1_client(addr)))
            .collect();
        let mut slow = 0;
        for client in clients {
            let took = client.await.unwrap();
            if slowest(&took) >= timeout.mul_f64(0.9) {
                slow += 1;
            } else {
                assert!(
                    slowest(&took) < timeout / 2,
                    "neither slow nor quick: {took:?}"
                );
            }
        }
        // Every request is answered, so every hold is behind us.
        let [_, held, connections, connections_held] = shared.tally();
        assert_eq!(connections, CLIENTS as u64);
        assert!(
            held > 0 && connections_held < connections,
            "{connections_held} held"
        );
        assert_eq!(slow, connections_held, "slow clients: those the relay held");

        // HTTP/2: every client a stream on one connection.
        let (relay, shared, _stop) = rest_behind(&link);
        let addr = relay.addr();
        let stream = TcpStream::connect(addr).await.unwrap();
        let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
        let connection = tokio::spawn(connection);
        let uri = format!("http://{addr}/health");
        let streams: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (mut sender, uri) = (sender.clone(), uri.clone());
                tokio::spawn(async move {
                    let mut took = Vec::new();
                    for _ in 0..REQUESTS {
                        let start = Instant::now();
                        let reply = sender.send_request(health(&uri)).await.unwrap();
                        assert!(reply.status().is_success());
                        reply.into_body().collect().await.unwrap();
                        took.push(start.elapsed());
                    }
                    took
                })
            })
            .collect();
        for stream in streams {
            let took = stream.await.unwrap();
            assert!(
                slowest(&took) >= timeout.mul_f64(0.9),
                "every stream waits for a held chunk: {took:?}"
            );
        }
        drop(sender);
        let _ = connection.await;
        let [_, held, connections, connections_held] = shared.tally();
        assert_eq!((connections, connections_held), (1, 1), "{held} held");
        // Both ends announced their windows, hyper's above HTTP/2's 64 KiB default.
        let windows = shared.windows();
        let sides: Vec<Side> = windows.iter().map(|(side, _)| *side).collect();
        assert_eq!(sides, [Side::Client, Side::Server], "{windows:?}");
        assert!(
            windows.iter().all(|(_, w)| w.stream > 65_535),
            "{windows:?}"
        );
    }
}
