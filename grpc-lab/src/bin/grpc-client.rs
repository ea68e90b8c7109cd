//! `grpc-client`: the gRPC lab's self-test suite, demo, prompt and chat.
//!
//! `cargo run -p grpc-lab --bin grpc-client -- --help` lists the commands.

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::client::{ClientCli, run};

fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
