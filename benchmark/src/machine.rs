//! What the benchmark ran on, for the report: numbers mean little without it.

use serde::Serialize;

/// The machine a run measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// CPUs this process may run on (taskset and cgroup limits count).
    pub cpus: usize,
    /// The CPU model, from `/proc/cpuinfo` where there is one.
    pub cpu_model: String,
    /// The operating system and kernel.
    pub os: String,
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
        Machine {
            cpus,
            cpu_model,
            os,
        }
    }
}
