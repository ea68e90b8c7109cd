//! The shape of every output holds: for a fixed set of runs, the JSON report's key
//! paths, the table's and markdown's column headings and the CSV header equal the
//! files in `tests/schema/`. A change to the report's model or columns fails here
//! until those files are changed with it, on purpose.
//!
//! `BLESS=1 cargo test -p benchmark --test schema` writes the files from the current
//! build instead of comparing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use benchmark::Cli;
use clap::Parser;
use serde_json::Value;

/// Every key path of a JSON value: objects by key, arrays as `[]`. A map whose keys
/// are data (error kinds) is empty in a clean run, so it shows only as its own path.
fn key_paths(value: &Value, prefix: &str, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = format!("{prefix}.{key}");
                into.insert(path.clone());
                key_paths(inner, &path, into);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), into);
            }
        }
        _ => {}
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("commlab-schema-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the benchmark with `args`, writing its report to `out`.
fn run_to(args: &[&str], out: &Path) {
    let mut all = vec!["benchmark"];
    all.extend_from_slice(args);
    let out = out.to_str().unwrap().to_owned();
    all.extend(["-o", &out]);
    let status = benchmark::run(Cli::parse_from(all)).unwrap();
    // 4: a row invalid (an open loop a busy machine could not keep on schedule): the
    // report's shape is the same, which is what these tests hold.
    assert!(
        [
            std::process::ExitCode::SUCCESS,
            std::process::ExitCode::from(4)
        ]
        .contains(&status),
        "{args:?}: {status:?}"
    );
}

/// Compares `lines` with `tests/schema/NAME`, or writes them there under `BLESS=1`.
fn hold(name: &str, lines: &[String]) {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schema")
        .join(name);
    let text = lines.join("\n") + "\n";
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (BLESS=1 writes it)", file.display()));
    let want: BTreeSet<&str> = expected.lines().collect();
    let got: BTreeSet<&str> = text.lines().collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name} changed shape: missing {missing:?}, new {extra:?}"
    );
    assert_eq!(text, expected, "{name}: same lines, another order");
}

fn json_keys(path: &Path) -> Vec<String> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut paths = BTreeSet::new();
    key_paths(&value, "", &mut paths);
    paths.into_iter().collect()
}

/// Short runs: every row, in few requests.
const QUICK: [&str; 6] = ["--iterations", "20", "--warmup", "2", "--rounds", "2"];
const EVERY_PROTOCOL: [&str; 4] = [
    "--protocols",
    "socket,rest,rest-h2,grpc,ws",
    "--client",
    "both",
];

fn with(parts: &[&[&str]]) -> Vec<&'static str> {
    parts
        .iter()
        .flat_map(|p| p.iter())
        .map(|s| &*String::leak((*s).to_owned()))
        .collect()
}

#[test]
fn every_format_of_a_closed_loop_run_keeps_its_shape() {
    let dir = scratch("closed");
    let json = dir.join("report.json");
    run_to(
        &with(&[&QUICK, &EVERY_PROTOCOL, &["--format", "json"]]),
        &json,
    );
    hold("default.json.keys", &json_keys(&json));

    // The baseline comparison, against the run just made.
    let compared = dir.join("compared.json");
    let base = json.to_str().unwrap();
    run_to(
        &with(&[
            &QUICK,
            &EVERY_PROTOCOL,
            &["--format", "json", "--baseline", base],
        ]),
        &compared,
    );
    hold("baseline.json.keys", &json_keys(&compared));

    let csv = dir.join("report.csv");
    run_to(
        &with(&[&QUICK, &EVERY_PROTOCOL, &["--format", "csv"]]),
        &csv,
    );
    let header = std::fs::read_to_string(&csv).unwrap();
    hold(
        "default.csv.header",
        &[header.lines().next().unwrap().to_owned()],
    );

    for (format, wide) in [("table", false), ("table", true), ("markdown", false)] {
        let out = dir.join(format!("report.{format}"));
        let mut args = with(&[&QUICK, &["--protocols", "socket", "--format", format]]);
        if wide {
            args.push("--wide");
        }
        run_to(&args, &out);
        let text = std::fs::read_to_string(&out).unwrap();
        // The column headings: the two lines above the first row (table), the line
        // above the alignment row (markdown).
        let lines: Vec<&str> = text.lines().collect();
        let headings: Vec<String> = if format == "table" {
            let first_row = lines.iter().position(|l| l.starts_with("Floor")).unwrap();
            lines[first_row - 2..first_row]
                .iter()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        } else {
            let align = lines.iter().position(|l| l.starts_with("|---")).unwrap();
            vec![lines[align - 1].to_owned()]
        };
        let name = format!("{format}{}.headings", if wide { "-wide" } else { "" });
        hold(&name, &headings);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn duration_open_loop_and_stream_runs_keep_their_json_shape() {
    let dir = scratch("modes");
    let runs: [(&str, Vec<&str>); 3] = [
        (
            "duration.json.keys",
            vec![
                "--protocols",
                "socket",
                "--client",
                "both",
                "--concurrency",
                "4",
                "--duration",
                "1s",
                "--rounds",
                "2",
                "--warmup",
                "2",
            ],
        ),
        (
            "rate.json.keys",
            vec![
                "--protocols",
                "socket",
                "--rate",
                "400",
                "--duration",
                "1s",
                "--rounds",
                "2",
                "--warmup",
                "2",
            ],
        ),
        (
            "stream.json.keys",
            vec![
                "--protocols",
                "socket,rest,grpc,ws",
                "--workload",
                "stream",
                "--list-size",
                "10",
                "--iterations",
                "10",
                "--warmup",
                "2",
                "--rounds",
                "2",
            ],
        ),
    ];
    for (name, mut args) in runs {
        args.extend(["--format", "json"]);
        let out = dir.join(name);
        run_to(&args, &out);
        let mut keys = json_keys(&out);
        if name == "rate.json.keys" {
            // Whether the open loop's row is ranked depends on whether this machine
            // kept its schedule (a late one is invalid and unranked): the ranking's
            // shape is held by the closed-loop runs.
            keys.retain(|k| !k.starts_with(".ranking[]."));
        }
        hold(name, &keys);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sweep_and_the_wire_subcommand_keep_their_json_shape() {
    let dir = scratch("sweep");
    let out = dir.join("sweep.json");
    run_to(
        &with(&[
            &QUICK,
            &[
                "--protocols",
                "socket",
                "--sweep",
                "concurrency=1,2",
                "--format",
                "json",
            ],
        ]),
        &out,
    );
    hold("sweep.json.keys", &json_keys(&out));

    let wire = dir.join("wire.json");
    run_to(&["wire", "--format", "json"], &wire);
    hold("wire.json.keys", &json_keys(&wire));
    std::fs::remove_dir_all(&dir).unwrap();
}
