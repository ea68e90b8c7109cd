//! `benchmark`: every lab through one load generator, beside a raw-TCP floor.
//!
//! `cargo run --release -p benchmark -- --help` lists the options. Exit status: 0; 1
//! when a row's every request failed or the run could not start; 2 on a usage error; 3
//! on a regression past `--fail-on`; 4 when a row is invalid; 130 after Ctrl-C.

use std::process::ExitCode;

use benchmark::{Cli, run};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    lab_kit::init_tracing("warn");
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
