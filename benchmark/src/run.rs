//! The command line and a whole run: place the load and the servers, find or start
//! every server, measure the floor and each row with the same engine, clean up, report.

use std::future::Future;
use std::net::ToSocketAddrs;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use crate::adapters::{self, Adapter, ClientKind, LabServer, ProbeContext, RowInfo, SetUp};
use crate::baseline::{Baseline, compare};
use crate::engine::{Gate, Load, Shared, run_load};
use crate::hdr::Named;
use crate::machine::Machine;
use crate::placement::{Placement, available_cpus};
use crate::progress::Progress;
use crate::report::{Measured, Report, ResultRow};
use crate::servers::{EmbeddedServer, ServerCpu, Target};
use crate::settings::{ClientChoice, ConnectionPolicy, Format, Settings, Workload};
use crate::sweep::{Point, Sweep, SweepReport};
use crate::traffic::Traffic;
use crate::turns::{Place, Turns};

/// A percentage for `--fail-on`: a finite number from 0 up.
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("{text:?} is not a number (a percentage, as in 10 or 2.5)"))?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("{text:?} must be a percentage of 0 or more"))
    }
}

/// Set-up and clean-up may take this many request timeouts in all.
const SETUP_TIMEOUTS: u32 = 4;

/// Measures the socket, REST and gRPC labs with one load generator, beside a raw-TCP
/// floor, and tells where the time goes: latency, throughput, client and server CPU and
/// bytes per request. Servers are started in-process (release builds when this is one)
/// unless an address is given.
#[derive(Debug, Clone, Parser)]
#[command(name = "benchmark", version = lab_kit::build::VERSION)]
pub struct Cli {
    /// What to measure and how.
    #[command(flatten)]
    pub settings: Settings,
    /// Report format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Every percentile in the table, and the operation of each row.
    #[arg(long)]
    pub wide: bool,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also save this run's JSON report to FILE, to compare a later run against with
    /// `--baseline`.
    #[arg(long, value_name = "FILE")]
    pub save_baseline: Option<PathBuf>,
    /// Compare this run with a saved one (a JSON report): each row's change in p50,
    /// p99, throughput and x floor, marked when larger than the run-to-run noise (the
    /// spread of each figure over the rounds).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// With `--baseline`: exit with status 3 when a figure got worse by more than
    /// PERCENT and by more than the noise.
    #[arg(long, value_name = "PERCENT", requires = "baseline", value_parser = parse_percent)]
    pub fail_on: Option<f64>,
    /// Write each row's latency histogram into DIR in HdrHistogram's formats: an
    /// interval log (`KEY.hlog`) and a percentile distribution (`KEY.hgrm`).
    #[arg(long, value_name = "DIR")]
    pub histograms: Option<PathBuf>,
    /// One whole run per value of a setting, and a summary across them:
    /// `concurrency=1,2,4,8`, `list-size=10,1000`, `rate=1000,5000` (with
    /// `--duration`) or `connections=1,2,4`.
    #[arg(long, value_name = "NAME=V1,V2,...", value_parser = Sweep::parse)]
    pub sweep: Option<Sweep>,
    /// Also write each chart of the HTML report as its own SVG file in DIR.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Something other than a run.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What `benchmark` does instead of a run.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Print shell completions.
    Completions(lab_kit::completions::CompletionsArgs),
    /// Show the bytes of one exchange per protocol (a request, then the same request
    /// again on the same connection), annotated by layer, and a table of bytes per
    /// request. Takes the run's targets (`--protocols`, `--rest-url`...) before the
    /// word `wire`, and `--format json`.
    Wire,
}

/// `benchmark wire`: records and prints one annotated exchange per protocol.
fn wire(cli: &Cli) -> anyhow::Result<ExitCode> {
    let runtime = control_runtime()?;
    let report = runtime.block_on(crate::wire::run(&cli.settings))?;
    let text = match cli.format {
        Format::Json => serde_json::to_string_pretty(&report)?,
        _ => report.render_text(),
    };
    match &cli.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The binary's work: run with Ctrl-C wired to stop, write the report (and the
/// baseline and histograms asked for), and give the exit status: 0, 1 when a row's
/// every request failed, 3 on a regression past `--fail-on`, 130 after Ctrl-C.
///
/// # Errors
///
/// When a server cannot be reached or set up, or the report cannot be written.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Some(Command::Completions(shell)) => {
            lab_kit::completions::print_completions::<Cli>(shell);
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Wire) => return wire(&cli),
        None => {}
    }
    let stop = Arc::new(AtomicBool::new(false));
    let control = control_runtime()?;
    let flag = Arc::clone(&stop);
    control.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!(
                "\nInterrupted: finishing the requests in hand, then reporting what was measured."
            );
            flag.store(true, Ordering::Relaxed);
        }
    });
    let (text, code) = match &cli.sweep {
        Some(sweep) => swept(&cli, sweep, &control, &stop)?,
        None => single(&cli, &control, &stop)?,
    };
    match &cli.output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write the report to {}", path.display()))?;
            eprintln!("Report written to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::from(code))
}

/// One run: its report (against the baseline, if one is given), the baseline and
/// histograms saved where asked; the rendered report and the exit status.
fn single(
    cli: &Cli,
    control: &tokio::runtime::Runtime,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(String, u8)> {
    let mut report = execute(&cli.settings, control, stop)?;
    if let Some(path) = &cli.baseline {
        let before = Baseline::load(path)?;
        let now: Baseline = serde_json::from_value(serde_json::to_value(&report)?)
            .context("cannot read this run's own report as a baseline")?;
        report.comparison = Some(compare(
            &path.display().to_string(),
            &before,
            &now,
            cli.fail_on,
        ));
    }
    if let Some(path) = &cli.save_baseline {
        std::fs::write(path, report.render(Format::Json, false))
            .with_context(|| format!("cannot save the baseline to {}", path.display()))?;
        eprintln!("Baseline saved to {}", path.display());
    }
    if let Some(dir) = &cli.histograms {
        write_histograms(dir, &report)?;
    }
    if let Some(dir) = &cli.plots {
        write_plots(dir, &crate::plots::run_charts(&report)?)?;
    }
    // CSV keeps one row per result: the comparison goes to the terminal.
    if let (Format::Csv, Some(comparison)) = (cli.format, &report.comparison) {
        eprint!("{}", comparison.grid().text(""));
        for note in comparison.notes() {
            eprintln!("- {note}");
        }
    }
    Ok((report.render(cli.format, cli.wide), report.exit_code()))
}

/// A sweep: one whole run per value, in order, with progress; Ctrl-C ends it after
/// the point in hand. Histograms go into a folder per point.
fn swept(
    cli: &Cli,
    sweep: &Sweep,
    control: &tokio::runtime::Runtime,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<(String, u8)> {
    if cli.baseline.is_some() || cli.save_baseline.is_some() {
        bail!(
            "--baseline and --save-baseline compare single runs: leave out --sweep, or \
             compare the sweep's points by running each one on its own"
        );
    }
    // Every point's settings first, so a bad combination fails before any measuring.
    let settings: Vec<(f64, Settings)> = sweep
        .values
        .iter()
        .map(|&value| Ok((value, sweep.apply(&cli.settings, value)?)))
        .collect::<Result<_, String>>()
        .map_err(anyhow::Error::msg)?;
    let total = settings.len();
    let mut points = Vec::new();
    for (i, (value, settings)) in settings.iter().enumerate() {
        eprintln!("Sweep point {} of {total}: {}", i + 1, sweep.label(*value));
        let report = execute(settings, control, stop)
            .with_context(|| format!("at {}", sweep.label(*value)))?;
        if let Some(dir) = &cli.histograms {
            let folder = format!("{}-{value}", sweep.parameter.name());
            write_histograms(&dir.join(folder), &report)?;
        }
        points.push(Point {
            value: *value,
            report,
        });
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    let report = SweepReport::new(sweep.clone(), points);
    if let Some(dir) = &cli.plots {
        write_plots(dir, &crate::plots::sweep_charts(&report)?)?;
    }
    Ok((report.render(cli.format, cli.wide), report.exit_code()))
}

/// `--plots DIR`: every chart as its own SVG.
fn write_plots(dir: &std::path::Path, charts: &[crate::plots::Chart]) -> anyhow::Result<()> {
    let written = crate::plots::write_svgs(dir, charts)?;
    eprintln!("{} charts written to {}", written.len(), dir.display());
    Ok(())
}

/// `--histograms DIR`: every row's histogram in HdrHistogram's formats.
fn write_histograms(dir: &std::path::Path, report: &Report) -> anyhow::Result<()> {
    let named: Vec<Named<'_>> = report
        .results
        .iter()
        .map(|row| Named {
            key: row.key,
            histogram: &row.histogram,
            wall: Duration::from_secs_f64(row.wall_s),
        })
        .collect();
    let written = crate::hdr::write_all(dir, &named)?;
    eprintln!(
        "{} histogram files written to {}",
        written.len(),
        dir.display()
    );
    Ok(())
}

/// A small runtime for set-up, clean-up and the Ctrl-C listener, apart from the load
/// generator's and the servers' threads.
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

/// Set-up or clean-up was cut short by Ctrl-C.
#[derive(Debug, thiserror::Error)]
#[error("interrupted")]
struct Interrupted;

/// What every row of a run shares.
#[derive(Debug)]
pub struct Job<'a> {
    /// The options.
    pub settings: &'a Settings,
    /// Where load and servers run.
    pub placement: &'a Placement,
    /// Runs set-up and clean-up.
    pub control: &'a tokio::runtime::Runtime,
    /// Set by Ctrl-C.
    pub stop: &'a Arc<AtomicBool>,
    /// Unique to this run, in every email it makes.
    pub tag: String,
    /// Where rows show their progress.
    pub progress: Progress,
    /// Held while a row sets up: rows of one lab set up one after the other, so a list
    /// row finds the users another row made.
    pub setting_up: std::sync::Mutex<()>,
}

impl Job<'_> {
    /// Runs `work` on the control runtime within `SETUP_TIMEOUTS` request timeouts,
    /// giving up at once on Ctrl-C.
    fn bounded<T>(
        &self,
        what: &str,
        work: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let limit = self.settings.timeout * SETUP_TIMEOUTS;
        let stop = Arc::clone(self.stop);
        self.control.block_on(async move {
            let stopped = async {
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            };
            tokio::select! {
                done = tokio::time::timeout(limit, work) => match done {
                    Ok(result) => result,
                    Err(_) => bail!("{what} took longer than {limit:?} (--timeout x {SETUP_TIMEOUTS})"),
                },
                () = stopped => Err(Interrupted.into()),
            }
        })
    }

    fn load(&self) -> Load {
        Load {
            clients: self.settings.clients(),
            connections: self.settings.connection_count(),
            threads: self.placement.client_threads,
            cpus: self.placement.client_cpus.clone(),
            warmup: self.settings.warmup,
            length: self.settings.length(),
            rounds: self.settings.rounds,
            rate: self.settings.rate,
        }
    }
}

/// A row as the run sees it: any adapter, whatever its plan and probe types.
pub trait Row: Sync {
    /// The row's fixed facts.
    fn info(&self) -> &'static RowInfo;

    /// Set-up, the measured load in turns at `place`, clean-up once every row has
    /// measured: everything the report needs of the row.
    ///
    /// # Errors
    ///
    /// When set-up fails or the load generator cannot start.
    fn measure(
        &self,
        job: &Job<'_>,
        target: &Target,
        place: &Place<'_>,
    ) -> anyhow::Result<Measured>;
}

/// A row's gate: waits for the row's turn, and reads the server's CPU time and the
/// connection's bytes around each of its rounds, so what other rows did between them
/// is not counted.
struct Turn<'a> {
    place: &'a Place<'a>,
    target: &'a Target,
    traffic: &'a Traffic,
    before: (Option<Duration>, (u64, u64)),
    server_cpu: Option<Duration>,
    bytes: (u64, u64),
}

impl Gate for Turn<'_> {
    fn open(&mut self, round: u32) -> bool {
        self.place.wait_turn(round)
    }

    fn start(&mut self, _round: u32) {
        self.before = (self.target.cpu_time(), self.traffic.snapshot());
    }

    fn close(&mut self, _round: u32) {
        let (sent, received) = self.traffic.snapshot();
        let (cpu_before, (sent_before, received_before)) = self.before;
        let used = self
            .target
            .cpu_time()
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        self.server_cpu = self.server_cpu.zip(used).map(|(a, b)| a + b);
        self.bytes.0 += sent - sent_before;
        self.bytes.1 += received - received_before;
        self.place.pass();
    }
}

impl<A: Adapter> Row for A {
    fn info(&self) -> &'static RowInfo {
        Adapter::info(self)
    }

    fn measure(
        &self,
        job: &Job<'_>,
        target: &Target,
        place: &Place<'_>,
    ) -> anyhow::Result<Measured> {
        let info = Adapter::info(self);
        let settings = job.settings;
        // Rows of one lab set up at once: each tags its users with its own key.
        let tag = format!("{}-{}", job.tag, info.key);
        let setup = SetUp {
            workload: settings.workload,
            list_size: settings.list_size,
            tag: tag.clone(),
            timeout: settings.timeout,
            payload: settings.payload,
        };
        let prepared = {
            let _one_at_a_time = job.setting_up.lock();
            job.bounded("set-up", self.set_up(&target.address, &setup))
                .with_context(|| format!("setting up {}", info.label))?
        };
        let traffic = Arc::new(Traffic::default());
        let context = ProbeContext {
            target: target.address.clone(),
            timeout: settings.timeout,
            policy: settings.connection,
            traffic: Arc::clone(&traffic),
            sharing: settings.sharing(),
            tag,
        };
        let shared = Arc::new(Shared::new(Arc::clone(job.stop)));
        let load = job.load();
        let mut turn = Turn {
            place,
            target,
            traffic: &traffic,
            before: (None, (0, 0)),
            server_cpu: Some(Duration::ZERO),
            bytes: (0, 0),
        };
        let result = std::thread::scope(|scope| {
            let (shared, length, clients) = (&shared, load.length, load.clients);
            let progress = &job.progress;
            scope.spawn(move || {
                crate::progress::follow(progress, info.label, clients, length, shared);
            });
            run_load(
                &load,
                shared,
                |_| A::Link::default(),
                |link, index| self.probe(&prepared.plan, &context, link, index),
                &mut turn,
            )
        });
        // Clean up only when no row is measuring any more.
        place.leave_and_wait_for_all();
        let result = result.with_context(|| format!("measuring {}", info.label))?;
        let (server_cpu, bytes) = (turn.server_cpu, turn.bytes);

        let mut to_remove = prepared.created;
        to_remove.extend(result.measurement.created.iter().cloned());
        let total = to_remove.len();
        let left = if total == 0 {
            0
        } else {
            let cleaning = async {
                Ok(self
                    .clean_up(&target.address, to_remove, settings.timeout)
                    .await)
            };
            job.bounded("clean-up", cleaning).unwrap_or(total)
        };
        Ok(Measured {
            info,
            operation: prepared.operation,
            server_id: prepared.server_id,
            items: prepared.items,
            load: result,
            load_cpus: load.cpu_count(),
            server_cpu,
            bytes: info.bytes_unmeasured.is_none().then_some(bytes),
            connections_opened: info.bytes_unmeasured.is_none().then(|| traffic.opened()),
            users_left: (left, total),
        })
    }
}

/// Whether a row runs under the settings.
fn selected(info: &RowInfo, settings: &Settings) -> bool {
    let lab_wanted = info.lab.key == "floor" || settings.wants(info.protocol);
    // No REST route carries a free payload.
    let lab_wanted = lab_wanted && !(settings.payload.is_some() && info.lab.key == "rest");
    let kind_wanted = match (settings.client, info.kind) {
        (_, ClientKind::Both) | (ClientChoice::Both, _) => true,
        (ClientChoice::Standard, kind) => kind == ClientKind::Standard,
        (ClientChoice::Lean, kind) => kind == ClientKind::Lean,
    };
    lab_wanted && kind_wanted
}

/// Runs the benchmark `settings` describe and returns the report. Setting `stop` ends
/// it early, with what was measured so far.
///
/// # Errors
///
/// When the placement is impossible, a given server does not answer, or set-up fails.
pub fn execute(
    settings: &Settings,
    control: &tokio::runtime::Runtime,
    stop: &Arc<AtomicBool>,
) -> anyhow::Result<Report> {
    if settings.sharing() && settings.workload == Workload::Stream {
        bail!(
            "--workload stream moves its items on a connection of each client's own: leave \
             out --connections"
        );
    }
    if settings.connections.is_some() && settings.connection == ConnectionPolicy::New {
        bail!(
            "--connections shares kept connections between clients; --connection new opens \
             one per request: use one or the other"
        );
    }
    let available = available_cpus();
    let placement = Placement::decide(
        &available,
        settings.client_cpus.as_ref(),
        settings.server_cpus.as_ref(),
        settings.client_threads.map(usize::from),
    )
    .map_err(anyhow::Error::msg)?;
    let rows: Vec<&dyn Row> = adapters::all()
        .into_iter()
        .filter(|row| selected(row.info(), settings))
        .collect();

    // Find or start every server before measuring anything, so a missing one fails
    // the run at once.
    let mut targets: Vec<Target> = Vec::new();
    for row in &rows {
        let lab = row.info().lab;
        if !targets.iter().any(|t| t.lab.key == lab.key) {
            targets.push(resolve(lab, settings, &placement)?);
        }
    }

    let job = Job {
        settings,
        placement: &placement,
        control,
        stop,
        tag: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        progress: Progress::to_stderr(),
        setting_up: std::sync::Mutex::new(()),
    };
    // Each row beside its lab's server: every lab resolved above has one.
    let rows: Vec<(&dyn Row, &Target)> = rows
        .iter()
        .filter_map(|row| {
            let target = targets.iter().find(|t| t.lab.key == row.info().lab.key)?;
            Some((*row, target))
        })
        .collect();
    // Every row sets up and warms up at once, then they take their rounds in turn.
    let turns = Turns::new(rows.len(), Arc::clone(stop));
    let outcomes: Vec<anyhow::Result<Measured>> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .enumerate()
            .map(|(index, &(row, target))| {
                let (job, turns) = (&job, &turns);
                scope.spawn(move || {
                    let place = turns.seat(index);
                    let outcome = row.measure(job, target, &place);
                    if outcome.is_err() {
                        // Nothing more is measured after a failure; the others clean up.
                        turns.abort();
                    }
                    outcome
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a row's thread panicked")))
            })
            .collect()
    });
    let mut measured = Vec::new();
    for (outcome, &(_, target)) in outcomes.into_iter().zip(&rows) {
        match outcome {
            // A row whose turn never came measured nothing: there is nothing to show.
            Ok(done) if done.load.rounds == 0 => {}
            Ok(done) => measured.push(ResultRow::new(done, target)),
            // After Ctrl-C, a row cut short in set-up is left out; any other failure
            // fails the run.
            Err(_) if stop.load(Ordering::Relaxed) => {}
            Err(e) => return Err(e),
        }
    }
    let machine = Machine::detect();
    let interrupted = stop.load(Ordering::Relaxed);
    drop(targets);
    Ok(Report::new(
        settings.clone(),
        placement,
        machine,
        measured,
        interrupted,
    ))
}

/// Where lab's server is: the address given, which must answer, or an embedded one.
fn resolve(
    lab: &'static LabServer,
    settings: &Settings,
    placement: &Placement,
) -> anyhow::Result<Target> {
    let Some(address) = settings.address_of(lab.key) else {
        let server = EmbeddedServer::start(lab, &placement.server_cpus)
            .with_context(|| format!("cannot start an embedded {} server", lab.name))?;
        return Ok(Target {
            lab,
            address: lab.address_of(server.addr()),
            embedded: Some(server),
            cpu: ServerCpu::Embedded,
        });
    };
    let authority = authority(lab, address)?;
    if let Err(reason) = reachable(&authority, settings.timeout.min(Duration::from_secs(2))) {
        bail!(
            "no {} server answers at {authority} ({reason}). Start one with `{}`, or leave \
             out {} (and its environment variable) to measure an embedded one",
            lab.name,
            lab.start_command,
            lab.flag
        );
    }
    let cpu = match settings.server_pid(lab.key) {
        Some(pid) if crate::cputime::process(pid).is_some() => ServerCpu::Process(pid),
        Some(pid) => ServerCpu::Unknown(format!("no process {pid} to read")),
        None => ServerCpu::Unknown("external server: --server-pid PID reads its CPU".into()),
    };
    Ok(Target {
        lab,
        address: address.to_owned(),
        embedded: None,
        cpu,
    })
}

/// `host:port` of a target: the socket address itself, or a URL's authority.
fn authority(lab: &LabServer, configured: &str) -> anyhow::Result<String> {
    let Some(scheme) = lab.scheme else {
        return Ok(configured.to_owned());
    };
    let Some(rest) = configured.strip_prefix(&format!("{scheme}://")) else {
        bail!(
            "the {} URL {configured:?} must start with {scheme}:// (the labs serve cleartext)",
            lab.name
        );
    };
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

    fn settings(args: &[&str]) -> Settings {
        let mut all = vec!["benchmark"];
        all.extend_from_slice(args);
        Cli::parse_from(all).settings
    }

    #[test]
    fn authorities_come_from_urls() {
        use crate::adapters::{socket::SOCKET, users::REST};
        assert_eq!(
            authority(&REST, "http://127.0.0.1:5000").unwrap(),
            "127.0.0.1:5000"
        );
        assert_eq!(
            authority(&REST, "http://grpc-server:50051/").unwrap(),
            "grpc-server:50051"
        );
        assert_eq!(
            authority(&REST, "http://example.com/api").unwrap(),
            "example.com:80"
        );
        assert_eq!(
            authority(&SOCKET, "127.0.0.1:8080").unwrap(),
            "127.0.0.1:8080"
        );
        assert!(authority(&REST, "https://x:1").is_err());
        use crate::adapters::ws::WS;
        assert_eq!(
            authority(&WS, "ws://127.0.0.1:8765").unwrap(),
            "127.0.0.1:8765"
        );
        assert!(authority(&WS, "http://127.0.0.1:8765").is_err());
        assert!(authority(&REST, "http:///").is_err());
    }

    #[test]
    fn defaults_match_the_original_lab() {
        let s = settings(&[]);
        assert_eq!(s.iterations, 50);
        assert_eq!(s.length(), crate::settings::Length::Iterations(50));
        assert_eq!(s.timeout, Duration::from_secs(5));
        assert_eq!(s.client, ClientChoice::Standard);
        assert!(["socket", "rest", "grpc", "ws"].iter().all(|k| s.wants(k)));
    }

    #[test]
    fn the_client_choice_picks_the_rows() {
        let keys = |args: &[&str]| -> Vec<&str> {
            let s = settings(args);
            adapters::all()
                .into_iter()
                .filter(|r| selected(r.info(), &s))
                .map(|r| r.info().key)
                .collect()
        };
        assert_eq!(
            keys(&[]),
            ["floor", "socket", "rest-reqwest", "grpc-channel", "ws"]
        );
        assert_eq!(
            keys(&["--client", "lean"]),
            ["floor", "socket", "rest-hyper", "grpc-hyper", "ws"]
        );
        assert_eq!(
            keys(&["--client", "both", "--protocols", "rest"]),
            ["floor", "rest-reqwest", "rest-hyper"]
        );
        assert_eq!(
            keys(&["--client", "both", "--protocols", "rest-h2"]),
            ["floor", "rest-h2-reqwest", "rest-h2-hyper"]
        );
        assert_eq!(
            keys(&["--client", "lean", "--protocols", "rest,rest-h2,grpc"]),
            ["floor", "rest-hyper", "rest-h2-hyper", "grpc-hyper"]
        );
    }

    #[test]
    fn bad_options_are_refused() {
        for args in [
            &["--duration", "1s", "--iterations", "5"][..],
            &["--concurrency", "0"],
            &["--protocols", "smtp"],
            &["--client-cpus", "x"],
            &["--server-pid", "nope"],
        ] {
            let mut all = vec!["benchmark"];
            all.extend_from_slice(args);
            assert!(Cli::try_parse_from(all).is_err(), "{args:?}");
        }
    }
}
