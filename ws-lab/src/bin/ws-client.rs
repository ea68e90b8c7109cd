//! `ws-client`: the WebSocket lab's self-test, sends, prompt and chat.
//!
//! `cargo run -p ws-lab --bin ws-client -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use ws_lab::cli::client::{ClientCli, run};

fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
