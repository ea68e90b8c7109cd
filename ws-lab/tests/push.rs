//! The room's other ways in, against an in-process server on port 0: Server-Sent Events
//! (`/sse/chat`: order, keep-alive, `Last-Event-ID`, the too-old notice) and long
//! polling (`/poll/chat`: waits, answers early, times out empty, publishes), and a
//! subscriber that never reads harming nobody.

use std::time::Duration;

use lab_kit::SpawnedServer;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use ws_lab::Config;
use ws_lab::server::ServerError;

async fn start(config: Config) -> (String, SpawnedServer<ServerError>) {
    // reqwest is built without a crypto provider of its own.
    lab_kit::tls::install_default_provider();
    let server = SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
        .await
        .unwrap();
    (format!("http://{}", server.addr()), server)
}

async fn publish(base: &str, name: &str, text: &str) -> u64 {
    publish_with(&reqwest::Client::new(), base, name, text).await
}

async fn publish_with(client: &reqwest::Client, base: &str, name: &str, text: &str) -> u64 {
    let reply = client
        .post(format!("{base}/poll/chat"))
        .json(&json!({"name": name, "text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await.unwrap();
    body["id"].as_u64().unwrap()
}

/// One SSE event: its id (if any) and its data as JSON; `None` for a comment (the
/// keep-alive).
#[derive(Debug)]
enum Item {
    Event(Option<u64>, Value),
    Comment,
}

/// An SSE stream read a chunk at a time, split into items.
struct Feed {
    reply: reqwest::Response,
    text: String,
}

impl Feed {
    async fn open(base: &str, name: &str, last_event_id: Option<u64>) -> Feed {
        let mut request = reqwest::Client::new().get(format!("{base}/sse/chat?name={name}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), 200);
        let kind = reply.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        Feed {
            reply,
            text: String::new(),
        }
    }

    /// The next item, waiting at most 5 s.
    async fn next(&mut self) -> Item {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.parse().unwrap());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).unwrap());
                    }
                }
                return match data {
                    Some(data) => Item::Event(id, data),
                    None => Item::Comment,
                };
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.reply.chunk())
                .await
                .expect("an SSE item within 5 s")
                .unwrap()
                .expect("the stream goes on");
            self.text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next message event (joins, leaves and comments passed over): id and text.
    async fn message(&mut self) -> (u64, String) {
        loop {
            if let Item::Event(Some(id), data) = self.next().await
                && data["kind"] == "message"
            {
                return (id, data["text"].as_str().unwrap().to_owned());
            }
        }
    }
}

#[tokio::test]
async fn sse_delivers_in_order_and_resumes_from_the_last_event_id() {
    let (base, _server) = start(Config::default()).await;
    let mut ann = Feed::open(&base, "ann", None).await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(publish(&base, "bob", text).await);
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(ann.message().await);
    }
    assert_eq!(
        got,
        [
            (ids[0], "one".to_owned()),
            (ids[1], "two".to_owned()),
            (ids[2], "three".to_owned())
        ]
    );
    // A reconnect after the first gets the two it missed, in order, then live ones.
    let mut again = Feed::open(&base, "ann", Some(ids[0])).await;
    assert_eq!(again.message().await, (ids[1], "two".to_owned()));
    assert_eq!(again.message().await, (ids[2], "three".to_owned()));
    let four = publish(&base, "bob", "four").await;
    assert_eq!(again.message().await, (four, "four".to_owned()));
    // A number from before a restart (beyond the last) means from now on, not never.
    let mut future = Feed::open(&base, "cy", Some(1_000_000)).await;
    let five = publish(&base, "bob", "five").await;
    assert_eq!(future.message().await, (five, "five".to_owned()));
    let waiting = tokio::spawn({
        let base = base.clone();
        async move { poll(&base, "?after=1000000").await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let six = publish(&base, "bob", "six").await;
    let answer = waiting.await.unwrap();
    assert_eq!(answer["events"][0]["id"], six, "{answer}");
}

#[tokio::test]
async fn resuming_after_events_the_room_no_longer_holds_says_so() {
    let config = Config {
        room_capacity: 2,
        ..Config::default()
    };
    let (base, _server) = start(config).await;
    let first = publish(&base, "bob", "a").await;
    for text in ["b", "c", "d"] {
        publish(&base, "bob", text).await;
    }
    let mut late = Feed::open(&base, "ann", Some(first)).await;
    let Item::Event(None, notice) = late.next().await else {
        panic!("a notice first");
    };
    assert_eq!(notice["kind"], "notice");
    assert!(
        notice["text"].as_str().unwrap().contains("no longer held"),
        "{notice}"
    );
    // Then what the room still holds: its last two events, "d" among them.
    assert_eq!(late.message().await.1, "d");
}

#[tokio::test]
async fn an_idle_sse_stream_gets_keep_alives_and_a_bad_last_event_id_is_refused() {
    let config = Config {
        ping_interval: Duration::from_millis(100),
        ..Config::default()
    };
    let (base, server) = start(config).await;
    let mut quiet = Feed::open(&base, "ann", None).await;
    assert!(matches!(quiet.next().await, Item::Comment));
    let refused = reqwest::Client::new()
        .get(format!("{base}/sse/chat?name=ann"))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let nameless = reqwest::get(format!("{base}/sse/chat")).await.unwrap();
    assert_eq!(nameless.status(), 400);
    // Stopping the server ends the open stream rather than wait for it.
    let stopped = tokio::time::timeout(Duration::from_secs(5), server.shutdown()).await;
    assert!(matches!(stopped, Ok(Ok(Ok(())))), "{stopped:?}");
    let rest = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = quiet.reply.chunk().await {}
    });
    assert!(rest.await.is_ok(), "the stream ended");
}

async fn poll(base: &str, query: &str) -> Value {
    let reply = reqwest::get(format!("{base}/poll/chat{query}"))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

#[tokio::test]
async fn a_long_poll_answers_at_once_waits_for_the_next_event_or_times_out_empty() {
    let config = Config {
        poll_timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let (base, _server) = start(config).await;
    let first = publish(&base, "bob", "hello").await;
    // Held events: at once.
    let answer = poll(&base, "?after=0").await;
    assert_eq!(answer["events"][0]["id"], first);
    assert_eq!(answer["events"][0]["event"]["text"], "hello");
    assert_eq!(answer["next"], first);
    // Nothing new: the wait ends empty at the timeout, `next` unchanged.
    let empty = poll(&base, &format!("?after={first}")).await;
    assert_eq!(empty["events"], json!([]));
    assert_eq!(empty["next"], first);
    // A wait answered early by the next event.
    let waiting = tokio::spawn({
        let base = base.clone();
        async move { poll(&base, &format!("?after={first}")).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = publish(&base, "bob", "again").await;
    let answer = waiting.await.unwrap();
    assert_eq!(answer["events"][0]["id"], second, "{answer}");
    // Bad input: a clear 400 or 413, never a wait.
    let bad = reqwest::get(format!("{base}/poll/chat?after=soon"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let client = reqwest::Client::new();
    let url = format!("{base}/poll/chat");
    let malformed = client
        .post(&url)
        .body("{not json")
        .header("content-type", "application/json");
    assert_eq!(malformed.send().await.unwrap().status(), 400);
    let nameless = client.post(&url).json(&json!({"name": " ", "text": "x"}));
    assert_eq!(nameless.send().await.unwrap().status(), 400);
    let huge = "x".repeat(Config::default().max_message_bytes + 1);
    let too_big = client
        .post(&url)
        .json(&json!({"name": "bob", "text": huge}));
    assert_eq!(too_big.send().await.unwrap().status(), 413);
}

#[tokio::test]
async fn subscribers_that_never_read_hold_up_no_one() {
    let (base, server) = start(Config::default()).await;
    // An SSE subscriber that asks and never reads a byte of the answer.
    let mut stuck = TcpStream::connect(server.addr()).await.unwrap();
    stuck
        .write_all(b"GET /sse/chat?name=stuck HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    // And long pollers that ask again and again and never read an answer.
    let mut pollers = Vec::new();
    for _ in 0..8 {
        let mut poller = TcpStream::connect(server.addr()).await.unwrap();
        let asks = "GET /poll/chat?after=0 HTTP/1.1\r\nhost: x\r\n\r\n".repeat(50);
        poller.write_all(asks.as_bytes()).await.unwrap();
        pollers.push(poller);
    }
    let mut ann = Feed::open(&base, "ann", None).await;
    // Far more than the room keeps (256) and a socket buffers: 1,000 messages of 4 KiB.
    let text = "y".repeat(4096);
    let client = reqwest::Client::new();
    let mut last = 0;
    for _ in 0..1000 {
        last = publish_with(&client, &base, "bob", &text).await;
        // The reader keeps up as it goes (a slow reader would be told it skipped).
        loop {
            match ann.next().await {
                Item::Event(Some(id), data) if data["kind"] == "message" && id == last => break,
                Item::Event(_, data) => assert_ne!(data["kind"], "notice", "{data}"),
                Item::Comment => {}
            }
        }
    }
    // A long poll is answered at once, too.
    let answer = poll(&base, &format!("?after={}", last - 1)).await;
    assert_eq!(answer["events"][0]["id"], last);
    drop((stuck, pollers));
}

#[tokio::test]
async fn a_long_polls_answer_is_bounded_and_says_where_the_rest_begin() {
    let (base, _server) = start(Config::default()).await;
    // 100 events of 4 KiB: 400 KiB, more than one answer carries.
    let text = "z".repeat(4096);
    let client = reqwest::Client::new();
    let mut last = 0;
    for _ in 0..100 {
        last = publish_with(&client, &base, "bob", &text).await;
    }
    let answer = poll(&base, "?after=0").await;
    let events = answer["events"].as_array().unwrap();
    let bytes: usize = events.iter().map(|e| e.to_string().len()).sum();
    assert!(
        !events.is_empty() && bytes <= ws_lab::poll::MAX_ANSWER_BYTES + 8192,
        "{bytes}"
    );
    let next = answer["next"].as_u64().unwrap();
    assert!(next < last, "the rest come on the next poll");
    // The next poll carries on from there, in order.
    let rest = poll(&base, &format!("?after={next}")).await;
    assert_eq!(rest["events"][0]["id"], next + 1);
}
