//! A small table of text cells that renders as aligned text, markdown or CSV: the
//! shape of the baseline comparison and the sweep summary.

use std::fmt::Write as _;

/// Headings and rows of cells; the first `text_columns` columns align left, the rest
/// (numbers) right.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Grid {
    /// One heading per column.
    pub headers: Vec<String>,
    /// The cells, a row at a time.
    pub rows: Vec<Vec<String>>,
    /// How many leading columns are text.
    pub text_columns: usize,
}

impl Grid {
    /// Aligned columns, two spaces apart, each line indented by `indent`.
    pub(crate) fn text(&self, indent: &str) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|row| row.get(i))
                    .chain(std::iter::once(&self.headers[i]))
                    .map(|cell| cell.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::from(indent);
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i < self.text_columns {
                    let _ = write!(line, "{cell:<width$}  ");
                } else {
                    let _ = write!(line, "{cell:>width$}  ");
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
        out
    }

    /// A markdown table.
    pub(crate) fn markdown(&self) -> String {
        let escape = |cell: &String| cell.replace('|', "\\|");
        let mut out = format!(
            "| {} |\n|",
            self.headers
                .iter()
                .map(escape)
                .collect::<Vec<_>>()
                .join(" | ")
        );
        for i in 0..self.headers.len() {
            out.push_str(if i < self.text_columns {
                "---|"
            } else {
                "---:|"
            });
        }
        out.push('\n');
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} |",
                row.iter().map(escape).collect::<Vec<_>>().join(" | ")
            );
        }
        out
    }

    /// CSV, headings first.
    pub(crate) fn csv(&self) -> String {
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
pub(crate) fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field("GetUser"), "GetUser");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    fn grid() -> Grid {
        Grid {
            headers: vec!["Row".into(), "p50".into()],
            rows: vec![
                vec!["gRPC (hyper)".into(), "132.4 us".into()],
                vec!["a|b, c".into(), "9 us".into()],
            ],
            text_columns: 1,
        }
    }

    #[test]
    fn renders_aligned_markdown_and_csv() {
        assert_eq!(
            grid().text("  "),
            "  Row                p50\n  gRPC (hyper)  132.4 us\n  a|b, c            9 us\n"
        );
        assert_eq!(
            grid().markdown(),
            "| Row | p50 |\n|---|---:|\n| gRPC (hyper) | 132.4 us |\n| a\\|b, c | 9 us |\n"
        );
        assert_eq!(
            grid().csv(),
            "Row,p50\ngRPC (hyper),132.4 us\n\"a|b, c\",9 us\n"
        );
    }
}
