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
