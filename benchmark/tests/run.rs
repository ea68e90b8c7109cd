//! End-to-end runs of the benchmark against real lab servers, with few iterations.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use benchmark::model::{RankedBy, Report};
use benchmark::settings::Format;
use benchmark::{Cli, control_runtime, execute, exit_code, render};
use clap::Parser;
use common::{assert_clean, cli, read_json, run, scratch};
use serde_json::Value;

/// Every row of `--protocols socket,rest,rest-h2,grpc,ws --client both`, in order.
const EVERY_ROW: [&str; 9] = [
    "floor",
    "socket",
    "rest-reqwest",
    "rest-hyper",
    "rest-h2-reqwest",
    "rest-h2-hyper",
    "grpc-channel",
    "grpc-hyper",
    "ws",
];

/// A TCP server on 127.0.0.1:0 that runs `serve` on each connection, on its own runtime.
fn fake_server<F, Fut>(serve: F) -> (String, tokio::runtime::Runtime)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream));
        }
    });
    (addr, runtime)
}

#[test]
fn every_row_runs_embedded_and_renders_in_every_format() {
    let report = run(&["--client", "both", "--iterations", "20", "--warmup", "2"]).unwrap();
    assert_clean(
        &report,
        &[
            "floor",
            "socket",
            "rest-reqwest",
            "rest-hyper",
            "grpc-channel",
            "grpc-hyper",
            "ws",
        ],
    );
    assert!(report.results.iter().all(|r| r.embedded));
    assert_eq!(report.ranking.len(), 6);
    assert_eq!(report.ranked_by, RankedBy::P50);
    assert_eq!(exit_code(&report), 0);

    // The floor's bytes are the socket request each way, exactly.
    let floor = &report.results[0];
    assert_eq!(
        (floor.bytes_sent, floor.bytes_received),
        (Some(34.0), Some(34.0))
    );
    for row in &report.results {
        assert!(row.client_cpu_us.is_some_and(|c| c > 0.0), "{}", row.key);
        // The floor's server spins between requests: its CPU is blank, with the reason.
        assert_eq!(
            row.server_cpu_us.is_some_and(|c| c > 0.0),
            row.key != "floor",
            "{}",
            row.key
        );
        assert_eq!(row.server_cpu_note.is_some(), row.key == "floor");
        assert_eq!(
            row.bytes_sent.is_none(),
            row.key == "rest-reqwest",
            "{}",
            row.key
        );
    }
    // WebSocket: the socket request without its newline, in a masked client frame (2
    // bytes of header, 4 of mask) out; the reply in an unmasked frame (2 bytes) back.
    let ws = report.results.iter().find(|r| r.key == "ws").unwrap();
    assert_eq!(
        (ws.bytes_sent, ws.bytes_received),
        (Some(33.0 + 6.0), Some(47.0 + 2.0))
    );
    let rest = &report.results[3];
    assert!(
        rest.server_build
            .as_deref()
            .unwrap()
            .starts_with("rest-lab/")
    );

    let json: Value = serde_json::from_str(&render(&report, Format::Json, false)).unwrap();
    assert_eq!(json["results"].as_array().unwrap().len(), 7);
    assert_eq!(json["results"][0]["x_floor"], 1.0);
    assert_eq!(
        json["results"][0]["p99_us"],
        Value::Null,
        "20 samples give no p99"
    );
    assert!(json["placement"]["client_cpus"].is_array());
    assert_eq!(json["settings"]["iterations"], 20);

    let csv = render(&report, Format::Csv, false);
    assert!(
        csv.starts_with("key,operation,embedded,requests,errors,p50_us"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 8);

    let table = render(&report, Format::Table, false);
    for line in table.lines() {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    assert!(
        table.contains("REST (hyper)") && table.contains("Ranking by x floor (p50"),
        "{table}"
    );
    let heading = |table: &str| {
        table
            .lines()
            .find(|l| l.contains("p50"))
            .unwrap_or("")
            .to_owned()
    };
    assert!(!heading(&table).contains("p99.9"), "{table}");
    assert!(heading(&render(&report, Format::Table, true)).contains("p99.9"));
    let markdown = render(&report, Format::Markdown, false);
    assert!(markdown.contains("| Row | Server |"), "{markdown}");
}

#[test]
fn a_given_address_that_does_not_answer_fails_fast_and_says_what_to_do() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    for (protocol, flag, value) in [
        ("socket", "--socket-url", closed.to_string()),
        ("rest", "--rest-url", format!("http://{closed}")),
        ("grpc", "--grpc-url", format!("http://{closed}")),
    ] {
        let started = Instant::now();
        let error = run(&["--protocols", protocol, flag, &value])
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(error.contains(&closed.to_string()), "{error}");
        assert!(error.contains("cargo run --release -p"), "{error}");
        assert!(error.contains(flag), "{error}");
    }
}

#[test]
fn another_labs_server_at_a_given_address_is_named_before_anything_is_measured() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr = runtime.block_on(async {
        let rest = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = rest.local_addr().unwrap().to_string();
        tokio::spawn(rest_lab::run(
            rest,
            rest_lab::Config::new(user_store::UserStore::new()),
            std::future::pending::<()>(),
        ));
        addr
    });
    // The REST port given as the gRPC server: not tonic's `invalid compression flag`.
    let error = run(&["--protocols", "grpc", "--grpc-url", &addr])
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!(
            "--grpc-url http://{addr}: {addr} is not the gRPC server"
        )),
        "{error}"
    );
    assert!(error.contains("the REST server answers"), "{error}");
}

#[test]
fn a_given_address_is_measured_as_external_and_the_header_says_so() {
    let (addr, _server) = common::socket_server();
    let pid = std::process::id().to_string();
    let report = run(&[
        "--protocols",
        "socket",
        "--socket-url",
        &addr,
        "--server-pid",
        &pid,
        "--iterations",
        "10",
        "--warmup",
        "1",
    ])
    .unwrap();
    assert_clean(&report, &["floor", "socket"]);
    let socket = &report.results[1];
    assert!(!socket.embedded);
    assert_eq!(socket.target, addr);
    // This process is the server's: its CPU is read from /proc.
    assert!(socket.server_cpu_us.is_some());
    let table = render(&report, Format::Table, false);
    assert!(
        table.contains(&format!("external servers: Socket at {addr}")),
        "{table}"
    );
}

#[test]
fn a_row_whose_every_request_fails_makes_the_exit_status_non_zero() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    // Something else answering at the address: a line, but not the socket lab's reply.
    let (addr, _runtime) = fake_server(|stream| async move {
        let mut stream = BufReader::new(stream);
        let mut line = String::new();
        while stream.read_line(&mut line).await.is_ok_and(|n| n > 0) {
            line.clear();
            if stream
                .get_mut()
                .write_all(b"{\"hello\":1}\n")
                .await
                .is_err()
            {
                return;
            }
        }
    });
    let report = run(&[
        "--protocols",
        "socket",
        "--socket-url",
        &addr,
        "--iterations",
        "5",
    ])
    .unwrap();
    let socket = &report.results[1];
    assert_eq!(socket.requests, 0);
    assert_eq!(socket.errors, 5);
    assert!(
        socket.error_kinds.contains_key("wrong_reply"),
        "{:?}",
        socket.error_kinds
    );
    assert_eq!(exit_code(&report), 1);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("every request failed"))
    );
}

#[test]
fn set_up_against_a_server_that_never_answers_is_bounded_by_the_timeout() {
    // Accepts, reads, never replies.
    let (addr, _runtime) = fake_server(|mut stream| async move {
        use tokio::io::AsyncReadExt;
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    });
    let started = Instant::now();
    let url = format!("http://{addr}");
    let error = run(&[
        "--protocols",
        "rest",
        "--rest-url",
        &url,
        "--timeout",
        "300ms",
    ])
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(format!("{error:#}").contains("REST"), "{error:#}");
}

#[test]
fn clean_up_against_a_server_that_stalls_is_bounded_and_reported() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    // A REST server that creates and lists, but never answers a DELETE.
    let (addr, _runtime) = fake_server(|stream| async move {
        let mut stream = BufReader::new(stream);
        loop {
            let mut request_line = String::new();
            if !stream
                .read_line(&mut request_line)
                .await
                .is_ok_and(|n| n > 0)
            {
                return;
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                if !stream.read_line(&mut header).await.is_ok_and(|n| n > 0) {
                    return;
                }
                if header == "\r\n" {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = stream.read_exact(&mut body).await;
            if request_line.starts_with("DELETE") {
                std::future::pending::<()>().await;
            }
            let user = r#"{"id":"00000000-0000-4000-8000-000000000001","name":"Bench User","email":"x@example.com","created_at":"2026-01-01T00:00:00Z"}"#;
            let (status, data) = if request_line.starts_with("POST") {
                ("201 Created", user.to_owned())
            } else if request_line.contains("/api/users ") {
                ("200 OK", format!("[{user}]"))
            } else {
                ("200 OK", user.to_owned())
            };
            let body = format!(r#"{{"success":true,"data":{data}}}"#);
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let url = format!("http://{addr}");
    let started = Instant::now();
    let report = run(&[
        "--protocols",
        "rest",
        "--rest-url",
        &url,
        "--timeout",
        "300ms",
        "--iterations",
        "3",
        "--warmup",
        "0",
    ])
    .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let rest = &report.results[1];
    assert_eq!(rest.errors, 0, "{:?}", rest.first_errors);
    assert_eq!(rest.users_left, 1, "the set-up user could not be removed");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("could not be removed")),
        "{:?}",
        report.notes
    );
}

#[test]
fn list_and_create_workloads_run_and_clean_up_after_themselves() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
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
            rest_lab::Config::new(store.clone()),
            std::future::pending::<()>(),
        ));
        tokio::spawn(grpc_lab::run(
            grpc,
            grpc_lab::Config::new(store.clone()),
            std::future::pending::<()>(),
        ));
        (urls.0, urls.1, store)
    });
    for workload in ["list", "create"] {
        let report = run(&[
            "--protocols",
            "rest,grpc",
            "--client",
            "both",
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
            "--concurrency",
            "3",
        ])
        .unwrap();
        assert_clean(
            &report,
            &[
                "floor",
                "rest-reqwest",
                "rest-hyper",
                "grpc-channel",
                "grpc-hyper",
            ],
        );
        if workload == "list" {
            // Seven users in every list: the two demo users and five made by the first
            // row to set up; the rows after it found seven and made none.
            for row in &report.results[1..] {
                assert!(row.operation.contains("(7 users)"), "{}", row.operation);
            }
        }
        assert_eq!(
            store.len(),
            2,
            "only the demo users remain after the {workload} run"
        );
    }
}

#[test]
fn many_clients_over_few_threads_for_a_duration_rank_by_throughput() {
    let report = run(&[
        "--protocols",
        "socket",
        "--concurrency",
        "16",
        "--client-threads",
        "2",
        "--duration",
        "300ms",
        "--warmup",
        "1",
    ])
    .unwrap();
    assert_clean(&report, &["floor", "socket"]);
    assert_eq!(report.ranked_by, RankedBy::Throughput);
    assert_eq!(report.placement.client_threads, 2);
    let floor = &report.results[0];
    for row in &report.results {
        assert!(row.wall_s >= 0.3, "{} ran {} s", row.key, row.wall_s);
        // The default 25 rounds each, taken in turn; x floor is the median of the ratios.
        assert_eq!(row.rounds.len(), 25, "{}", row.key);
        let mut ratios: Vec<f64> = floor
            .rounds
            .iter()
            .zip(&row.rounds)
            .map(|(f, r)| f.throughput_rps / r.throughput_rps)
            .collect();
        ratios.sort_by(f64::total_cmp);
        assert!((row.x_floor.unwrap() - ratios[12]).abs() < 1e-9);
        // Its 95% interval: the 8th and 18th of the 25 ratios (the floor has none).
        if row.key != "floor" {
            assert_eq!(row.x_floor_lo, Some(ratios[7]), "{}", row.key);
            assert_eq!(row.x_floor_hi, Some(ratios[17]), "{}", row.key);
        }
        // Each round's latencies merge over both threads into its own median.
        let (min, max) = (row.min_us.unwrap(), row.max_us.unwrap());
        for round in &row.rounds {
            let p50 = round.p50_us.unwrap();
            assert!(p50 >= min * 0.99 && p50 <= max * 1.01, "{} {p50}", row.key);
        }
    }
}

#[test]
fn a_stop_request_reports_what_was_measured_and_exits_130() {
    let settings = cli(&[
        "--protocols",
        "socket,rest",
        "--duration",
        "30s",
        "--warmup",
        "0",
    ])
    .settings;
    let control = control_runtime().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        flag.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let report = execute(&settings, &control, &stop).unwrap();
    stopper.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "stopped early");
    assert!(report.interrupted);
    assert_eq!(report.results.len(), 1);
    assert!(!report.results[0].complete);
    assert!(report.results[0].requests > 0);
    assert!(render(&report, Format::Table, false).contains("INTERRUPTED"));
    assert_eq!(exit_code(&report), 130);
}

#[test]
fn the_binary_writes_the_report_to_a_file() {
    let path = std::env::temp_dir().join(format!("commlab-bench-{}.json", std::process::id()));
    let cli = cli(&[
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
    assert_eq!(json["results"][1]["key"], "socket");
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
    // Rows take turns over 3 s of rounds; stop the server about two thirds through.
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2100));
        let _ = kill.send(());
    });
    let started = Instant::now();
    let report = run(&[
        "--protocols",
        "socket",
        "--socket-url",
        &addr,
        "--duration",
        "1500ms",
        "--warmup",
        "0",
        "--timeout",
        "1s",
    ])
    .unwrap();
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
    // Refused connections back off rather than spin: a 1 ms pause doubling to 100 ms
    // leaves at most a few dozen failures a second (no backoff made tens of thousands).
    let failing_s = socket.wall_s / 3.0;
    assert!(
        (socket.errors as f64) < 200.0 * failing_s.max(1.0),
        "{} errors in about {failing_s:.1} s",
        socket.errors
    );
    // The row is not a result: marked, out of the ranking, and the exit status says so.
    let reason = socket.invalid.as_deref().expect("marked invalid");
    assert!(
        reason.contains("rounds had no successful request"),
        "{reason}"
    );
    assert!(report.ranking.is_empty());
    assert_eq!(exit_code(&report), 4);
    let table = render(&report, Format::Table, false);
    assert!(table.contains("INVALID: Socket:"), "{table}");
}

/// `--connection new` on the WebSocket row: a fresh TCP connection and HTTP upgrade per
/// request, whose bytes (the upgrade's request and 101 response) each request now pays.
#[test]
fn a_websocket_per_request_pays_for_its_upgrade() {
    let kept = run(&["--protocols", "ws", "--iterations", "20", "--warmup", "2"]).unwrap();
    let fresh = run(&[
        "--protocols",
        "ws",
        "--iterations",
        "20",
        "--warmup",
        "2",
        "--connection",
        "new",
    ])
    .unwrap();
    assert_clean(&kept, &["floor", "ws"]);
    assert_clean(&fresh, &["floor", "ws"]);
    let sent = |report: &Report| report.results[1].bytes_sent.unwrap();
    let received = |report: &Report| report.results[1].bytes_received.unwrap();
    // The upgrade request (GET with the Upgrade, Connection, Sec-WebSocket-* headers)
    // and the 101 response, on top of the frames.
    assert!(
        sent(&fresh) > sent(&kept) + 150.0,
        "{} vs {}",
        sent(&fresh),
        sent(&kept)
    );
    assert!(
        received(&fresh) > received(&kept) + 100.0,
        "{} vs {}",
        received(&fresh),
        received(&kept)
    );
}

/// REST over HTTP/2 with prior knowledge, both clients, against the same embedded REST
/// server as the HTTP/1.1 rows: clean runs, and the lean row counts its bytes (HPACK
/// makes a repeated request's headers smaller than HTTP/1.1's text ones).
#[test]
fn rest_over_h2c_runs_clean_with_both_clients() {
    let report = run(&[
        "--protocols",
        "rest,rest-h2",
        "--client",
        "both",
        "--iterations",
        "20",
        "--warmup",
        "2",
    ])
    .unwrap();
    assert_clean(
        &report,
        &[
            "floor",
            "rest-reqwest",
            "rest-hyper",
            "rest-h2-reqwest",
            "rest-h2-hyper",
        ],
    );
    let sent = |key: &str| {
        report
            .results
            .iter()
            .find(|r| r.key == key)
            .unwrap()
            .bytes_sent
            .unwrap()
    };
    assert!(
        sent("rest-h2-hyper") < sent("rest-hyper"),
        "{} vs {}",
        sent("rest-h2-hyper"),
        sent("rest-hyper")
    );
}

/// `--rate`: an open loop through the whole run, reported with service times and late
/// requests beside the corrected latencies, in every format, ranked by latency.
#[test]
fn an_open_loop_run_reports_corrected_and_service_latencies() {
    let report = run(&[
        "--protocols",
        "socket",
        "--duration",
        "600ms",
        "--rate",
        "400",
        "--concurrency",
        "2",
        "--warmup",
        "2",
    ])
    .unwrap();
    assert_clean(&report, &["floor", "socket"]);
    assert_eq!(report.ranked_by, RankedBy::P50);
    for row in &report.results {
        let open = row.open_loop.as_ref().expect("open-loop figures");
        assert!(open.service_p50_us.is_some(), "{}", row.key);
        // Offered 400/s for 0.6 s, give or take the rounds' edges.
        assert!(
            (100..=300).contains(&(row.requests as i64)),
            "{} requests",
            row.requests
        );
    }
    let text = render(&report, Format::Table, false);
    assert!(text.contains("open loop at 400 requests/s"), "{text}");
    let json: Value = serde_json::from_str(&render(&report, Format::Json, false)).unwrap();
    assert!(json["results"][1]["open_loop"]["late_requests"].is_u64());
    assert_eq!(json["settings"]["rate_rps"], 400.0);
    // --rate needs --duration, and a positive rate.
    for bad in [
        &["--rate", "100"][..],
        &["--duration", "1s", "--rate", "0"],
        &["--duration", "1s", "--rate", "x"],
    ] {
        let mut all = vec!["benchmark"];
        all.extend_from_slice(bad);
        assert!(Cli::try_parse_from(all).is_err(), "{bad:?}");
    }
}

/// `--connections`: six clients over two connections in every protocol, both client
/// kinds; each row opens exactly two connections where they can be counted (the floor
/// one per client), runs clean, and the header states the mapping.
#[test]
fn clients_share_the_connections_asked_for_in_every_protocol() {
    let report = run(&[
        "--protocols",
        "socket,rest,rest-h2,grpc,ws",
        "--client",
        "both",
        "--concurrency",
        "6",
        "--connections",
        "2",
        "--iterations",
        "20",
        "--warmup",
        "3",
    ])
    .unwrap();
    assert_clean(&report, &EVERY_ROW);
    for row in &report.results {
        let expected = if row.key == "floor" { 6 } else { 2 };
        if let Some(opened) = row.connections_opened {
            assert_eq!(opened, expected, "{} opened {opened}", row.key);
        } else {
            assert!(row.key.ends_with("reqwest"), "{} not counted", row.key);
        }
        assert_eq!(row.requests, 6 * 20, "{}", row.key);
    }
    let text = render(&report, Format::Table, false);
    assert!(
        text.contains("connections: 6 clients over 2 connections (up to 3 each"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&render(&report, Format::Json, false)).unwrap();
    assert_eq!(json["settings"]["connections"], 2);
    assert_eq!(json["results"][1]["connections_opened"], 2);
    let csv = render(&report, Format::Csv, false);
    assert!(csv.lines().next().unwrap().contains("connections_opened"));
    // Shared connections are kept ones.
    let mut all = vec!["benchmark"];
    all.extend_from_slice(&["--connections", "2", "--connection", "new"]);
    let error = run(&all[1..]).unwrap_err().to_string();
    assert!(error.contains("--connections"), "{error}");
}

/// `--workload stream`: every protocol moves the items its natural way, each request
/// checked item by item; the time to the first item is there where the client can see
/// it and comes before the last.
#[test]
fn the_stream_workload_moves_every_item_in_every_protocol() {
    let report = run(&[
        "--protocols",
        "socket,rest,rest-h2,grpc,ws",
        "--client",
        "both",
        "--workload",
        "stream",
        "--list-size",
        "300",
        "--iterations",
        "6",
        "--warmup",
        "1",
        "--rounds",
        "2",
    ])
    .unwrap();
    assert_clean(&report, &EVERY_ROW);
    for row in &report.results {
        let stream = row.stream.as_ref().expect("stream figures");
        assert_eq!(stream.items, 300, "{}", row.key);
        let last = stream.last_item_p50_us.unwrap();
        match stream.first_item_p50_us {
            Some(first) => assert!(first <= last, "{}: first {first} last {last}", row.key),
            None => assert!(
                row.key.ends_with("reqwest"),
                "{} saw no first item",
                row.key
            ),
        }
        assert!(
            (stream.items_per_s - 300.0 * row.throughput_rps).abs() < 1.0,
            "{}",
            row.key
        );
    }
    // Every item went over the wire: 300 socket replies of 48 bytes per request.
    let socket = report.results.iter().find(|r| r.key == "socket").unwrap();
    assert_eq!(socket.bytes_received, Some(300.0 * 48.0));
    assert!(
        socket.operation.contains("300 pipelined"),
        "{}",
        socket.operation
    );
    let text = render(&report, Format::Table, false);
    assert!(text.contains("time to the LAST item"), "{text}");
    assert!(text.contains("items/s"), "{text}");
    let json: Value = serde_json::from_str(&render(&report, Format::Json, false)).unwrap();
    assert_eq!(json["results"][6]["stream"]["items"], 300);
    assert_eq!(json["settings"]["workload"], "stream");
}

/// `--payload`: the echo rows echo that many bytes in JSON, gRPC greets a name that
/// long in protobuf, each reply checked; REST is left out with a note; the bytes on the
/// wire grow with it.
#[test]
fn a_payload_grows_the_requests_of_the_echo_rows_and_grpc() {
    let report = run(&[
        "--client",
        "both",
        "--payload",
        "10KB",
        "--iterations",
        "10",
        "--warmup",
        "2",
    ])
    .unwrap();
    assert_clean(
        &report,
        &["floor", "socket", "grpc-channel", "grpc-hyper", "ws"],
    );
    for row in &report.results {
        assert!(
            row.operation.contains("10000-byte payload"),
            "{}",
            row.operation
        );
        if let Some(sent) = row.bytes_sent {
            assert!(
                (10_000.0..10_200.0).contains(&sent),
                "{} sent {sent}",
                row.key
            );
        }
    }
    let text = render(&report, Format::Table, true);
    let json: Value = serde_json::from_str(&render(&report, Format::Json, false)).unwrap();
    assert!(
        json["notes"].to_string().contains("REST rows left out"),
        "{text}"
    );
    // The largest allowed payload goes through the embedded servers too.
    let big = run(&[
        "--protocols",
        "socket,grpc,ws",
        "--client",
        "lean",
        "--payload",
        "1MB",
        "--iterations",
        "2",
        "--warmup",
        "1",
        "--rounds",
        "1",
    ])
    .unwrap();
    assert_clean(&big, &["floor", "socket", "grpc-hyper", "ws"]);
}

/// A fresh folder for one test's files.
/// Reads a `.hlog` file back into the histograms it holds.
fn read_interval_log(path: &std::path::Path) -> Vec<hdrhistogram::Histogram<u64>> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    let bytes = std::fs::read(path).unwrap();
    IntervalLogIterator::new(&bytes)
        .filter_map(|entry| match entry.unwrap() {
            LogEntry::Interval(interval) => Some(interval),
            _ => None,
        })
        .map(|interval| {
            let encoded = base64::engine::general_purpose::STANDARD
                .decode(interval.encoded_histogram())
                .unwrap();
            Deserializer::new()
                .deserialize(&mut std::io::Cursor::new(encoded))
                .unwrap()
        })
        .collect()
}

#[test]
fn a_saved_baseline_flags_a_planted_regression_and_histograms_read_back() {
    let dir = scratch("baseline");
    let (base, first, second, histograms) = (
        dir.join("base.json"),
        dir.join("first.json"),
        dir.join("second.json"),
        dir.join("histograms"),
    );
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    let common = [
        "--protocols",
        "socket",
        "--iterations",
        "400",
        "--warmup",
        "5",
        "--rounds",
        "4",
        "--format",
        "json",
    ];
    let mut args = common.to_vec();
    let (base_s, first_s, hist_s) = (path(&base), path(&first), path(&histograms));
    args.extend([
        "--save-baseline",
        &base_s,
        "--histograms",
        &hist_s,
        "-o",
        &first_s,
    ]);
    let status = benchmark::run(cli(&args)).unwrap();
    assert_eq!(status, std::process::ExitCode::SUCCESS);
    let report = read_json(&first);
    assert_eq!(read_json(&base), report);

    // Every row's histogram, read back by the hdrhistogram crate, holds its requests
    // and gives its percentiles.
    for row in report["results"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let logged = read_interval_log(&histograms.join(format!("{key}.hlog")));
        assert_eq!(logged.len(), 1, "{key}");
        assert_eq!(logged[0].len(), row["requests"].as_u64().unwrap(), "{key}");
        let p50_us = logged[0].value_at_quantile(0.5) as f64 / 1e3;
        assert!(
            (p50_us - row["p50_us"].as_f64().unwrap()).abs() < 0.01,
            "{key}"
        );
        let hgrm = std::fs::read_to_string(histograms.join(format!("{key}.hgrm"))).unwrap();
        assert!(hgrm.contains(&format!("Total count    = {:12}", logged[0].len())));
    }

    // Plant a regression: the saved socket row was ten times as fast as it really was
    // (far past a shared machine's noise).
    let mut planted = read_json(&base);
    for row in planted["results"].as_array_mut().unwrap() {
        if row["key"] != "socket" {
            continue;
        }
        let scale = |value: &mut Value, by: f64| {
            if let Some(v) = value.as_f64() {
                *value = Value::from(v * by);
            }
        };
        scale(&mut row["p50_us"], 0.1);
        scale(&mut row["p99_us"], 0.1);
        scale(&mut row["throughput_rps"], 10.0);
        for round in row["rounds"].as_array_mut().unwrap() {
            scale(&mut round["p50_us"], 0.1);
            scale(&mut round["p99_us"], 0.1);
            scale(&mut round["throughput_rps"], 10.0);
        }
    }
    std::fs::write(&base, planted.to_string()).unwrap();
    let second_s = path(&second);
    let mut args = common.to_vec();
    args.extend(["--baseline", &base_s, "--fail-on", "25", "-o", &second_s]);
    let status = benchmark::run(cli(&args)).unwrap();
    assert_eq!(status, std::process::ExitCode::from(3));
    let changes = read_json(&second)["comparison"]["changes"].clone();
    let socket_p50 = changes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "socket" && c["figure"] == "p50")
        .unwrap();
    assert_eq!(socket_p50["regression"], true, "{socket_p50}");
    assert!(socket_p50["percent"].as_f64().unwrap() > 25.0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_runs_one_whole_measurement_per_value_and_sums_them_up() {
    let dir = scratch("sweep");
    let (json, csv, html) = (
        dir.join("sweep.json"),
        dir.join("sweep.csv"),
        dir.join("sweep.html"),
    );
    let common = [
        "--protocols",
        "socket",
        "--iterations",
        "100",
        "--warmup",
        "2",
        "--sweep",
        "concurrency=1,3",
    ];
    for (format, file) in [("json", &json), ("csv", &csv), ("html", &html)] {
        let mut args = common.to_vec();
        let file = file.to_str().unwrap();
        args.extend(["--format", format, "-o", file]);
        assert_eq!(
            benchmark::run(cli(&args)).unwrap(),
            std::process::ExitCode::SUCCESS
        );
    }
    let report = read_json(&json);
    assert_eq!(report["sweep"]["parameter"], "concurrency");
    let points = report["points"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for (point, clients) in points.iter().zip([1u64, 3]) {
        assert_eq!(point["value"].as_f64(), Some(clients as f64));
        assert_eq!(point["report"]["settings"]["concurrency"], clients);
        for row in point["report"]["results"].as_array().unwrap() {
            assert_eq!(row["requests"].as_u64(), Some(100 * clients), "{row}");
        }
    }
    // The summary: every row of every point, in order, with its figures.
    let summary = report["summary"].as_array().unwrap();
    let keys: Vec<(f64, &str)> = summary
        .iter()
        .map(|r| (r["value"].as_f64().unwrap(), r["key"].as_str().unwrap()))
        .collect();
    assert_eq!(
        keys,
        [
            (1.0, "floor"),
            (1.0, "socket"),
            (3.0, "floor"),
            (3.0, "socket")
        ]
    );
    assert_eq!(
        summary[3]["p50_us"],
        points[1]["report"]["results"][1]["p50_us"]
    );
    let csv = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 5, "{csv}");
    assert!(lines[0].starts_with("concurrency,key,requests"), "{csv}");
    assert!(lines[4].starts_with("3,socket,300,0,"), "{csv}");
    // The page: a line per row against the swept value, then each point's spectrum.
    let html = std::fs::read_to_string(&html).unwrap();
    assert_self_contained(&html);
    let charts = charts_of(&html);
    let ids: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "throughput-vs-concurrency",
            "p50-vs-concurrency",
            "p99-vs-concurrency",
            "spectrum-concurrency-1",
            "spectrum-concurrency-3"
        ]
    );
    for (id, series, lines) in &charts {
        assert_eq!(series, &["floor", "socket"], "{id}");
        assert_eq!(*lines, 2, "{id}");
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // A rate sweep needs a duration; the run says so before measuring anything.
    let error = benchmark::run(cli(&["--sweep", "rate=100,200"])).unwrap_err();
    assert!(error.to_string().contains("needs --duration"), "{error}");
}

/// Each chart of a page: its id, the row keys it says it draws, and the lines its SVG
/// really draws as series (the only 2 px lines).
fn charts_of(html: &str) -> Vec<(String, Vec<String>, usize)> {
    html.split("<figure class=\"chart\"")
        .skip(1)
        .map(|figure| {
            let attribute = |name: &str| {
                let start = figure.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                figure[start..].split('"').next().unwrap().to_owned()
            };
            let svg = &figure[..figure.find("</svg>").unwrap()];
            let lines = svg
                .lines()
                .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""))
                .count();
            let series = attribute("data-series")
                .split(' ')
                .map(str::to_owned)
                .collect();
            (attribute("data-chart"), series, lines)
        })
        .collect()
}

/// Nothing on the page is fetched from anywhere: no script, stylesheet, image, font or
/// frame by address.
fn assert_self_contained(html: &str) {
    for reference in [
        "src=", "href=", "<link", "@import", "url(", "<script", "<iframe",
    ] {
        assert!(!html.contains(reference), "the page holds {reference}");
    }
}

#[test]
fn the_html_report_is_self_contained_draws_every_row_and_matches_the_json() {
    let dir = scratch("html");
    let (page, json, plots) = (
        dir.join("report.html"),
        dir.join("report.json"),
        dir.join("plots"),
    );
    let (page_s, json_s, plots_s) = (
        page.to_str().unwrap().to_owned(),
        json.to_str().unwrap().to_owned(),
        plots.to_str().unwrap().to_owned(),
    );
    let args = [
        "--protocols",
        "socket,rest,grpc",
        "--client",
        "lean",
        "--concurrency",
        "2",
        "--duration",
        "1s",
        "--rounds",
        "2",
        "--warmup",
        "5",
        "--format",
        "html",
        "-o",
        &page_s,
        "--save-baseline",
        &json_s,
        "--plots",
        &plots_s,
    ];
    assert_eq!(
        benchmark::run(cli(&args)).unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let html = std::fs::read_to_string(&page).unwrap();
    let report = read_json(&json);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_self_contained(&html);
    let keys: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["floor", "socket", "rest-hyper", "grpc-hyper"]);

    // One chart per plot, each with one line per row; the histogram only when every
    // row has 500 requests (how many a 1 s row gets depends on the machine).
    let charts = charts_of(&html);
    let ids: Vec<&str> = charts.iter().map(|c| c.0.as_str()).collect();
    let histogram = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["requests"].as_u64().unwrap() >= 500);
    let mut expected = vec!["spectrum"];
    if histogram {
        expected.push("histogram");
    }
    expected.extend(["throughput-over-time", "p50-over-time", "p99-over-time"]);
    assert_eq!(ids, expected);
    for (id, series, lines) in &charts {
        assert_eq!(series, &keys, "{id}");
        assert_eq!(*lines, keys.len(), "{id}");
        let svg = std::fs::read_to_string(plots.join(format!("{id}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{id}");
    }

    // The answer first: a verdict naming the best row, above everything else.
    let verdict_at = html.find("<p class=\"verdict\">").unwrap();
    assert!(verdict_at < html.find("<ul class=\"context\">").unwrap());
    let best = report["ranking"][0]["label"].as_str().unwrap();
    assert!(html[verdict_at..].contains(best));

    // The ranking's chart: a bar per ranked row in the ranking's order, a whisker
    // wherever the JSON has an interval.
    let bars = &html[html.find("<figure class=\"bars\"").unwrap()..];
    let bars = &bars[..bars.find("</svg>").unwrap()];
    let ranked: Vec<&Value> = report["ranking"].as_array().unwrap().iter().collect();
    let drawn: Vec<&str> = bars
        .split("<g data-key=\"")
        .skip(1)
        .map(|g| g.split('"').next().unwrap())
        .collect();
    let order: Vec<&str> = ranked.iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(drawn, order);
    let whiskers = ranked.iter().filter(|r| r["x_floor_lo"].is_f64()).count();
    assert_eq!(bars.matches("<path d=\"M").count(), whiskers);
    assert!(bars.contains("floor = 1"));

    // Every number of the table is the JSON report's.
    for row in report["results"].as_array().unwrap() {
        let key = row["key"].as_str().unwrap();
        let start = html.find(&format!("<tr data-key=\"{key}\">")).unwrap();
        let cells = &html[start..start + html[start..].find("</tr>").unwrap()];
        let cell = |field: &str| -> String {
            let at = cells.find(&format!("data-field=\"{field}\"")).unwrap();
            let value = &cells[at..];
            let from = value.find("data-value=\"").unwrap() + 12;
            value[from..].split('"').next().unwrap().to_owned()
        };
        assert_eq!(cell("requests"), row["requests"].to_string(), "{key}");
        for field in ["p50_us", "p99_us", "throughput_rps", "x_floor"] {
            let shown: f64 = cell(field).parse().unwrap();
            let json = row[field].as_f64().unwrap();
            // As the CSV writes them: three decimals, one for throughput.
            assert!(
                (shown - json).abs() <= 0.05,
                "{key} {field}: {shown} vs {json}"
            );
        }
    }

    // The table that shows first fits the page: the ranking's figure and the CPU
    // columns in it, every other column behind a toggle, with the same rows.
    let first = &html[html.find("<table class=\"results\">").unwrap()..];
    let first = &first[..first.find("</table>").unwrap()];
    let every = &html[html.find("<details class=\"columns\">").unwrap()..];
    let every = &every[..every.find("</details>").unwrap()];
    let header = |table: &str| {
        table[..table.find("</tr>").unwrap()]
            .matches("<th>")
            .count()
    };
    assert!(header(first) <= 11, "{} columns first", header(first));
    assert!(header(every) > header(first));
    for field in ["x_floor", "server_cpu_us", "p50_us"] {
        assert!(
            first.contains(&format!("data-field=\"{field}\"")),
            "{field}"
        );
    }
    for key in &keys {
        assert!(first.contains(&format!("<tr data-key=\"{key}\">")), "{key}");
        assert!(every.contains(&format!("<tr data-key=\"{key}\">")), "{key}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_raw_client_runs_clean_on_every_protocol_it_speaks() {
    let report = run(&[
        "--protocols",
        "rest,rest-h2,grpc,ws",
        "--client",
        "raw",
        "--iterations",
        "30",
        "--concurrency",
        "2",
    ])
    .unwrap();
    // The WebSocket lab's own client serves every client choice, beside the raw one.
    assert_clean(
        &report,
        &[
            "floor",
            "rest-raw",
            "rest-h2-raw",
            "grpc-raw",
            "ws",
            "ws-raw",
        ],
    );
    for row in report.results.iter().filter(|r| r.client == "raw") {
        // One connection per client, bytes counted on it.
        assert_eq!(row.connections_opened, Some(2), "{}", row.key);
        assert!(row.bytes_received.unwrap() > 0.0);
    }
    // After the first request, an HTTP/2 request's headers are a byte each.
    let h2 = &report.results[2];
    assert!(h2.bytes_sent.unwrap() < 20.0, "{:?}", h2.bytes_sent);
    // Other workloads leave the raw rows out.
    let list = run(&[
        "--protocols",
        "rest",
        "--client",
        "raw",
        "--workload",
        "list",
        "--iterations",
        "5",
    ])
    .unwrap();
    assert_eq!(list.results.len(), 1, "the floor alone");
}

#[test]
fn rows_that_only_echoed_are_listed_apart_from_the_ranking() {
    let report = run(&[
        "--protocols",
        "socket,rest,ws",
        "--workload",
        "create",
        "--iterations",
        "12",
        "--warmup",
        "2",
    ])
    .unwrap();
    assert_clean(&report, &["floor", "socket", "rest-reqwest", "ws"]);
    let ranked: Vec<&str> = report.ranking.iter().map(|r| r.key).collect();
    assert_eq!(ranked, ["rest-reqwest"], "only the row that created users");
    // Still measured and shown against the floor.
    assert!(report.results[1].x_floor.is_some());
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "Socket and WebSocket: only an echo there (no users to create), so listed apart"
        )),
        "{:?}",
        report.notes
    );
}

/// `--tls --auth`: every row, the floor and the raw rows included, runs clean over TLS
/// against servers that require the token on writes (the create workload is all
/// writes), and the bytes are counted below TLS: each request pays at least one
/// record's header, tag and content type (22 bytes) beyond cleartext's, and each reply
/// comes back larger (not by a fixed amount: a server's HTTP/2 housekeeping frames come
/// and go with timing, in cleartext as under TLS).
#[test]
fn every_row_runs_over_tls_with_the_token_and_pays_for_records() {
    let rows = [
        "floor",
        "socket",
        "rest-hyper",
        "rest-raw",
        "rest-h2-hyper",
        "rest-h2-raw",
        "grpc-hyper",
        "grpc-raw",
        "ws",
        "ws-raw",
    ];
    let args = |tls: bool| {
        let mut args = vec![
            "--protocols",
            "socket,rest,rest-h2,grpc,ws",
            "--client",
            "all",
            "--iterations",
            "10",
            "--warmup",
            "2",
        ];
        if tls {
            args.extend(["--tls", "--auth"]);
        }
        args
    };
    let all_rows = |report: &Report| -> Vec<&str> {
        report
            .results
            .iter()
            .map(|r| r.key)
            .filter(|k| !k.ends_with("reqwest") && *k != "grpc-channel")
            .collect()
    };
    let clear = run(&args(false)).unwrap();
    let secure = run(&args(true)).unwrap();
    assert_eq!(all_rows(&secure), rows);
    for report in [&clear, &secure] {
        for row in &report.results {
            assert_eq!(row.errors, 0, "{} errors: {:?}", row.key, row.first_errors);
        }
    }
    for key in rows {
        let row = |report: &Report| {
            let row = report.results.iter().find(|r| r.key == key).unwrap();
            (row.bytes_sent.unwrap(), row.bytes_received.unwrap())
        };
        let ((sent, received), (tls_sent, tls_received)) = (row(&clear), row(&secure));
        assert!(tls_sent >= sent + 22.0, "{key}: {tls_sent} vs {sent}");
        assert!(
            tls_received > received,
            "{key}: {tls_received} vs {received}"
        );
    }
    let rendered = render(&secure, Format::Markdown, false);
    assert!(
        rendered.contains("TLS 1.3 (sessions resumed), bearer token"),
        "{rendered}"
    );

    let writes = run(&[
        "--protocols",
        "rest,grpc",
        "--client",
        "both",
        "--workload",
        "create",
        "--iterations",
        "10",
        "--warmup",
        "2",
        "--tls",
        "--auth",
    ])
    .unwrap();
    assert_clean(
        &writes,
        &[
            "floor",
            "rest-reqwest",
            "rest-hyper",
            "grpc-channel",
            "grpc-hyper",
        ],
    );
    assert!(writes.results.iter().all(|r| r.users_left == 0));
}

/// `--tls --connection new`: a new connection's time splits into TCP connect, the TLS
/// handshake and the rest, in every format; with resumption on, the measured
/// connections resume the warm-up's session (no certificate comes back: fewer bytes
/// received); with it off, every handshake is full.
#[test]
fn a_new_tls_connection_splits_and_resumes_unless_told_not_to() {
    let args = |resumption: &'static str| {
        vec![
            "--protocols",
            "socket,grpc",
            "--client",
            "lean",
            "--connection",
            "new",
            "--iterations",
            "10",
            "--warmup",
            "2",
            "--tls",
            "--tls-resumption",
            resumption,
        ]
    };
    let resumed = run(&args("on")).unwrap();
    let full = run(&args("off")).unwrap();
    assert_clean(&resumed, &["floor", "socket", "grpc-hyper"]);
    assert_clean(&full, &["floor", "socket", "grpc-hyper"]);
    for (on, off) in resumed.results.iter().zip(&full.results) {
        let (split_on, split_off) = (
            on.new_connection.as_ref().unwrap(),
            off.new_connection.as_ref().unwrap(),
        );
        assert_eq!(split_on.connections, on.requests, "{}", on.key);
        assert_eq!(split_on.tls_resumed, split_on.connections, "{}", on.key);
        assert_eq!(
            (split_off.tls_full, split_off.tls_resumed),
            (off.requests, 0)
        );
        assert!(split_on.tls_resumed_us.is_some() && split_off.tls_full_us.is_some());
        assert!(split_on.first_reply_us.is_some() && split_on.tcp_connect_us > 0.0);
        // The server's certificate chain comes back only in a full handshake.
        let (on_in, off_in) = (on.bytes_received.unwrap(), off.bytes_received.unwrap());
        assert!(on_in + 300.0 < off_in, "{}: {on_in} vs {off_in}", on.key);
    }
    let json: Value = serde_json::from_str(&render(&resumed, Format::Json, false)).unwrap();
    let split = &json["results"][1]["new_connection"];
    assert!(split["tls_resumed"].as_u64().unwrap() > 0, "{split}");
    let csv = render(&resumed, Format::Csv, false);
    assert!(
        csv.lines().next().unwrap().contains("tls_handshake_us"),
        "{csv}"
    );
    let table = render(&resumed, Format::Table, false);
    assert!(
        table.contains("handshake") && table.contains("first"),
        "{table}"
    );
    let html = render(&resumed, Format::Html, false);
    assert!(
        html.contains("tls_full_resumed"),
        "html has the split's columns"
    );
    // Kept connections open nothing while measuring: no split, no such columns.
    let kept = run(&["--protocols", "socket", "--iterations", "5", "--tls"]).unwrap();
    assert!(kept.results.iter().all(|r| r.new_connection.is_none()));
    assert!(!render(&kept, Format::Table, false).contains("handshake"));
}

#[test]
fn tls_against_a_given_address_is_refused_with_what_to_do() {
    let error = run(&[
        "--tls",
        "--socket-url",
        "127.0.0.1:9",
        "--protocols",
        "socket",
    ])
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("--tls and --auth measure embedded servers"),
        "{error}"
    );
}

/// `--sweep tls=off,on`: the TLS tax in one run, a cleartext point and a TLS one, the
/// summary saying which is which.
#[test]
fn a_tls_sweep_measures_cleartext_then_tls() {
    let dir = scratch("tls-sweep");
    let (json, table) = (dir.join("tls.json"), dir.join("tls.txt"));
    for (format, file) in [("json", &json), ("table", &table)] {
        let args = [
            "--protocols",
            "socket",
            "--iterations",
            "10",
            "--warmup",
            "2",
            "--sweep",
            "tls=off,on",
            "--format",
            format,
            "-o",
            file.to_str().unwrap(),
        ];
        assert_eq!(
            benchmark::run(cli(&args)).unwrap(),
            std::process::ExitCode::SUCCESS
        );
    }
    let report = read_json(&json);
    let points = report["points"].as_array().unwrap();
    let tls: Vec<&Value> = points
        .iter()
        .map(|p| &p["report"]["settings"]["tls"])
        .collect();
    assert_eq!(tls, [&Value::Bool(false), &Value::Bool(true)]);
    let sent = |point: &Value| {
        point["report"]["results"][1]["bytes_sent"]
            .as_f64()
            .unwrap()
    };
    assert!(sent(&points[1]) >= sent(&points[0]) + 22.0);
    let text = std::fs::read_to_string(&table).unwrap();
    assert!(
        text.contains("tls = on")
            && text
                .lines()
                .any(|l| l.trim_start().starts_with("off  Socket")),
        "{text}"
    );
}
