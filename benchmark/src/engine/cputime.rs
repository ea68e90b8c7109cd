//! CPU time, read from Linux's per-thread scheduler statistics.
//!
//! `/proc/.../schedstat` gives the nanoseconds a thread has run on a CPU. The load
//! generator reads its own threads' CPU-time clocks around each measured round; the embedded
//! servers' runtime threads record their ids when they start, so the benchmark can read
//! theirs; an external server is read by `--server-pid`, all its threads summed. Where
//! `/proc` is missing (not Linux) the figures are `None` and the report says so.

use std::time::Duration;

/// On-CPU time of the calling thread so far, from its CPU-time clock: exact to the
/// moment of the call and cheap (one system call, no file), so the load threads read it
/// around every round without adding to what they measure.
pub(crate) fn current_thread() -> Option<Duration> {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    let secs = u64::try_from(now.tv_sec).ok()?;
    let nanos = u32::try_from(now.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

/// The calling thread's id, as `/proc/self/task/` names it.
pub(crate) fn current_thread_id() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// On-CPU time of these threads of this process, summed (threads that have ended
/// count nothing).
pub(crate) fn threads_of_this_process(ids: &[u32]) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut any = false;
    for id in ids {
        if let Some(time) = read_schedstat(&format!("/proc/self/task/{id}/schedstat")) {
            total += time;
            any = true;
        }
    }
    any.then_some(total)
}

/// On-CPU time of every live thread of process `pid`, summed.
pub(crate) fn process(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = Duration::ZERO;
    for task in tasks.flatten() {
        if let Some(time) = read_schedstat(&task.path().join("schedstat").to_string_lossy()) {
            total += time;
        }
    }
    Some(total)
}

/// The longest a metrics scrape may take, and the most it may read.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);
const SCRAPE_LIMIT: u64 = 4 << 20;

/// The CPU time an external server reports in its Prometheus metrics
/// (`process_cpu_seconds_total`), read by `GET path` from `authority` over plain
/// HTTP/1.1: every thread of its process, on whatever machine it runs.
///
/// # Errors
///
/// When the endpoint does not answer in time, answers other than 200, or reports no
/// such sample, saying which.
pub(crate) fn from_metrics(authority: &str, path: &str) -> Result<Duration, String> {
    use std::io::{Read as _, Write as _};
    use std::net::{TcpStream, ToSocketAddrs as _};
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, SCRAPE_TIMEOUT)
        .map_err(|e| format!("{authority}: {e}"))?;
    let _ = stream.set_read_timeout(Some(SCRAPE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(SCRAPE_TIMEOUT));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{authority}: {e}"))?;
    let mut reply = Vec::new();
    stream
        .take(SCRAPE_LIMIT)
        .read_to_end(&mut reply)
        .map_err(|e| format!("{authority}{path}: {e}"))?;
    let reply = String::from_utf8_lossy(&reply);
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{authority}{path}: not an HTTP reply"))?;
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200") {
        return Err(format!("{authority}{path}: {status}"));
    }
    let seconds = lab_kit::metrics::sample(body, "process_cpu_seconds_total")
        .ok_or_else(|| format!("{authority}{path}: no process_cpu_seconds_total"))?;
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("{authority}{path}: {e}"))
}

fn read_schedstat(path: &str) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until this thread's own CPU clock has advanced by `cpu` (however busy
    /// the machine is), or ten seconds have passed.
    fn burn_cpu(cpu: Duration) {
        let start = current_thread().unwrap();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while current_thread().unwrap() - start < cpu && started.elapsed() < Duration::from_secs(10)
        {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
    }

    #[test]
    fn a_thread_that_burns_cpu_shows_it_and_a_sleeping_one_does_not() {
        let Some(before) = current_thread() else {
            eprintln!("no thread CPU clock here: nothing to check");
            return;
        };
        // Burnt by this thread's own clock (bounded at ten seconds of wall time), not by
        // the wall: on a busy machine 60 ms of wall time may hold 14 ms of CPU.
        burn_cpu(Duration::from_millis(30));
        let burnt = current_thread().unwrap() - before;
        assert!(burnt >= Duration::from_millis(30), "{burnt:?}");
        let before = current_thread().unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let slept = current_thread().unwrap() - before;
        assert!(slept < Duration::from_millis(20), "{slept:?}");
    }

    #[test]
    fn other_threads_are_read_by_id_and_the_process_as_a_whole() {
        if current_thread().is_none() {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            burn_cpu(Duration::from_millis(50));
            tx.send(current_thread_id().unwrap()).unwrap();
            let _ = done_rx.recv();
        });
        let id = rx.recv().unwrap();
        let theirs = threads_of_this_process(&[id]).unwrap();
        // Read by thread id from /proc, not by the clock the worker burnt by.
        assert!(theirs >= Duration::from_millis(45), "{theirs:?}");
        let whole = process(std::process::id()).unwrap();
        assert!(whole >= theirs);
        done_tx.send(()).unwrap();
        worker.join().unwrap();
        assert_eq!(threads_of_this_process(&[u32::MAX]), None);
    }
}
