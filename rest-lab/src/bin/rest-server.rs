//! `rest-server`: the REST lab's axum server for user CRUD.
//!
//! `cargo run -p rest-lab --bin rest-server -- --help` lists the options.

use std::process::ExitCode;

use clap::Parser;
use rest_lab::cli::{ServerCli, serve};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = ServerCli::parse();
    lab_kit::init_tracing("info");
    lab_kit::exit_code(serve(cli).await.map(|()| ExitCode::SUCCESS))
}
