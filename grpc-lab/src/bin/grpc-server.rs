//! `grpc-server`: the gRPC lab's tonic server for users.v1.UserService.
//!
//! `cargo run -p grpc-lab --bin grpc-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::{ServerCli, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::init_tracing("info");
    lab_kit::exit_code(serve(cli).await.map(|()| ExitCode::SUCCESS))
}
