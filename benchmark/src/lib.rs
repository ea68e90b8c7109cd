//! The commlab benchmark: the socket, REST and gRPC labs driven through one latency loop,
//! with one connection policy for all, beside a raw-TCP floor measured in the same run.
//!
//! `cargo run --release -p benchmark` prints the comparison table; servers that are not
//! already listening are started in-process. The pieces, in the order a run uses them:
//!
//! - [`settings`]: the validated configuration a run follows.
//! - [`embedded`]: lab servers started in-process on their own runtime threads.
//! - [`floor`]: the raw-TCP floor (blocking std sockets and a trivial echo thread).
//! - [`probes`]: one request of each protocol, checked, plus the set-up it needs.
//! - [`runner`]: the loop every protocol goes through, on one thread per client.
//! - [`stats`]: pure statistics over the recorded latencies.
//! - [`report`]: the results and their four renderings (table, markdown, JSON, CSV).
//! - [`cli`]: the command line and [`run`](cli::run), which ties the rest together.

pub mod cli;
pub mod embedded;
pub mod floor;
pub mod machine;
pub mod probes;
pub mod progress;
pub mod report;
pub mod runner;
pub mod settings;
pub mod stats;

pub use cli::{Cli, run};
