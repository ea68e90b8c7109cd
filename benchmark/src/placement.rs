//! Where the load generator and the servers run: CPU lists, the default split, pinning.
//!
//! A load generator that shares a CPU with the server it measures takes turns with it,
//! and the figures then say as much about the scheduler as about the protocol. So by
//! default, on two or more CPUs, the clients get the first half and the embedded
//! servers the rest; on one CPU they share it (and the report says so).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A set of CPU numbers, as `taskset -c` writes them: `0`, `0,2`, `1-3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CpuList(pub Vec<usize>);

impl CpuList {
    /// Reads `0`, `0,2` or `1-3` (ranges and lists mix: `0,2-3`).
    ///
    /// # Errors
    ///
    /// When the text is empty or not numbers and ranges.
    pub fn parse(text: &str) -> Result<CpuList, String> {
        let mut cpus = Vec::new();
        for part in text.split(',').map(str::trim) {
            let bad = || format!("{text:?} is not a CPU list like 0, 0,2 or 1-3");
            match part.split_once('-') {
                Some((from, to)) => {
                    let from: usize = from.trim().parse().map_err(|_| bad())?;
                    let to: usize = to.trim().parse().map_err(|_| bad())?;
                    if from > to || to - from > 4096 {
                        return Err(bad());
                    }
                    cpus.extend(from..=to);
                }
                None => cpus.push(part.parse().map_err(|_| bad())?),
            }
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuList(cpus))
    }

    /// How many CPUs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The CPU for thread number `index`: the list, round and round.
    pub fn for_thread(&self, index: usize) -> Option<usize> {
        (!self.0.is_empty()).then(|| self.0[index % self.0.len()])
    }
}

impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&text.join(","))
    }
}

/// Where this run's load and embedded servers go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// CPUs of the load-generator threads.
    pub client_cpus: CpuList,
    /// CPUs of the embedded servers' runtime threads.
    pub server_cpus: CpuList,
    /// Load-generator threads (each a single-threaded runtime).
    pub client_threads: usize,
}

impl Placement {
    /// Decides the placement from what was asked and the CPUs this process may use.
    ///
    /// # Errors
    ///
    /// When an asked-for CPU is not one this process may run on.
    pub fn decide(
        available: &[usize],
        client: Option<&CpuList>,
        server: Option<&CpuList>,
        threads: Option<usize>,
    ) -> Result<Placement, String> {
        let available = if available.is_empty() {
            vec![0]
        } else {
            available.to_vec()
        };
        for (flag, list) in [("--client-cpus", client), ("--server-cpus", server)] {
            let missing = list.and_then(|l| l.0.iter().find(|cpu| !available.contains(cpu)));
            if let Some(cpu) = missing {
                return Err(format!(
                    "{flag}: CPU {cpu} is not one this process may use (available: {})",
                    CpuList(available.clone())
                ));
            }
        }
        let half = (available.len() / 2).max(1);
        let (default_client, default_server) = if available.len() >= 2 {
            (available[..half].to_vec(), available[half..].to_vec())
        } else {
            (available.clone(), available.clone())
        };
        let client_cpus = client.cloned().unwrap_or(CpuList(default_client));
        let server_cpus = server.cloned().unwrap_or(CpuList(default_server));
        let client_threads = threads.unwrap_or(client_cpus.len()).max(1);
        Ok(Placement {
            client_cpus,
            server_cpus,
            client_threads,
        })
    }

    /// True when load and servers share a CPU.
    pub fn shared(&self) -> bool {
        self.client_cpus
            .0
            .iter()
            .any(|cpu| self.server_cpus.0.contains(cpu))
    }
}

/// The CPUs this process may run on (its affinity mask, which `taskset` and cgroups
/// narrow).
pub fn available_cpus() -> Vec<usize> {
    core_affinity::get_core_ids()
        .map(|ids| ids.into_iter().map(|id| id.id).collect())
        .unwrap_or_default()
}

/// Pins the calling thread to `cpu`; false when the system refused.
pub fn pin_current_thread(cpu: usize) -> bool {
    core_affinity::set_for_current(core_affinity::CoreId { id: cpu })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_read_like_taskset() {
        assert_eq!(CpuList::parse("0").unwrap().0, [0]);
        assert_eq!(CpuList::parse("2,0").unwrap().0, [0, 2]);
        assert_eq!(CpuList::parse("0,2-4").unwrap().0, [0, 2, 3, 4]);
        assert_eq!(CpuList::parse("1-1").unwrap().to_string(), "1");
        for bad in ["", "a", "3-1", "1,", "-2"] {
            assert!(CpuList::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn two_or_more_cpus_keep_load_and_servers_apart() {
        let two = Placement::decide(&[0, 1], None, None, None).unwrap();
        assert_eq!(
            (two.client_cpus.0.as_slice(), two.server_cpus.0.as_slice()),
            (&[0][..], &[1][..])
        );
        assert!(!two.shared());
        assert_eq!(two.client_threads, 1);
        let four = Placement::decide(&[0, 1, 2, 3], None, None, None).unwrap();
        assert_eq!(four.client_cpus.0, [0, 1]);
        assert_eq!(four.server_cpus.0, [2, 3]);
        assert_eq!(four.client_threads, 2);
    }

    #[test]
    fn one_cpu_is_shared_and_asked_cpus_must_exist() {
        let one = Placement::decide(&[3], None, None, None).unwrap();
        assert!(one.shared());
        assert_eq!(one.client_cpus.0, [3]);
        let asked = CpuList::parse("1").unwrap();
        let placed = Placement::decide(&[0, 1], Some(&asked), Some(&asked), Some(4)).unwrap();
        assert!(placed.shared());
        assert_eq!(placed.client_threads, 4);
        let missing = CpuList::parse("7").unwrap();
        let error = Placement::decide(&[0, 1], Some(&missing), None, None).unwrap_err();
        assert!(error.contains("CPU 7") && error.contains("0,1"), "{error}");
    }
}
