//! The self-test suite `ws-client` runs by default, against a live server: the socket
//! lab's tests over a WebSocket, and two chat members exchanging a message.

use std::io::Write;
use std::time::Duration;

use lab_kit::args::url_authority;
use lab_kit::term::{
    Lab, Suite, Summary, closed_local_port, expect_all, expect_failure, expect_reply,
    explain_failure_over,
};
use socket_lab::selftest::CONVERSIONS;

use lab_kit::tls::ClientTls;

use crate::client::{CHAT_PATH, ECHO_PATH, WsClient};
use crate::event::Event;

/// The tests, in order.
const TESTS: [&str; 6] = [
    "Connection Establishment",
    "Message Send/Receive",
    "Uppercase Conversion",
    "Error Handling",
    "Multiple Messages on One Connection",
    "Chat Room (two members)",
];

/// How long the error-handling test waits for a connection that cannot succeed.
const FAILURE_TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the suite against the server at `url` (`ws://host:port`), printing to `out`.
/// When no WebSocket server answers there, it says so once and reports every test as
/// not run.
pub async fn run_self_test<W: Write>(url: &str, timeout: Duration, out: W) -> Summary {
    run_self_test_over(url, timeout, None, out).await
}

/// [`run_self_test`] trusting what `tls` says for `wss://`.
pub async fn run_self_test_over<W: Write>(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    out: W,
) -> Summary {
    let suite = Suite::new(out, "WebSocket Lab Self-Test (upgraded HTTP/1.1)", url);
    let secure = lab_kit::args::is_tls_url(url);
    if let Some(reason) = explain_failure_over(Lab::Ws, &url_authority(url), timeout, secure).await
    {
        return suite.not_run(reason, &TESTS);
    }
    let mut suite = suite;
    let echo_url = format!("{url}{ECHO_PATH}");

    suite.test(TESTS[0]);
    let client = WsClient::open(&echo_url, timeout, tls).await;
    suite.check(
        "upgrade",
        client
            .as_ref()
            .map(|_| format!("upgraded at {echo_url}"))
            .map_err(ToString::to_string),
    );

    suite.test(TESTS[1]);
    let sent = "Hello WebSocket Server";
    suite.info(format!("request:  {sent:?}"));
    let result = match client {
        Ok(mut client) => client.uppercase(sent).await,
        Err(e) => Err(e),
    };
    suite.check(
        "send and receive",
        expect_reply(result, "HELLO WEBSOCKET SERVER"),
    );

    suite.test(TESTS[2]);
    match WsClient::open(&echo_url, timeout, tls).await {
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
    let result = WsClient::connect(&format!("ws://{closed}{ECHO_PATH}"), FAILURE_TIMEOUT).await;
    suite.check("wrong port", expect_failure(result));
    let result = WsClient::connect("ws://no-such-host.invalid:8765/ws/echo", FAILURE_TIMEOUT).await;
    suite.check("wrong host", expect_failure(result));
    suite.check(
        "invalid JSON",
        invalid_then_valid(&echo_url, timeout, tls).await,
    );

    suite.test(TESTS[4]);
    suite.check("messages", several(&echo_url, timeout, tls, 5).await);

    suite.test(TESTS[5]);
    suite.check("exchange", chat_exchange(url, timeout, tls).await);

    suite.finish()
}

/// Invalid JSON must get an error reply, and the connection must go on working.
async fn invalid_then_valid(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
) -> Result<String, String> {
    let mut client = WsClient::open(url, timeout, tls)
        .await
        .map_err(|e| e.to_string())?;
    let reply = client
        .request_raw("this is not json")
        .await
        .map_err(|e| e.to_string())?;
    if !reply.contains(r#""status":"error""#) {
        return Err(format!("expected an error reply, got {reply}"));
    }
    expect_reply(client.uppercase("still here").await, "STILL HERE")?;
    Ok(format!("server said {reply}; connection still usable"))
}

async fn several(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
    count: usize,
) -> Result<String, String> {
    let mut client = WsClient::open(url, timeout, tls)
        .await
        .map_err(|e| e.to_string())?;
    let mut ok = 0;
    for i in 1..=count {
        let text = format!("message number {i}");
        if client.uppercase(&text).await.ok() == Some(text.to_uppercase()) {
            ok += 1;
        }
    }
    expect_all(ok, count)
}

/// Two members join; the second hears the first's message, pushed without asking.
async fn chat_exchange(
    url: &str,
    timeout: Duration,
    tls: Option<&ClientTls>,
) -> Result<String, String> {
    let tag = &format!("{:x}", std::process::id())[..];
    let (ann, bob) = (format!("selftest-ann-{tag}"), format!("selftest-bob-{tag}"));
    let chat = |name: &str| format!("{url}{CHAT_PATH}?name={name}");
    let mut first = WsClient::open(&chat(&ann), timeout, tls)
        .await
        .map_err(|e| e.to_string())?;
    let mut second = WsClient::open(&chat(&bob), timeout, tls)
        .await
        .map_err(|e| e.to_string())?;
    let text = "hello from the self-test";
    // The first member learns the second has joined before speaking, so the second is
    // surely in the room when the message goes out.
    wait_for(
        &mut first,
        timeout,
        |e| matches!(e, Event::Join { sender, .. } if *sender == bob),
    )
    .await?;
    first
        .send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
        .await
        .map_err(|e| e.to_string())?;
    let heard = wait_for(&mut second, timeout, |e| {
        matches!(e, Event::Message { sender, text: said, .. } if *sender == ann && said == text)
    })
    .await?;
    first.close().await;
    second.close().await;
    Ok(format!("{bob} heard {ann}: {heard}"))
}

async fn wait_for(
    client: &mut WsClient,
    timeout: Duration,
    wanted: impl Fn(&Event) -> bool,
) -> Result<String, String> {
    let wait = async {
        loop {
            let text = client
                .next_text_untimed()
                .await
                .map_err(|e| e.to_string())?;
            if serde_json::from_str::<Event>(&text).is_ok_and(|event| wanted(&event)) {
                return Ok(text);
            }
        }
    };
    tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| format!("nothing expected within {timeout:?}"))?
}
