//! What the benchmark ran on, for the report: numbers mean little without it.

pub mod steadiness;

use serde::{Deserialize, Serialize};

use steadiness::{CpuSnapshot, IdleSettings, Interference};

/// The machine a run measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    /// CPUs this process may run on (taskset and cgroup limits count).
    pub cpus: usize,
    /// The CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu_model: String,
    /// The operating system and kernel.
    pub os: String,
    /// How fast an idle CPU wakes: the idle driver, halt polling, the governor.
    pub idle: IdleSettings,
    /// Over the run: the chosen CPUs' time the hypervisor and other processes took.
    pub interference: Option<Interference>,
    /// Load and server CPUs that are SMT siblings of one core: `(load, server)`.
    pub shared_cores: Vec<(usize, usize)>,
    /// What would steady the run, where something would.
    pub advice: Vec<String>,
}

impl Machine {
    /// Reads the machine's description; unknown parts say `unknown`.
    pub fn detect() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let name = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                    .map(|name| name.trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| std::env::consts::OS.to_owned());
        let os = match std::fs::read_to_string("/proc/sys/kernel/osrelease") {
            Ok(kernel) => format!("{name}, kernel {}", kernel.trim()),
            Err(_) => name,
        };
        let idle = IdleSettings::read();
        let advice = steadiness::advice(&idle, None, &[]);
        Machine {
            cpus,
            cpu_model,
            os,
            idle,
            interference: None,
            shared_cores: Vec::new(),
            advice,
        }
    }

    /// The machine with what happened on the run's CPUs since `before`: steal time,
    /// other processes, load and server CPUs sharing a core.
    pub fn over_run(before: &CpuSnapshot, load_cpus: &[usize], server_cpus: &[usize]) -> Self {
        let mut machine = Machine::detect();
        let mut chosen: Vec<usize> = load_cpus.iter().chain(server_cpus).copied().collect();
        chosen.sort_unstable();
        chosen.dedup();
        machine.interference = before.interference(&CpuSnapshot::take(), &chosen);
        machine.shared_cores = load_cpus
            .iter()
            .flat_map(|&load| {
                steadiness::smt_siblings(load)
                    .into_iter()
                    .filter(|sibling| server_cpus.contains(sibling) && !load_cpus.contains(sibling))
                    .map(move |server| (load, server))
            })
            .collect();
        machine.advice = steadiness::advice(
            &machine.idle,
            machine.interference.as_ref(),
            &machine.shared_cores,
        );
        machine
    }
}
