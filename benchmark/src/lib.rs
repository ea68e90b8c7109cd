//! The commlab benchmark: every lab driven through one load generator, beside a raw-TCP
//! floor measured the same way, with the figures that say where the time goes.
//!
//! `cargo run --release -p benchmark` prints the comparison; servers are started
//! in-process unless an address is given. The crate is built in floors, each importing
//! only the floors below it (a test, `tests/layers.rs`, holds the order):
//!
//! 1. leaves: `stats` (the percentile rule), `interval` (how far to trust a median
//!    of rounds), `units` (numbers for people),
//!    [`placement`], [`machine`];
//! 2. [`settings`]: the options, validated once;
//! 3. `engine`: load threads, the client loop, probes and their errors, turns,
//!    timeline, traffic, CPU time; nothing of the user store or the report;
//!    `security`: the run's TLS certificate and token (`--tls`, `--auth`);
//!    `network`: the emulated link (`--link`), in each probe's stream or a relay;
//! 4. `servers`: the labs' servers, embedded or external, their address and CPU time;
//! 5. `adapters`: one file per protocol and client kind: set-up, probe, clean-up;
//! 6. [`model`]: every type the JSON report holds: data, no computing;
//! 7. `analysis`: summarising a row, x floor and the ranking, checks and notes, the
//!    baseline comparison, the sweep summary, the exit status;
//! 8. `render`: every format over the model, the one table of columns, HTML, charts,
//!    HdrHistogram exports;
//! 9. [`wire`]: `benchmark wire`, one annotated exchange per protocol;
//! 10. `cli` and `run`: the command line, and [`run()`] that ties the rest together.

mod adapters;
mod analysis;
mod cli;
mod engine;
mod interval;
pub mod machine;
pub mod model;
mod network;
pub mod placement;
mod render;
mod run;
mod security;
mod servers;
pub mod settings;
mod stats;
mod units;
pub mod wire;

pub use cli::{Cli, Command};
pub use run::{control_runtime, execute, run};
pub use settings::Settings;

/// The report in `format`; `wide` adds every percentile and the operation to the table
/// formats. What the binary prints for a run [`execute`] measured.
pub fn render(report: &model::Report, format: settings::Format, wide: bool) -> String {
    render::report(report, format, wide)
}

/// The exit status a report calls for: 130 after Ctrl-C, 1 when a row's every request
/// failed, 4 when a row is invalid (over 5% failed, or a late open loop), 3 on a
/// regression past `--fail-on`, else 0.
pub fn exit_code(report: &model::Report) -> u8 {
    analysis::exit_code(report)
}
