//! What the clients and servers show a person at a terminal: the line prompt, the
//! self-test report, colours, chat times, the explanation of a failure with the next
//! step, and the exit status.
//!
//! Behind the `term` feature, so code that only serves or measures (the benchmark's
//! load generator) does not carry a line editor.

mod diagnose;
mod prompt;
mod selftest;
mod style;
mod words;

pub use diagnose::{
    Found, Lab, explain_failure, explain_failure_over, explained, explained_over, probe,
};
pub use prompt::{Printer, Prompt, PromptError};
pub use selftest::{Suite, Summary, closed_local_port, expect_all, expect_failure, expect_reply};
pub use style::{Tone, paint};
pub use words::split_words;

use std::future::Future;
use std::process::ExitCode;

/// The body of every binary's `main`: sets up logging (`RUST_LOG`, else
/// `log_filter`), runs `work` on a multi-threaded tokio runtime and turns its result
/// into the exit status with [`exit_code`].
///
/// The runtime is shut down without waiting for blocking threads: a read of standard
/// input may still be blocked in one after Ctrl-C, and must not hold the exit.
pub fn run_main<F>(log_filter: &str, work: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<ExitCode>>,
{
    crate::init_tracing(log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return exit_code(Err(anyhow::anyhow!("cannot start the runtime: {e}"))),
    };
    let result = runtime.block_on(work);
    runtime.shutdown_background();
    exit_code(result)
}

/// The person pressed Ctrl-C: the session ends at once, with exit status 130 (the
/// shell's convention for "stopped by SIGINT").
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted")]
pub struct Interrupted;

/// The exit status after Ctrl-C.
pub const INTERRUPTED_EXIT: u8 = 130;

/// Turns what a binary's work returned into its exit status: 130 after Ctrl-C,
/// otherwise the error on one line, `Error: outer: cause`, on stderr (never a
/// backtrace: it is for a person, not a debugger).
pub fn exit_code(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) if is_interrupted(&e) => ExitCode::from(INTERRUPTED_EXIT),
        Err(e) => {
            let label = paint(Tone::Bad, "Error:");
            anstream::eprintln!("{label} {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `error` is the person pressing Ctrl-C.
pub fn is_interrupted(error: &anyhow::Error) -> bool {
    error.downcast_ref::<Interrupted>().is_some()
        || matches!(
            error.downcast_ref::<PromptError>(),
            Some(PromptError::Interrupted(_))
        )
}

/// `HH:MM:SS` in local time for an RFC 3339 timestamp (the text itself when it is not
/// one): how every chat shows when a message was sent.
pub fn chat_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| clock(t.with_timezone(&chrono::Local)))
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// `HH:MM:SS` now, in local time.
pub fn chat_time_now() -> String {
    clock(chrono::Local::now())
}

fn clock(time: chrono::DateTime<chrono::Local>) -> String {
    time.format("%H:%M:%S").to_string()
}

/// `1 user`, `2 users`: a count with its noun.
pub fn count(n: usize, singular: &str, plural: &str) -> String {
    format!("{n} {}", if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_c_exits_130_and_errors_exit_1() {
        let interrupted = exit_code(Err(Interrupted.into()));
        assert_eq!(interrupted, ExitCode::from(130));
        let from_prompt = exit_code(Err(PromptError::Interrupted(Interrupted).into()));
        assert_eq!(from_prompt, ExitCode::from(130));
        assert_eq!(exit_code(Err(anyhow::anyhow!("boom"))), ExitCode::FAILURE);
        assert_eq!(exit_code(Ok(ExitCode::SUCCESS)), ExitCode::SUCCESS);
    }

    #[test]
    fn chat_times_are_hours_minutes_seconds() {
        let shown = chat_time("2026-11-22T10:11:12.5Z");
        assert_eq!(shown.len(), 8, "{shown}");
        assert_eq!(&shown[2..3], ":");
        assert!(shown.ends_with(":12"), "{shown}");
        assert_eq!(chat_time("not a time"), "not a time");
        assert_eq!(chat_time_now().len(), 8);
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1, "user", "users"), "1 user");
        assert_eq!(count(0, "user", "users"), "0 users");
        assert_eq!(count(2, "user", "users"), "2 users");
    }
}
