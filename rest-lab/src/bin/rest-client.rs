//! `rest-client`: the REST lab's self-test suite and interactive client.
//!
//! `cargo run -p rest-lab --bin rest-client -- --help` lists the commands.

use std::process::ExitCode;

use clap::Parser;
use rest_lab::cli::client::{ClientCli, run};

fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
