//! `grpc-peer`: one side of the gRPC peer-to-peer chat.
//!
//! `cargo run -p grpc-lab --bin grpc-peer -- --name ann --addr 8001 --peer 127.0.0.1:8000`

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::peer::{PeerCli, run};

fn main() -> ExitCode {
    let cli = PeerCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
