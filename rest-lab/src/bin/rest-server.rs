//! `rest-server`: the REST lab's axum server for user CRUD.
//!
//! `cargo run -p rest-lab --bin rest-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use rest_lab::cli::server::{ServerCli, run};

fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::term::run_main("info", run(cli))
}
