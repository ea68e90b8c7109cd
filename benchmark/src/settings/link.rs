//! `--link`: the network the benchmark puts between every client and its server, as a
//! preset or a spec (`rtt=20ms,rate=100mbit,jitter=2ms,loss=0.5%`), parsed and checked
//! like any other option.

use std::time::Duration;

use serde::{Serialize, Serializer};

/// An emulated link: each part optional, each direction alike.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Link {
    /// The preset it came from, if any.
    pub preset: Option<&'static str>,
    /// Round-trip time: half of it each way, on every chunk.
    #[serde(rename = "rtt_ms", serialize_with = "millis")]
    pub rtt: Duration,
    /// Added to a chunk's delay, uniformly from zero to this, never reordering.
    #[serde(rename = "jitter_ms", serialize_with = "millis")]
    pub jitter: Duration,
    /// The bottleneck each direction shares, in bits per second (`None`: unlimited).
    pub rate_bps: Option<f64>,
    /// Probability that a chunk is held back for a retransmission timeout.
    pub loss: f64,
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1e3)
}

/// The presets, their figures and where they come from, for `--help` and the README.
pub const PRESETS: [(&str, &str, &str); 5] = [
    (
        "loopback",
        "rtt=0",
        "no delay: the emulator in the path and nothing else (its own cost)",
    ),
    (
        "lan",
        "rtt=0.5ms",
        "one data centre: 0.2-1 ms round trips between hosts",
    ),
    (
        "region",
        "rtt=20ms,rate=1gbit",
        "nearby regions of a cloud: 10-30 ms round trips",
    ),
    (
        "continent",
        "rtt=80ms,rate=100mbit",
        "across a continent or an ocean: 60-100 ms round trips",
    ),
    (
        "mobile",
        "rtt=100ms,rate=5mbit,jitter=20ms,loss=1%",
        "a phone on a mobile network: 50-150 ms, a few Mbit/s, some loss",
    ),
];

impl Link {
    /// Reads a preset name or a spec.
    ///
    /// # Errors
    ///
    /// An unknown preset or part, a value that does not read, a loss outside 0-100%.
    pub fn parse(text: &str) -> Result<Link, String> {
        let text = text.trim();
        if let Some((name, spec, _)) = PRESETS.iter().find(|(name, ..)| *name == text) {
            return Ok(Link {
                preset: Some(name),
                ..Link::parse(spec)?
            });
        }
        let mut link = Link::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!(
                    "{part:?} is not KEY=VALUE: give a preset ({}) or \
                     rtt=20ms,rate=100mbit,jitter=2ms,loss=0.5%",
                    preset_names()
                ));
            };
            let value = value.trim();
            match key.trim() {
                "rtt" => link.rtt = duration(value)?,
                "jitter" => link.jitter = duration(value)?,
                "rate" => link.rate_bps = Some(rate(value)?),
                "loss" => link.loss = loss(value)?,
                other => {
                    return Err(format!(
                        "{other:?} is not part of a link: rtt, rate, jitter or loss"
                    ));
                }
            }
        }
        Ok(link)
    }

    /// One way's delay: half the round trip.
    pub fn one_way(&self) -> Duration {
        self.rtt / 2
    }

    /// How long a held chunk waits, as TCP's retransmission timeout would make it: at
    /// least 200 ms (Linux's minimum), plus the round trip.
    pub fn retransmission_timeout(&self) -> Duration {
        Duration::from_millis(200) + self.rtt
    }

    /// The link as people read it: `rtt 20 ms, 100 Mbit/s, jitter 2 ms, loss 0.5%`.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("rtt {}", show_ms(self.rtt))];
        if let Some(bps) = self.rate_bps {
            parts.push(show_rate(bps));
        }
        if !self.jitter.is_zero() {
            parts.push(format!("jitter {}", show_ms(self.jitter)));
        }
        if self.loss > 0.0 {
            parts.push(format!("loss {}%", self.loss * 100.0));
        }
        let said = parts.join(", ");
        match self.preset {
            Some(name) => format!("{name} ({said})"),
            None => said,
        }
    }
}

fn preset_names() -> String {
    PRESETS.map(|(name, ..)| name).join(", ")
}

fn show_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms.fract() == 0.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms} ms")
    }
}

fn show_rate(bps: f64) -> String {
    if bps >= 1e9 {
        format!("{} Gbit/s", bps / 1e9)
    } else if bps >= 1e6 {
        format!("{} Mbit/s", bps / 1e6)
    } else {
        format!("{} kbit/s", bps / 1e3)
    }
}

/// `20ms`, `0.5ms`, `1s`, `0`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(format!("{text:?} is not a time like 20ms, 0.5ms or 1s"));
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n >= 0.0 && (n * scale) <= 60.0)
        .map(|n| Duration::from_secs_f64(n * scale))
        .ok_or_else(|| format!("{text:?} is not a time from 0 to 60s"))
}

/// `100mbit`, `10mbit`, `1gbit`, `512kbit`: bits per second.
pub(crate) fn rate(text: &str) -> Result<f64, String> {
    let lower = text.to_ascii_lowercase();
    let (number, scale) = [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3)]
        .iter()
        .find_map(|(unit, scale)| lower.strip_suffix(unit).map(|n| (n.to_owned(), *scale)))
        .ok_or_else(|| format!("{text:?} is not a rate like 100mbit, 1gbit or 512kbit"))?;
    number
        .trim()
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|bps| *bps >= 8_000.0 && bps.is_finite())
        .ok_or_else(|| format!("{text:?} is not a rate of at least 8kbit"))
}

/// `0.5%` or `0.005`.
pub(crate) fn loss(text: &str) -> Result<f64, String> {
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|p| p / 100.0),
        None => text.parse::<f64>(),
    };
    value
        .ok()
        .filter(|p| (0.0..1.0).contains(p))
        .ok_or_else(|| format!("{text:?} is not a loss from 0% to below 100%"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_and_presets_read_with_their_units() {
        let link = Link::parse("rtt=20ms,rate=100mbit,jitter=2ms,loss=0.5%").unwrap();
        assert_eq!(link.rtt, Duration::from_millis(20));
        assert_eq!(link.one_way(), Duration::from_millis(10));
        assert_eq!(link.jitter, Duration::from_millis(2));
        assert_eq!(link.rate_bps, Some(100e6));
        assert!((link.loss - 0.005).abs() < 1e-12);
        assert_eq!(
            link.describe(),
            "rtt 20 ms, 100 Mbit/s, jitter 2 ms, loss 0.5%"
        );
        let mobile = Link::parse("mobile").unwrap();
        assert_eq!(mobile.preset, Some("mobile"));
        assert_eq!(mobile.rtt, Duration::from_millis(100));
        assert_eq!(mobile.rate_bps, Some(5e6));
        assert_eq!(Link::parse("loopback").unwrap().rtt, Duration::ZERO);
        assert_eq!(
            Link::parse("rtt=0.5ms").unwrap().rtt,
            Duration::from_micros(500)
        );
        for preset in PRESETS {
            assert!(Link::parse(preset.0).is_ok(), "{}", preset.0);
        }
        for bad in [
            "fast",
            "rtt=20",
            "rate=100",
            "loss=100%",
            "delay=1ms",
            "rtt=-1ms",
        ] {
            assert!(Link::parse(bad).is_err(), "{bad}");
        }
    }
}
