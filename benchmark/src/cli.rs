//! The command line, and [`run`]: resolve the servers, measure the floor and each
//! protocol with the same loop, clean up, and report.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use crate::embedded::EmbeddedServer;
use crate::floor::{EchoServer, FloorProbe};
use crate::machine::Machine;
use crate::probes::{Endpoint, LabProbe, clean_up, prepare};
use crate::report::{Report, ResultRow};
use crate::runner::{Measurement, Shared, run_clients};
use crate::settings::{
    ConnectionPolicy, Format, Length, Protocol, RankBy, Settings, SpawnPolicy, Workload,
    parse_duration,
};

/// How long to wait when checking whether a server is listening.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Measures the socket, REST and gRPC labs with the same loop and connection policy,
/// beside a raw-TCP floor, and prints the comparison. Servers that are not running are
/// started in-process (see --spawn).
#[derive(Debug, Clone, Parser)]
#[command(name = "benchmark", version)]
pub struct Cli {
    /// Protocols to measure, comma-separated (the raw-TCP floor always runs).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "socket,rest,grpc"
    )]
    pub protocols: Vec<Protocol>,
    /// Measured requests per client.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: u64,
    /// Unmeasured requests per client before measuring.
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// Measure for this long (like 10s or 500ms) instead of a fixed number of requests.
    #[arg(long, value_parser = parse_duration, conflicts_with = "iterations")]
    pub duration: Option<Duration>,
    /// What each request does: get one user, list all users, or create a user (the
    /// socket lab always runs its echo).
    #[arg(long, value_enum, default_value_t = Workload::Get)]
    pub workload: Workload,
    /// Users to create before a `list` run.
    #[arg(long, default_value_t = 100)]
    pub list_size: usize,
    /// Keep one connection per client (reuse) or open a new one for every request (new),
    /// for every protocol alike.
    #[arg(long, value_enum, default_value_t = ConnectionPolicy::Reuse)]
    pub connection: ConnectionPolicy,
    /// Clients running the loop at once, each with its own connection.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Limit on each request (like 5s); a request past it counts as a timeout error.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Start servers in-process: when nothing answers at the address (auto), always,
    /// or never (then a missing server is an error).
    #[arg(long, value_enum, env = "BENCHMARK_SPAWN", default_value_t = SpawnPolicy::Auto)]
    pub spawn: SpawnPolicy,
    /// Figure the ranking orders by.
    #[arg(long, value_enum, default_value_t = RankBy::Mean)]
    pub rank_by: RankBy,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Socket lab server address.
    #[arg(long, env = "SOCKET_ADDR", default_value = socket_lab::DEFAULT_CONNECT_ADDR)]
    pub socket_addr: String,
    /// REST lab server URL.
    #[arg(long, env = "REST_URL", default_value = rest_lab::DEFAULT_URL)]
    pub rest_url: String,
    /// gRPC lab server URL.
    #[arg(long, env = "GRPC_URL", default_value = grpc_lab::DEFAULT_URL)]
    pub grpc_url: String,
}

impl Cli {
    /// The settings these options describe.
    pub fn settings(&self) -> Settings {
        let mut protocols = self.protocols.clone();
        protocols.sort();
        protocols.dedup();
        Settings {
            protocols,
            workload: self.workload,
            list_size: self.list_size,
            connection: self.connection,
            concurrency: usize::from(self.concurrency),
            iterations: self.iterations,
            warmup: self.warmup,
            duration: self.duration,
            timeout: self.timeout,
            spawn: self.spawn,
            rank_by: self.rank_by,
            socket_addr: self.socket_addr.clone(),
            rest_url: self.rest_url.clone(),
            grpc_url: self.grpc_url.clone(),
        }
    }
}

/// The binary's work: run the benchmark with Ctrl-C wired to stop it, then write the
/// report to standard output or `--output`.
///
/// # Errors
///
/// When a server cannot be reached or set up, or the report cannot be written.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    let control = control_runtime()?;
    let flag = Arc::clone(&stop);
    control.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: finishing the request in hand, then reporting what was measured."
            );
            flag.store(true, Ordering::Relaxed);
        }
    });
    let report = execute(&cli, &control, &stop)?;
    let text = report.render(cli.format);
    match &cli.output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!("Report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A small runtime for set-up, clean-up and the Ctrl-C listener, apart from the
/// clients' and the servers' threads.
///
/// # Errors
///
/// When the runtime cannot be built.
pub fn control_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("benchmark-control")
        .enable_all()
        .build()
}

/// Runs the benchmark the options describe and returns the report. Setting `stop`
/// ends it early, with what was measured so far.
///
/// # Errors
///
/// When a server cannot be reached (with `--spawn never`) or set up.
pub fn execute(
    cli: &Cli,
    control: &tokio::runtime::Runtime,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Report> {
    let settings = cli.settings();
    let machine = Machine::detect();
    let length = settings.length();
    let tag = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();

    // Find (or start) every server before measuring anything, so a missing one fails
    // the run at once.
    let mut targets = Vec::new();
    for &protocol in &settings.protocols {
        targets.push(resolve(protocol, &settings)?);
    }

    let mut notes = Vec::new();
    let mut results = Vec::new();

    let echo =
        EchoServer::start(settings.concurrency).context("cannot start the floor's echo server")?;
    let floor_addr = echo.addr();
    let floor = measure("floor", &settings, length, stop, |_| async move {
        Ok::<_, String>(FloorProbe::new(
            floor_addr,
            settings.timeout,
            settings.connection,
        ))
    })?;
    drop(echo);
    results.push(ResultRow::new(
        "floor",
        "Floor",
        "raw TCP echo".into(),
        true,
        floor_addr.to_string(),
        &floor,
    ));

    for target in &targets {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let endpoint = Endpoint {
            protocol: target.protocol,
            target: target.address.clone(),
            timeout: settings.timeout,
            policy: settings.connection,
        };
        let (operation, setup_ids) = control
            .block_on(prepare(
                &endpoint,
                settings.workload,
                settings.list_size,
                &tag,
            ))
            .with_context(|| format!("setting up the {} benchmark", target.protocol.label()))?;
        let measurement = measure(target.protocol.label(), &settings, length, stop, |index| {
            let endpoint = &endpoint;
            let operation = &operation;
            async move { LabProbe::new(endpoint, operation, index) }
        })?;
        let mut to_remove = setup_ids;
        to_remove.extend(measurement.created.iter().cloned());
        let failed = control.block_on(clean_up(&endpoint, &to_remove));
        if failed > 0 {
            notes.push(format!(
                "{}: {failed} of the {} users the benchmark created could not be removed",
                target.protocol.label(),
                to_remove.len()
            ));
        }
        results.push(ResultRow::new(
            target.protocol.key(),
            target.protocol.label(),
            operation.describe(target.protocol),
            target.server.is_some(),
            target.address.clone(),
            &measurement,
        ));
    }

    notes.extend(standard_notes(&settings, &targets));
    let interrupted = stop.load(Ordering::Relaxed);
    Ok(Report::new(settings, machine, results, notes, interrupted))
}

/// Runs one measurement with progress, on fresh client threads.
fn measure<F, Fut, P, E>(
    label: &str,
    settings: &Settings,
    length: Length,
    stop: &Arc<AtomicBool>,
    make_probe: F,
) -> anyhow::Result<Measurement>
where
    F: Fn(usize) -> Fut + Sync,
    Fut: std::future::Future<Output = Result<P, E>>,
    P: crate::runner::Probe,
    E: std::fmt::Display,
{
    let shared = Shared::new(Arc::clone(stop));
    let clients = settings.concurrency;
    let measurement = std::thread::scope(|scope| {
        let shared = &shared;
        scope.spawn(move || crate::progress::follow(label, clients, length, shared));
        run_clients(clients, settings.warmup, length, shared, make_probe)
    })
    .with_context(|| format!("measuring {label}"))?;
    Ok(measurement)
}

/// A protocol's server for this run.
#[derive(Debug)]
struct Target {
    protocol: Protocol,
    /// `host:port` for the socket lab, a URL for the others.
    address: String,
    /// The in-process server, when one was started.
    server: Option<EmbeddedServer>,
}

/// Decides where `protocol`'s server is, starting one when the spawn policy says so.
fn resolve(protocol: Protocol, settings: &Settings) -> anyhow::Result<Target> {
    let configured = match protocol {
        Protocol::Socket => settings.socket_addr.clone(),
        Protocol::Rest => settings.rest_url.clone(),
        Protocol::Grpc => settings.grpc_url.clone(),
    };
    let authority = authority(protocol, &configured)?;
    let embed = || -> anyhow::Result<Target> {
        let server = EmbeddedServer::start(protocol)
            .with_context(|| format!("cannot start an embedded {} server", protocol.label()))?;
        Ok(Target {
            protocol,
            address: server.target(),
            server: Some(server),
        })
    };
    let external = || Target {
        protocol,
        address: configured.clone(),
        server: None,
    };
    match settings.spawn {
        SpawnPolicy::Always => embed(),
        SpawnPolicy::Auto => match reachable(&authority) {
            Ok(()) => Ok(external()),
            Err(_) => embed(),
        },
        SpawnPolicy::Never => match reachable(&authority) {
            Ok(()) => Ok(external()),
            Err(reason) => bail!(
                "no {} server answers at {authority} ({reason}). Start one with `{}`, \
                 or run without --spawn never to start one in-process",
                protocol.label(),
                protocol.start_command()
            ),
        },
    }
}

/// `host:port` of a target: the socket address itself, or a URL's authority.
fn authority(protocol: Protocol, configured: &str) -> anyhow::Result<String> {
    if protocol == Protocol::Socket {
        return Ok(configured.to_owned());
    }
    let Some(rest) = configured.strip_prefix("http://") else {
        bail!(
            "the {} URL {configured:?} must start with http:// (the labs serve cleartext)",
            protocol.label()
        );
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        bail!("the {} URL {configured:?} has no host", protocol.label());
    }
    Ok(if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    })
}

/// Whether something accepts TCP connections at `authority`.
fn reachable(authority: &str) -> Result<(), String> {
    let addrs: Vec<_> = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve it: {e}"))?
        .collect();
    let mut last = String::from("it resolves to no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(last)
}

fn standard_notes(settings: &Settings, targets: &[Target]) -> Vec<String> {
    let mut notes = vec![
        "x floor: a protocol's p50 over the floor's p50; the floor echoes the socket lab's \
         request bytes over blocking std sockets to a thread in this process, with the same \
         loop and connection policy"
            .to_owned(),
        "latencies count successful requests only; failures are counted apart, by kind".to_owned(),
    ];
    if settings.workload != Workload::Get && settings.protocols.contains(&Protocol::Socket) {
        notes.push(format!(
            "socket: the socket lab has only its uppercase echo, so it runs the echo under the \
             {:?} workload; it is not an equivalent of the other rows' operation",
            settings.workload
        ));
    }
    if targets.iter().any(|t| t.server.is_some()) {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        notes.push(format!(
            "embedded servers run in this process, each on its own tokio runtime \
             ({workers} worker thread{}), apart from the client threads",
            if workers == 1 { "" } else { "s" }
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_come_from_urls() {
        assert_eq!(
            authority(Protocol::Rest, "http://127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(
            authority(Protocol::Grpc, "http://grpc-server:50051/").unwrap(),
            "grpc-server:50051"
        );
        assert_eq!(
            authority(Protocol::Rest, "http://example.com/api").unwrap(),
            "example.com:80"
        );
        assert_eq!(
            authority(Protocol::Socket, "127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080"
        );
        assert!(authority(Protocol::Rest, "https://x:1").is_err());
        assert!(authority(Protocol::Rest, "http:///").is_err());
    }

    #[test]
    fn defaults_match_the_original_lab() {
        let settings = Cli::parse_from(["benchmark"]).settings();
        assert_eq!(settings.iterations, 50);
        assert_eq!(settings.warmup, 10);
        assert_eq!(settings.protocols, Protocol::ALL);
        assert_eq!(settings.length(), Length::Iterations(50));
        assert_eq!(settings.timeout, Duration::from_secs(5));
    }

    #[test]
    fn duration_replaces_iterations_and_conflicts_with_them() {
        let settings = Cli::parse_from(["benchmark", "--duration", "10s"]).settings();
        assert_eq!(settings.length(), Length::Duration(Duration::from_secs(10)));
        assert!(
            Cli::try_parse_from(["benchmark", "--duration", "1s", "--iterations", "5"]).is_err()
        );
        assert!(Cli::try_parse_from(["benchmark", "--concurrency", "0"]).is_err());
        assert!(Cli::try_parse_from(["benchmark", "--protocols", "smtp"]).is_err());
    }
}
