//! `benchmark relay`: the link as a process of its own, in front of any server, so an
//! outside client crosses the same network as the benchmark's rows.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// A line echo on 127.0.0.1:0, a thread per connection.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buffer = [0u8; 1024];
                while let Ok(n @ 1..) = stream.read(&mut buffer) {
                    if stream.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Kills the relay when the test ends, passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exchange(stream: &mut TcpStream) -> f64 {
    let start = Instant::now();
    stream.write_all(b"ping\n").unwrap();
    let mut reply = [0u8; 5];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"ping\n");
    start.elapsed().as_secs_f64()
}

#[test]
fn the_relay_puts_the_links_round_trips_in_front_of_any_server() {
    let upstream = echo_server();
    let mut child = Command::new(env!("CARGO_BIN_EXE_benchmark"))
        .args(["relay", "--to", &upstream, "--link", "rtt=20ms"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .strip_prefix("relay listening on ")
        .unwrap_or_else(|| panic!("first line {first:?}"));
    let second = lines.next().unwrap().unwrap();
    assert!(second.contains("rtt 20 ms"), "{second}");

    // The quickest of three connections and of their later exchanges: a busy machine
    // only ever adds to a time, so the least is the link's own.
    let (mut first, mut later) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..3 {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        // The first exchange waits for TCP's handshake (one round trip), then its own.
        first = first.min(exchange(&mut stream));
        // Every later one, its own round trip.
        for _ in 0..2 {
            later = later.min(exchange(&mut stream));
        }
    }
    assert!(
        (first / 0.040 - 1.0).abs() < 0.15,
        "first exchange {first} s"
    );
    assert!(
        (later / 0.020 - 1.0).abs() < 0.15,
        "later exchange {later} s"
    );
}

#[test]
fn a_relay_that_cannot_listen_says_where() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_benchmark"))
        .args([
            "relay",
            "--to",
            "127.0.0.1:9",
            "--link",
            "lan",
            "--addr",
            &addr,
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
}
