//! A relay in front of one server: clients connect to it as they would to the server;
//! it opens a connection to the server for each and moves the bytes both ways through
//! the emulated link, on a runtime of its own (pinned to the load's CPUs: it stands for
//! the client machine's network stack, and its CPU time is neither row's).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use super::pipe::{self, Bottleneck, Dice, Shape};
use crate::placement::{CpuList, pin_current_thread};
use crate::settings::link::Link;

/// Both directions' bottlenecks, shared by every relay of a run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bottlenecks {
    up: Option<Arc<Bottleneck>>,
    down: Option<Arc<Bottleneck>>,
}

impl Bottlenecks {
    /// One each way at `link`'s rate, if it has one.
    pub(crate) fn of(link: &Link) -> Self {
        Bottlenecks {
            up: link.rate_bps.map(|r| Arc::new(Bottleneck::new(r))),
            down: link.rate_bps.map(|r| Arc::new(Bottleneck::new(r))),
        }
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
    /// (`host:port`) across `link`, through `bottlenecks`, on a thread pinned to the
    /// first of `cpus`.
    ///
    /// # Errors
    ///
    /// When no port can be bound or the runtime cannot be built.
    pub(crate) fn start(
        upstream: String,
        link: Link,
        bottlenecks: Bottlenecks,
        cpus: &CpuList,
    ) -> std::io::Result<Relay> {
        Relay::start_at("127.0.0.1:0", upstream, link, bottlenecks, cpus)
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
        bottlenecks: Bottlenecks,
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
                        () = accept(listener, upstream, link, bottlenecks) => {}
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

async fn accept(listener: TcpListener, upstream: String, link: Link, bottlenecks: Bottlenecks) {
    let mut number = 0u64;
    loop {
        let Ok((client, _)) = listener.accept().await else {
            // Out of descriptors and the like: let the moment pass.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let accepted = Instant::now();
        number += 1;
        let (upstream, bottlenecks) = (upstream.clone(), bottlenecks.clone());
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(&upstream).await else {
                return;
            };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let up = Shape {
                link,
                bottleneck: bottlenecks.up,
                // The TCP handshake's round trip, before the first byte can go.
                not_before: (!link.rtt.is_zero()).then(|| accepted + link.rtt),
                dice: Dice::new(number * 2),
            };
            let down = Shape {
                link,
                bottleneck: bottlenecks.down,
                not_before: None,
                dice: Dice::new(number * 2 + 1),
            };
            let going = tokio::spawn(pipe::run(client_read, server_write, up));
            pipe::run(server_read, client_write, down).await;
            let _ = going.await;
        });
    }
}
