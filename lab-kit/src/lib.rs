//! Small pieces that every commlab binary shares, kept in one place so the three labs
//! behave alike: how a server learns it must stop, how logging is set up, and how a
//! client's self-test suite reports its results.
//!
//! Nothing here knows about a protocol; each lab depends on it for plumbing only.

pub mod logging;
pub mod selftest;
pub mod shutdown;

pub use logging::init_tracing;
pub use selftest::{Suite, Summary};
pub use shutdown::shutdown_signal;
