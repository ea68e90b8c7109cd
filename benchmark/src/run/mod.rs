//! A whole run: place the load and the servers, find or start every server, measure
//! the floor and each row with the same engine, clean up, analyse, render; a sweep
//! (a run per value), the `wire` subcommand, and the side outputs (baseline,
//! histograms, plots).

pub(crate) mod cost;
pub(crate) mod merge;
pub(crate) mod push;
pub(crate) mod relay;
pub(crate) mod row;
pub(crate) mod serve;
pub(crate) mod steady;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::adapters::Access;
use crate::analysis::baseline::compare;
use crate::analysis::shard::{Clock, part as shard_part};
use crate::analysis::summary::{Measured, count_round_trips, summarise};
use crate::analysis::sweep::{summarise as summarise_sweep, sweep_exit_code};
use crate::analysis::{exit_code, ranking};
use crate::cli::{Cli, Command};
use crate::engine::progress::Progress;
use crate::engine::turns::Turns;
use crate::machine::Machine;
use crate::machine::steadiness::CpuSnapshot;
use crate::model::{Baseline, Http2Windows, LinkTally, Point, Report, ShardPart};
use crate::network::relay::{Relay, Shared};
use crate::network::windows::Side;
use crate::placement::{Placement, available_cpus};
use crate::render::hdr::Named;
use crate::render::plots::Chart;
use crate::render::{self, comparison, plots};
use crate::security::Security;
use crate::servers::{Target, resolve};
use crate::settings::sweep::Sweep;
use crate::settings::{ConnectionPolicy, Format, Resumption, Settings, Workload};
use row::{Job, Row, selected};

/// `benchmark wire`: records and prints one annotated exchange per protocol.
fn wire(cli: &Cli) -> anyhow::Result<ExitCode> {
    // Refused before anything is recorded: the annotated bytes have two renderings.
    if !matches!(cli.format, Format::Table | Format::Json) {
        let name = clap::ValueEnum::to_possible_value(&cli.format)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default();
        bail!("benchmark wire writes --format table (the default) or json, not {name}");
    }
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

/// `benchmark cost`: counts, renders and writes the instructions per request.
fn push_command(cli: &Cli, args: &crate::cli::PushArgs) -> anyhow::Result<ExitCode> {
    if cli.format == Format::Html {
        bail!(
            "benchmark push writes --format table (the default), markdown, csv or json, not html"
        );
    }
    let settings = &cli.settings;
    let placement = Placement::decide(
        &available_cpus(),
        settings.client_cpus.as_ref(),
        settings.server_cpus.as_ref(),
        settings.client_threads.map(usize::from),
    )
    .map_err(anyhow::Error::msg)?;
    let report = push::measure(args, &placement)?;
    let text = render::push::push_report(&report, cli.format).unwrap_or_default();
    match &cli.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => print!("{text}"),
    }
    let clean = report.rows.iter().all(|r| r.late == 0 && r.delivered > 0);
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn cost_command(cli: &Cli, args: &crate::cli::CostArgs) -> anyhow::Result<ExitCode> {
    if cli.format == Format::Html {
        bail!(
            "benchmark cost writes --format table (the default), markdown, csv or json, not html"
        );
    }
    let report = cost::cost(&cli.settings, args)?;
    let text = render::cost::cost_report(&report, cli.format).unwrap_or_default();
    match &cli.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write the report to {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// What the run is about to do and, for a `--duration` run, how long its measuring
/// takes in all: every row measures for the whole duration, the rows one after another
/// in turns, so the wall time is the duration times the rows, plus set-up and warm-up.
fn plan_line(settings: &Settings, rows: usize) -> String {
    let rounds = settings.rounds.max(1);
    match settings.length() {
        crate::settings::Length::Duration(d) => format!(
            "Measuring {rows} rows for {:.1} s each, in {rounds} turns: about {:.1} s of \
             measuring in all, plus set-up and warm-up",
            d.as_secs_f64(),
            d.as_secs_f64() * rows as f64
        ),
        crate::settings::Length::Iterations(n) => {
            format!("Measuring {rows} rows, {n} requests per client each, in {rounds} turns",)
        }
    }
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
        Some(Command::Cost(args)) => return cost_command(&cli, args),
        Some(Command::CostClient(args)) => {
            cost::client(&cli.settings, args)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Serve(args)) => {
            serve::serve(args)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Relay(args)) => {
            relay::relay(args)?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Push(args)) => return push_command(&cli, args),
        Some(Command::Merge(args)) => {
            let report = merge::merge(&args.files)?;
            let text = render::report(&report, cli.format, cli.wide);
            match &cli.output {
                Some(path) => {
                    std::fs::write(path, &text).with_context(|| {
                        format!("cannot write the report to {}", path.display())
                    })?;
                    eprintln!("Report written to {}", path.display());
                }
                None => print!("{text}"),
            }
            return Ok(ExitCode::from(exit_code(&report)));
        }
        None if cli.settings.workload == Workload::Push => {
            return push_command(&cli, &crate::cli::PushArgs::from_settings(&cli.settings));
        }
        None => {}
    }
    if cli.sweep.is_some() && (cli.settings.shard.is_some() || cli.settings.shards.is_some()) {
        bail!(
            "--shard splits one run over processes, and a sweep is many runs: run each \
             point's shards as a run of its own (and merge them point by point)"
        );
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
        std::fs::write(path, render::report(&report, Format::Json, false))
            .with_context(|| format!("cannot save the baseline to {}", path.display()))?;
        eprintln!("Baseline saved to {}", path.display());
    }
    if let Some(dir) = &cli.histograms {
        write_histograms(dir, &report)?;
    }
    if let Some(dir) = &cli.plots {
        write_plots(dir, &plots::run_charts(&report)?)?;
    }
    // CSV keeps one row per result: the comparison goes to the terminal.
    if let (Format::Csv, Some(comparison)) = (cli.format, &report.comparison) {
        eprint!("{}", comparison::grid(comparison).text(""));
        for note in comparison::notes(comparison) {
            eprintln!("- {note}");
        }
    }
    Ok((
        render::report(&report, cli.format, cli.wide),
        exit_code(&report),
    ))
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
    let report = summarise_sweep(sweep.clone(), points);
    if let Some(dir) = &cli.plots {
        write_plots(dir, &plots::sweep_charts(&report)?)?;
    }
    Ok((
        render::sweep_report(&report, cli.format, cli.wide),
        sweep_exit_code(&report),
    ))
}

/// `--plots DIR`: every chart as its own SVG.
fn write_plots(dir: &Path, charts: &[Chart]) -> anyhow::Result<()> {
    let written = plots::write_svgs(dir, charts)?;
    eprintln!("{} charts written to {}", written.len(), dir.display());
    Ok(())
}

/// `--histograms DIR`: every row's histogram in HdrHistogram's formats.
fn write_histograms(dir: &Path, report: &Report) -> anyhow::Result<()> {
    let named: Vec<Named<'_>> = report
        .results
        .iter()
        .map(|row| Named {
            key: row.key,
            histogram: &row.histogram,
            wall: Duration::from_secs_f64(row.wall_s),
        })
        .collect();
    let written = render::hdr::write_all(dir, &named)?;
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
    if settings.workload == Workload::Push {
        bail!(
            "--workload push has no requests to time: it runs as `benchmark push` (what \
             `benchmark --workload push` does)"
        );
    }
    if settings.connections.is_some() && settings.connection == ConnectionPolicy::New {
        bail!(
            "--connections shares kept connections between clients; --connection new opens \
             one per request: use one or the other"
        );
    }
    let shard = settings.this_shard().map_err(anyhow::Error::msg)?;
    let available = available_cpus();
    let placement = Placement::decide(
        &available,
        settings.client_cpus.as_ref(),
        settings.server_cpus.as_ref(),
        settings.client_threads.map(usize::from),
    )
    .map_err(anyhow::Error::msg)?;
    let rows: Vec<&dyn Row> = row::all()
        .into_iter()
        .filter(|row| selected(row.info(), settings))
        .collect();

    // Find or start every server before measuring anything, so a missing one fails
    // the run at once.
    let security = Security::new(
        settings.tls,
        settings.tls_resumption == Resumption::On,
        settings.auth,
    )?;
    let mut targets: Vec<Target> = Vec::new();
    for row in &rows {
        let lab = row.info().lab;
        if !targets.iter().any(|t| t.lab.key == lab.key) {
            targets.push(resolve(lab, settings, &placement, &security, control)?);
        }
    }

    let shared = settings.link.map(|link| Shared::of(&link));
    if let (Some(link), Some(shared)) = (settings.link, &shared) {
        // Probes are shaped in their own streams; only a client that connects by
        // itself needs a relay in front of its server.
        for target in &mut targets {
            let relayed = rows
                .iter()
                .any(|r| r.info().lab.key == target.lab.key && r.info().connects_itself());
            if !relayed {
                continue;
            }
            let relay = Relay::start(
                target.authority.clone(),
                link,
                shared.clone(),
                &placement.client_cpus,
            )
            .context("cannot start the emulated link's relay")?;
            target.behind(relay);
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
        access: Access {
            tls: security.client(&[])?,
            token: security.bearer().cloned(),
        },
        security: &security,
        shard,
        link: shared.clone(),
    };
    // Each row beside its lab's server: every lab resolved above has one.
    let rows: Vec<(&dyn Row, &Target)> = rows
        .iter()
        .filter_map(|row| {
            let target = targets.iter().find(|t| t.lab.key == row.info().lab.key)?;
            Some((*row, target))
        })
        .collect();
    eprintln!("{}", plan_line(settings, rows.len()));
    if let Some(at) = settings.start_at {
        wait_for_start(at, stop)?;
    }
    let clock = Clock::now();
    let cpu_before = CpuSnapshot::take();
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
    let mut parts = Vec::new();
    for (outcome, &(_, target)) in outcomes.into_iter().zip(&rows) {
        match outcome {
            // A row whose turn never came measured nothing: there is nothing to show.
            Ok(done) if done.load.rounds == 0 => {}
            Ok(done) => {
                if shard.is_some() {
                    parts.push(shard_part(&done, &clock, target.cpu_source()));
                }
                let mut row = summarise(done, target);
                count_round_trips(&mut row, settings.link.as_ref());
                measured.push(row);
            }
            // After Ctrl-C, a row cut short in set-up is left out; any other failure
            // fails the run.
            Err(_) if stop.load(Ordering::Relaxed) => {}
            Err(e) => return Err(e),
        }
    }
    let machine = Machine::over_run(
        &cpu_before,
        &placement.client_cpus.0,
        &placement.server_cpus.0,
    );
    let interrupted = stop.load(Ordering::Relaxed);
    drop(targets);
    let mut report = ranking::assemble(settings.clone(), placement, machine, measured, interrupted);
    if let Some(shared) = &shared {
        report.http2_windows = shared
            .windows()
            .into_iter()
            .map(|(side, windows)| Http2Windows {
                side: match side {
                    Side::Client => "client",
                    Side::Server => "server",
                },
                stream_bytes: windows.stream,
                connection_bytes: windows.connection,
            })
            .collect();
    }
    report.shard = shard.map(|shard| ShardPart {
        index: shard.index,
        count: shard.count,
        clients: shard.share_of(settings.clients()),
        version: lab_kit::build::VERSION.to_owned(),
        args: crate::cli::effective_args(),
        started_unix_s: clock.unix_s(),
        rows: parts,
    });
    report.link_tally = shared.map(|shared| {
        let [chunks, held, connections, connections_held] = shared.tally();
        LinkTally {
            chunks,
            held,
            connections,
            connections_held,
        }
    });
    Ok(report)
}

/// The furthest ahead `--start-at` may be.
const START_AT_LIMIT: Duration = Duration::from_secs(24 * 3600);

/// Waits until `--start-at` (Unix seconds `at`), saying so, or until Ctrl-C.
///
/// # Errors
///
/// When the time is more than a day away (a mistyped date, most likely).
fn wait_for_start(at: f64, stop: &Arc<AtomicBool>) -> anyhow::Result<()> {
    let wait = crate::settings::shard::until(at);
    if wait > START_AT_LIMIT {
        bail!(
            "--start-at is {:.0} hours away: give a time within the next 24 hours",
            wait.as_secs_f64() / 3600.0
        );
    }
    if wait.is_zero() {
        eprintln!("--start-at has passed: starting at once");
        return Ok(());
    }
    eprintln!("Waiting {:.1} s for --start-at", wait.as_secs_f64());
    let end = std::time::Instant::now() + wait;
    while !stop.load(Ordering::Relaxed) {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
    }
    Ok(())
}
