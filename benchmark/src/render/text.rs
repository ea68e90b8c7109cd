//! The report for a terminal and for documents: the table, markdown and CSV, over the
//! columns defined once in [`columns`](super::columns), and the header, ranking and
//! notes that the HTML page shows too.

use std::fmt::Write as _;

use crate::machine::Machine;
use crate::model::{RankEntry, RankedBy, Report};
use crate::render::columns::{Table, View};
use crate::render::comparison;
use crate::render::grid::csv_field;
use crate::settings::{ConnectionPolicy, Lab, Resumption, Workload};
use crate::units::{format_time, wrap};

fn headline(report: &Report) -> String {
    let s = &report.settings;
    let length = match s.duration {
        Some(d) => format!("{:.1} s", d.as_secs_f64()),
        None => format!("{} requests", s.iterations),
    };
    let workload = match s.workload {
        Workload::Get => "get".to_owned(),
        Workload::Push => "push".to_owned(),
        Workload::List => format!("list ({} users)", s.list_size),
        Workload::Create => "create".to_owned(),
        Workload::Stream => format!("stream ({} items)", s.list_size),
    };
    format!(
        "{workload}, connection {}, {} client{} x {length} after {} warm-up",
        match s.connection {
            ConnectionPolicy::Reuse => "reuse",
            ConnectionPolicy::New => "new per request",
        },
        s.concurrency,
        if s.concurrency == 1 { "" } else { "s" },
        s.warmup,
    ) + &security(s)
}

/// What `--tls` and `--auth` added, for the headline: nothing in cleartext.
fn security(s: &crate::settings::Settings) -> String {
    let mut said = String::new();
    if s.tls {
        said.push_str(match s.tls_resumption {
            Resumption::On => ", TLS 1.3 (sessions resumed)",
            Resumption::Off => ", TLS 1.3 (every handshake full)",
        });
    }
    if s.auth {
        said.push_str(", bearer token on every REST and gRPC request");
    }
    if let Some(link) = &s.link {
        said.push_str(&format!(", link {}", link.describe()));
    }
    said
}

/// The HTTP/2 windows seen on the link, under `--link` with an HTTP/2 row:
/// `http/2 windows seen (stream/connection): client 2 MiB/5 MiB; server 1 MiB/1 MiB`.
fn http2_windows(report: &Report) -> Option<String> {
    report.settings.link?;
    let http2 = report
        .results
        .iter()
        .any(|r| r.key.starts_with("grpc") || r.key.starts_with("rest-h2"));
    if report.http2_windows.is_empty() {
        return (http2 && report.settings.tls).then(|| {
            "http/2 windows: not seen on the link (TLS hides them; a cleartext run shows them)"
                .to_owned()
        });
    }
    let side = |name: &str| {
        let said: Vec<String> = report
            .http2_windows
            .iter()
            .filter(|w| w.side == name)
            .map(|w| format!("{}/{}", window(w.stream_bytes), window(w.connection_bytes)))
            .collect();
        (!said.is_empty()).then(|| format!("{name} {}", said.join(", ")))
    };
    let sides: Vec<String> = ["client", "server"].into_iter().filter_map(side).collect();
    Some(format!(
        "http/2 windows seen on the link (stream/connection): {}",
        sides.join("; ")
    ))
}

/// A window as people read it: `2 MiB`, `2 GiB` for HTTP/2's largest, `65535 B`.
fn window(bytes: u32) -> String {
    match bytes {
        0x7FFF_FFFF => "2 GiB".to_owned(),
        b if b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

/// What the link's dice did, where it could lose: `link: held 12 of 1204 chunks as
/// lost (1.0%; asked 1%), on 7 of 16 connections`.
fn link_tally(report: &Report) -> Option<String> {
    let tally = report.link_tally?;
    let loss = report.settings.link.map_or(0.0, |l| l.loss);
    (loss > 0.0).then(|| {
        format!(
            "link: held {} of {} chunks as lost ({:.1}%; asked {}%), on {} of {} \
             connections; set-up and warm-up included",
            tally.held,
            tally.chunks,
            tally.held as f64 * 100.0 / tally.chunks.max(1) as f64,
            loss * 100.0,
            tally.connections_held,
            tally.connections,
        )
    })
}

/// The header above the table: what ran, on what machine, where load and servers
/// were, which builds, and whether Ctrl-C cut it short.
pub(crate) fn context_lines(report: &Report) -> Vec<String> {
    let p = &report.placement;
    let embedded = report
        .results
        .iter()
        .any(|r| r.embedded && r.protocol != Lab::Floor);
    let external: Vec<String> = report
        .results
        .iter()
        .filter(|r| !r.embedded)
        .map(|r| match &r.server_cpu_from {
            Some(from) => format!("{} at {} (CPU from {from})", r.label, r.target),
            None => format!("{} at {}", r.label, r.target),
        })
        .collect();
    let any_here = report.results.iter().any(|r| r.embedded);
    let mut servers = format!(
        "load: {} thread{} on CPU {}; {}",
        p.client_threads,
        if p.client_threads == 1 { "" } else { "s" },
        p.client_cpus,
        match (any_here, p.shared()) {
            (false, _) => "no embedded servers".to_owned(),
            (true, true) => format!(
                "embedded servers on CPU {} (shared with the load)",
                p.server_cpus
            ),
            (true, false) => format!("embedded servers on CPU {}", p.server_cpus),
        },
    );
    if embedded || report.results.iter().all(|r| r.embedded) {
        let _ = write!(servers, ", {} build", lab_kit::build::PROFILE);
    }
    let mut lines = vec![
        format!("commlab benchmark: {}", headline(report)),
        format!(
            "machine: {} CPU{}, {}, {}",
            report.machine.cpus,
            if report.machine.cpus == 1 { "" } else { "s" },
            report.machine.cpu_model,
            report.machine.os
        ),
        steadiness_line(&report.machine),
        servers,
    ];
    if let Some(line) = connections_line(report) {
        lines.push(line);
    }
    lines.extend(link_tally(report));
    lines.extend(http2_windows(report));
    if !external.is_empty() {
        lines.push(format!("external servers: {}", external.join(", ")));
    }
    if let Some(floor) = report.results.iter().find(|r| r.protocol == Lab::Floor) {
        let external_labs = report
            .results
            .iter()
            .any(|r| !r.embedded && r.protocol != Lab::Floor);
        if !floor.embedded {
            lines.push(format!(
                "floor: the echo at {} (--floor-url), on the external servers' network path",
                floor.target
            ));
        } else if external_labs {
            lines.push(
                "floor: embedded, on loopback, while some servers are external: x floor                  divides by a different network path (run `benchmark serve floor` beside                  them and give --floor-url)"
                    .to_owned(),
            );
        }
    }
    let builds: Vec<String> = report
        .results
        .iter()
        .filter_map(|r| r.server_build.as_ref().map(|b| (r.protocol, b)))
        .fold(Vec::new(), |mut seen, (lab, build)| {
            let text = format!("{lab} {build}");
            if !seen.contains(&text) {
                seen.push(text);
            }
            seen
        });
    if !builds.is_empty() {
        lines.push(format!("server builds: {}", builds.join(", ")));
    }
    if report.interrupted {
        lines.push("INTERRUPTED: these are the figures measured before Ctrl-C.".into());
    }
    for row in &report.results {
        if let Some(reason) = &row.invalid {
            lines.push(format!(
                "INVALID: {}: {reason}; left out of the ranking",
                row.label
            ));
        }
    }
    lines
}

/// What decides how steady the figures are: how an idle CPU wakes, and what else ran on
/// the run's CPUs.
fn steadiness_line(machine: &Machine) -> String {
    let idle = &machine.idle;
    let mut parts = vec![format!(
        "idle driver {}",
        idle.cpuidle_driver.as_deref().unwrap_or("unknown")
    )];
    if let Some(ns) = idle.guest_halt_poll_ns {
        parts.push(format!(
            "guest halt polling {}",
            if ns == 0 {
                "off (0 ns)".to_owned()
            } else {
                format!("{ns} ns")
            }
        ));
    }
    parts.push(format!(
        "governor {}",
        idle.governor.as_deref().unwrap_or("none")
    ));
    if let Some(i) = &machine.interference {
        parts.push(format!(
            "over the run on CPUs {}: steal {:.1}%, other processes {:.1}%",
            i.cpus
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            i.steal_percent,
            i.others_percent
        ));
    }
    format!("steadiness: {}", parts.join("; "))
}

/// How clients map onto connections, when they share them (`--connections`).
fn connections_line(report: &Report) -> Option<String> {
    let s = &report.settings;
    if !s.sharing() {
        return None;
    }
    let (clients, connections) = (s.clients(), s.connection_count());
    let per = clients.div_ceil(connections);
    let threads = report.placement.client_threads.clamp(1, connections);
    Some(format!(
        "connections: {clients} clients over {connections} connection{} (up to {per} \
         each, client i on connection i mod {connections}, {threads} load thread{}): \
         HTTP/2 rows carry them as concurrent streams; the socket lab's pipeline, \
         replies matched by id; HTTP/1.1 and WebSocket clients queue, one request at a \
         time per connection, the wait counted in their latency; the floor keeps one \
         connection per client",
        if connections == 1 { "" } else { "s" },
        if threads == 1 { "" } else { "s" },
    ))
}

/// One line per ranked row: its place (`=` when tied with the row above), label, x
/// floor with its 95% interval, the ranked figure and how far behind the best.
pub(crate) fn ranking_lines(report: &Report) -> Vec<String> {
    let width = report
        .ranking
        .iter()
        .map(|r| r.label.len())
        .max()
        .unwrap_or(0);
    let throughput = report.ranked_by == RankedBy::Throughput;
    let x_width = report
        .ranking
        .iter()
        .map(|r| x_floor_with_interval(r).len())
        .max()
        .unwrap_or(0);
    report
        .ranking
        .iter()
        .map(|r| {
            let value = if throughput {
                format!("{:.0} req/s", r.value)
            } else {
                format!("p50 {}", format_time(r.value))
            };
            let verdict = match r.position {
                1 if r.tied => "(tied for best)".to_owned(),
                1 => "(best)".to_owned(),
                _ if r.tied => format!("(tied; {})", behind(r.percent_worse, throughput)),
                _ => format!("({})", behind(r.percent_worse, throughput)),
            };
            let place = if r.tied {
                format!("={}.", r.position)
            } else {
                format!("{}.", r.position)
            };
            format!(
                "{place:>3} {:<width$}  {:<x_width$}  {value} {verdict}",
                r.label,
                x_floor_with_interval(r)
            )
        })
        .collect()
}

/// One sentence that answers the run's question: which row wins, by how much, and
/// whether the rounds show it beyond the noise.
pub(crate) fn verdict(report: &Report) -> String {
    let by = if report.ranked_by == RankedBy::Throughput {
        "throughput"
    } else {
        "median latency"
    };
    let Some(first) = report.ranking.first() else {
        return "No row was ranked: see the notes for why.".to_owned();
    };
    let best: Vec<&RankEntry> = report
        .ranking
        .iter()
        .take_while(|r| r.position == first.position)
        .collect();
    let names: Vec<&str> = best.iter().map(|r| r.label).collect();
    let mut sentence = if best.len() == 1 {
        format!(
            "{} is the fastest by {by}, at {} the floor",
            first.label,
            x_floor_with_interval(first)
        )
    } else {
        format!(
            "{} are the fastest by {by}, not distinguishable in this run ({} the floor for {})",
            names.join(" and "),
            x_floor_with_interval(first),
            first.label
        )
    };
    if let Some(next) = report.ranking.get(best.len()) {
        let _ = write!(
            sentence,
            "; next is {}, {} than the best, a difference the rounds show beyond the noise",
            next.label,
            behind(next.percent_worse, by == "throughput")
        );
    }
    sentence.push('.');
    let invalid: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.invalid.is_some())
        .map(|r| r.label)
        .collect();
    if !invalid.is_empty() {
        let _ = write!(sentence, " Left out as invalid: {}.", invalid.join(", "));
    }
    if report
        .results
        .iter()
        .any(|r| r.protocol != Lab::Floor && r.x_floor_hi.is_some_and(|hi| hi < 1.0))
    {
        sentence.push_str(
            " But rows came out faster than the floor, so this run does not measure the \
             protocols (see the notes).",
        );
    }
    sentence
}

/// `2.11x (1.95-2.30)`: x floor and its interval, where there is one.
fn x_floor_with_interval(r: &RankEntry) -> String {
    match (r.x_floor_lo, r.x_floor_hi) {
        (Some(lo), Some(hi)) => format!("{:.2}x ({lo:.2}-{hi:.2})", r.x_floor),
        _ => format!("{:.2}x", r.x_floor),
    }
}

/// How far a row is behind the best, from its x floor `percent` above the best's: "slower"
/// by that much, or, by throughput, the share of the best's throughput it lacks (a row
/// at 3.2 times the best's x floor has 69% less throughput, never "220% less").
fn behind(percent: f64, throughput: bool) -> String {
    if throughput {
        let less = (1.0 - 1.0 / (1.0 + percent / 100.0)) * 100.0;
        format!("{less:.0}% less throughput")
    } else {
        format!("{percent:.0}% slower")
    }
}

/// What the ranking is by, as its heading says.
pub(crate) fn ranking_heading(report: &Report) -> &'static str {
    if report.ranked_by == RankedBy::Throughput {
        "Ranking by x floor (throughput, paired round by round with the floor's):"
    } else {
        "Ranking by x floor (p50, paired round by round with the floor's):"
    }
}

/// The report for a terminal: header, aligned table, errors, ranking, notes, baseline.
pub(crate) fn table(report: &Report, wide: bool) -> String {
    let table = Table::of(report, View::of(wide));
    let (columns, cells) = (&table.columns, &table.shown);
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let header = c.header.0.len().max(c.header.1.len());
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .fold(header, usize::max)
        })
        .collect();
    let line = |texts: Vec<&str>| {
        let mut out = String::new();
        for ((text, width), column) in texts.iter().zip(&widths).zip(columns) {
            if column.text {
                let _ = write!(out, "{text:<width$}  ");
            } else {
                let _ = write!(out, "{text:>width$}  ");
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = String::new();
    for context in context_lines(report) {
        let _ = writeln!(out, "{}", wrap(&context, "", "  ", 100));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        line(columns.iter().map(|c| c.header.0).collect())
    );
    let _ = writeln!(
        out,
        "{}",
        line(columns.iter().map(|c| c.header.1).collect())
    );
    for row in cells {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    write_errors(report, &mut out);
    if !report.ranking.is_empty() {
        let _ = writeln!(out, "\n{}", ranking_heading(report));
        for ranked in ranking_lines(report) {
            let _ = writeln!(out, "  {ranked}");
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nNotes:");
        for note in &report.notes {
            let _ = writeln!(out, "{}", wrap(note, "  - ", "    ", 100));
        }
    }
    if let Some(comparison) = &report.comparison {
        let _ = writeln!(
            out,
            "\nAgainst the baseline:\n{}",
            comparison::grid(comparison).text("  ")
        );
        for note in comparison::notes(comparison) {
            let _ = writeln!(out, "{}", wrap(&note, "  - ", "    ", 100));
        }
    }
    out
}

fn write_errors(report: &Report, out: &mut String) {
    for row in report.results.iter().filter(|r| r.errors > 0) {
        for (kind, count) in &row.error_kinds {
            let first = row.first_errors.get(kind).map(String::as_str).unwrap_or("");
            let _ = writeln!(
                out,
                "  {} errors: {count} {kind} (first: {first})",
                row.label
            );
        }
    }
}

/// The report as markdown: the same parts, the table as a pipe table.
pub(crate) fn markdown(report: &Report, wide: bool) -> String {
    let table = Table::of(report, View::of(wide));
    let columns = &table.columns;
    let mut out = String::new();
    for context in context_lines(report) {
        let _ = writeln!(out, "{context}  ");
    }
    let _ = writeln!(out);
    let headers: Vec<String> = columns
        .iter()
        .map(|c| format!("{} {}", c.header.0, c.header.1).trim().to_owned())
        .collect();
    let _ = writeln!(out, "| {} |", headers.join(" | "));
    let align: Vec<&str> = columns
        .iter()
        .map(|c| if c.text { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "|{}|", align.join("|"));
    for row in &table.shown {
        let cells: Vec<String> = row.iter().map(|cell| cell.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    if !report.ranking.is_empty() {
        let _ = writeln!(out, "\n{}\n", ranking_heading(report));
        for ranked in ranking_lines(report) {
            let _ = writeln!(out, "{ranked}  ");
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out);
        for note in &report.notes {
            let _ = writeln!(out, "- {note}");
        }
    }
    if let Some(comparison) = &report.comparison {
        let _ = writeln!(out, "\n{}", comparison::grid(comparison).markdown());
        for note in comparison::notes(comparison) {
            let _ = writeln!(out, "- {note}");
        }
    }
    out
}

/// The report as CSV: one line per row, every column, raw values.
pub(crate) fn csv(report: &Report) -> String {
    let table = Table::of(report, View::Every);
    let keys: Vec<&str> = table.columns.iter().map(|c| c.csv).collect();
    let mut out = format!("{}\n", keys.join(","));
    for row in &table.raw {
        let cells: Vec<String> = row.iter().map(|cell| csv_field(cell)).collect();
        let _ = writeln!(out, "{}", cells.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_names_the_winner_and_whether_the_rounds_show_it() {
        use crate::model::RankEntry;
        let entry = |position, key, label, x, tied| RankEntry {
            position,
            key,
            label,
            value: 0.0,
            percent_worse: (x / 2.0 - 1.0) * 100.0,
            x_floor: x,
            x_floor_lo: Some(x * 0.9),
            x_floor_hi: Some(x * 1.1),
            tied,
        };
        let settings = <crate::Cli as clap::Parser>::parse_from(["benchmark"]).settings;
        let mut report = Report {
            settings,
            placement: crate::placement::Placement::decide(&[0, 1], None, None, None).unwrap(),
            machine: crate::machine::Machine::detect(),
            results: Vec::new(),
            ranked_by: RankedBy::P50,
            ranking: vec![
                entry(1, "socket", "Socket", 2.0, false),
                entry(2, "rest-hyper", "REST (hyper)", 3.0, false),
            ],
            notes: Vec::new(),
            interrupted: false,
            comparison: None,
            link_tally: None,
            http2_windows: Vec::new(),
            shard: None,
        };
        assert_eq!(
            verdict(&report),
            "Socket is the fastest by median latency, at 2.00x (1.80-2.20) the floor; next is \
             REST (hyper), 50% slower than the best, a difference the rounds show beyond the \
             noise."
        );
        report.ranking[1].position = 1;
        report.ranking[1].tied = true;
        let tied = verdict(&report);
        assert!(
            tied.starts_with(
                "Socket and REST (hyper) are the fastest by median latency, not distinguishable"
            ),
            "{tied}"
        );
        assert!(!tied.contains("next is"), "{tied}");
    }

    #[test]
    fn behind_the_best_is_worded_so_it_can_be_true() {
        assert_eq!(behind(220.0, false), "220% slower");
        // 3.2 times the best's x floor is 1/3.2 of its throughput: 69% less, not 220%.
        assert_eq!(behind(220.0, true), "69% less throughput");
        assert_eq!(behind(328.0, true), "77% less throughput");
        assert_eq!(behind(5.0, true), "5% less throughput");
    }
}
