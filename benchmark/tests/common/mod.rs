//! What the benchmark's test binaries share: a run from command-line words, the checks
//! every clean run passes, scratch folders, JSON files, and a socket lab server on a
//! runtime of its own.

#![allow(dead_code, reason = "each test binary uses its own part")]

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use benchmark::model::Report;
use benchmark::{Cli, control_runtime, execute};
use clap::Parser;
use serde_json::Value;

/// The command line `benchmark ARGS...`.
pub(crate) fn cli(args: &[&str]) -> Cli {
    let mut all = vec!["benchmark"];
    all.extend_from_slice(args);
    Cli::parse_from(all)
}

/// Runs `benchmark ARGS...` in this process and returns its report.
pub(crate) fn run(args: &[&str]) -> anyhow::Result<Report> {
    let control = control_runtime()?;
    execute(
        &cli(args).settings,
        &control,
        &Arc::new(AtomicBool::new(false)),
    )
}

/// The report has exactly the rows `keys`, in order, each complete, with requests and
/// no errors.
pub(crate) fn assert_clean(report: &Report, keys: &[&str]) {
    let names: Vec<_> = report.results.iter().map(|r| r.key).collect();
    assert_eq!(names, keys);
    for row in &report.results {
        assert_eq!(row.errors, 0, "{} errors: {:?}", row.key, row.first_errors);
        assert!(row.requests > 0, "{} measured nothing", row.key);
        assert!(row.complete);
    }
}

/// An empty folder of this test process's own.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("commlab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A JSON file.
pub(crate) fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A socket lab server on `127.0.0.1:0`, on a runtime the caller keeps alive.
pub(crate) fn socket_server() -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    runtime.spawn(socket_lab::run(
        listener,
        socket_lab::ServerConfig::default(),
        std::future::pending::<()>(),
    ));
    (addr, runtime)
}
