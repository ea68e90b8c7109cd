//! `udp-chat`: the UDP group chat of the socket lab.
//!
//! `cargo run -p socket-lab --bin udp-chat -- --port 8081 --peer 127.0.0.1:8082 --name ann`

use std::process::ExitCode;

use clap::Parser;
use socket_lab::cli::{UdpChatCli, udp_chat};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = UdpChatCli::parse();
    lab_kit::init_tracing("warn");
    lab_kit::exit_code(udp_chat(cli).await.map(|()| ExitCode::SUCCESS))
}
