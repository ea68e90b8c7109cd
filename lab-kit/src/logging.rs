//! Logging set-up for the binaries: `tracing` to stderr, filtered by `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs a stderr `tracing` subscriber filtered by `RUST_LOG`, or by `default_filter`
/// when `RUST_LOG` is unset or unreadable (for example `"info"`).
///
/// Calling it twice is harmless: the second call leaves the first subscriber in place.
pub fn init_tracing(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
