//! What every commlab binary shares, so the labs behave alike. Two halves:
//!
//! - runtime: how a server binds ([`listen`]), serves under one connection policy
//!   ([`connection`], [`http`], [`budget`]), stops ([`shutdown`]) and names its build
//!   ([`build`]); how flags read addresses and durations ([`args`]), the options every
//!   client and server takes and a server binary's skeleton ([`cli`]); shell
//!   [`completions`]; logging; a cheap per-request timeout.
//! - `term` (feature `term`): what a person sees: the line prompt, the self-test
//!   report, colours, failures explained with the next step, exit codes.
//!
//! - TLS for servers and clients ([`tls`]); bearer tokens compared in constant time
//!   ([`token`]); Prometheus [`metrics`] for every server, off unless asked for.
//!
//! Nothing here knows about a protocol; each lab depends on it for plumbing only.
//! `SpawnedServer` (feature `test-util`) starts a server in-process for tests.

pub mod args;
pub mod budget;
pub mod build;
pub mod cli;
pub mod completions;
pub mod connection;
#[cfg(feature = "http")]
pub mod exposition;
#[cfg(feature = "http")]
pub mod http;
pub mod listen;
mod logging;
pub mod metrics;
#[cfg(feature = "http")]
pub mod request;
pub mod shutdown;
#[cfg(feature = "test-util")]
mod spawned;
#[cfg(feature = "term")]
pub mod term;
mod timeout;
pub mod tls;
pub mod token;

pub use budget::{ReplyBudget, ReplyPermit};
pub use logging::init_tracing;
pub use shutdown::shutdown_signal;
#[cfg(feature = "test-util")]
pub use spawned::{SpawnedServer, StopSignal, stalled_handshake_closed_after};
pub use timeout::{Elapsed, ReusableTimeout};

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
