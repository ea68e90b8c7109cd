//! `--sweep NAME=v1,v2,...`: which setting a sweep varies and its values, parsed and
//! checked like the option itself; each value gives a run's [`Settings`].

use std::time::Duration;

use serde::Serialize;

use crate::settings::link::{self, Link};
use crate::settings::{Settings, parse_rate};

/// The settings a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Parameter {
    /// `--concurrency`: clients at once.
    Concurrency,
    /// `--list-size`: users listed, or items streamed.
    ListSize,
    /// `--rate`: requests per second of an open loop (needs `--duration`).
    Rate,
    /// `--connections`: connections the clients share.
    Connections,
    /// `--tls`: `off` (0) and `on` (1), the TLS tax in one run.
    Tls,
    /// The `--link`'s round trip, in milliseconds (the rest of the link as given).
    Rtt,
    /// The `--link`'s bottleneck, in Mbit/s.
    LinkRate,
    /// The `--link`'s loss, in percent.
    Loss,
}

impl Parameter {
    /// Its name on the command line, without the dashes.
    pub fn name(self) -> &'static str {
        match self {
            Parameter::Concurrency => "concurrency",
            Parameter::ListSize => "list-size",
            Parameter::Rate => "rate",
            Parameter::Connections => "connections",
            Parameter::Tls => "tls",
            Parameter::Rtt => "rtt",
            Parameter::LinkRate => "link-rate",
            Parameter::Loss => "loss",
        }
    }

    /// The name with the unit its values are in, for a chart's axis: `rtt (ms)`.
    pub fn axis(self) -> String {
        match self {
            Parameter::Rtt => "rtt (ms)".to_owned(),
            Parameter::LinkRate => "link rate (Mbit/s)".to_owned(),
            Parameter::Loss => "loss (%)".to_owned(),
            other => other.name().to_owned(),
        }
    }

    /// A value as people read it: `on`/`off` for TLS, with its unit for a link's
    /// part, the number otherwise.
    pub fn show(self, value: f64) -> String {
        match self {
            Parameter::Tls if value == 0.0 => "off".to_owned(),
            Parameter::Tls => "on".to_owned(),
            Parameter::Rtt => format!("{value} ms"),
            Parameter::LinkRate => format!("{value} Mbit/s"),
            Parameter::Loss => format!("{value}%"),
            _ => value.to_string(),
        }
    }

    fn parse(name: &str) -> Result<Parameter, String> {
        match name.trim() {
            "concurrency" => Ok(Parameter::Concurrency),
            "list-size" => Ok(Parameter::ListSize),
            "rate" => Ok(Parameter::Rate),
            "connections" => Ok(Parameter::Connections),
            "tls" => Ok(Parameter::Tls),
            "rtt" => Ok(Parameter::Rtt),
            "link-rate" => Ok(Parameter::LinkRate),
            "loss" => Ok(Parameter::Loss),
            other => Err(format!(
                "cannot sweep {other:?}: sweep concurrency, list-size, rate, connections, \
                 tls, or a link's rtt, link-rate or loss"
            )),
        }
    }

    /// Checks one value the way its own option would, and returns it as a number.
    fn value(self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        let count = |low: u64, high: u64| -> Result<f64, String> {
            match text.parse::<u64>() {
                Ok(n) if (low..=high).contains(&n) => Ok(n as f64),
                _ => Err(format!(
                    "{} value {text:?} must be a whole number from {low} to {high}",
                    self.name()
                )),
            }
        };
        match self {
            Parameter::Concurrency | Parameter::Connections => count(1, 10_000),
            Parameter::ListSize => count(0, 1_000_000),
            Parameter::Rate => parse_rate(text),
            Parameter::Tls => match text {
                "off" | "0" => Ok(0.0),
                "on" | "1" => Ok(1.0),
                _ => Err(format!("tls value {text:?} must be off or on")),
            },
            // A link's parts read as in --link, and are kept in the unit the axis shows.
            Parameter::Rtt => link::duration(text).map(|d| d.as_secs_f64() * 1e3),
            Parameter::LinkRate => link::rate(text).map(|bps| bps / 1e6),
            Parameter::Loss => link::loss(text).map(|p| p * 100.0),
        }
    }
}

/// A parsed `--sweep`: which setting, and its values in the order given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sweep {
    /// The setting.
    pub parameter: Parameter,
    /// Its values, in order.
    pub values: Vec<f64>,
}

/// Most points one sweep runs.
pub const MAX_POINTS: usize = 64;

impl Sweep {
    /// Parses `NAME=v1,v2,...`.
    ///
    /// # Errors
    ///
    /// On an unknown name, a value its option would refuse, or no values.
    pub fn parse(text: &str) -> Result<Sweep, String> {
        let (name, values) = text.split_once('=').ok_or_else(|| {
            format!("{text:?} is not NAME=v1,v2,... (for example concurrency=1,2,4,8)")
        })?;
        let parameter = Parameter::parse(name)?;
        let values = values
            .split(',')
            .filter(|v| !v.trim().is_empty())
            .map(|v| parameter.value(v))
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err(format!("--sweep {name}= has no values"));
        }
        if values.len() > MAX_POINTS {
            return Err(format!("a sweep runs at most {MAX_POINTS} points"));
        }
        Ok(Sweep { parameter, values })
    }

    /// The settings of one point: `base` with the swept setting at `value`.
    ///
    /// # Errors
    ///
    /// When the value needs another option the run does not have (`rate` needs
    /// `--duration`).
    pub fn apply(&self, base: &Settings, value: f64) -> Result<Settings, String> {
        let mut settings = base.clone();
        match self.parameter {
            Parameter::Concurrency => settings.concurrency = value as u16,
            Parameter::ListSize => settings.list_size = value as usize,
            Parameter::Connections => settings.connections = Some(value as u16),
            Parameter::Tls => settings.tls = value != 0.0,
            Parameter::Rtt | Parameter::LinkRate | Parameter::Loss => {
                // The swept part replaces the same part of --link; a preset's name no
                // longer describes the result.
                let mut link = Link {
                    preset: None,
                    ..settings.link.unwrap_or_default()
                };
                match self.parameter {
                    Parameter::Rtt => link.rtt = Duration::from_secs_f64(value / 1e3),
                    Parameter::LinkRate => link.rate_bps = Some(value * 1e6),
                    _ => link.loss = value / 100.0,
                }
                settings.link = Some(link);
            }
            Parameter::Rate => {
                if settings.duration.is_none() {
                    return Err(
                        "--sweep rate=... needs --duration (an open loop runs for a \
                                time, not a count)"
                            .to_owned(),
                    );
                }
                settings.rate = Some(value);
            }
        }
        Ok(settings)
    }

    /// `concurrency = 8`.
    pub fn label(&self, value: f64) -> String {
        format!("{} = {}", self.parameter.name(), self.parameter.show(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_sweep_changes_its_part_and_keeps_the_rest() {
        let base = crate::cli::tests::settings(&["--link", "region"]);
        let sweep = Sweep::parse("loss=1%").unwrap();
        let link = sweep.apply(&base, 1.0).unwrap().link.unwrap();
        assert_eq!(link.rtt, Duration::from_millis(20));
        assert_eq!(link.rate_bps, Some(1e9));
        assert!((link.loss - 0.01).abs() < 1e-12);
        assert_eq!(link.preset, None);
        // Without --link, the sweep makes one of just that part.
        let rtt = Sweep::parse("rtt=50ms").unwrap();
        let alone = rtt
            .apply(&crate::cli::tests::settings(&[]), 50.0)
            .unwrap()
            .link
            .unwrap();
        assert_eq!(alone.rtt, Duration::from_millis(50));
        assert_eq!(alone.rate_bps, None);
    }

    #[test]
    fn sweeps_parse_like_their_options() {
        let sweep = Sweep::parse("concurrency=1,2, 8").unwrap();
        assert_eq!(sweep.parameter, Parameter::Concurrency);
        assert_eq!(sweep.values, [1.0, 2.0, 8.0]);
        assert_eq!(
            Sweep::parse("rate=1000,2500.5").unwrap().values,
            [1000.0, 2500.5]
        );
        assert_eq!(Sweep::parse("list-size=0,10").unwrap().values, [0.0, 10.0]);
        let tls = Sweep::parse("tls=off,on").unwrap();
        assert_eq!(tls.values, [0.0, 1.0]);
        assert_eq!(tls.label(1.0), "tls = on");
        let rtt = Sweep::parse("rtt=0,0.5ms,20ms").unwrap();
        assert_eq!(rtt.values, [0.0, 0.5, 20.0]);
        assert_eq!(rtt.label(20.0), "rtt = 20 ms");
        assert_eq!(
            Sweep::parse("link-rate=10mbit,1gbit").unwrap().values,
            [10.0, 1000.0]
        );
        assert_eq!(
            Sweep::parse("loss=0,1%,5%").unwrap().values,
            [0.0, 1.0, 5.0]
        );
        for bad in [
            "concurrency",
            "threads=1,2",
            "concurrency=0",
            "connections=1,x",
            "concurrency=",
            "rate=-5",
            "tls=maybe",
            "rtt=20",
            "link-rate=fast",
            "loss=100%",
        ] {
            assert!(Sweep::parse(bad).is_err(), "{bad}");
        }
    }
}
