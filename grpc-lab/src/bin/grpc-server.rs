//! `grpc-server`: the gRPC lab's tonic server for users.v1.UserService.
//!
//! `cargo run -p grpc-lab --bin grpc-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::server::{ServerCli, run};

fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::term::run_main("info", run(cli))
}
