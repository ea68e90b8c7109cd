//! `udp-chat`: the UDP group chat of the socket lab.
//!
//! `cargo run -p socket-lab --bin udp-chat -- --port 8081 --peer 127.0.0.1:8082 --name ann`

use std::process::ExitCode;

use clap::Parser;
use socket_lab::cli::udp_chat::{UdpChatCli, run};

fn main() -> ExitCode {
    let cli = UdpChatCli::parse();
    lab_kit::term::run_main("warn", run(cli))
}
