//! Two chat peers in one test process, each a gRPC server and a client of the other.

use std::time::Duration;

use grpc_lab::peer::Peer;
use tokio::net::TcpListener;

async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .unwrap_or_else(|_| panic!("{what} took too long"))
}

#[tokio::test]
async fn two_peers_find_each_other_and_talk_both_ways() {
    let (ann_listener, bob_listener) = (listener().await, listener().await);
    let (ann_addr, bob_addr) = (
        ann_listener.local_addr().unwrap(),
        bob_listener.local_addr().unwrap(),
    );
    let mut ann = Peer::start("ann", ann_listener, &bob_addr.to_string()).unwrap();
    let mut bob = Peer::start("bob", bob_listener, &format!("http://{ann_addr}")).unwrap();

    assert_eq!(
        within("ann waiting", ann.wait_for_other()).await.unwrap(),
        "bob"
    );
    assert_eq!(
        within("bob waiting", bob.wait_for_other()).await.unwrap(),
        "ann"
    );

    let sent = ann.send("hi bob").await.unwrap();
    let got = within("bob receiving", bob.next_message()).await.unwrap();
    assert_eq!(got, sent);
    assert_eq!((got.sender.as_str(), got.msg.as_str()), ("ann", "hi bob"));
    assert!(chrono::DateTime::parse_from_rfc3339(&got.time).is_ok());

    bob.send("hello ann").await.unwrap();
    let got = within("ann receiving", ann.next_message()).await.unwrap();
    assert_eq!(
        (got.sender.as_str(), got.msg.as_str()),
        ("bob", "hello ann")
    );

    ann.stop().await;
    bob.stop().await;
}

#[tokio::test]
async fn waiting_ends_when_the_other_peer_starts_later() {
    let ann_listener = listener().await;
    let ann_addr = ann_listener.local_addr().unwrap();
    // Reserve bob's port, then free it: nobody listens there yet.
    let bob_addr = listener().await.local_addr().unwrap();
    let mut ann = Peer::start("ann", ann_listener, &bob_addr.to_string()).unwrap();
    assert!(ann.ask_name().await.is_err(), "nobody there yet");

    let waiting = tokio::spawn(async move {
        let name = ann.wait_for_other().await.unwrap();
        (ann, name)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bob = Peer::start(
        "bob",
        TcpListener::bind(bob_addr).await.unwrap(),
        &ann_addr.to_string(),
    )
    .unwrap();
    let (ann, name) = within("ann waiting", waiting).await.unwrap();
    assert_eq!(name, "bob");
    ann.stop().await;
    bob.stop().await;
}

#[tokio::test]
async fn a_stopped_peer_is_reported_and_reached_again_after_a_restart() {
    let (ann_listener, bob_listener) = (listener().await, listener().await);
    let (ann_addr, bob_addr) = (
        ann_listener.local_addr().unwrap(),
        bob_listener.local_addr().unwrap(),
    );
    let mut ann = Peer::start("ann", ann_listener, &bob_addr.to_string()).unwrap();
    let mut bob = Peer::start("bob", bob_listener, &ann_addr.to_string()).unwrap();
    within("ann waiting", ann.wait_for_other()).await.unwrap();
    ann.send("first").await.unwrap();
    assert_eq!(
        within("bob receiving", bob.next_message())
            .await
            .unwrap()
            .msg,
        "first"
    );

    bob.stop().await;
    let undelivered = within("a send to a stopped peer", ann.send("anyone?")).await;
    assert!(undelivered.is_err(), "a stopped peer cannot take messages");

    // Bob comes back on the same port.
    let mut bob = Peer::start(
        "bob",
        TcpListener::bind(bob_addr).await.unwrap(),
        &ann_addr.to_string(),
    )
    .unwrap();
    let delivered = within("reaching bob again", async {
        loop {
            if ann.send("welcome back").await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let () = delivered;
    assert_eq!(
        within("bob receiving", bob.next_message())
            .await
            .unwrap()
            .msg,
        "welcome back"
    );
    ann.stop().await;
    bob.stop().await;
}

#[tokio::test]
async fn a_peer_aimed_at_a_server_that_is_not_a_peer_says_so_instead_of_waiting() {
    // The gRPC lab's server: HTTP/2 and gRPC, but no chat.
    let grpc = listener().await;
    let grpc_addr = grpc.local_addr().unwrap();
    let store = user_store::UserStore::new();
    tokio::spawn(grpc_lab::run(
        grpc,
        grpc_lab::Config::new(store),
        std::future::pending::<()>(),
    ));
    let mut ann = Peer::start("ann", listener().await, &grpc_addr.to_string()).unwrap();
    let error = within("ann waiting", ann.wait_for_other())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not a grpc-peer"), "{error}");
    ann.stop().await;

    // A plain HTTP/1.1 server.
    let http = listener().await;
    let http_addr = http.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = http.accept().await {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    let mut bob = Peer::start("bob", listener().await, &http_addr.to_string()).unwrap();
    let error = within("bob waiting", bob.wait_for_other())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not the other grpc-peer"), "{error}");
    bob.stop().await;
}

#[tokio::test]
async fn a_peer_sees_the_other_leave_and_come_back() {
    let (ann_listener, bob_listener) = (listener().await, listener().await);
    let bob_addr = bob_listener.local_addr().unwrap();
    let ann_addr = ann_listener.local_addr().unwrap();
    let mut ann = Peer::start("ann", ann_listener, &bob_addr.to_string()).unwrap();
    let bob = Peer::start("bob", bob_listener, &ann_addr.to_string()).unwrap();
    within("ann waiting", ann.wait_for_other()).await.unwrap();
    let mut presence = ann.presence();
    bob.stop().await;
    assert!(!within("bob leaving", presence.changed(true)).await);
    // Bob comes back on the same address.
    let again = TcpListener::bind(bob_addr).await.unwrap();
    let bob = Peer::start("bob", again, &ann_addr.to_string()).unwrap();
    assert!(within("bob coming back", presence.changed(false)).await);
    bob.stop().await;
    ann.stop().await;
}
