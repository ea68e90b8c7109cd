//! `socket-server`: the socket lab's TCP uppercase-echo server (JSON lines).
//!
//! `cargo run -p socket-lab --bin socket-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use socket_lab::cli::server::{ServerCli, run};

fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::term::run_main("info", run(cli))
}
