//! How numbers and text are put for people: times with their units, wrapped notes.
//! A leaf: imports nothing of the crate.

/// Microseconds for a narrow column: one decimal below a millisecond, none above.
pub(crate) fn format_micros(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.1}")
    } else {
        format!("{micros:.0}")
    }
}

/// A latency for people: microseconds below one millisecond, milliseconds above,
/// always with its unit.
pub(crate) fn format_time(micros: f64) -> String {
    if micros < 1000.0 {
        format!("{micros:.1} us")
    } else {
        format!("{:.2} ms", micros / 1000.0)
    }
}

/// Wraps `text` at `width` columns, the first line after `first`, the rest after `rest`.
pub(crate) fn wrap(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::from(first);
    let mut len = first.chars().count();
    let mut line_empty = true;
    for word in text.split_whitespace() {
        let word_len = word.chars().count();
        if !line_empty && len + 1 + word_len > width {
            out.push('\n');
            out.push_str(rest);
            len = rest.chars().count();
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            len += 1;
        }
        out.push_str(word);
        len += word_len;
        line_empty = false;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_a_readable_unit() {
        assert_eq!(format_time(13.6), "13.6 us");
        assert_eq!(format_time(1270.0), "1.27 ms");
        assert_eq!(format_micros(999.94), "999.9");
        assert_eq!(format_micros(40_123.4), "40123");
    }

    #[test]
    fn notes_wrap_inside_the_width() {
        let text = "word ".repeat(60);
        let wrapped = wrap(&text, "  - ", "    ", 40);
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 40),
            "{wrapped}"
        );
        assert!(wrapped.starts_with("  - word"));
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")));
    }
}
