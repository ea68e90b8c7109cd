//! Small pieces that every commlab binary shares, kept in one place so the three labs
//! behave alike: how a server learns it must stop, how logging is set up, how a
//! client's self-test suite reports its results, and how an interactive prompt splits
//! what is typed.
//!
//! Nothing here knows about a protocol; each lab depends on it for plumbing only.

pub mod args;
pub mod budget;
pub mod build;
pub mod connection;
#[cfg(feature = "http")]
pub mod http;
pub mod logging;
pub mod prompt;
pub mod selftest;
pub mod shutdown;
pub mod spawned;
pub mod timeout;
pub mod words;

pub use budget::{ReplyBudget, ReplyPermit};
pub use logging::init_tracing;
pub use prompt::Prompt;
pub use selftest::{Suite, Summary};
pub use shutdown::shutdown_signal;
pub use spawned::{SpawnedServer, StopSignal};
pub use timeout::ReusableTimeout;
pub use words::split_words;

/// An error and all its causes on one line, `outer: inner: innermost`, for messages
/// shown to a person (library errors often keep the useful part, such as
/// "Connection refused", in a source).
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Some errors repeat their source in their own message.
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Turns what a binary's work returned into its exit code, printing an error as
/// `Error: outer: cause` on stderr (never a backtrace: it is for a person, not a
/// debugger).
pub fn exit_code(result: anyhow::Result<std::process::ExitCode>) -> std::process::ExitCode {
    result.unwrap_or_else(|e| {
        eprintln!("Error: {e:#}");
        std::process::ExitCode::FAILURE
    })
}
