//! `grpc-client`: the gRPC lab's self-test suite, demo, prompt and chat.
//!
//! `cargo run -p grpc-lab --bin grpc-client -- --help` lists the commands.

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::{ClientCli, client};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::init_tracing("warn");
    lab_kit::exit_code(client(cli).await)
}
