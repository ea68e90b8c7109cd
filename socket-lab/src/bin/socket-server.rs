//! `socket-server`: the socket lab's TCP uppercase-echo server (JSON lines).
//!
//! `cargo run -p socket-lab --bin socket-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use socket_lab::cli::{ServerCli, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::init_tracing("info");
    lab_kit::exit_code(serve(cli).await.map(|()| ExitCode::SUCCESS))
}
