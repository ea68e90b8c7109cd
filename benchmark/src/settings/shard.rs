//! Sharding a run over several load generators (`--shard I/N`, or `--shards N` with a
//! Kubernetes Indexed Job's `JOB_COMPLETION_INDEX`) and starting them together
//! (`--start-at`). A leaf: it imports nothing from the rest of the crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// The environment variable a Kubernetes Indexed Job sets in each pod: its index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// One shard of a run: shard `index` (from 0) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// This shard's number, from 0.
    pub index: usize,
    /// How many shards the run has.
    pub count: usize,
}

impl Shard {
    /// Of `total` things numbered from 0 (clients, connections), how many are this
    /// shard's: those whose number leaves `index` when divided by `count`.
    pub fn share_of(&self, total: usize) -> usize {
        total.saturating_sub(self.index).div_ceil(self.count)
    }

    /// The global number of this shard's `local`-th thing.
    pub fn global(&self, local: usize) -> usize {
        self.index + local * self.count
    }
}

/// Reads `--shard I/N`: shard I (from 0) of N.
///
/// # Errors
///
/// When the text is not two numbers with I below N.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("{text:?} is not a shard: give I/N, like 0/4 (I from 0 to N-1)");
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let index: usize = index.trim().parse().map_err(|_| bad())?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count || count > 10_000 {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// This shard from `--shards N` and the index in `JOB_COMPLETION_INDEX` (`index`).
///
/// # Errors
///
/// When the index is missing or not below N.
pub fn from_job_index(count: usize, index: Option<&str>) -> Result<Shard, String> {
    let Some(index) = index else {
        return Err(format!(
            "--shards {count} takes this shard's index from {INDEX_ENV} (a Kubernetes \
             Indexed Job sets it); outside one, give --shard I/{count}"
        ));
    };
    parse_shard(&format!("{}/{count}", index.trim()))
        .map_err(|_| format!("{INDEX_ENV}={index:?} is not a shard index below {count}"))
}

/// Reads `--start-at`: an RFC 3339 time (`2026-12-06T10:00:00Z`) or Unix seconds, as
/// Unix seconds.
///
/// # Errors
///
/// When the text is neither.
pub fn parse_start_at(text: &str) -> Result<f64, String> {
    if let Ok(seconds) = text.trim().parse::<f64>()
        && seconds.is_finite()
        && seconds > 0.0
    {
        return Ok(seconds);
    }
    let time = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        format!("{text:?} is not a time: give RFC 3339 (2026-12-06T10:00:00Z) or Unix seconds")
    })?;
    Ok(time.timestamp() as f64 + f64::from(time.timestamp_subsec_nanos()) / 1e9)
}

/// How long from now until `unix_seconds` (zero if it has passed).
pub fn until(unix_seconds: f64) -> Duration {
    let Some(at) = Duration::try_from_secs_f64(unix_seconds.max(0.0))
        .ok()
        .and_then(|since| UNIX_EPOCH.checked_add(since))
    else {
        return Duration::MAX;
    };
    at.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_clients_without_gaps_or_overlaps() {
        for total in [1, 2, 5, 7, 32] {
            for count in 1..=4 {
                let mut seen = vec![0; total];
                for index in 0..count {
                    let shard = Shard { index, count };
                    for local in 0..shard.share_of(total) {
                        seen[shard.global(local)] += 1;
                    }
                }
                assert!(
                    seen.iter().all(|&n| n == 1),
                    "{total} over {count}: {seen:?}"
                );
            }
        }
        assert_eq!(Shard { index: 3, count: 4 }.share_of(2), 0);
    }

    #[test]
    fn a_shard_is_read_from_the_flag_or_the_job_index() {
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/b", "0/0", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        assert_eq!(
            from_job_index(3, Some("2")),
            Ok(Shard { index: 2, count: 3 })
        );
        assert!(
            from_job_index(3, Some("3"))
                .unwrap_err()
                .contains(INDEX_ENV)
        );
        assert!(from_job_index(3, None).unwrap_err().contains("--shard I/3"));
    }

    #[test]
    fn a_start_is_rfc_3339_or_unix_seconds() {
        assert_eq!(parse_start_at("1700000000"), Ok(1_700_000_000.0));
        assert_eq!(parse_start_at("2023-11-14T22:13:20Z"), Ok(1_700_000_000.0));
        assert_eq!(
            parse_start_at("2023-11-14T23:13:20.5+01:00"),
            Ok(1_700_000_000.5)
        );
        assert!(parse_start_at("tomorrow").is_err());
        assert_eq!(until(1.0), Duration::ZERO);
        // Far beyond what a clock holds: a wait that never ends, not a panic.
        assert_eq!(until(1e300), Duration::MAX);
    }
}
