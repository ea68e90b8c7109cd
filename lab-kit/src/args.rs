//! Small argument parsers the clients share.

use std::time::Duration;

/// How long every client waits for a server by default, as its `--timeout` flag shows it.
pub const DEFAULT_CLIENT_TIMEOUT_SECS: &str = "5";
/// How long every client waits for a server by default.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Reads a positive number of seconds (`5`, `0.5`), for `--timeout` flags; clap calls it
/// through `value_parser`.
///
/// # Errors
///
/// When the text is not a positive, finite number.
pub fn parse_secs(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|secs| *secs > 0.0 && secs.is_finite())
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("{text:?} is not a positive number of seconds"))
}

/// Reads the options of an interactive `update ID [--name N] [--email E]` command;
/// returns the name and email given, each `None` when absent.
///
/// # Errors
///
/// When a flag has no value or is not `--name` or `--email`.
pub fn update_flags<'a>(words: &[&'a str]) -> Result<(Option<&'a str>, Option<&'a str>), String> {
    let (mut name, mut email) = (None, None);
    let mut rest = words.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match *flag {
            "--name" => name = Some(*value),
            "--email" => email = Some(*value),
            other => return Err(format!("unknown option {other}; use --name and/or --email")),
        }
    }
    Ok((name, email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_timeout_reads_as_itself() {
        assert_eq!(
            parse_secs(DEFAULT_CLIENT_TIMEOUT_SECS),
            Ok(DEFAULT_CLIENT_TIMEOUT)
        );
    }

    #[test]
    fn seconds_must_be_positive_numbers() {
        assert_eq!(parse_secs("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_secs("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "soon", "inf", "NaN", ""] {
            assert!(parse_secs(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn update_flags_in_any_order() {
        assert_eq!(
            update_flags(&["--email", "e@x.io", "--name", "N"]),
            Ok((Some("N"), Some("e@x.io")))
        );
        assert_eq!(update_flags(&[]), Ok((None, None)));
        assert!(update_flags(&["--name"]).is_err());
        assert!(update_flags(&["--nick", "x"]).is_err());
    }
}
