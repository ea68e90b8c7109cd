//! What makes `benchmark cost`'s counts repeat. callgrind counts a process's
//! instructions exactly, yet an HTTP/2 server's count moved by up to 2% from one
//! process to the next: the work depends on things outside the program's input. Three
//! of them, each taken out where this machine allows:
//!
//! - the wall clock: an HTTP server's `Date` header changes once a second, and each
//!   change is an HPACK table entry and a few allocations at a moment that depends on
//!   timing, after which glibc's heap (and so every later `malloc`'s path) differs;
//!   libfaketime (`LD_PRELOAD`) holds `CLOCK_REALTIME` at one instant while the
//!   monotonic clock, which timers use, runs on;
//! - time slices: two processes on one CPU are cut off mid-write at moments that
//!   depend on timing, and a request read in two parts costs an extra wake-up;
//!   `SCHED_FIFO` (`chrt -f 1`, which needs `CAP_SYS_NICE`) lets each run until it
//!   waits;
//! - address randomisation (`setarch -R`), which moves where the heap starts.
//!
//! The instructions of libfaketime's own wrappers are taken out of every count (see
//! [`object_cost`]), so freezing the clock costs nothing that is counted.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where Debian and its derivatives put libfaketime, for this machine's architecture.
fn faketime_candidates() -> Vec<PathBuf> {
    let arch = std::env::consts::ARCH;
    vec![
        PathBuf::from(format!(
            "/usr/lib/{arch}-linux-gnu/faketime/libfaketime.so.1"
        )),
        PathBuf::from("/usr/lib/faketime/libfaketime.so.1"),
        PathBuf::from("/usr/local/lib/faketime/libfaketime.so.1"),
    ]
}

/// The frozen wall-clock instant every counted process sees.
const FROZEN_AT: &str = "2026-01-01 00:00:00";

/// Which of the three steadiers this machine allows: found once, used for every
/// counted process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Steady {
    /// libfaketime's library, when found.
    pub faketime: Option<PathBuf>,
    /// `chrt -f 1` works here.
    pub fifo: bool,
    /// `setarch ARCH -R` works here.
    pub no_aslr: bool,
}

impl Steady {
    /// Looks for each: libfaketime at `faketime` (or where Debian puts it), and tries
    /// `chrt -f 1 true` and `setarch ARCH -R true`.
    pub(crate) fn find(faketime: Option<&Path>) -> Self {
        let faketime = match faketime {
            Some(path) => path.is_file().then(|| path.to_path_buf()),
            None => faketime_candidates().into_iter().find(|p| p.is_file()),
        };
        Steady {
            faketime,
            fifo: runs("chrt", &["-f", "1", "true"]),
            no_aslr: runs("setarch", &[std::env::consts::ARCH, "-R", "true"]),
        }
    }

    /// A command that runs `program` with what this machine allows around it.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let mut words: Vec<String> = Vec::new();
        if self.no_aslr {
            words.extend(["setarch".into(), std::env::consts::ARCH.into(), "-R".into()]);
        }
        if self.fifo {
            words.extend(["chrt".into(), "-f".into(), "1".into()]);
        }
        let mut command = match words.split_first() {
            None => Command::new(program),
            Some((first, rest)) => {
                let mut command = Command::new(first);
                command.args(rest).arg(program);
                command
            }
        };
        if let Some(library) = &self.faketime {
            command
                .env("LD_PRELOAD", library)
                .env("FAKETIME", FROZEN_AT)
                .env("DONT_FAKE_MONOTONIC", "1");
        }
        command
    }

    /// The object name whose instructions are not the program's (libfaketime's).
    pub(crate) fn foreign_object(&self) -> Option<&'static str> {
        self.faketime.as_ref().map(|_| "libfaketime")
    }

    /// What was steadied and what was not, and how to get what was not.
    pub(crate) fn describe(&self) -> String {
        let mut done = Vec::new();
        let mut missing = Vec::new();
        if self.faketime.is_some() {
            done.push(format!("wall clock held at {FROZEN_AT} (libfaketime)"));
        } else {
            missing.push(
                "the wall clock runs (install libfaketime, Debian: apt-get install faketime)",
            );
        }
        if self.fifo {
            done.push("no time slicing (SCHED_FIFO)".to_owned());
        } else {
            missing.push("time slicing on (SCHED_FIFO needs root or CAP_SYS_NICE)");
        }
        if self.no_aslr {
            done.push("no address randomisation (setarch -R)".to_owned());
        } else {
            missing.push("addresses randomised (setarch from util-linux turns it off)");
        }
        let mut said = format!(
            "steadied: {}",
            if done.is_empty() {
                "nothing".to_owned()
            } else {
                done.join(", ")
            }
        );
        if !missing.is_empty() {
            said.push_str(&format!(
                "; not: {}: HTTP/2 rows' counts then move by up to 2% from one process to the \
                 next, so raise --repeats",
                missing.join(", ")
            ));
        }
        said
    }
}

/// True when `program args` runs and succeeds.
fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The instructions (the first event, `Ir`) a callgrind output file gives to functions
/// of objects whose path contains `object`: their own cost, not what they called.
///
/// The format: `ob=` names the object of the functions that follow (`ob=(N) path`
/// defines a short name, `ob=(N)` uses it); a cost line is a position and the events;
/// the line after `calls=` is a call's inclusive cost, which is the callee's and is
/// skipped.
pub(crate) fn object_cost(text: &str, object: &str) -> u64 {
    let mut names: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    let mut current = false;
    let mut after_call = false;
    let mut total = 0u64;
    for line in text.lines() {
        // A called function's object only defines a short name here.
        if let Some((id, path)) = line.strip_prefix("cob=").and_then(|r| r.split_once(' ')) {
            names.insert(id, path);
            continue;
        }
        if let Some(rest) = line.strip_prefix("ob=") {
            let name = match rest.split_once(' ') {
                Some((id, path)) if id.starts_with('(') => {
                    names.insert(id, path);
                    path
                }
                None if rest.starts_with('(') => names.get(rest).copied().unwrap_or(rest),
                _ => rest,
            };
            current = name.contains(object);
            continue;
        }
        if line.starts_with("calls=") {
            after_call = true;
            continue;
        }
        let first = line.as_bytes().first().copied().unwrap_or(b' ');
        if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'*') {
            if after_call {
                after_call = false;
                continue;
            }
            if current {
                total += line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_objects_own_cost_is_summed_and_its_callees_are_not() {
        let text = "\
version: 1
events: Ir
ob=(1) /usr/bin/benchmark
fl=(1) main.rs
fn=(1) main
3 100
cob=(2) /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
cfn=(2) clock_gettime
calls=4 0
3 900
ob=(2)
fl=(2) libfaketime.c
fn=(2)
10 700
+2 50
cob=(3) /usr/lib/x86_64-linux-gnu/libc.so.6
cfn=(3) __clock_gettime
calls=4 0
12 150
ob=(3)
fl=(3) clock.c
fn=(3)
* 150
ob=(1)
fn=(1)
4 25
totals: 1025
";
        // libfaketime's own 700 + 50; not the 150 it called in libc.
        assert_eq!(object_cost(text, "libfaketime"), 750);
        assert_eq!(object_cost(text, "libc.so"), 150);
        assert_eq!(object_cost(text, "benchmark"), 125);
        assert_eq!(object_cost(text, "nothing"), 0);
    }

    #[test]
    fn the_command_wraps_only_in_what_is_there() {
        let bare = Steady::default().command(Path::new("/usr/bin/valgrind"));
        assert_eq!(bare.get_program(), "/usr/bin/valgrind");
        assert_eq!(bare.get_envs().count(), 0);
        let all = Steady {
            faketime: Some(PathBuf::from("/lib/libfaketime.so.1")),
            fifo: true,
            no_aslr: true,
        }
        .command(Path::new("/usr/bin/valgrind"));
        assert_eq!(all.get_program(), "setarch");
        let args: Vec<_> = all
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                std::env::consts::ARCH,
                "-R",
                "chrt",
                "-f",
                "1",
                "/usr/bin/valgrind"
            ]
        );
        let envs: Vec<_> = all
            .get_envs()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .collect();
        assert!(envs.contains(&"LD_PRELOAD".to_owned()), "{envs:?}");
    }
}
