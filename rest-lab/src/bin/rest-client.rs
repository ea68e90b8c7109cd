//! `rest-client`: the REST lab's self-test suite and interactive client.
//!
//! `cargo run -p rest-lab --bin rest-client -- --help` lists the commands.

use std::process::ExitCode;

use clap::Parser;
use rest_lab::cli::{ClientCli, client};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ClientCli::parse();
    lab_kit::init_tracing("warn");
    lab_kit::exit_code(client(cli).await)
}
