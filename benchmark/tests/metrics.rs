//! External servers' CPU read from their Prometheus metrics: found at a REST server's
//! own `/metrics`, given by `--server-metrics` for a gRPC server's `--metrics-addr`,
//! and a given endpoint that reports nothing refused before anything is measured.

mod common;

use benchmark::render;
use benchmark::settings::Format;
use common::run;
use lab_kit::metrics::ServerMetrics;

/// Binds `127.0.0.1:0` on `runtime`.
fn listener(runtime: &tokio::runtime::Runtime) -> (tokio::net::TcpListener, String) {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

#[test]
fn external_servers_cpu_comes_from_their_metrics() {
    lab_kit::tls::install_default_provider();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let never = std::future::pending::<()>;
    // REST with --metrics: found at its own /metrics.
    let (rest, rest_addr) = listener(&runtime);
    let rest_config = rest_lab::Config {
        metrics: Some(ServerMetrics::new()),
        ..rest_lab::Config::new(user_store::UserStore::new())
    };
    runtime.spawn(rest_lab::run(rest, rest_config, never()));
    // gRPC with --metrics-addr: its metrics on an address of their own.
    let (grpc, grpc_addr) = listener(&runtime);
    let (exposition, metrics_addr) = listener(&runtime);
    let metrics = ServerMetrics::new();
    let mut grpc_config = grpc_lab::Config::new(user_store::UserStore::new());
    grpc_config.policy.metrics = Some(grpc_lab::server::metrics(metrics.clone()));
    runtime.spawn(grpc_lab::run(grpc, grpc_config, never()));
    runtime.spawn(lab_kit::exposition::serve(exposition, metrics, never()));

    let given = format!("grpc=http://{metrics_addr}/metrics");
    let report = run(&[
        "--protocols",
        "rest,grpc",
        "--client",
        "lean",
        "--rest-url",
        &format!("http://{rest_addr}"),
        "--grpc-url",
        &format!("http://{grpc_addr}"),
        "--server-metrics",
        &given,
        "--iterations",
        "20",
        "--warmup",
        "2",
        "--rounds",
        "2",
    ])
    .unwrap();
    for (key, endpoint) in [("rest-hyper", &rest_addr), ("grpc-hyper", &metrics_addr)] {
        let row = report.results.iter().find(|r| r.key == key).unwrap();
        assert_eq!(row.errors, 0, "{key}: {:?}", row.first_errors);
        assert!(!row.embedded);
        let from = row.server_cpu_from.as_deref().unwrap();
        assert_eq!(from, format!("http://{endpoint}/metrics"), "{key}");
        let cpu = row.server_cpu_us.unwrap();
        assert!(cpu > 0.0, "{key}: {cpu} us a request");
    }
    let table = render(&report, Format::Table, false);
    assert!(
        table.contains(&format!("(CPU from http://{rest_addr}/metrics)")),
        "{table}"
    );
}

#[test]
fn a_given_endpoint_without_the_cpu_time_is_refused() {
    let (socket_addr, _server) = common::socket_server();
    // The socket server's own port speaks no HTTP: nothing to read there.
    let error = run(&[
        "--protocols",
        "socket",
        "--socket-url",
        &socket_addr,
        "--server-metrics",
        &format!("socket={socket_addr}"),
        "--iterations",
        "5",
    ])
    .unwrap_err();
    let said = format!("{error:#}");
    assert!(said.contains("--server-metrics"), "{said}");
    assert!(said.contains("--metrics-addr"), "{said}");
}
