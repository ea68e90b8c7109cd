//! The raw-TCP floor: what one request costs with no protocol stack at all.
//!
//! The same request bytes the socket lab gets are echoed back by trivial threads over
//! blocking std sockets, and timed by the same loop as every protocol. A protocol's
//! `x floor` (its p50 over the floor's p50) is then the cost of its stack above the
//! bare network and scheduler.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::probes::SOCKET_REQUEST;
use crate::runner::{CallError, ErrorKind, Probe};
use crate::settings::ConnectionPolicy;

/// Threads that echo every line they receive. Each worker accepts a connection itself
/// and serves it to the end, so a new connection costs an accept and nothing else (no
/// thread started per connection, no hand-off between threads).
#[derive(Debug)]
pub struct EchoServer {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl EchoServer {
    /// Starts the echo server on `127.0.0.1:0` with `workers` threads: one per client
    /// that keeps its connection open.
    ///
    /// # Errors
    ///
    /// When no port can be bound or a thread cannot be started.
    pub fn start(workers: usize) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for _ in 0..workers.max(1) {
            let listener = listener.try_clone()?;
            let flag = Arc::clone(&stopping);
            threads.push(
                std::thread::Builder::new()
                    .name("floor-echo".into())
                    .spawn(move || {
                        while let Ok((stream, _)) = listener.accept() {
                            if flag.load(Ordering::Relaxed) {
                                break;
                            }
                            echo(stream);
                        }
                    })?,
            );
        }
        Ok(EchoServer {
            addr,
            stopping,
            workers: threads,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wake every worker blocked in accept, so each sees the flag; a worker still
        // serving a connection ends when its client goes away.
        for _ in &self.workers {
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// Echoes lines until the client leaves.
fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if writer.write_all(&line).is_err() {
                    return;
                }
            }
        }
    }
}

/// One floor request: the socket lab's request bytes, echoed, over a blocking socket.
#[derive(Debug)]
pub struct FloorProbe {
    addr: SocketAddr,
    timeout: Duration,
    policy: ConnectionPolicy,
    connection: Option<BufReader<TcpStream>>,
    reply: Vec<u8>,
}

impl FloorProbe {
    /// A probe for the echo server at `addr`.
    pub fn new(addr: SocketAddr, timeout: Duration, policy: ConnectionPolicy) -> Self {
        FloorProbe {
            addr,
            timeout,
            policy,
            connection: None,
            reply: Vec::with_capacity(128),
        }
    }

    fn connect(&self) -> Result<BufReader<TcpStream>, CallError> {
        let stream = TcpStream::connect_timeout(&self.addr, self.timeout)
            .map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?;
        let setup = stream
            .set_nodelay(true)
            .and_then(|()| stream.set_read_timeout(Some(self.timeout)))
            .and_then(|()| stream.set_write_timeout(Some(self.timeout)));
        setup.map_err(|e| CallError::new(ErrorKind::Connect, e.to_string()))?;
        Ok(BufReader::new(stream))
    }

    fn exchange(&mut self) -> Result<(), CallError> {
        let mut connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.connect()?,
        };
        self.reply.clear();
        let result = connection
            .get_mut()
            .write_all(SOCKET_REQUEST)
            .and_then(|()| connection.read_until(b'\n', &mut self.reply));
        match result {
            Ok(_) if self.reply == SOCKET_REQUEST => {}
            Ok(0) => return Err(CallError::new(ErrorKind::Transport, "echo server closed")),
            Ok(_) => return Err(CallError::new(ErrorKind::WrongReply, "echo differs")),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(CallError::new(ErrorKind::Timeout, e.to_string()));
            }
            Err(e) => return Err(CallError::new(ErrorKind::Transport, e.to_string())),
        }
        match self.policy {
            ConnectionPolicy::Reuse => self.connection = Some(connection),
            ConnectionPolicy::New => {
                let _ = connection.get_ref().shutdown(Shutdown::Both);
            }
        }
        Ok(())
    }
}

impl Probe for FloorProbe {
    /// Blocking on purpose: each client has a thread of its own, and the floor is the
    /// bare cost of a blocking round trip.
    async fn call(&mut self) -> Result<(), CallError> {
        self.exchange()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_floor_echoes_the_socket_request() {
        let server = EchoServer::start(1).unwrap();
        for policy in [ConnectionPolicy::Reuse, ConnectionPolicy::New] {
            let mut probe = FloorProbe::new(server.addr(), Duration::from_secs(2), policy);
            for _ in 0..3 {
                probe.call().await.unwrap();
            }
        }
    }

    #[tokio::test]
    async fn a_closed_floor_is_a_connect_error() {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap()
        };
        let mut probe = FloorProbe::new(addr, Duration::from_secs(1), ConnectionPolicy::Reuse);
        assert_eq!(probe.call().await.unwrap_err().kind, ErrorKind::Connect);
    }
}
