//! A run sharded over separate processes (`--shard I/N`) against one external server,
//! then `benchmark merge`: counts add up, the merged percentiles are those of the
//! shards' histograms added by hand, the open loop's schedule is the whole run's; and
//! shards that do not belong together are refused in one line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

use base64::Engine as _;
use common::{read_json, scratch, socket_server};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::Deserializer;
use serde_json::Value;

fn benchmark(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_benchmark"));
    command.args(args).env_remove("JOB_COMPLETION_INDEX");
    command
}

fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A shard's run finished and wrote its report: status 0, or 4 when a row's figures
/// are not a result (an open loop on a machine too busy to keep its schedule, which
/// the report says; the counts this test checks are there either way).
fn reported(output: &Output) {
    assert!(
        matches!(output.status.code(), Some(0 | 4)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn histogram(text: &str) -> Histogram<u64> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap();
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

fn row<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap()
}

/// Runs shard `index` of `count` with `common` options, writing its JSON to `dir`.
fn shard(
    dir: &Path,
    common: &[&str],
    index: usize,
    count: usize,
) -> (std::process::Child, PathBuf) {
    let file = dir.join(format!("shard-{index}.json"));
    let shard = format!("{index}/{count}");
    let mut args = common.to_vec();
    args.extend([
        "--shard",
        &shard,
        "--format",
        "json",
        "-o",
        file.to_str().unwrap(),
    ]);
    let child = benchmark(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    (child, file)
}

#[test]
fn shards_run_apart_and_merge_into_the_whole_run() {
    let (addr, _server) = socket_server();
    let dir = scratch("shards");
    // An open loop of 200 requests/s over 4 clients for 1 s per row: two shards of two
    // clients each, every client on the whole run's schedule.
    let common = [
        "--protocols",
        "socket",
        "--socket-url",
        &addr,
        "--concurrency",
        "4",
        "--rate",
        "200",
        "--duration",
        "1s",
        "--rounds",
        "2",
        "--warmup",
        "5",
    ];
    let running: Vec<_> = (0..2).map(|i| shard(&dir, &common, i, 2)).collect();
    let mut files = Vec::new();
    for (child, file) in running {
        reported(&child.wait_with_output().unwrap());
        files.push(file);
    }
    let shards: Vec<Value> = files.iter().map(|f| read_json(f)).collect();
    for (index, shard) in shards.iter().enumerate() {
        assert_eq!(shard["shard"]["index"], index);
        assert_eq!(shard["shard"]["clients"], 2);
    }

    let merged_file = dir.join("merged.json");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--format", "json", "-o", merged_file.to_str().unwrap()]);
    reported(&benchmark(&args).output().unwrap());
    let merged = read_json(&merged_file);
    assert!(merged.get("shard").is_none(), "a merged report is no shard");
    assert_eq!(merged["settings"]["concurrency"], 4);
    let notes = merged["notes"].to_string();
    assert!(notes.contains("merged from 2 shards"), "{notes}");

    let socket = row(&merged, "socket");
    // The merged count is the shards' sum.
    let counts: Vec<u64> = shards
        .iter()
        .map(|s| row(s, "socket")["requests"].as_u64().unwrap())
        .collect();
    assert_eq!(
        socket["requests"].as_u64().unwrap(),
        counts.iter().sum::<u64>()
    );
    assert_eq!(socket["errors"], 0, "{}", socket["first_errors"]);
    // Its percentiles are those of the shards' histograms added by hand.
    let mut by_hand: Option<Histogram<u64>> = None;
    for shard in &shards {
        let part = shard["shard"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "socket")
            .unwrap();
        let h = histogram(part["histogram"].as_str().unwrap());
        match &mut by_hand {
            Some(total) => total.add(&h).unwrap(),
            None => by_hand = Some(h),
        }
    }
    let by_hand = by_hand.unwrap();
    assert_eq!(by_hand.len(), socket["requests"].as_u64().unwrap());
    for (q, field) in [(0.5, "p50_us"), (0.99, "p99_us")] {
        let expected = by_hand.value_at_quantile(q) as f64 / 1e3;
        assert_eq!(socket[field].as_f64(), Some(expected), "{field}");
    }
    // The open loop's schedule is the whole run's: 200 requests due in the second,
    // give or take one per client at each round's edge (4 clients, 2 rounds), however
    // the shards split them.
    let sent = socket["requests"].as_u64().unwrap() + socket["errors"].as_u64().unwrap();
    assert!(sent.abs_diff(200) <= 8, "{sent} requests sent, 200 due");
    for count in counts {
        assert!(count.abs_diff(100) <= 4, "a shard sent {count} of its 100");
    }

    // Shards that began a second apart (here: one's spans moved by hand) did not
    // measure the same seconds: the merge says so, on standard error and in the notes.
    let mut late = shards[1].clone();
    for part in late["shard"]["rows"].as_array_mut().unwrap() {
        for round in part["rounds"].as_array_mut().unwrap() {
            for field in ["start_unix_s", "end_unix_s"] {
                round[field] = (round[field].as_f64().unwrap() + 1.0).into();
            }
        }
    }
    let late_file = dir.join("late.json");
    std::fs::write(&late_file, late.to_string()).unwrap();
    let skewed = dir.join("skewed.json");
    let output = benchmark(&[
        "merge",
        files[0].to_str().unwrap(),
        late_file.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        skewed.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    reported(&output);
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("did not measure the same seconds"), "{said}");
    assert!(
        read_json(&skewed)["notes"]
            .to_string()
            .contains("--start-at")
    );

    // Every format renders the merged run, HTML included.
    let html = dir.join("merged.html");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["--format", "html", "-o", html.to_str().unwrap()]);
    reported(&benchmark(&args).output().unwrap());
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shards_that_do_not_belong_together_are_refused() {
    let (addr, _server) = socket_server();
    let dir = scratch("mismatched-shards");
    let run = |index: usize, iterations: &str| {
        let common = [
            "--protocols",
            "socket",
            "--socket-url",
            &addr,
            "--concurrency",
            "2",
            "--iterations",
            iterations,
            "--warmup",
            "1",
            "--rounds",
            "1",
        ];
        let (child, file) = shard(&dir, &common, index, 2);
        succeeded(&child.wait_with_output().unwrap());
        file
    };
    let first = run(0, "5");
    let other = run(1, "6");
    let merge = |files: &[&Path]| {
        let mut args = vec!["merge".to_owned()];
        args.extend(files.iter().map(|f| f.display().to_string()));
        let output = benchmark(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = merge(&[&first, &other]);
    assert!(
        said.contains("the shards differ in settings: iterations is 5 in")
            && said.contains("and 6 in"),
        "{said}"
    );
    assert_eq!(said.trim().lines().count(), 1, "{said}");
    // Another build's shard.
    let mut json = read_json(&first);
    json["shard"]["index"] = 1.into();
    json["shard"]["version"] = "0.0.1 (another build)".into();
    let foreign = dir.join("foreign.json");
    std::fs::write(&foreign, json.to_string()).unwrap();
    let said = merge(&[&first, &foreign]);
    assert!(said.contains("the shards differ in version"), "{said}");
    // One shard alone is not the run.
    let said = merge(&[&first]);
    assert!(said.contains("shard 1 of 2 is missing"), "{said}");
    // Nor is a shard of a sweep, which is many runs.
    let output = benchmark(&["--shard", "0/2", "--sweep", "concurrency=2,4"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("a sweep is many runs"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_start_more_than_a_day_away_is_refused() {
    // 2096: a mistyped year, most likely.
    let output = benchmark(&["--protocols", "socket", "--start-at", "4000000000"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("--start-at is") && said.contains("24 hours"),
        "{said}"
    );
}
