//! The servers a run measures: how each lab serves, embedded servers started
//! in-process on the server CPUs, and where a server's CPU time is read from.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::cputime;
use crate::placement::{CpuList, pin_current_thread};

/// The future a server is told to stop by.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A server's whole life: serve on the listener until the shutdown future completes.
pub type ServeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One lab's server: everything the benchmark needs to find it or start it.
#[derive(Debug)]
pub struct LabServer {
    /// `floor`, `socket`, `rest` or `grpc`: the key of `--protocols` and of reports.
    pub key: &'static str,
    /// How people name it: `Socket`, `REST`, `gRPC`.
    pub name: &'static str,
    /// The option (and environment variable) that points the benchmark at a running one.
    pub flag: &'static str,
    /// The URL scheme of its address (`http`, `ws`), or `None` for a bare `host:port`.
    pub scheme: Option<&'static str>,
    /// How to start one by hand.
    pub start_command: &'static str,
    /// Serves on `listener` until `shutdown`.
    pub serve: fn(tokio::net::TcpListener, Shutdown) -> ServeFuture,
}

impl LabServer {
    /// The address clients use for a server listening at `addr`.
    pub fn address_of(&self, addr: SocketAddr) -> String {
        match self.scheme {
            Some(scheme) => format!("{scheme}://{addr}"),
            None => addr.to_string(),
        }
    }
}

/// A lab server running in this process until dropped, on a tokio runtime of its own
/// whose threads are pinned to the server CPUs.
#[derive(Debug)]
pub struct EmbeddedServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Ids of the runtime's threads, recorded as each starts, to read their CPU time.
    threads: Arc<Mutex<Vec<u32>>>,
}

impl EmbeddedServer {
    /// Starts `lab` on `127.0.0.1:0` with one runtime worker per server CPU.
    ///
    /// # Errors
    ///
    /// When no port can be bound or the runtime cannot be built.
    pub fn start(lab: &'static LabServer, cpus: &CpuList) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let threads = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let (recorded, pins) = (Arc::clone(&threads), cpus.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cpus.len().max(1))
            .thread_name(format!("server-{}", lab.key))
            .on_thread_start(move || {
                if let Some(cpu) = pins.for_thread(next.fetch_add(1, Ordering::Relaxed)) {
                    pin_current_thread(cpu);
                }
                if let (Some(id), Ok(mut ids)) = (cputime::current_thread_id(), recorded.lock()) {
                    ids.push(id);
                }
            })
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let first_cpu = cpus.for_thread(0);
        let thread = std::thread::Builder::new()
            .name(format!("server-{}-main", lab.key))
            .spawn(move || {
                if let Some(cpu) = first_cpu {
                    pin_current_thread(cpu);
                }
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let shutdown: Shutdown = Box::pin(async move {
                        let _ = stopped.await;
                    });
                    // On a worker, so its accept loop runs on the server CPUs too.
                    let served = tokio::spawn((lab.serve)(listener, shutdown)).await;
                    if let Ok(Err(e)) = served {
                        tracing::warn!(error = %e, "embedded {} server failed", lab.key);
                    }
                });
                // Connections still open are dropped with the runtime, without waiting.
                runtime.shutdown_timeout(Duration::from_millis(100));
            })?;
        Ok(EmbeddedServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
            threads,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// CPU time its runtime's threads have used so far.
    pub fn cpu_time(&self) -> Option<Duration> {
        let ids = self.threads.lock().ok()?.clone();
        cputime::threads_of_this_process(&ids)
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where a target's server CPU time comes from.
#[derive(Debug)]
pub enum ServerCpu {
    /// The embedded server's own threads.
    Embedded,
    /// An external server's process, from `--server-pid`.
    Process(u32),
    /// Not measured, and why.
    Unknown(String),
}

/// One lab's server for this run, embedded or external.
#[derive(Debug)]
pub struct Target {
    /// The lab.
    pub lab: &'static LabServer,
    /// `host:port` or a URL.
    pub address: String,
    /// The in-process server, when one was started.
    pub embedded: Option<EmbeddedServer>,
    /// Where its CPU time is read.
    pub cpu: ServerCpu,
}

impl Target {
    /// The server's CPU time so far, where it can be read.
    pub fn cpu_time(&self) -> Option<Duration> {
        match (&self.cpu, &self.embedded) {
            (ServerCpu::Embedded, Some(server)) => server.cpu_time(),
            (ServerCpu::Process(pid), _) => cputime::process(*pid),
            _ => None,
        }
    }
}
