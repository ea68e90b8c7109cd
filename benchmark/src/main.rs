//! `benchmark`: the socket, REST and gRPC labs through one latency loop.
//!
//! `cargo run --release -p benchmark -- --help` lists the options.

use std::process::ExitCode;

use benchmark::{Cli, run};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    lab_kit::init_tracing("warn");
    lab_kit::exit_code(run(cli))
}
