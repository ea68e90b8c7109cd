//! How every binary reads addresses and durations from its command line, so the same
//! text means the same thing to all of them.
//!
//! - A server's `--addr` is `host:port`, or a bare port meaning every interface.
//! - An HTTP client's `--url` is `http://host:port` or `https://host:port` (TLS);
//!   `host:port` alone means `http://`. A WebSocket client's is `ws://` or `wss://`.
//! - The socket client's `--url` is `host:port`, `tcp://host:port` or `tls://host:port`.
//! - A duration is `300ms`, `5s`, `1.5s`, `2m` or `1h`; a bare number is seconds.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How long every client waits for a server by default.
pub const DEFAULT_CLIENT_TIMEOUT: Span = Span(Duration::from_secs(5));

/// A duration as a flag takes and shows it (`5s`, `300ms`): clap reads it with
/// [`FromStr`] and shows a default with [`Display`](fmt::Display), so a default is
/// written once, as a [`Duration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl Span {
    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl From<Span> for Duration {
    fn from(span: Span) -> Duration {
        span.0
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if millis.is_multiple_of(1000) {
            write!(f, "{}s", millis / 1000)
        } else if self.0.subsec_nanos().is_multiple_of(1_000_000) {
            write!(f, "{millis}ms")
        } else {
            write!(f, "{}s", self.0.as_secs_f64())
        }
    }
}

impl FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Span, String> {
        parse_duration(text).map(Span)
    }
}

/// A clap value parser for a duration of at most `max`.
pub fn span_up_to(max: Duration) -> impl Fn(&str) -> Result<Span, String> + Clone + Send + Sync {
    move |text| {
        let span: Span = text.parse()?;
        if span.0 > max {
            return Err(format!(
                "{text:?} is longer than the limit of {}",
                Span(max)
            ));
        }
        Ok(span)
    }
}

/// Reads a duration such as `10s`, `500ms`, `2m`, `1h` or `1.5s` (a bare number is
/// seconds).
///
/// # Errors
///
/// When the text is not a positive duration in one of those forms.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 5s, 300ms or 2m"))?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use ms, s, m or h"
            ));
        }
    };
    Duration::try_from_secs_f64(number * scale)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a positive duration"))
}

/// Reads a server's listen address: `host:port`, or a bare port for every interface
/// (`8080` is `0.0.0.0:8080`).
///
/// # Errors
///
/// When the text is neither.
pub fn listen_addr(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.parse::<u16>().is_ok() {
        return Ok(format!("0.0.0.0:{text}"));
    }
    match text.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => Ok(text.to_owned()),
        _ => Err(format!(
            "{text:?} is not an address: use host:port (127.0.0.1:8080) or a port (8080)"
        )),
    }
}

/// Reads an HTTP client's `--url`: `http://host:port[/path]`, `https://...` for TLS, or
/// `host:port` meaning `http://host:port`. The result has no trailing `/`.
///
/// # Errors
///
/// When the scheme is neither `http` nor `https`, or no host is given.
pub fn http_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        None => ("http", text),
        Some((scheme @ ("http" | "https"), rest)) => (scheme, rest),
        Some((scheme, rest)) => {
            return Err(format!(
                "{scheme}:// is not served by the labs: use http://{rest} (or https:// for TLS)"
            ));
        }
    };
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err(format!("{text:?} names no host: use http://host:port"));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Reads a WebSocket client's `--url`: `ws://host:port`, `wss://...` for TLS, or
/// `host:port` meaning `ws://host:port`. The result has no trailing `/`.
///
/// # Errors
///
/// When the scheme is neither `ws` nor `wss`, or no host is given.
pub fn ws_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (scheme, rest) = match text.split_once("://") {
        None => ("ws", text),
        Some((scheme @ ("ws" | "wss"), rest)) => (scheme, rest),
        Some((scheme, rest)) => {
            return Err(format!(
                "{scheme}:// is not served by the WebSocket lab: use ws://{rest} (or wss:// for \
                 TLS)"
            ));
        }
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with(':') {
        return Err(format!("{text:?} names no host: use ws://host:port"));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Reads an `http://` URL as [`http_url`] does, refusing `https://`: for what speaks
/// cleartext only (the gRPC peer chat).
///
/// # Errors
///
/// As [`http_url`], and for `https://`.
pub fn cleartext_http_url(text: &str) -> Result<String, String> {
    let url = http_url(text)?;
    match url.strip_prefix("https://") {
        Some(rest) => Err(format!("this speaks cleartext only: use http://{rest}")),
        None => Ok(url),
    }
}

/// Whether a URL as the readers here return it asks for TLS (`https://`, `wss://`,
/// `tls://`).
pub fn is_tls_url(url: &str) -> bool {
    matches!(url.split_once("://"), Some(("https" | "wss" | "tls", _)))
}

/// The `host:port` a URL (as [`http_url`], [`ws_url`] or [`tcp_target`] returns it)
/// connects to; without a port, the scheme's (80, or 443 under TLS).
pub fn url_authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else if is_tls_url(url) {
        format!("{authority}:443")
    } else {
        format!("{authority}:80")
    }
}

/// Reads the socket client's `--url`: `host:port`, `tcp://host:port`, or
/// `tls://host:port` for TLS; returns `host:port`, or `tls://host:port`.
///
/// # Errors
///
/// When another scheme is given or the port is missing.
pub fn tcp_target(text: &str) -> Result<String, String> {
    let text = text.trim();
    let (tls, target) = match text.split_once("://") {
        None => (false, text),
        Some(("tcp", rest)) => (false, rest.trim_end_matches('/')),
        Some(("tls", rest)) => (true, rest.trim_end_matches('/')),
        Some((scheme, _)) => {
            return Err(format!(
                "{scheme}:// is not the socket lab's: use host:port, tcp://host:port or \
                 tls://host:port"
            ));
        }
    };
    match target.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(if tls {
            format!("tls://{target}")
        } else {
            target.to_owned()
        }),
        _ => Err(format!(
            "{text:?} is not host:port (like 127.0.0.1:8080 or tcp://127.0.0.1:8080)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        for bad in ["", "s", "10x", "0s", "-1s", "fast", "inf", "NaN"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn spans_show_as_they_are_written() {
        assert_eq!("1.5s".parse::<Span>().unwrap().to_string(), "1500ms");
        for text in ["5s", "300ms", "300s"] {
            let span: Span = text.parse().unwrap();
            assert_eq!(span.to_string(), text);
            assert_eq!(span.to_string().parse::<Span>(), Ok(span));
        }
        assert_eq!(DEFAULT_CLIENT_TIMEOUT.to_string(), "5s");
        let up_to_a_minute = span_up_to(Duration::from_secs(60));
        assert!(up_to_a_minute("60s").is_ok());
        assert!(up_to_a_minute("61s").is_err());
    }

    #[test]
    fn a_bare_port_listens_everywhere() {
        assert_eq!(listen_addr("8080").unwrap(), "0.0.0.0:8080");
        assert_eq!(listen_addr("127.0.0.1:0").unwrap(), "127.0.0.1:0");
        assert_eq!(listen_addr("[::1]:9").unwrap(), "[::1]:9");
        for bad in ["", "host", "1.2.3.4:x", "70000"] {
            assert!(listen_addr(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_without_a_scheme_are_http() {
        assert_eq!(http_url("127.0.0.1:5000").unwrap(), "http://127.0.0.1:5000");
        assert_eq!(http_url("http://h:1/").unwrap(), "http://h:1");
        assert_eq!(http_url("https://h:1/").unwrap(), "https://h:1");
        assert!(http_url("ftp://h:1").unwrap_err().contains("http://h:1"));
        assert_eq!(url_authority("https://h"), "h:443");
        assert!(is_tls_url("https://h:1") && !is_tls_url("http://h:1"));
        assert!(http_url("http://").is_err());
        assert!(http_url(":5000").is_err());
        assert_eq!(url_authority("http://h:1/api"), "h:1");
        assert_eq!(url_authority("http://h"), "h:80");
        assert_eq!(ws_url("127.0.0.1:8765").unwrap(), "ws://127.0.0.1:8765");
        assert_eq!(ws_url("ws://h:1/").unwrap(), "ws://h:1");
        assert_eq!(ws_url("wss://h:1").unwrap(), "wss://h:1");
        assert!(ws_url("http://h:1").unwrap_err().contains("ws://h:1"));
        assert!(ws_url("ws://").is_err());
        assert_eq!(url_authority("ws://h:1"), "h:1");
    }

    #[test]
    fn socket_targets_take_an_optional_tcp_scheme() {
        assert_eq!(tcp_target("127.0.0.1:8080").unwrap(), "127.0.0.1:8080");
        assert_eq!(tcp_target("tcp://h:9").unwrap(), "h:9");
        assert_eq!(tcp_target("tls://h:9").unwrap(), "tls://h:9");
        assert_eq!(url_authority("tls://h:9"), "h:9");
        for bad in ["http://h:9", "h", ":9", "h:x"] {
            assert!(tcp_target(bad).is_err(), "{bad:?}");
        }
    }
}
