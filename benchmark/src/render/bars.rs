//! The ranking as a chart: one bar per row at its x floor, a whisker over its 95%
//! interval, ties marked. Plain SVG that scales to the page's width, so it reads on a
//! phone as on a desktop.

use std::fmt::Write as _;

use crate::model::Report;
use crate::render::markup::escape;

/// Height of one bar's band, in the SVG's units.
const BAND: f64 = 28.0;
/// Room for the labels at the left, and the values at the right.
const LEFT: f64 = 150.0;
const RIGHT: f64 = 110.0;
const WIDTH: f64 = 640.0;

/// The ranking's chart; `None` when nothing was ranked.
pub(crate) fn x_floor_chart(report: &Report) -> Option<String> {
    if report.ranking.is_empty() {
        return None;
    }
    let top = report
        .ranking
        .iter()
        .map(|r| r.x_floor_hi.unwrap_or(r.x_floor).max(r.x_floor))
        .fold(1.0_f64, f64::max)
        * 1.05;
    let plot = WIDTH - LEFT - RIGHT;
    let x = |value: f64| LEFT + value / top * plot;
    let height = BAND * (report.ranking.len() as f64 + 1.0);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" role=\"img\" aria-label=\"x floor per row with its 95% interval\" \
         font-family=\"sans-serif\" font-size=\"13\">\n"
    );
    // The floor itself, at 1.
    let _ = writeln!(
        svg,
        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"4\" y2=\"{1:.1}\" stroke=\"#888\" \
         stroke-dasharray=\"4 3\"/><text x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\" \
         fill=\"#555\">floor = 1</text>",
        x(1.0),
        height - BAND + 4.0,
        height - 6.0
    );
    for (i, entry) in report.ranking.iter().enumerate() {
        let y = BAND * i as f64 + 6.0;
        let place = if entry.tied {
            format!("={}", entry.position)
        } else {
            entry.position.to_string()
        };
        let _ = writeln!(
            svg,
            "<g data-key=\"{key}\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{place}. \
             {label}</text><rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
             fill=\"{}\"/>",
            LEFT - 6.0,
            y + BAND / 2.0 + 1.0,
            (x(entry.x_floor) - LEFT).max(1.0),
            BAND - 10.0,
            if entry.position == 1 {
                "#3b7dd8"
            } else {
                "#9db9e3"
            },
            key = escape(entry.key),
            label = escape(entry.label),
        );
        let middle = y + (BAND - 10.0) / 2.0;
        let interval = match (entry.x_floor_lo, entry.x_floor_hi) {
            (Some(lo), Some(hi)) => {
                let _ = writeln!(
                    svg,
                    "<path d=\"M{a:.1} {m:.1}H{b:.1}M{a:.1} {t:.1}V{u:.1}M{b:.1} {t:.1}V{u:.1}\" \
                     stroke=\"#222\" fill=\"none\"/>",
                    a = x(lo),
                    b = x(hi),
                    m = middle,
                    t = middle - 5.0,
                    u = middle + 5.0
                );
                format!(" ({lo:.2}-{hi:.2})")
            }
            _ => String::new(),
        };
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{:.2}x{interval}</text></g>",
            WIDTH - RIGHT + 6.0,
            y + BAND / 2.0 + 1.0,
            entry.x_floor
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// Where each row's mean request goes, at one client: the client's CPU, the server's
/// CPU, and the rest waiting (the wire, the kernel, waking a sleeping CPU). The mean
/// latency, because the CPU figures are means over every request and means add up.
/// `None` with more clients (CPU per request and latency no longer add up) or when no
/// row has the figures.
pub(crate) fn time_split_chart(report: &Report) -> Option<String> {
    if report.settings.clients() != 1 || report.settings.rate.is_some() {
        return None;
    }
    let rows: Vec<_> = report
        .results
        .iter()
        .filter_map(|r| Some((r, r.mean_us?, r.client_cpu_us?)))
        .collect();
    if rows.is_empty() {
        return None;
    }
    let top = rows
        .iter()
        .map(|(_, p50, _)| *p50)
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let plot = WIDTH - LEFT - RIGHT;
    let width = |us: f64| (us / top * plot).max(0.0);
    let height = BAND * (rows.len() as f64 + 1.5);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
         width=\"100%\" role=\"img\" aria-label=\"where each row's mean request goes\" \
         font-family=\"sans-serif\" font-size=\"13\">\n"
    );
    const COLOURS: [(&str, &str); 3] = [
        ("client CPU", "#3b7dd8"),
        ("server CPU", "#e08a2c"),
        ("waiting", "#c9c9c9"),
    ];
    for (i, (row, p50, client)) in rows.iter().enumerate() {
        let y = BAND * i as f64 + 6.0;
        let server = row.server_cpu_us.unwrap_or(0.0);
        // Failures count in the CPU per request but not in the mean latency: clip.
        let client_part = client.min(*p50);
        let server_part = server.min(p50 - client_part);
        let waiting = (p50 - client_part - server_part).max(0.0);
        let _ = write!(
            svg,
            "<g data-key=\"{}\"><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            escape(row.key),
            LEFT - 6.0,
            y + BAND / 2.0 + 1.0,
            escape(row.label)
        );
        let mut x = LEFT;
        for ((_, colour), part) in COLOURS.iter().zip([client_part, server_part, waiting]) {
            let w = width(part);
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{:.1}\" \
                 fill=\"{colour}\"/>",
                BAND - 10.0
            );
            x += w;
        }
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{p50:.0} us</text></g>",
            WIDTH - RIGHT + 6.0,
            y + BAND / 2.0 + 1.0
        );
    }
    // The legend.
    let y = BAND * rows.len() as f64 + 12.0;
    let mut x = LEFT;
    for (name, colour) in COLOURS {
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{name}</text>",
            x + 16.0,
            y + 11.0
        );
        x += 120.0;
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RankedBy;

    fn report_of(args: &[&str]) -> Report {
        let mut all = vec!["benchmark"];
        all.extend_from_slice(args);
        let settings = <crate::Cli as clap::Parser>::parse_from(all).settings;
        let mut row = crate::analysis::checks::tests::row();
        (row.mean_us, row.client_cpu_us, row.server_cpu_us) = (Some(100.0), Some(10.0), Some(25.0));
        Report {
            settings,
            placement: crate::placement::Placement::decide(&[0, 1], None, None, None).unwrap(),
            machine: crate::machine::Machine::detect(),
            results: vec![row],
            ranked_by: RankedBy::P50,
            ranking: Vec::new(),
            notes: Vec::new(),
            interrupted: false,
            comparison: None,
            link_tally: None,
            http2_windows: Vec::new(),
            shard: None,
        }
    }

    #[test]
    fn a_median_request_splits_into_client_server_and_waiting() {
        let svg = time_split_chart(&report_of(&[])).unwrap();
        // The widest row's mean fills the plot (640 - 150 - 110 = 380 units): 10, 25
        // and 65 us of 100 are 38, 95 and 247 units.
        for width in ["width=\"38.0\"", "width=\"95.0\"", "width=\"247.0\""] {
            assert!(svg.contains(width), "{width}: {svg}");
        }
        assert!(svg.contains(">100 us<") && svg.contains(">waiting<"));
        // With more clients CPU per request and latency do not add up: no chart.
        assert!(time_split_chart(&report_of(&["--concurrency", "4"])).is_none());
    }
}
