//! The self-test suite `socket-client` runs by default: the original lab's five tests,
//! run against a live server and printed as they go.

use std::io::Write;
use std::time::Duration;

use lab_kit::term::{
    Lab, Suite, Summary, closed_local_port, expect_all, expect_failure, expect_reply,
    explain_failure_over,
};

use crate::client::{Client, ClientError, Dial};
use crate::protocol::Status;

/// The sub-tests of the uppercase test: input and expected output (the WebSocket lab
/// runs them too).
pub const CONVERSIONS: [(&str, &str); 5] = [
    ("test message", "TEST MESSAGE"),
    ("hello world", "HELLO WORLD"),
    ("12345", "12345"),
    ("mixed CASE text", "MIXED CASE TEXT"),
    ("PyThOn SoCkEt", "PYTHON SOCKET"),
];

/// The tests, in order.
const TESTS: [&str; 5] = [
    "Connection Establishment",
    "Message Send/Receive",
    "Uppercase Conversion",
    "Error Handling",
    "Multiple Requests on One Connection",
];

/// How long the error-handling test waits for a connection that cannot succeed.
const FAILURE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the suite against the server at `addr`, printing to `out`.
///
/// `timeout` bounds each connection and request, so a dead server fails the suite
/// quickly instead of hanging it. When no socket server answers there, it says so
/// once and reports every test as not run.
pub async fn run_self_test<W: Write>(addr: &str, timeout: Duration, out: W) -> Summary {
    run_self_test_over(&Dial::plain(addr), timeout, out).await
}

/// [`run_self_test`] as `dial` says: in cleartext or over TLS.
pub async fn run_self_test_over<W: Write>(dial: &Dial, timeout: Duration, out: W) -> Summary {
    let addr = dial.addr.as_str();
    let title = if dial.is_tls() {
        "Socket Lab Self-Test (TCP, TLS, JSON lines)"
    } else {
        "Socket Lab Self-Test (TCP, JSON lines)"
    };
    let mut suite = Suite::new(out, title, addr);
    if let Some(reason) = explain_failure_over(Lab::Socket, addr, timeout, dial.is_tls()).await {
        return suite.not_run(reason, &TESTS);
    }

    suite.test(TESTS[0]);
    match Client::open(dial, timeout).await {
        Ok(_) => suite.check("connect", Ok::<_, String>(format!("connected to {addr}"))),
        Err(e) => suite.check("connect", Err::<String, _>(e)),
    };

    suite.test(TESTS[1]);
    let sent = "Hello Socket Server";
    suite.info(format!("request:  {sent:?}"));
    let result = echo(dial, timeout, sent).await;
    if let Ok(reply) = &result {
        suite.info(format!("response: {reply:?}"));
    }
    suite.check(
        "send and receive",
        expect_reply(result, "HELLO SOCKET SERVER"),
    );

    suite.test(TESTS[2]);
    match Client::open(dial, timeout).await {
        Ok(mut client) => {
            for (input, expected) in CONVERSIONS {
                let result = client.uppercase(input).await;
                suite.check(&format!("{input:?}"), expect_reply(result, expected));
            }
        }
        Err(e) => {
            suite.check("connect", Err::<String, _>(e));
        }
    }

    suite.test(TESTS[3]);
    let closed = closed_local_port().await;
    let result = Client::connect(&closed, FAILURE_TIMEOUT).await;
    suite.check("wrong port", expect_failure(result));
    let result = Client::connect("no-such-host.invalid:8080", FAILURE_TIMEOUT).await;
    suite.check("wrong host", expect_failure(result));
    let result = malformed_then_valid(dial, timeout).await;
    suite.check("invalid JSON", result);

    suite.test(TESTS[4]);
    let result = several_requests(dial, timeout, 5).await;
    suite.check("requests", result);

    suite.finish()
}

async fn echo(dial: &Dial, timeout: Duration, text: &str) -> Result<String, ClientError> {
    Client::open(dial, timeout).await?.uppercase(text).await
}

/// Invalid JSON must get an error reply, and the same connection must go on working.
async fn malformed_then_valid(dial: &Dial, timeout: Duration) -> Result<String, String> {
    let mut client = Client::open(dial, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let reply = client
        .send_raw(b"this is not json\n")
        .await
        .map_err(|e| e.to_string())?;
    if reply.status != Status::Error {
        return Err(format!("expected an error reply, got {reply:?}"));
    }
    let error = reply.error.unwrap_or_default();
    let after = client.uppercase("still here").await;
    expect_reply(after, "STILL HERE")?;
    Ok(format!("server said {error:?}; connection still usable"))
}

async fn several_requests(dial: &Dial, timeout: Duration, count: usize) -> Result<String, String> {
    let mut client = Client::open(dial, timeout)
        .await
        .map_err(|e| e.to_string())?;
    let mut ok = 0;
    for i in 1..=count {
        let text = format!("request number {i}");
        if client.uppercase(&text).await.ok() == Some(text.to_uppercase()) {
            ok += 1;
        }
    }
    expect_all(ok, count)
}
