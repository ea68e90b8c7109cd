//! `benchmark push` end to end with the embedded servers: every mechanism delivers
//! every event to every subscriber, and the report says so in JSON and as a table.

use benchmark::Cli;
use clap::Parser;
use serde_json::Value;

#[test]
fn every_mechanism_delivers_every_event_to_every_subscriber() {
    let path = std::env::temp_dir().join(format!("commlab-push-{}.json", std::process::id()));
    let cli = Cli::parse_from([
        "benchmark",
        "--format",
        "json",
        "-o",
        path.to_str().unwrap(),
        "push",
        "--subscribers",
        "4",
        "--events",
        "6",
    ]);
    assert_eq!(
        benchmark::run(cli).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    let keys: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["ws", "sse", "poll", "hook", "grpc"]);
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["delivered"], 24, "{row}");
        assert_eq!(row["late"], 0, "{row}");
        assert!(row["p50_us"].as_f64().unwrap() > 0.0, "{row}");
        let held = if row["key"] == "hook" { 0 } else { 4 };
        assert_eq!(row["connections_held"], held, "{row}");
    }
}

#[test]
fn push_picks_mechanisms_and_refuses_html() {
    let cli = Cli::parse_from([
        "benchmark",
        "--format",
        "html",
        "push",
        "--mechanisms",
        "sse",
    ]);
    let error = benchmark::run(cli).unwrap_err();
    assert!(error.to_string().contains("not html"), "{error}");
    assert!(Cli::try_parse_from(["benchmark", "push", "--mechanisms", "pigeon"]).is_err());
    assert!(Cli::try_parse_from(["benchmark", "push", "--subscribers", "0"]).is_err());
}

#[test]
fn workload_push_runs_the_same_comparison() {
    let path = std::env::temp_dir().join(format!("commlab-wpush-{}.json", std::process::id()));
    let cli = Cli::parse_from([
        "benchmark",
        "--workload",
        "push",
        "--subscribers",
        "3",
        "--iterations",
        "4",
        "--format",
        "json",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        benchmark::run(cli).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(report["subscribers"], 3);
    assert_eq!(report["events"], 4);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|r| r["delivered"] == 12 && r["late"] == 0),
        "{rows:?}"
    );
}
