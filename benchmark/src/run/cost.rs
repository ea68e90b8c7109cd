//! `benchmark cost`: each row's client and server instructions per request, counted by
//! valgrind's callgrind, which gives the same count for the same binary and input
//! whatever else the machine does.
//!
//! For every row, twice (N requests, then 2N): the row's server runs as `benchmark
//! serve LAB` under callgrind, the row's client as `benchmark cost-client` under
//! another, the client sends its requests and exits, the server is stopped with
//! SIGTERM and writes its count. Start-up, set-up and shut-down are the same at both
//! points, so the difference over N is the requests' own instructions.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::analysis::cost::median_two_point;
use crate::cli::{CostArgs, CostClientArgs};
use crate::model::{CostReport, CostRow};
use crate::run::row::{self, Row};
use crate::run::steady::{self, Steady};
use crate::servers::{ServerCpu, Target, authority, url};
use crate::settings::Settings;

/// How long a server under callgrind may take to start listening.
const START_LIMIT: Duration = Duration::from_secs(120);
/// How long a server under callgrind may take to stop and write its count.
const STOP_LIMIT: Duration = Duration::from_secs(60);

/// `benchmark cost-client`: drives one row's client, alone, on this thread.
///
/// # Errors
///
/// When the row is unknown, or set-up or a request fails.
pub(crate) fn client(settings: &Settings, args: &CostClientArgs) -> anyhow::Result<()> {
    let row = row::all()
        .into_iter()
        .find(|r| r.info().key == args.row)
        .with_context(|| format!("no row {:?}", args.row))?;
    let lab = row.info().lab;
    let address = url(lab, &args.target)?;
    let target = Target {
        lab,
        authority: authority(lab, &address)?,
        address,
        embedded: None,
        cpu: ServerCpu::Unknown(String::new()),
        relay: None,
    };
    if let Some(cpu) = args.cpu {
        crate::placement::pin_current_thread(cpu);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    row.drive(&runtime, &target, settings, args.warmup, args.requests)
}

/// `benchmark cost`: counts every selected row at both points.
///
/// # Errors
///
/// When valgrind cannot be run, or a server or client fails under it.
pub(crate) fn cost(settings: &Settings, args: &CostArgs) -> anyhow::Result<CostReport> {
    let counter = valgrind_version(&args.valgrind)?;
    let rows: Vec<&dyn Row> = row::all()
        .into_iter()
        .filter(|r| {
            if args.rows.is_empty() {
                row::selected(r.info(), settings)
            } else {
                args.rows.iter().any(|key| key == r.info().key)
            }
        })
        .collect();
    if let Some(unknown) = args
        .rows
        .iter()
        .find(|key| !row::all().iter().any(|r| r.info().key == key.as_str()))
    {
        let keys: Vec<&str> = row::all().iter().map(|r| r.info().key).collect();
        bail!("--rows: no row {unknown:?} (rows: {})", keys.join(", "));
    }
    let temporary = args.keep.is_none();
    let dir = match &args.keep {
        Some(dir) => dir.clone(),
        None => std::env::temp_dir().join(format!("commlab-cost-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(path) = args.faketime.as_deref().filter(|p| !p.is_file()) {
        bail!(
            "--faketime {}: no such file (Debian: apt-get install faketime)",
            path.display()
        );
    }
    let steady = Steady::find(args.faketime.as_deref());
    eprintln!("{}", steady.describe());
    let counted = count_rows(settings, args, &rows, &dir, &steady);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let mut notes = vec![
        "client: the row's client alone in a process of its own (set-up, one kept \
         connection, the requests one after the other, clean-up); server: `benchmark serve \
         LAB`, the server a run embeds, on one thread; both on one CPU, so they \
         take strict turns and no count depends on how they overlapped; the floor's echo \
         never spins looking for the next request here (--spin-us 0)"
            .to_owned(),
        format!(
            "{}; ±: how far the furthest repeat's own figure (its two points alone) lies \
             from the median's",
            steady.describe()
        ),
        "instructions are not time: a cache miss or a system call's wait costs far more \
         than its count says, so read these beside the run's CPU-time figures; what they \
         give is a figure that does not move with the machine's load (the same binaries \
         and inputs give the same counts)"
            .to_owned(),
    ];
    if args.metrics {
        notes.push(
            "--metrics: every server counts its requests in Prometheus metrics, as a lab \
             server with --metrics or --metrics-addr does (nothing scrapes them); set \
             beside a run without it, the difference is what metrics cost a request"
                .to_owned(),
        );
    }
    if !lab_kit::build::PROFILE.contains("release") {
        notes.push(
            "WARNING: a debug build is counted: run it with --release for figures worth \
             comparing"
                .to_owned(),
        );
    }
    Ok(CostReport {
        requests: args.requests,
        warmup: args.warmup,
        repeats: args.repeats,
        counter,
        rows: counted?,
        notes,
    })
}

fn count_rows(
    settings: &Settings,
    args: &CostArgs,
    rows: &[&dyn Row],
    dir: &Path,
    steady: &Steady,
) -> anyhow::Result<Vec<CostRow>> {
    let mut counted = Vec::new();
    for row in rows {
        let info = row.info();
        let (mut clients, mut servers) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
        for repeat in 1..=args.repeats {
            eprintln!(
                "{}: counting {} and {} requests{}",
                info.label,
                args.requests,
                args.requests * 2,
                if args.repeats > 1 {
                    format!(" (repeat {repeat} of {})", args.repeats)
                } else {
                    String::new()
                }
            );
            for (point, requests) in [args.requests, args.requests * 2].into_iter().enumerate() {
                let (client, server) =
                    count_once(settings, args, *row, dir, requests, repeat, steady)?;
                clients[point].push(client);
                servers[point].push(server);
            }
        }
        counted.push(CostRow {
            key: info.key,
            label: info.label,
            client: median_two_point(&clients[0], &clients[1], args.requests),
            server: median_two_point(&servers[0], &servers[1], args.requests),
        });
    }
    Ok(counted)
}

/// `(client, server)` instructions of one point.
fn count_once(
    settings: &Settings,
    args: &CostArgs,
    row: &dyn Row,
    dir: &Path,
    requests: u64,
    repeat: u32,
    steady: &Steady,
) -> anyhow::Result<(u64, u64)> {
    let info = row.info();
    let this = std::env::current_exe().context("cannot find this program to run it again")?;
    let out = |side: &str| dir.join(format!("{}-{requests}-{side}-{repeat}.callgrind", info.key));
    let (server_out, client_out) = (out("server"), out("client"));
    // Client and server on one CPU take strict turns: each read finds the whole of
    // what the other wrote, so no count depends on how the two overlapped.
    let cpu = one_cpu();
    let mut server = steady
        .command(&args.valgrind)
        .args(callgrind(&server_out))
        .arg(&this)
        .args([
            "serve",
            info.lab.key.key(),
            "--addr",
            "127.0.0.1:0",
            "--spin-us",
            "0",
        ])
        .args(["--cpus", &cpu, "--single-thread"])
        .args(args.metrics.then_some("--metrics"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", args.valgrind.display()))?;
    let addr = match listening_address(&mut server) {
        Ok(addr) => addr,
        Err(e) => {
            let _ = server.kill();
            let _ = server.wait();
            return Err(e.context(format!("{}'s server under callgrind", info.label)));
        }
    };
    let mut client = steady.command(&args.valgrind);
    client.args(callgrind(&client_out)).arg(&this);
    client.args(["--workload", &workload_name(settings)]);
    client.args(["--list-size", &settings.list_size.to_string()]);
    if let Some(payload) = settings.payload {
        client.args(["--payload", &payload.to_string()]);
    }
    client.args(["cost-client", "--row", info.key, "--target", &addr]);
    client.args([
        "--requests",
        &requests.to_string(),
        "--warmup",
        &args.warmup.to_string(),
        "--cpu",
        &cpu,
    ]);
    let ran = client.stdin(Stdio::null()).output();
    let stopped = stop(&mut server);
    let ran = ran.with_context(|| format!("cannot run {}", args.valgrind.display()))?;
    if !ran.status.success() {
        bail!(
            "{}'s client under callgrind failed ({}): {}",
            info.label,
            ran.status,
            String::from_utf8_lossy(&ran.stderr).trim()
        );
    }
    stopped.with_context(|| format!("{}'s server under callgrind", info.label))?;
    let foreign = steady.foreign_object();
    Ok((
        read_totals(&client_out, foreign)?,
        read_totals(&server_out, foreign)?,
    ))
}

fn callgrind(out: &Path) -> Vec<String> {
    vec![
        "--tool=callgrind".into(),
        "-q".into(),
        format!("--callgrind-out-file={}", out.display()),
    ]
}

/// The one CPU server and client share: the last this process may use (the servers'
/// side of the default placement).
fn one_cpu() -> String {
    crate::placement::available_cpus()
        .last()
        .copied()
        .unwrap_or(0)
        .to_string()
}

fn workload_name(settings: &Settings) -> String {
    clap::ValueEnum::to_possible_value(&settings.workload)
        .map_or_else(|| "get".to_owned(), |v| v.get_name().to_owned())
}

/// Reads `... listening on ADDR` from the server's first line of output, within
/// [`START_LIMIT`].
fn listening_address(server: &mut Child) -> anyhow::Result<String> {
    let stdout = server.stdout.take().context("no output to read")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(read.map(|_| line));
    });
    let line = match rx.recv_timeout(START_LIMIT) {
        Ok(Ok(line)) => line,
        Ok(Err(e)) => return Err(e).context("cannot read its output"),
        Err(_) => bail!("it did not start listening within {START_LIMIT:?}"),
    };
    match line.trim().rsplit_once(" listening on ") {
        Some((_, addr)) => Ok(addr.to_owned()),
        None => {
            let mut stderr = String::new();
            if let Some(mut err) = server.stderr.take() {
                let _ = err.read_to_string(&mut stderr);
            }
            bail!("it did not start: {}", stderr.trim())
        }
    }
}

/// SIGTERM, then a wait of up to [`STOP_LIMIT`] for the clean exit that writes the
/// count; killed after that.
fn stop(server: &mut Child) -> anyhow::Result<()> {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let started = Instant::now();
    loop {
        if let Some(status) = server.try_wait()? {
            if status.success() {
                return Ok(());
            }
            bail!("it exited with {status}");
        }
        if started.elapsed() > STOP_LIMIT {
            let _ = server.kill();
            let _ = server.wait();
            bail!("it did not stop within {STOP_LIMIT:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn valgrind_version(valgrind: &Path) -> anyhow::Result<String> {
    let output = Command::new(valgrind).arg("--version").output();
    match output {
        Ok(output) if output.status.success() => {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        }
        _ => bail!(
            "cannot run {} --version: benchmark cost counts instructions with valgrind; \
             install it (Debian: apt-get install valgrind) or give --valgrind PATH",
            valgrind.display()
        ),
    }
}

/// The process's instructions, less those of `foreign`'s functions (libfaketime's
/// wrappers, which only the counting puts there).
fn read_totals(path: &Path, foreign: Option<&str>) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("callgrind wrote no {}", path.display()))?;
    let total = parse_totals(&text)
        .with_context(|| format!("no instruction total in {}", path.display()))?;
    Ok(total.saturating_sub(foreign.map_or(0, |object| steady::object_cost(&text, object))))
}

/// The instruction total of a callgrind output file: its `totals:` line (or
/// `summary:`, which older versions write), the first event (`Ir`).
fn parse_totals(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix("totals:")
                .or_else(|| line.strip_prefix("summary:"))
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_read_from_either_line() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\n\nfn=main\n5 10\n\
                    totals: 123456789\n";
        assert_eq!(parse_totals(text), Some(123_456_789));
        assert_eq!(parse_totals("events: Ir Dr\nsummary: 42 7\n"), Some(42));
        assert_eq!(parse_totals("events: Ir\n"), None);
    }
}
