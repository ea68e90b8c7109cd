//! The commlab benchmark: every lab driven through one load generator, beside a raw-TCP
//! floor measured the same way, with the figures that say where the time goes.
//!
//! `cargo run --release -p benchmark` prints the comparison; servers are started
//! in-process unless an address is given. The pieces, in the order a run uses them:
//!
//! - [`settings`]: the options, parsed once; [`placement`]: which CPUs load and servers use.
//! - [`servers`]: the labs' servers, embedded or external, and their CPU time.
//! - [`adapters`]: one file per protocol and client kind: set-up, probe, clean-up.
//! - [`engine`]: N clients as tasks over M pinned threads, the loop they run.
//! - [`cputime`], [`traffic`]: CPU time from /proc, bytes counted on the connection.
//! - [`timeline`]: each round's and each second's latencies, beside the whole run's.
//! - [`stats`], [`checks`]: pure statistics, self-checks and reasons.
//! - [`report`]: the columns, once, and the text formats ([`grid`] for smaller tables);
//!   [`html`] and [`plots`]: the self-contained page and its charts; [`hdr`]: the
//!   histograms in HdrHistogram's formats.
//! - [`sweep`]: a run per value of one setting; [`baseline`]: a run against a saved one.
//! - [`run`]: the command line and [`run()`](run::run), which ties the rest together.

pub mod adapters;
pub mod baseline;
pub mod checks;
pub mod cputime;
pub mod engine;
pub mod grid;
pub mod hdr;
pub mod html;
pub mod machine;
pub mod placement;
pub mod plots;
pub mod progress;
pub mod report;
pub mod run;
pub mod servers;
pub mod settings;
pub mod stats;
pub mod sweep;
pub mod timeline;
pub mod traffic;
pub mod turns;
pub mod wire;

pub use run::{Cli, run};
