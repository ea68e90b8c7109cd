//! `benchmark push` end to end with the embedded servers: every mechanism delivers
//! every event to every subscriber, and the report says so in JSON and as a table.

use benchmark::Cli;
use clap::Parser;
use serde_json::Value;

/// Runs `benchmark WORDS... --format json -o FILE` (global options work after a
/// subcommand too), checks it succeeded, and returns the report it wrote.
fn json_report(name: &str, words: &[&str]) -> Value {
    let path = std::env::temp_dir().join(format!("commlab-{name}-{}.json", std::process::id()));
    let mut all = vec!["benchmark"];
    all.extend_from_slice(words);
    all.extend(["--format", "json", "-o", path.to_str().unwrap()]);
    assert_eq!(
        benchmark::run(Cli::parse_from(all)).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let report = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    report
}

#[test]
fn every_mechanism_delivers_every_event_to_every_subscriber() {
    let report = json_report("push", &["push", "--subscribers", "4", "--events", "6"]);
    let keys: Vec<&str> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["ws", "sse", "poll", "hook", "grpc"]);
    let rows = report["rows"].as_array().unwrap();
    for row in rows {
        assert_eq!(row["delivered"], 24, "{row}");
        assert_eq!(row["late"], 0, "{row}");
        assert!(row["p50_us"].as_f64().unwrap() > 0.0, "{row}");
        let held = if row["key"] == "hook" { 0 } else { 4 };
        assert_eq!(row["connections_held"], held, "{row}");
        // Every copy crossed the wire carrying at least its text (`push:ws100:3`).
        let out = row["bytes_out_per_delivery"].as_f64().unwrap();
        assert!(out >= "push:ws100:1".len() as f64, "{row}");
    }
    let bytes_in = |key: &str| {
        rows.iter().find(|r| r["key"] == key).unwrap()["bytes_in_per_delivery"]
            .as_f64()
            .unwrap()
    };
    // A long poller asks for every answer it gets; a WebSocket or SSE subscriber only
    // listens; a webhook's callback answers every POST.
    assert!(bytes_in("poll") > bytes_in("ws") && bytes_in("poll") > bytes_in("sse"));
    assert!(bytes_in("hook") > bytes_in("sse"));
    // Ranked by p50, fastest first, every mechanism once; by p99 only those with the
    // 100 copies a p99 needs (none of 24 here).
    let p50 = |key: &str| rows.iter().find(|r| r["key"] == key).unwrap()["p50_us"].as_f64();
    let ranked: Vec<&str> = report["ranking_p50"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(ranked.len(), 5, "{ranked:?}");
    assert!(
        ranked.windows(2).all(|w| p50(w[0]) <= p50(w[1])),
        "{ranked:?}"
    );
    assert_eq!(report["ranking_p99"].as_array().unwrap().len(), 0);
}

#[test]
fn at_a_rate_every_event_goes_out_on_schedule_and_arrives() {
    let report = json_report(
        "rpush",
        &[
            "push",
            "--subscribers",
            "3",
            "--events",
            "10",
            "--rate",
            "50",
            "--mechanisms",
            "ws,sse",
        ],
    );
    assert_eq!(report["rate"], 50.0);
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["delivered"], 30, "{row}");
        assert_eq!(row["late"], 0, "{row}");
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
    let report = json_report(
        "wpush",
        &[
            "--workload",
            "push",
            "--subscribers",
            "3",
            "--iterations",
            "4",
        ],
    );
    assert_eq!(report["subscribers"], 3);
    assert_eq!(report["events"], 4);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter().all(|r| r["delivered"] == 12 && r["late"] == 0),
        "{rows:?}"
    );
}
