//! `rest-client interactive` with no server: one line with the next step, not the HTTP
//! library's error chain.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn a_command_with_no_server_says_how_to_start_it_on_the_port_asked_for() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut client = Command::new(env!("CARGO_BIN_EXE_rest-client"))
        .args(["--url", &format!("http://127.0.0.1:{port}"), "interactive"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"list\nquit\n")
        .unwrap();
    let out = client.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "nothing listens on 127.0.0.1:{port}: start it with `cargo run -p rest-lab --bin \
             rest-server -- --addr {port}`"
        )),
        "{text}"
    );
    assert!(!text.contains("error sending request"), "{text}");
    assert_eq!(out.status.code(), Some(1), "every request failed");
}
