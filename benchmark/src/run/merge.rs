//! `benchmark merge FILES...`: a sharded run's shards, each a JSON report made with
//! `--shard I/N`, put back together as the one run they were: every shard's histograms
//! and counts added row by row, then summarised, ranked and rendered as any run is.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Parser as _;
use serde_json::Value;

use crate::analysis::ranking;
use crate::analysis::shard::{combine, skew};
use crate::analysis::summary::{count_round_trips, summarise};
use crate::cli::Cli;
use crate::machine::Machine;
use crate::model::{Report, ShardPart};
use crate::placement::Placement;
use crate::run::row;
use crate::servers::{ServerCpu, Target};
use crate::settings::Settings;

/// How far apart the shards may begin measuring, as a share of the measurement, before
/// the merged report warns that they did not measure the same seconds.
const SKEW_LIMIT: f64 = 0.01;

/// Settings that differ between the shards of one run by design.
const PER_SHARD: [&str; 3] = ["shard", "shards", "start_at_unix_s"];

/// One shard's report as read.
struct Shard {
    path: PathBuf,
    json: Value,
    part: ShardPart,
}

/// `json`'s settings without what differs per shard.
fn common_settings(json: &Value) -> serde_json::Map<String, Value> {
    let mut settings = json["settings"].as_object().cloned().unwrap_or_default();
    for key in PER_SHARD {
        settings.remove(key);
    }
    settings
}

/// The first setting `a` and `b` give differently: its name and both values.
fn first_difference(
    a: &serde_json::Map<String, Value>,
    b: &serde_json::Map<String, Value>,
) -> Option<(String, String, String)> {
    let shown = |v: Option<&Value>| v.map_or_else(|| "absent".to_owned(), Value::to_string);
    a.keys()
        .chain(b.keys())
        .find(|key| a.get(*key) != b.get(*key))
        .map(|key| (key.clone(), shown(a.get(key)), shown(b.get(key))))
}

/// Reads one shard's report.
fn read(path: &Path) -> anyhow::Result<Shard> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON report", path.display()))?;
    let Some(part) = json.get("shard") else {
        bail!(
            "{} is not a shard's report: make each with --shard I/N --format json",
            path.display()
        );
    };
    let part: ShardPart = serde_json::from_value(part.clone())
        .with_context(|| format!("{}: its shard part cannot be read", path.display()))?;
    Ok(Shard {
        path: path.to_owned(),
        json,
        part,
    })
}

/// Checks that `shards` are every shard of one run, of one build and one set of
/// settings, saying in one line what is not so.
fn check(shards: &[Shard]) -> anyhow::Result<()> {
    let first = &shards[0];
    let name = |s: &Shard| s.path.display().to_string();
    for other in &shards[1..] {
        if other.part.version != first.part.version {
            bail!(
                "the shards differ in version: {} is {}, {} is {}",
                name(first),
                first.part.version,
                name(other),
                other.part.version
            );
        }
        if let Some((key, a, b)) =
            first_difference(&common_settings(&first.json), &common_settings(&other.json))
        {
            bail!(
                "the shards differ in settings: {key} is {a} in {} and {b} in {}",
                name(first),
                name(other)
            );
        }
        if other.part.count != first.part.count {
            bail!(
                "the shards differ in count: {} is one of {}, {} one of {}",
                name(first),
                first.part.count,
                name(other),
                other.part.count
            );
        }
    }
    let count = first.part.count;
    for index in 0..count {
        let holders: Vec<String> = shards
            .iter()
            .filter(|s| s.part.index == index)
            .map(name)
            .collect();
        match holders.len() {
            1 => {}
            0 => bail!("shard {index} of {count} is missing: merge every shard's report"),
            _ => bail!(
                "shard {index} of {count} is given twice: {}",
                holders.join(", ")
            ),
        }
    }
    if shards.len() != count {
        bail!("{} reports for a run of {count} shards", shards.len());
    }
    Ok(())
}

/// The run's settings, read back from the first shard's command line, checked against
/// what its report says it ran.
fn settings_of(shard: &Shard) -> anyhow::Result<Settings> {
    let cli = Cli::try_parse_from(&shard.part.args).with_context(|| {
        format!(
            "{}: its command line cannot be read back",
            shard.path.display()
        )
    })?;
    let mut settings = cli.settings;
    let back = serde_json::json!({ "settings": serde_json::to_value(&settings)? });
    if let Some((key, then, now)) =
        first_difference(&common_settings(&shard.json), &common_settings(&back))
    {
        bail!(
            "{}: its command line reads back as {key} = {now}, but it ran with {then} \
             (this machine's environment sets it?)",
            shard.path.display()
        );
    }
    settings.shard = None;
    settings.shards = None;
    settings.start_at = None;
    Ok(settings)
}

/// Merges the shard reports in `files` into one run's report.
///
/// # Errors
///
/// When a file cannot be read or is not a shard's report, or the files are not every
/// shard of one run of one build.
pub(crate) fn merge(files: &[PathBuf]) -> anyhow::Result<Report> {
    let mut shards = files
        .iter()
        .map(|path| read(path))
        .collect::<anyhow::Result<Vec<_>>>()?;
    check(&shards)?;
    shards.sort_by_key(|s| s.part.index);
    let first = &shards[0];
    let settings = settings_of(first)?;
    let placement: Placement = serde_json::from_value(first.json["placement"].clone())
        .context("the first shard's placement cannot be read")?;
    let machine: Machine = serde_json::from_value(first.json["machine"].clone())
        .context("the first shard's machine cannot be read")?;
    let results = first.json["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows = row::all();
    let mut merged = Vec::new();
    let mut warnings = Vec::new();
    for result in &results {
        let key = result["key"].as_str().unwrap_or_default();
        let Some(row) = rows.iter().find(|r| r.info().key == key) else {
            bail!("row {key} is not one this build measures");
        };
        let info = row.info();
        let parts = shards
            .iter()
            .map(|s| {
                s.part.rows.iter().find(|r| r.key == key).with_context(|| {
                    format!(
                        "{} has no row {key}: the shards measured different rows",
                        s.path.display()
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let spread = skew(&parts);
        let measured_s = settings
            .duration
            .map_or_else(|| results_wall(result), |d| d.as_secs_f64());
        if measured_s > 0.0 && spread > SKEW_LIMIT * measured_s {
            warnings.push(format!(
                "{}: the shards began measuring {:.0} ms apart, {:.1}% of its {:.2} s \
                 (more than 1%): they did not measure the same seconds; start them \
                 together with --start-at",
                info.label,
                spread * 1e3,
                spread / measured_s * 100.0,
                measured_s
            ));
        }
        let measured = combine(
            info,
            result["operation"].as_str().unwrap_or_default().to_owned(),
            result["server_build"].as_str().map(str::to_owned),
            &parts,
        )?;
        let from = parts.iter().find_map(|p| p.server_cpu_from.clone());
        let target = Target {
            lab: info.lab,
            address: result["target"].as_str().unwrap_or_default().to_owned(),
            authority: String::new(),
            embedded: None,
            cpu: ServerCpu::Unknown(
                "the shards read no server CPU: give them --server-metrics".into(),
            ),
            relay: None,
        };
        let mut summary = summarise(measured, &target);
        summary.embedded = result["embedded"].as_bool().unwrap_or(false);
        summary.server_cpu_from = summary.server_cpu_us.and(from);
        count_round_trips(&mut summary, settings.link.as_ref());
        merged.push(summary);
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let count = shards.len();
    let mut report = ranking::assemble(settings, placement, machine, merged, false);
    let mut notes = vec![format!(
        "merged from {count} shards ({}): each row's histograms and counts added, its \
         throughput over the shards' rounds together, its server CPU the mean of what \
         each shard read over the same rounds; the machine and placement are shard 0's",
        shards
            .iter()
            .map(|s| s.path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )];
    notes.extend(warnings);
    notes.append(&mut report.notes);
    report.notes = notes;
    Ok(report)
}

/// A row's measured seconds as its report gives them.
fn results_wall(result: &Value) -> f64 {
    result["wall_s"].as_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_setting_that_differs_is_named_with_both_values() {
        let a = serde_json::json!({"settings": {"concurrency": 4, "shard": {"index": 0}}});
        let b = serde_json::json!({"settings": {"concurrency": 8, "shard": {"index": 1}}});
        let c = serde_json::json!({"settings": {"concurrency": 4, "shard": {"index": 1}}});
        let (sa, sb, sc) = (
            common_settings(&a),
            common_settings(&b),
            common_settings(&c),
        );
        assert_eq!(
            first_difference(&sa, &sb),
            Some(("concurrency".into(), "4".into(), "8".into()))
        );
        // The shard itself is expected to differ.
        assert_eq!(first_difference(&sa, &sc), None);
    }
}
