//! `socket-client`: the socket lab's self-test suite, one-shot sends and a prompt.
//!
//! `cargo run -p socket-lab --bin socket-client -- --help` lists the commands.

use std::process::ExitCode;

use clap::Parser;
use socket_lab::cli::client::{ClientCli, run};

fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
