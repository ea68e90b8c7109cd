//! The report's columns, defined once: heading, CSV key, and how a row shows in each.
//! Every table format (text, markdown, CSV, HTML) is written over them.

use crate::model::{Report, ResultRow};
use crate::units::format_micros;

/// One column of the report: its two-line heading, CSV key, and how a row shows in it.
#[derive(Debug)]
pub(crate) struct Column {
    /// Heading, in two lines (the table stays narrow).
    pub header: (&'static str, &'static str),
    /// CSV key (the JSON field of the same figure).
    pub csv: &'static str,
    /// In which tables it appears.
    pub shown: Shown,
    /// Aligned left (text) or right (numbers).
    pub text: bool,
    /// The cell for people.
    pub show: fn(&ResultRow) -> String,
    /// The cell for CSV.
    pub raw: fn(&ResultRow) -> String,
}

fn time(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), format_micros)
}

fn raw(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.3}"))
}

fn bytes_pair(row: &ResultRow) -> String {
    match (row.bytes_sent, row.bytes_received) {
        (Some(sent), Some(received)) => format!("{sent:.0}/{received:.0}"),
        _ => "—".to_owned(),
    }
}

/// Which tables a column appears in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Shown {
    /// Every table.
    Always,
    /// With `--wide`, in HTML and CSV.
    Wide,
    /// Only where every figure is kept raw (CSV): the interval ends, which the
    /// people's tables show as `±%` beside the figure.
    Raw,
}

/// How much of the table a format shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// The columns a terminal fits.
    Narrow,
    /// Every column people read (`--wide`, HTML).
    Wide,
    /// Every column, the interval ends included (CSV).
    Every,
}

/// `value` with its interval as `±x%` of it (the larger side), for people.
fn with_interval(shown: String, value: Option<f64>, lo: Option<f64>, hi: Option<f64>) -> String {
    match (value, lo, hi) {
        (Some(v), Some(lo), Some(hi)) if v > 0.0 => {
            let spread = ((v - lo).max(hi - v) / v * 100.0).round();
            format!("{shown} ±{spread:.0}%")
        }
        _ => shown,
    }
}

impl View {
    /// The terminal's view: `--wide` or not.
    pub(crate) fn of(wide: bool) -> View {
        if wide { View::Wide } else { View::Narrow }
    }
}

/// Every column, in order; see [`Shown`] for which tables show which.
pub(crate) static COLUMNS: [Column; 38] = [
    Column {
        header: ("", "Row"),
        csv: "key",
        shown: Shown::Always,
        text: true,
        show: |r| r.label.to_owned(),
        raw: |r| r.key.to_owned(),
    },
    Column {
        header: ("", "Operation"),
        csv: "operation",
        shown: Shown::Wide,
        text: true,
        show: |r| r.operation.clone(),
        raw: |r| r.operation.clone(),
    },
    Column {
        header: ("", "Server"),
        csv: "embedded",
        shown: Shown::Always,
        text: true,
        show: |r| {
            if r.embedded {
                "embedded".into()
            } else {
                "external".into()
            }
        },
        raw: |r| r.embedded.to_string(),
    },
    Column {
        header: ("", "Reqs"),
        csv: "requests",
        shown: Shown::Always,
        text: false,
        show: |r| r.requests.to_string(),
        raw: |r| r.requests.to_string(),
    },
    Column {
        header: ("", "Err"),
        csv: "errors",
        shown: Shown::Always,
        text: false,
        show: |r| r.errors.to_string(),
        raw: |r| r.errors.to_string(),
    },
    Column {
        header: ("p50", "us"),
        csv: "p50_us",
        shown: Shown::Always,
        text: false,
        show: |r| with_interval(time(r.p50_us), r.p50_us, r.p50_us_lo, r.p50_us_hi),
        raw: |r| raw(r.p50_us),
    },
    Column {
        header: ("p50", "lo"),
        csv: "p50_us_lo",
        shown: Shown::Raw,
        text: false,
        show: |r| time(r.p50_us_lo),
        raw: |r| raw(r.p50_us_lo),
    },
    Column {
        header: ("p50", "hi"),
        csv: "p50_us_hi",
        shown: Shown::Raw,
        text: false,
        show: |r| time(r.p50_us_hi),
        raw: |r| raw(r.p50_us_hi),
    },
    Column {
        header: ("p90", "us"),
        csv: "p90_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.p90_us),
        raw: |r| raw(r.p90_us),
    },
    Column {
        header: ("p99", "us"),
        csv: "p99_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.p99_us),
        raw: |r| raw(r.p99_us),
    },
    Column {
        header: ("p99", "lo"),
        csv: "p99_us_lo",
        shown: Shown::Raw,
        text: false,
        show: |r| time(r.p99_us_lo),
        raw: |r| raw(r.p99_us_lo),
    },
    Column {
        header: ("p99", "hi"),
        csv: "p99_us_hi",
        shown: Shown::Raw,
        text: false,
        show: |r| time(r.p99_us_hi),
        raw: |r| raw(r.p99_us_hi),
    },
    Column {
        header: ("p99.9", "us"),
        csv: "p999_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.p999_us),
        raw: |r| raw(r.p999_us),
    },
    Column {
        header: ("mean", "us"),
        csv: "mean_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.mean_us),
        raw: |r| raw(r.mean_us),
    },
    Column {
        header: ("stddev", "us"),
        csv: "stddev_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.stddev_us),
        raw: |r| raw(r.stddev_us),
    },
    Column {
        header: ("min", "us"),
        csv: "min_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.min_us),
        raw: |r| raw(r.min_us),
    },
    Column {
        header: ("max", "us"),
        csv: "max_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.max_us),
        raw: |r| raw(r.max_us),
    },
    Column {
        header: ("", "req/s"),
        csv: "throughput_rps",
        shown: Shown::Always,
        text: false,
        show: |r| format!("{:.0}", r.throughput_rps),
        raw: |r| format!("{:.1}", r.throughput_rps),
    },
    Column {
        header: ("req/s", "lo"),
        csv: "throughput_rps_lo",
        shown: Shown::Raw,
        text: false,
        show: |r| raw(r.throughput_rps_lo),
        raw: |r| raw(r.throughput_rps_lo),
    },
    Column {
        header: ("req/s", "hi"),
        csv: "throughput_rps_hi",
        shown: Shown::Raw,
        text: false,
        show: |r| raw(r.throughput_rps_hi),
        raw: |r| raw(r.throughput_rps_hi),
    },
    Column {
        header: ("client", "CPU us"),
        csv: "client_cpu_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.client_cpu_us),
        raw: |r| raw(r.client_cpu_us),
    },
    Column {
        header: ("server", "CPU us"),
        csv: "server_cpu_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.server_cpu_us),
        raw: |r| raw(r.server_cpu_us),
    },
    Column {
        header: ("bytes", "out/in"),
        csv: "bytes_out_in",
        shown: Shown::Always,
        text: false,
        show: bytes_pair,
        raw: |r| match (r.bytes_sent, r.bytes_received) {
            (Some(s), Some(i)) => format!("{s:.1}/{i:.1}"),
            _ => String::new(),
        },
    },
    Column {
        header: ("Conns", "opened"),
        csv: "connections_opened",
        shown: Shown::Wide,
        text: false,
        show: |r| {
            r.connections_opened
                .map_or_else(|| "—".to_owned(), |n| n.to_string())
        },
        raw: |r| {
            r.connections_opened
                .map(|n| n.to_string())
                .unwrap_or_default()
        },
    },
    Column {
        header: ("p50", "RTTs"),
        csv: "round_trips",
        shown: Shown::Always,
        text: false,
        show: |r| {
            r.round_trips
                .map_or_else(|| "—".to_owned(), |n| format!("{n:.2}"))
        },
        raw: |r| raw(r.round_trips),
    },
    Column {
        header: ("TCP", "connect"),
        csv: "tcp_connect_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.new_connection.as_ref().map(|c| c.tcp_connect_us)),
        raw: |r| raw(r.new_connection.as_ref().map(|c| c.tcp_connect_us)),
    },
    Column {
        header: ("connect", "RTTs"),
        csv: "tcp_connect_rtts",
        shown: Shown::Always,
        text: false,
        show: |r| {
            r.new_connection
                .as_ref()
                .and_then(|c| c.tcp_connect_rtts)
                .map_or_else(|| "—".to_owned(), |n| format!("{n:.2}"))
        },
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.tcp_connect_rtts)),
    },
    Column {
        header: ("TLS", "handshake"),
        csv: "tls_handshake_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.new_connection.as_ref().and_then(|c| c.tls_handshake_us)),
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.tls_handshake_us)),
    },
    Column {
        header: ("TLS", "RTTs"),
        csv: "tls_handshake_rtts",
        shown: Shown::Always,
        text: false,
        show: |r| {
            r.new_connection
                .as_ref()
                .and_then(|c| c.tls_handshake_rtts)
                .map_or_else(|| "—".to_owned(), |n| format!("{n:.2}"))
        },
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.tls_handshake_rtts)),
    },
    Column {
        header: ("TLS", "full/resumed"),
        csv: "tls_full_resumed",
        shown: Shown::Always,
        text: false,
        show: |r| match &r.new_connection {
            Some(c) if c.tls_handshake_us.is_some() => format!("{}/{}", c.tls_full, c.tls_resumed),
            _ => "—".to_owned(),
        },
        raw: |r| match &r.new_connection {
            Some(c) if c.tls_handshake_us.is_some() => format!("{}/{}", c.tls_full, c.tls_resumed),
            _ => String::new(),
        },
    },
    Column {
        header: ("TLS full", "us"),
        csv: "tls_full_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.new_connection.as_ref().and_then(|c| c.tls_full_us)),
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.tls_full_us)),
    },
    Column {
        header: ("TLS resumed", "us"),
        csv: "tls_resumed_us",
        shown: Shown::Wide,
        text: false,
        show: |r| time(r.new_connection.as_ref().and_then(|c| c.tls_resumed_us)),
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.tls_resumed_us)),
    },
    Column {
        header: ("first", "reply"),
        csv: "first_reply_us",
        shown: Shown::Always,
        text: false,
        show: |r| time(r.new_connection.as_ref().and_then(|c| c.first_reply_us)),
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.first_reply_us)),
    },
    Column {
        header: ("reply", "RTTs"),
        csv: "first_reply_rtts",
        shown: Shown::Always,
        text: false,
        show: |r| {
            r.new_connection
                .as_ref()
                .and_then(|c| c.first_reply_rtts)
                .map_or_else(|| "—".to_owned(), |n| format!("{n:.2}"))
        },
        raw: |r| raw(r.new_connection.as_ref().and_then(|c| c.first_reply_rtts)),
    },
    Column {
        header: ("x", "floor"),
        csv: "x_floor",
        shown: Shown::Always,
        text: false,
        show: |r| {
            let shown = r
                .x_floor
                .map_or_else(|| "—".to_owned(), |x| format!("{x:.2}"));
            with_interval(shown, r.x_floor, r.x_floor_lo, r.x_floor_hi)
        },
        raw: |r| raw(r.x_floor),
    },
    Column {
        header: ("x floor", "lo"),
        csv: "x_floor_lo",
        shown: Shown::Raw,
        text: false,
        show: |r| raw(r.x_floor_lo),
        raw: |r| raw(r.x_floor_lo),
    },
    Column {
        header: ("x floor", "hi"),
        csv: "x_floor_hi",
        shown: Shown::Raw,
        text: false,
        show: |r| raw(r.x_floor_hi),
        raw: |r| raw(r.x_floor_hi),
    },
    Column {
        header: ("", "Done"),
        csv: "complete",
        shown: Shown::Wide,
        text: true,
        show: |r| {
            if r.complete {
                "yes".into()
            } else {
                "cut".into()
            }
        },
        raw: |r| r.complete.to_string(),
    },
];

/// The results table, built once from a report: the columns shown and each row's cells,
/// both as people read them and raw (CSV, and the HTML page's data attributes). Every
/// table format writes this one model.
#[derive(Debug)]
pub(crate) struct Table {
    /// The columns, in order: the narrow set, or every one with `--wide`.
    pub(crate) columns: Vec<&'static Column>,
    /// Each row's key.
    pub(crate) keys: Vec<&'static str>,
    /// Each row's cells for people.
    pub(crate) shown: Vec<Vec<String>>,
    /// Each row's cells raw.
    pub(crate) raw: Vec<Vec<String>>,
}

impl Table {
    /// The table of `report`'s rows with the columns `view` shows.
    pub(crate) fn of(report: &Report, view: View) -> Table {
        let widest = match view {
            View::Narrow => Shown::Always,
            View::Wide => Shown::Wide,
            View::Every => Shown::Raw,
        };
        // At one client (closed loop), throughput is the mean latency's reciprocal, which
        // one slow request among fifty moves far from the p50: the people's tables leave
        // it out (a note says so); CSV keeps every figure.
        let one_client = report.settings.clients() == 1 && report.settings.rate.is_none();
        // A new connection's parts only where connections opened while measuring
        // (`--connection new`), and TLS's only under `--tls`.
        let split = report.results.iter().any(|r| r.new_connection.is_some());
        let tls = report.settings.tls;
        let trips = report.results.iter().any(|r| r.round_trips.is_some());
        let wanted = |c: &Column| match c.csv {
            "tcp_connect_us" | "first_reply_us" => split,
            "tcp_connect_rtts" | "first_reply_rtts" => split && trips,
            "tls_handshake_rtts" => split && tls && trips,
            "round_trips" => trips,
            key if key.starts_with("tls_") => split && tls,
            _ => true,
        };
        let columns: Vec<&'static Column> = COLUMNS
            .iter()
            .filter(|c| c.shown <= widest && wanted(c))
            .filter(|c| !(one_client && view != View::Every && c.csv == "throughput_rps"))
            .collect();
        let cells = |cell: fn(&Column) -> fn(&ResultRow) -> String| {
            report
                .results
                .iter()
                .map(|row| columns.iter().map(|c| cell(c)(row)).collect())
                .collect()
        };
        Table {
            keys: report.results.iter().map(|r| r.key).collect(),
            shown: cells(|c| c.show),
            raw: cells(|c| c.raw),
            columns,
        }
    }
}
