//! `ws-server`: the WebSocket lab's server (echo, chat room, health).
//!
//! `cargo run -p ws-lab --bin ws-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use ws_lab::cli::server::{ServerCli, run};

fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::term::run_main("info", run(cli))
}
