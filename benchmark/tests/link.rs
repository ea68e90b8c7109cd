//! The emulated link against the physics it stands for: round trips, connection
//! set-up and rate, asserted as ratios to the link's own figures.
//!
//! These tests measure time, so they run one at a time and apart from the rest of the
//! suite (a test binary of their own; cargo runs binaries one after another): on two
//! busy cores a debug build's thread wake-ups would otherwise land in the round trips.

mod common;

use std::sync::{Mutex, MutexGuard};

use benchmark::model::Report;
use benchmark::render;
use benchmark::settings::Format;
use common::{assert_clean, cli, read_json, run, scratch};

/// Held by each test for its whole run, so no two measure at once.
fn alone() -> MutexGuard<'static, ()> {
    static ALONE: Mutex<()> = Mutex::new(());
    ALONE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `--link rtt=20ms`: every request of a kept connection takes one round trip more
/// than on loopback (the floor's p50 within 10% of 20 ms plus its loopback p50), and
/// the header says which link.
#[test]
fn a_link_adds_its_round_trip_to_every_request() {
    let _alone = alone();
    let common = [
        "--protocols",
        "socket",
        "--iterations",
        "10",
        "--warmup",
        "2",
        "--rounds",
        "2",
    ];
    let loopback = run(&common).unwrap();
    let mut args = common.to_vec();
    args.extend(["--link", "rtt=20ms"]);
    let linked = run(&args).unwrap();
    assert_clean(&linked, &["floor", "socket"]);
    let (base, over) = (
        loopback.results[0].p50_us.unwrap(),
        linked.results[0].p50_us.unwrap(),
    );
    let expected = 20_000.0 + base;
    assert!(
        (over / expected - 1.0).abs() < 0.10,
        "{over} us against {expected}"
    );
    let trips = linked.results[0].round_trips.unwrap();
    assert!((0.95..1.15).contains(&trips), "{trips}");
    assert!(render(&linked, Format::Markdown, false).contains("link rtt 20 ms"));
    assert!(loopback.results[0].round_trips.is_none());
    // The notes say what the emulation leaves out; without a link there is no such note.
    let said = |report: &Report| report.notes.iter().any(|n| n.contains("slow start"));
    assert!(said(&linked) && !said(&loopback), "{:?}", linked.notes);
    let tally = linked.link_tally.unwrap();
    assert!(tally.chunks > 0 && tally.held == 0, "{tally:?}");
    assert!(loopback.link_tally.is_none());
}

/// `--link rtt=20ms --connection new`: a new connection's request takes the round trips
/// its protocol needs: the socket lab two (TCP's handshake, the request), the WebSocket
/// three (TCP, the upgrade, the message), each within 15%; the TCP connect is one.
#[test]
fn a_new_connection_over_a_link_takes_the_round_trips_its_protocol_needs() {
    let _alone = alone();
    let report = run(&[
        "--protocols",
        "socket,ws",
        "--connection",
        "new",
        "--iterations",
        "10",
        "--warmup",
        "2",
        "--rounds",
        "2",
        "--link",
        "rtt=20ms",
    ])
    .unwrap();
    assert_clean(&report, &["floor", "socket", "ws"]);
    for (key, trips) in [("floor", 2.0), ("socket", 2.0), ("ws", 3.0)] {
        let row = report.results.iter().find(|r| r.key == key).unwrap();
        let measured = row.round_trips.unwrap();
        assert!(
            (measured / trips - 1.0).abs() < 0.15,
            "{key}: {measured} round trips"
        );
        let split = row.new_connection.as_ref().unwrap();
        let connect = split.tcp_connect_us;
        assert!(
            (connect / 20_000.0 - 1.0).abs() < 0.15,
            "{key}: connect {connect} us"
        );
        // The split in round trips: one for TCP, the rest for the protocol's reply.
        let connect = split.tcp_connect_rtts.unwrap();
        assert!(
            (connect - 1.0).abs() < 0.15,
            "{key}: connect {connect} RTTs"
        );
        // The same slack as the whole (15% of its round trips): what a busy machine
        // adds to a request lands in the reply's part.
        let reply = split.first_reply_rtts.unwrap();
        assert!(
            (reply - (trips - 1.0)).abs() < 0.15 * trips,
            "{key}: first reply {reply} RTTs"
        );
    }
    let text = render(&report, Format::Table, false);
    assert!(text.contains("connect") && text.contains("RTTs"), "{text}");
}

/// `--sweep rtt=...`: one run per round trip, each row's p50 growing by the round
/// trip's growth, and the page charts round trips against it.
#[test]
fn a_sweep_over_the_links_round_trip_charts_round_trips_against_it() {
    let _alone = alone();
    let dir = scratch("sweep-rtt");
    let json = dir.join("sweep.json");
    let html = dir.join("sweep.html");
    for (format, file) in [("json", &json), ("html", &html)] {
        let file = file.to_str().unwrap();
        let args = [
            "--protocols",
            "socket",
            "--iterations",
            "20",
            "--warmup",
            "2",
            "--rounds",
            "1",
            "--sweep",
            "rtt=5ms,25ms",
            "--format",
            format,
            "-o",
            file,
        ];
        assert_eq!(
            benchmark::run(cli(&args)).unwrap(),
            std::process::ExitCode::SUCCESS
        );
    }
    let report = read_json(&json);
    assert_eq!(report["sweep"]["parameter"], "rtt");
    let summary = report["summary"].as_array().unwrap();
    let p50 = |i: usize| summary[i]["p50_us"].as_f64().unwrap();
    // Rows floor, socket at 5 ms, then at 25 ms: 20 ms more each.
    for row in [0, 1] {
        let grew = p50(row + 2) - p50(row);
        assert!((grew / 20_000.0 - 1.0).abs() < 0.1, "grew {grew} us");
        let trips = summary[row + 2]["round_trips"].as_f64().unwrap();
        assert!(trips > 1.0 && trips < 1.2, "{trips} round trips");
    }
    let point = &report["points"][1]["report"]["settings"]["link"];
    assert_eq!(point["rtt_ms"].as_f64(), Some(25.0), "{point}");
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(
        html.contains("data-chart=\"round-trips-vs-rtt\""),
        "no round-trips chart"
    );
    assert!(html.contains("rtt (ms)"), "the axis names its unit");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--link rate=10mbit`: a 1 MB echo takes about 0.8 s each way (8 Mbit at 10 Mbit/s);
/// the floor's echo sends back what it reads as it reads it, so the two directions,
/// each with its own bottleneck, overlap and the whole request takes about 0.8 s.
#[test]
fn a_rate_limited_link_takes_the_time_the_bytes_need() {
    let _alone = alone();
    let report = run(&[
        "--protocols",
        "socket",
        "--payload",
        "1MB",
        "--iterations",
        "2",
        "--warmup",
        "1",
        "--rounds",
        "1",
        "--link",
        "rate=10mbit",
    ])
    .unwrap();
    let floor = &report.results[0];
    assert_eq!(floor.errors, 0, "{:?}", floor.first_errors);
    let seconds = floor.p50_us.unwrap() / 1e6;
    assert!((seconds / 0.8 - 1.0).abs() < 0.15, "{seconds} s");
}
