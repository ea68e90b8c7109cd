//! What makes latency on this machine unsteady, read (never changed) before and
//! during a run: the idle driver and a guest's halt polling, the frequency governor,
//! SMT siblings shared between load and servers, and, over the run, the hypervisor's
//! steal time and other processes' CPU on the CPUs the run chose.
//!
//! On a virtual machine most of a request's time at one client is the hypervisor
//! waking the other vCPU: with the `haltpoll` idle driver and
//! `guest_halt_poll_ns` at 0, every wake-up of an idle vCPU is a VM exit. These
//! readings let a report say so, and what would steady the run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The system settings that decide how fast an idle CPU wakes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdleSettings {
    /// `/sys/devices/system/cpu/cpuidle/current_driver` (`haltpoll`, `intel_idle`, ...).
    pub cpuidle_driver: Option<String>,
    /// `/sys/module/haltpoll/parameters/guest_halt_poll_ns`: how long an idle guest
    /// vCPU polls before it halts (0: it halts at once, and every wake-up exits to the
    /// hypervisor).
    pub guest_halt_poll_ns: Option<u64>,
    /// The CPU frequency governor of the first CPU, where there is one.
    pub governor: Option<String>,
}

impl IdleSettings {
    /// Reads the settings; parts the system does not have are `None`.
    pub fn read() -> Self {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .ok()
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        IdleSettings {
            cpuidle_driver: read("/sys/devices/system/cpu/cpuidle/current_driver"),
            guest_halt_poll_ns: read("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
                .and_then(|text| text.parse().ok()),
            governor: read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        }
    }
}

/// The SMT siblings of `cpu` other than itself, from its topology.
pub fn smt_siblings(cpu: usize) -> Vec<usize> {
    let path = format!("/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| parse_cpu_list(text.trim()))
        .unwrap_or_default()
        .into_iter()
        .filter(|&sibling| sibling != cpu)
        .collect()
}

/// `0-2,5` as `[0, 1, 2, 5]`; `None` when it does not read as a list.
fn parse_cpu_list(text: &str) -> Option<Vec<usize>> {
    let mut cpus = Vec::new();
    for part in text.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => cpus.extend(a.parse::<usize>().ok()?..=b.parse::<usize>().ok()?),
            None => cpus.push(part.parse().ok()?),
        }
    }
    Some(cpus)
}

/// One CPU's time so far, in clock ticks (`/proc/stat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ticks {
    /// Running something: user, nice, system, irq, softirq.
    busy: u64,
    /// Taken by the hypervisor for something else while this vCPU wanted to run.
    steal: u64,
    /// Everything, idle and iowait included.
    total: u64,
}

/// Every CPU's ticks and this process's own CPU ticks at one moment.
#[derive(Debug, Clone, Default)]
pub struct CpuSnapshot {
    cpus: BTreeMap<usize, Ticks>,
    own: u64,
}

impl CpuSnapshot {
    /// Reads `/proc/stat` and `/proc/self/stat`; empty where the system has neither.
    pub fn take() -> Self {
        let cpus = std::fs::read_to_string("/proc/stat")
            .map(|text| parse_proc_stat(&text))
            .unwrap_or_default();
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|text| own_ticks(&text))
            .unwrap_or(0);
        CpuSnapshot { cpus, own }
    }

    /// What happened on `chosen` CPUs between `self` and `later`; `None` when the
    /// system does not tell or no time passed.
    pub fn interference(&self, later: &CpuSnapshot, chosen: &[usize]) -> Option<Interference> {
        let mut delta = Ticks::default();
        for cpu in chosen {
            let (before, after) = (self.cpus.get(cpu)?, later.cpus.get(cpu)?);
            delta.busy += after.busy.saturating_sub(before.busy);
            delta.steal += after.steal.saturating_sub(before.steal);
            delta.total += after.total.saturating_sub(before.total);
        }
        if delta.total == 0 {
            return None;
        }
        let own = later.own.saturating_sub(self.own);
        let percent = |ticks: u64| ticks as f64 / delta.total as f64 * 100.0;
        Some(Interference {
            cpus: chosen.to_vec(),
            steal_percent: percent(delta.steal),
            others_percent: percent(delta.busy.saturating_sub(own)),
        })
    }
}

/// The chosen CPUs' time over a run that went to someone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interference {
    /// The CPUs looked at: the load's and the embedded servers'.
    pub cpus: Vec<usize>,
    /// Share of their time the hypervisor took (steal), percent.
    pub steal_percent: f64,
    /// Share of their time other processes ran (busy time less this process's CPU,
    /// external servers included), percent.
    pub others_percent: f64,
}

/// `cpuN user nice system idle iowait irq softirq steal ...` lines, by N.
fn parse_proc_stat(text: &str) -> BTreeMap<usize, Ticks> {
    let mut cpus = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(cpu) = fields
            .next()
            .and_then(|name| name.strip_prefix("cpu"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let values: Vec<u64> = fields.filter_map(|f| f.parse().ok()).collect();
        let at = |i: usize| values.get(i).copied().unwrap_or(0);
        // guest and guest_nice (8, 9) are already inside user and nice.
        let (user, nice, system, idle, iowait, irq, softirq, steal) =
            (at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7));
        cpus.insert(
            cpu,
            Ticks {
                busy: user + nice + system + irq + softirq,
                steal,
                total: user + nice + system + idle + iowait + irq + softirq + steal,
            },
        );
    }
    cpus
}

/// utime + stime of `/proc/self/stat`, in clock ticks (fields 14 and 15, counted after
/// the command name, which may hold spaces).
fn own_ticks(text: &str) -> Option<u64> {
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state), so fields 14 and 15 are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Advice for a run whose machine is unsteady, one line each; empty when nothing is
/// worth saying. Never acted on: the benchmark changes no system setting.
pub fn advice(
    idle: &IdleSettings,
    interference: Option<&Interference>,
    shared_cores: &[(usize, usize)],
) -> Vec<String> {
    let mut lines = Vec::new();
    if idle.cpuidle_driver.as_deref() == Some("haltpoll") && idle.guest_halt_poll_ns == Some(0) {
        lines.push(
            "guest halt polling is off (haltpoll, guest_halt_poll_ns = 0): every wake-up of \
             an idle vCPU exits to the hypervisor, which is most of a request's time at one \
             client and its spread; to steady a run, as root: echo 200000 > \
             /sys/module/haltpoll/parameters/guest_halt_poll_ns (this burns host CPU while \
             idle; the benchmark never changes it)"
                .to_owned(),
        );
    }
    if let Some(governor) = idle.governor.as_deref().filter(|g| *g != "performance") {
        lines.push(format!(
            "the CPU frequency governor is {governor}: the clock speed moves under the run; \
             `cpupower frequency-set -g performance` holds it"
        ));
    }
    if let Some(i) = interference {
        if i.steal_percent >= 1.0 {
            lines.push(format!(
                "the hypervisor took {:.1}% of the chosen CPUs' time (steal): the figures \
                 include its pauses; a quieter host or dedicated vCPUs steady them",
                i.steal_percent
            ));
        }
        if i.others_percent >= 5.0 {
            lines.push(format!(
                "other processes ran {:.1}% of the chosen CPUs' time during the run: stop \
                 them, or give the run CPUs of its own (--client-cpus, --server-cpus)",
                i.others_percent
            ));
        }
    }
    for (load, server) in shared_cores {
        lines.push(format!(
            "CPUs {load} (load) and {server} (servers) are SMT siblings of one core: they \
             compete for it; choose CPUs on different cores"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "cpu  10 0 5 100 0 0 0 3 0 0\n\
                        cpu0 4 0 2 50 0 0 0 1 0 0\n\
                        cpu1 6 0 3 50 0 1 1 2 0 0\n\
                        intr 12345\n";

    #[test]
    fn proc_stat_reads_per_cpu_and_skips_the_total() {
        let cpus = parse_proc_stat(STAT);
        assert_eq!(cpus.len(), 2);
        assert_eq!(
            cpus[&1],
            Ticks {
                busy: 11,
                steal: 2,
                total: 63
            }
        );
    }

    #[test]
    fn interference_is_steal_and_busy_time_not_ours() {
        let before = CpuSnapshot {
            cpus: parse_proc_stat(STAT),
            own: 100,
        };
        let mut later = before.clone();
        // 100 ticks pass on each CPU: cpu0 60 busy, cpu1 20 busy and 10 stolen; this
        // process ran 50 of the 80 busy ticks.
        for (cpu, busy, steal) in [(0, 60, 0), (1, 20, 10)] {
            let t = later.cpus.get_mut(&cpu).unwrap();
            t.busy += busy;
            t.steal += steal;
            t.total += 100;
        }
        later.own = 150;
        let i = before.interference(&later, &[0, 1]).unwrap();
        assert_eq!(i.steal_percent, 5.0);
        assert_eq!(i.others_percent, 15.0);
        assert_eq!(before.interference(&later, &[7]), None);
        assert_eq!(before.interference(&before, &[0]), None, "no time passed");
    }

    #[test]
    fn own_ticks_count_after_a_name_with_spaces() {
        let stat = "42 (my prog) S 1 42 42 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0";
        assert_eq!(own_ticks(stat), Some(10));
        assert_eq!(parse_cpu_list("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpu_list("x"), None);
    }

    #[test]
    fn advice_names_what_would_steady_the_run() {
        let off = IdleSettings {
            cpuidle_driver: Some("haltpoll".into()),
            guest_halt_poll_ns: Some(0),
            governor: None,
        };
        let quiet = Interference {
            cpus: vec![0, 1],
            steal_percent: 0.2,
            others_percent: 1.0,
        };
        let lines = advice(&off, Some(&quiet), &[]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("guest_halt_poll_ns"), "{lines:?}");
        let on = IdleSettings {
            guest_halt_poll_ns: Some(200_000),
            ..off
        };
        let busy = Interference {
            steal_percent: 4.0,
            others_percent: 30.0,
            ..quiet
        };
        let lines = advice(&on, Some(&busy), &[(0, 1)]);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("4.0% of the chosen CPUs' time (steal)"));
        assert!(lines[1].contains("30.0%"));
        assert!(lines[2].contains("SMT siblings"));
    }
}
