//! `grpc-peer`: one side of the gRPC peer-to-peer chat.
//!
//! `cargo run -p grpc-lab --bin grpc-peer -- --name ann --listen 8001 --connect 127.0.0.1:8000`

use std::process::ExitCode;

use clap::Parser;
use grpc_lab::cli::{PeerCli, peer};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = PeerCli::parse();
    lab_kit::init_tracing("warn");
    lab_kit::exit_code(peer(cli).await.map(|()| ExitCode::SUCCESS))
}
