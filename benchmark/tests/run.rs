//! End-to-end runs of the benchmark against real lab servers, with few iterations.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use benchmark::cli::{Cli, control_runtime, execute};
use benchmark::report::Report;
use benchmark::settings::Format;
use clap::Parser;
use serde_json::Value;

fn cli(args: &[&str]) -> Cli {
    let mut all = vec!["benchmark"];
    all.extend_from_slice(args);
    Cli::parse_from(all)
}

fn run(cli: &Cli) -> anyhow::Result<Report> {
    let control = control_runtime()?;
    execute(cli, &control, &Arc::new(AtomicBool::new(false)))
}

fn assert_clean(report: &Report, protocols: &[&str]) {
    let names: Vec<_> = report.results.iter().map(|r| r.protocol).collect();
    let mut expected = vec!["floor"];
    expected.extend_from_slice(protocols);
    assert_eq!(names, expected);
    for row in &report.results {
        assert_eq!(
            row.errors, 0,
            "{} errors: {:?}",
            row.protocol, row.first_errors
        );
        assert!(row.requests > 0, "{} measured nothing", row.protocol);
        assert!(row.complete);
    }
}

#[test]
fn embedded_run_renders_in_every_format() {
    let cli = cli(&["--spawn", "always", "--iterations", "20", "--warmup", "2"]);
    let report = run(&cli).unwrap();
    assert_clean(&report, &["socket", "rest", "grpc"]);
    assert!(report.results.iter().skip(1).all(|r| r.embedded));
    assert_eq!(report.ranking.len(), 3);
    assert!(!report.interrupted);

    let json: Value = serde_json::from_str(&report.render(Format::Json)).unwrap();
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for (row, protocol) in results.iter().zip(["floor", "socket", "rest", "grpc"]) {
        assert_eq!(row["protocol"], protocol);
        assert_eq!(row["errors"], 0);
        assert_eq!(row["requests"], 20);
        for field in [
            "embedded",
            "mean_us",
            "stddev_us",
            "min_us",
            "p50_us",
            "p90_us",
            "p99_us",
            "p999_us",
            "max_us",
            "throughput_rps",
            "x_floor",
        ] {
            assert!(!row[field].is_null(), "{protocol} lacks {field}");
        }
    }
    assert_eq!(json["results"][0]["x_floor"], 1.0);
    assert_eq!(json["settings"]["iterations"], 20);
    assert!(json["machine"]["cpus"].as_u64().unwrap() >= 1);
    assert!(json["machine"]["cpu_model"].is_string());
    assert!(json["machine"]["os"].is_string());

    let csv = report.render(Format::Csv);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("protocol,operation,embedded,target,requests,errors,mean_us")
    );
    assert_eq!(lines.count(), 4);

    let markdown = report.render(Format::Markdown);
    assert!(markdown.contains("| Protocol | Operation |"), "{markdown}");
    assert!(markdown.contains("|---|---|---|---:|"), "{markdown}");
    assert_eq!(markdown.lines().filter(|l| l.starts_with("| ")).count(), 5);

    let table = report.render(Format::Table);
    assert!(table.contains("Ranking by mean response time:"), "{table}");
    assert!(table.contains("(fastest)"), "{table}");
    assert!(table.contains(" us") || table.contains(" ms"), "{table}");
}

#[test]
fn spawn_never_fails_fast_and_says_how_to_start_the_server() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    for (protocol, flag, value) in [
        ("socket", "--socket-addr", closed.to_string()),
        ("rest", "--rest-url", format!("http://{closed}")),
        ("grpc", "--grpc-url", format!("http://{closed}")),
    ] {
        let started = Instant::now();
        let error = run(&cli(&[
            "--spawn",
            "never",
            "--protocols",
            protocol,
            flag,
            &value,
        ]))
        .unwrap_err()
        .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
        assert!(error.contains(&closed.to_string()), "{error}");
        assert!(error.contains("cargo run --release -p"), "{error}");
    }
}

#[test]
fn a_new_connection_per_request_works_for_every_protocol() {
    let cli = cli(&[
        "--spawn",
        "always",
        "--connection",
        "new",
        "--iterations",
        "15",
        "--warmup",
        "1",
    ]);
    let report = run(&cli).unwrap();
    assert_clean(&report, &["socket", "rest", "grpc"]);
    assert_eq!(
        report.settings.connection,
        benchmark::settings::ConnectionPolicy::New
    );
}

#[test]
fn list_and_create_workloads_run_and_clean_up_after_themselves() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Real servers outside the benchmark, so what they hold afterwards can be checked.
    let (rest_url, grpc_url, store) = runtime.block_on(async {
        let store = user_store::UserStore::new();
        let rest = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let urls = (
            format!("http://{}", rest.local_addr().unwrap()),
            format!("http://{}", grpc.local_addr().unwrap()),
        );
        tokio::spawn(rest_lab::run(
            rest,
            rest_lab::AppState::new(store.clone()),
            rest_lab::ServerConfig::default(),
            std::future::pending::<()>(),
        ));
        tokio::spawn(grpc_lab::run(
            grpc,
            grpc_lab::UserService::new(store.clone()),
            Duration::from_secs(1),
            std::future::pending::<()>(),
        ));
        (urls.0, urls.1, store)
    });
    for workload in ["list", "create"] {
        let cli = cli(&[
            "--spawn",
            "never",
            "--protocols",
            "rest,grpc",
            "--rest-url",
            &rest_url,
            "--grpc-url",
            &grpc_url,
            "--workload",
            workload,
            "--list-size",
            "7",
            "--iterations",
            "10",
            "--warmup",
            "2",
        ]);
        let report = run(&cli).unwrap();
        assert_clean(&report, &["rest", "grpc"]);
        assert!(report.results.iter().skip(1).all(|r| !r.embedded));
        if workload == "list" {
            // Two demo users plus seven made for the run.
            assert!(
                report.results[1].operation.contains("9 users"),
                "{}",
                report.results[1].operation
            );
        }
        assert_eq!(
            store.len(),
            2,
            "only the demo users remain after the {workload} run"
        );
    }
}

#[test]
fn concurrent_clients_run_for_a_duration() {
    let cli = cli(&[
        "--spawn",
        "always",
        "--protocols",
        "socket",
        "--concurrency",
        "4",
        "--duration",
        "300ms",
        "--warmup",
        "1",
    ]);
    let report = run(&cli).unwrap();
    assert_clean(&report, &["socket"]);
    for row in &report.results {
        assert!(row.wall_s >= 0.3, "{} ran {} s", row.protocol, row.wall_s);
        assert!(row.throughput_rps > 0.0);
    }
}

#[test]
fn the_binary_writes_the_report_to_a_file() {
    let path = std::env::temp_dir().join(format!("commlab-bench-{}.json", std::process::id()));
    let cli = cli(&[
        "--spawn",
        "always",
        "--protocols",
        "socket",
        "--iterations",
        "5",
        "--warmup",
        "0",
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    benchmark::run(cli).unwrap();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(json["results"][1]["protocol"], "socket");
}

#[test]
fn a_stop_request_reports_what_was_measured_so_far() {
    let cli = cli(&[
        "--spawn",
        "always",
        "--protocols",
        "socket,rest",
        "--duration",
        "30s",
        "--warmup",
        "0",
    ]);
    let control = control_runtime().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // What Ctrl-C does in the binary: set the flag while the floor is being measured.
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let started = Instant::now();
    let report = execute(&cli, &control, &stop).unwrap();
    stopper.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "stopped early");
    assert!(report.interrupted);
    // The floor was cut short and is reported; the protocols after it never ran.
    assert_eq!(report.results.len(), 1);
    assert!(!report.results[0].complete);
    assert!(report.results[0].requests > 0);
    assert!(report.render(Format::Table).contains("INTERRUPTED"));
}

#[test]
fn a_server_that_dies_mid_run_gives_counted_errors_not_a_hang() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (kill, killed) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(socket_lab::run(
        listener,
        socket_lab::ServerConfig::default(),
        async move {
            let _ = killed.await;
        },
    ));
    // The floor is measured first, for the same 1.5 s; stop the server 0.6 s into the
    // socket lab's turn.
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2100));
        let _ = kill.send(());
    });
    let cli = cli(&[
        "--spawn",
        "never",
        "--protocols",
        "socket",
        "--socket-addr",
        &addr,
        "--duration",
        "1500ms",
        "--warmup",
        "0",
        "--timeout",
        "1s",
    ]);
    let started = Instant::now();
    let report = run(&cli).unwrap();
    killer.join().unwrap();
    runtime.block_on(server).unwrap().unwrap();
    assert!(started.elapsed() < Duration::from_secs(15), "no hang");
    let socket = &report.results[1];
    assert!(socket.requests > 0, "served before it died");
    assert!(socket.errors > 0, "failures after it died are counted");
    assert!(
        socket.error_kinds.contains_key("connect") || socket.error_kinds.contains_key("transport"),
        "{:?}",
        socket.error_kinds
    );
}
