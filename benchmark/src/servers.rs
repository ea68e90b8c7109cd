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

use std::net::ToSocketAddrs;

use anyhow::{Context as _, bail};

use crate::engine::cputime;
use crate::network::relay::Relay;
use crate::placement::{CpuList, Placement, pin_current_thread};
use crate::security::{Guard, Security};
use crate::settings::{Lab, ServerMetricsUrl, Settings};

/// The future a server is told to stop by.
pub(crate) type Shutdown = Pin<Box<dyn Future<Output = ()> + Send>>;
/// A server's whole life: serve on the listener until the shutdown future completes.
pub(crate) type ServeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// One lab's server: everything the benchmark needs to find it or start it.
#[derive(Debug)]
pub(crate) struct LabServer {
    /// Which server: its key in `--protocols` and in reports.
    pub key: Lab,
    /// How people name it: `Socket`, `REST`, `gRPC`.
    pub name: &'static str,
    /// The option (and environment variable) that points the benchmark at a running one.
    pub flag: &'static str,
    /// The URL scheme of its address (`http`, `ws`), or `None` for a bare `host:port`.
    pub scheme: Option<&'static str>,
    /// The scheme under `--tls` (`https`, `wss`).
    pub tls_scheme: Option<&'static str>,
    /// What it offers by ALPN under `--tls` (empty: none).
    pub alpn: &'static [&'static [u8]],
    /// How to start one by hand.
    pub start_command: &'static str,
    /// Serves on `listener`, guarded as the run asks, until `shutdown`.
    pub serve: fn(tokio::net::TcpListener, Guard, Shutdown) -> ServeFuture,
}

impl LabServer {
    /// The address clients use for a server listening at `addr`, over TLS or not.
    pub(crate) fn address_of(&self, addr: SocketAddr, tls: bool) -> String {
        match if tls { self.tls_scheme } else { self.scheme } {
            Some(scheme) => format!("{scheme}://{addr}"),
            None => addr.to_string(),
        }
    }
}

/// A lab server running in this process until dropped, on a tokio runtime of its own
/// whose threads are pinned to the server CPUs.
#[derive(Debug)]
pub(crate) struct EmbeddedServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Ids of the runtime's threads, recorded as each starts, to read their CPU time.
    threads: Arc<Mutex<Vec<u32>>>,
}

impl EmbeddedServer {
    /// Starts `lab` on `127.0.0.1:0` with one runtime worker per server CPU, guarded
    /// by `guard`.
    ///
    /// # Errors
    ///
    /// When no port can be bound or the runtime cannot be built.
    pub(crate) fn start(
        lab: &'static LabServer,
        cpus: &CpuList,
        guard: Guard,
    ) -> std::io::Result<Self> {
        Self::start_at(lab, "127.0.0.1:0", cpus, false, guard)
    }

    /// Starts `lab` listening on `addr` (`benchmark serve`), as [`EmbeddedServer::start`]
    /// does; `single_thread`: on one thread's runtime instead (`benchmark cost`, where
    /// handing tasks between threads would make the count depend on timing).
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound or the runtime cannot be built.
    pub(crate) fn start_at(
        lab: &'static LabServer,
        addr: &str,
        cpus: &CpuList,
        single_thread: bool,
        guard: Guard,
    ) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let threads = Arc::new(Mutex::new(Vec::new()));
        let next = Arc::new(AtomicUsize::new(0));
        let (recorded, pins) = (Arc::clone(&threads), cpus.clone());
        let mut builder = if single_thread {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(cpus.len().max(1));
            builder
        };
        let runtime = builder
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
                    let served = tokio::spawn((lab.serve)(listener, guard, shutdown)).await;
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
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// CPU time its runtime's threads have used so far.
    pub(crate) fn cpu_time(&self) -> Option<Duration> {
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
pub(crate) enum ServerCpu {
    /// The embedded server's own threads.
    Embedded,
    /// An external server's process, from `--server-pid`.
    Process(u32),
    /// An external server's Prometheus metrics, from `--server-metrics` or found at
    /// its own `/metrics`.
    Metrics(ServerMetricsUrl),
    /// Not measured, and why.
    Unknown(String),
}

/// One lab's server for this run, embedded or external.
#[derive(Debug)]
pub(crate) struct Target {
    /// The lab.
    pub lab: &'static LabServer,
    /// `host:port` or a URL, as given or as an embedded server's.
    pub address: String,
    /// `host:port` of `address`.
    pub authority: String,
    /// The in-process server, when one was started.
    pub embedded: Option<EmbeddedServer>,
    /// Where its CPU time is read.
    pub cpu: ServerCpu,
    /// The emulated link in front of it, under `--link`.
    pub relay: Option<Relay>,
}

impl Target {
    /// Puts `relay` in front (`--link`) for the clients that open their connections
    /// themselves; the probes' own connections are shaped in their streams and go to
    /// the server's address.
    pub(crate) fn behind(&mut self, relay: Relay) {
        self.relay = Some(relay);
    }

    /// `address` through the relay, scheme kept, when there is one.
    pub(crate) fn relayed_address(&self) -> Option<String> {
        let through = self.relay.as_ref()?.addr().to_string();
        Some(self.address.replacen(&self.authority, &through, 1))
    }

    /// The server's CPU time so far, where it can be read.
    pub(crate) fn cpu_time(&self) -> Option<Duration> {
        match (&self.cpu, &self.embedded) {
            (ServerCpu::Embedded, Some(server)) => server.cpu_time(),
            (ServerCpu::Process(pid), _) => cputime::process(*pid),
            (ServerCpu::Metrics(m), _) => cputime::from_metrics(&m.authority, &m.path).ok(),
            _ => None,
        }
    }

    /// Where the server's CPU time is read from, for the report: `None` when it is not.
    pub(crate) fn cpu_source(&self) -> Option<String> {
        match &self.cpu {
            ServerCpu::Embedded => Some("embedded".into()),
            ServerCpu::Process(pid) => Some(format!("pid {pid}")),
            ServerCpu::Metrics(m) => Some(m.url()),
            ServerCpu::Unknown(_) => None,
        }
    }
}

/// Where lab's server is: the address given, which must answer, or an embedded one.
pub(crate) fn resolve(
    lab: &'static LabServer,
    settings: &Settings,
    placement: &Placement,
    security: &Security,
    control: &tokio::runtime::Runtime,
) -> anyhow::Result<Target> {
    let Some(address) = settings.address_of(lab.key) else {
        let guard = security.guard(lab.alpn)?;
        let server = EmbeddedServer::start(lab, &placement.server_cpus, guard)
            .with_context(|| format!("cannot start an embedded {} server", lab.name))?;
        return Ok(Target {
            lab,
            authority: server.addr().to_string(),
            address: lab.address_of(server.addr(), security.tls()),
            embedded: Some(server),
            cpu: ServerCpu::Embedded,
            relay: None,
        });
    };
    if security.tls() || security.bearer().is_some() {
        bail!(
            "{} {address}: --tls and --auth measure embedded servers (the run makes their \
             certificate and token); leave out {} to measure an embedded {} server",
            lab.flag,
            lab.flag,
            lab.name
        );
    }
    let address = url(lab, address)?;
    let authority = authority(lab, &address)?;
    if let Err(reason) = reachable(&authority, settings.timeout.min(Duration::from_secs(2))) {
        bail!(
            "no {} server answers at {authority} ({reason}). Start one with `{}`, or leave \
             out {} (and its environment variable) to measure an embedded one",
            lab.name,
            lab.start_command,
            lab.flag
        );
    }
    // Another lab's server there would fail set-up with its client library's words
    // (`invalid compression flag: 123` for gRPC against the REST port): say what answers.
    if let Some(expected) = kind_of(lab.key) {
        let probe = lab_kit::term::explain_failure(expected, &authority, settings.timeout);
        if let Some(line) = control.block_on(probe) {
            bail!("{} {address}: {line}", lab.flag);
        }
    }
    let cpu = external_cpu(lab, settings, &authority)?;
    Ok(Target {
        lab,
        authority,
        address,
        embedded: None,
        cpu,
        relay: None,
    })
}

/// Where an external server's CPU time is read: `--server-pid`, else `--server-metrics`
/// (which must answer now), else a REST or WebSocket server's own `/metrics` if it
/// serves them, else nowhere (and the report says how to read it).
///
/// # Errors
///
/// When `--server-metrics` names an endpoint that does not report the CPU time.
fn external_cpu(
    lab: &LabServer,
    settings: &Settings,
    authority: &str,
) -> anyhow::Result<ServerCpu> {
    if let Some(pid) = settings.server_pid(lab.key) {
        return Ok(match cputime::process(pid) {
            Some(_) => ServerCpu::Process(pid),
            None => ServerCpu::Unknown(format!("no process {pid} to read")),
        });
    }
    if let Some(metrics) = settings.server_metrics(lab.key) {
        if let Err(reason) = cputime::from_metrics(&metrics.authority, &metrics.path) {
            bail!(
                "--server-metrics {}: {reason}. Start the {} with its metrics on \
                 (--metrics or --metrics-addr), or leave the option out",
                metrics.url(),
                lab.name
            );
        }
        return Ok(ServerCpu::Metrics(metrics.clone()));
    }
    if matches!(lab.key, Lab::Rest | Lab::Ws) {
        let own = ServerMetricsUrl {
            lab: Some(lab.key),
            authority: authority.to_owned(),
            path: lab_kit::metrics::PATH.to_owned(),
        };
        if cputime::from_metrics(&own.authority, &own.path).is_ok() {
            return Ok(ServerCpu::Metrics(own));
        }
    }
    Ok(ServerCpu::Unknown(
        "external server: --server-pid PID or --server-metrics URL reads its CPU".into(),
    ))
}

/// The kind of server a lab's probe expects, for the labs a probe tells apart (the
/// floor's echo answers whatever it is sent, so it is not one of them).
fn kind_of(lab: Lab) -> Option<lab_kit::term::Lab> {
    match lab {
        Lab::Floor => None,
        Lab::Socket => Some(lab_kit::term::Lab::Socket),
        Lab::Rest => Some(lab_kit::term::Lab::Rest),
        Lab::Grpc => Some(lab_kit::term::Lab::Grpc),
        Lab::Ws => Some(lab_kit::term::Lab::Ws),
    }
}

/// The address clients use for a target given as `configured`: for a lab with a URL
/// scheme, the URL, with the scheme added to a bare `host:port` (as every lab client
/// takes it); for the socket lab, `host:port` itself.
///
/// # Errors
///
/// When another scheme is given.
pub(crate) fn url(lab: &LabServer, configured: &str) -> anyhow::Result<String> {
    let configured = configured.trim();
    if lab_kit::args::is_tls_url(configured) {
        bail!(
            "{} {configured}: the benchmark measures an external server in cleartext only; \
             give its cleartext address",
            lab.flag
        );
    }
    let Some(scheme) = lab.scheme else {
        return Ok(configured.to_owned());
    };
    let rest = match configured.split_once("://") {
        None => configured,
        Some((given, rest)) if given == scheme => rest,
        Some(_) => bail!(
            "the {} URL {configured:?} must be {scheme}://host:port or host:port",
            lab.name
        ),
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') {
        bail!("the {} URL {configured:?} has no host", lab.name);
    }
    Ok(format!("{scheme}://{rest}"))
}

/// `host:port` of a target: the socket address itself, or a URL's authority (a bare
/// `host:port` is taken as the lab's URL).
pub(crate) fn authority(lab: &LabServer, configured: &str) -> anyhow::Result<String> {
    let Some(scheme) = lab.scheme else {
        return Ok(configured.to_owned());
    };
    let url = url(lab, configured)?;
    let rest = &url[scheme.len() + 3..];
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("the {} URL {configured:?} has no host", lab.name);
    }
    Ok(if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

/// Whether something accepts TCP connections at `authority`.
fn reachable(authority: &str, timeout: Duration) -> Result<(), String> {
    let addrs: Vec<_> = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve it: {e}"))?
        .collect();
    let mut last = String::from("it resolves to no address");
    for addr in addrs {
        match std::net::TcpStream::connect_timeout(&addr, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never(_: tokio::net::TcpListener, _: Guard, _: Shutdown) -> ServeFuture {
        Box::pin(async { Ok(()) })
    }

    fn lab(key: Lab, scheme: Option<&'static str>) -> LabServer {
        LabServer {
            key,
            name: "test",
            flag: "--test-url",
            scheme,
            tls_scheme: None,
            alpn: &[],
            start_command: "",
            serve: never,
        }
    }

    #[test]
    fn authorities_come_from_urls() {
        let (rest, socket, ws) = (
            lab(Lab::Rest, Some("http")),
            lab(Lab::Socket, None),
            lab(Lab::Ws, Some("ws")),
        );
        assert_eq!(
            authority(&rest, "http://127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(
            authority(&rest, "http://grpc-server:50051/").unwrap(),
            "grpc-server:50051"
        );
        assert_eq!(
            authority(&rest, "http://example.com/api").unwrap(),
            "example.com:80"
        );
        assert_eq!(
            authority(&socket, "127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080"
        );
        assert!(authority(&rest, "https://x:1").is_err());
        // A bare host:port, as every lab client takes it.
        assert_eq!(
            authority(&rest, "127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(
            url(&rest, "127.0.0.1:5000/").unwrap(),
            "http://127.0.0.1:5000"
        );
        assert_eq!(url(&ws, "h:1").unwrap(), "ws://h:1");
        assert_eq!(url(&socket, "h:1").unwrap(), "h:1");
        assert!(url(&ws, "http://h:1").is_err());
        assert_eq!(
            authority(&ws, "ws://127.0.0.1:8765").unwrap(),
            "127.0.0.1:8765"
        );
        assert!(authority(&ws, "http://127.0.0.1:8765").is_err());
        assert!(authority(&rest, "http:///").is_err());
    }
}
