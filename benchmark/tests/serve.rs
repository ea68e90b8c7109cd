//! `benchmark serve`: the floor's echo as a process of its own, found by `--floor-url`,
//! and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use benchmark::settings::Lab;
use benchmark::{Cli, control_runtime, execute};
use clap::Parser;

#[test]
fn a_floor_served_apart_is_the_one_divided_by_and_the_header_says_so() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_benchmark"))
        .args(["serve", "floor", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .trim()
        .strip_prefix("Floor listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();

    let cli = Cli::parse_from([
        "benchmark",
        "--protocols",
        "socket",
        "--floor-url",
        &addr,
        "--iterations",
        "20",
        "--warmup",
        "5",
    ]);
    let report = execute(
        &cli.settings,
        &control_runtime().unwrap(),
        &Arc::new(AtomicBool::new(false)),
    );
    // Stop the server whatever the run gave, then look.
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let status = server.wait().unwrap();
    let report = report.unwrap();
    assert!(killed.success());
    assert!(status.success(), "SIGTERM is a clean stop: {status}");

    let floor = &report.results[0];
    assert_eq!(floor.protocol, Lab::Floor);
    assert!(!floor.embedded);
    assert_eq!(floor.target, addr);
    assert_eq!((floor.requests, floor.errors), (20, 0));
    assert!(report.results[1].embedded);
    let table = benchmark::render(&report, benchmark::settings::Format::Table, false);
    assert!(
        table.contains(&format!("floor: the echo at {addr} (--floor-url)")),
        "{table}"
    );
}

#[test]
fn progress_counts_a_rows_rounds_and_the_run_says_its_length_up_front() {
    let out = Command::new(env!("CARGO_BIN_EXE_benchmark"))
        .args([
            "--protocols",
            "socket",
            "--duration",
            "300ms",
            "--warmup",
            "5",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.starts_with(
            "Measuring 2 rows for 0.3 s each, in 25 turns: about 0.6 s of measuring in all"
        ),
        "{log}"
    );
    // Each row's progress is its own rounds, to the last, not the wall clock.
    for row in ["Floor", "Socket"] {
        assert!(
            log.contains(&format!("{row}: 100% of its rounds measured")),
            "{log}"
        );
    }
}
