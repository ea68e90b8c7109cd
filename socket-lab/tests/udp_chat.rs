//! The UDP chat between peers on 127.0.0.1:0, and its bookkeeping from hand-made datagrams.

use std::net::SocketAddr;
use std::time::Duration;

use socket_lab::udp_chat::{ChatError, ChatPeer, Datagram, Event, Kind, MAX_DATAGRAM_BYTES};
use tokio::net::UdpSocket;

async fn peer(name: &str) -> ChatPeer {
    ChatPeer::bind("127.0.0.1:0", Some(name.into()))
        .await
        .unwrap()
}

/// The next events, within a few seconds (loopback does not lose datagrams in practice).
async fn next(peer: &ChatPeer) -> Vec<Event> {
    tokio::time::timeout(Duration::from_secs(5), peer.receive())
        .await
        .expect("an event in time")
        .unwrap()
}

fn text_of(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { datagram, .. } => {
                Some(format!("{}: {}", datagram.sender, datagram.text))
            }
            _ => None,
        })
        .collect()
}

fn datagram(kind: Kind, sender: &str, text: &str, seq: u64) -> Vec<u8> {
    serde_json::to_vec(&Datagram {
        kind,
        sender: sender.into(),
        text: text.into(),
        timestamp: "2026-11-21T12:00:00.000Z".into(),
        seq,
    })
    .unwrap()
}

#[tokio::test]
async fn three_peers_exchange_messages() {
    let (ann, bob, cat) = (peer("ann").await, peer("bob").await, peer("cat").await);
    let addr = |p: &ChatPeer| p.local_addr().unwrap();
    // Everyone knows everyone.
    for (p, others) in [
        (&ann, [&bob, &cat]),
        (&bob, [&ann, &cat]),
        (&cat, [&ann, &bob]),
    ] {
        for other in others {
            p.add_peer(addr(other));
        }
    }
    ann.say("hello all").await.unwrap();
    assert_eq!(text_of(&next(&bob).await), ["ann: hello all"]);
    assert_eq!(text_of(&next(&cat).await), ["ann: hello all"]);
    cat.say("hi ann").await.unwrap();
    assert_eq!(text_of(&next(&ann).await), ["cat: hi ann"]);
    assert_eq!(text_of(&next(&bob).await), ["cat: hi ann"]);
}

#[tokio::test]
async fn peers_are_learned_from_joins_and_forgotten_on_leave() {
    let ann = peer("ann").await;
    let bob = peer("bob").await;
    let ann_addr = ann.local_addr().unwrap();
    let bob_addr = bob.local_addr().unwrap();
    // Only bob knows ann; his join teaches ann about him.
    bob.add_peer(ann_addr);
    bob.join().await.unwrap();
    assert_eq!(
        next(&ann).await,
        [Event::Joined {
            name: "bob".into(),
            from: bob_addr
        }]
    );
    assert_eq!(ann.known_peers(), [bob_addr]);
    // So ann can answer whoever contacted her.
    ann.say("welcome").await.unwrap();
    assert_eq!(text_of(&next(&bob).await), ["ann: welcome"]);

    bob.leave().await.unwrap();
    assert_eq!(
        next(&ann).await,
        [Event::Left {
            name: "bob".into(),
            from: bob_addr
        }]
    );
    assert!(ann.known_peers().is_empty());
}

#[tokio::test]
async fn duplicates_are_dropped_and_gaps_and_late_arrivals_reported() {
    let ann = peer("ann").await;
    let target = ann.local_addr().unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let send = |bytes: Vec<u8>| {
        let raw = &raw;
        async move { raw.send_to(&bytes, target).await.unwrap() }
    };
    send(datagram(Kind::Join, "zed", "", 1)).await;
    assert!(matches!(next(&ann).await[..], [Event::Joined { .. }]));
    send(datagram(Kind::Message, "zed", "two", 2)).await;
    send(datagram(Kind::Message, "zed", "two again", 2)).await; // duplicate: dropped
    send(datagram(Kind::Message, "zed", "five", 5)).await; // 3 and 4 missing
    send(datagram(Kind::Message, "zed", "three", 3)).await; // late
    assert_eq!(text_of(&next(&ann).await), ["zed: two"]);
    let after_gap = next(&ann).await;
    assert_eq!(
        after_gap[0],
        Event::Lost {
            name: "zed".into(),
            count: 2,
            range: (3, 4)
        }
    );
    assert_eq!(text_of(&after_gap), ["zed: five"]);
    let late = next(&ann).await;
    assert_eq!(
        late[0],
        Event::OutOfOrder {
            name: "zed".into(),
            seq: 3
        }
    );
    assert_eq!(text_of(&late), ["zed: three"]);
}

#[tokio::test]
async fn malformed_datagrams_are_ignored() {
    let ann = peer("ann").await;
    let target = ann.local_addr().unwrap();
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for junk in [
        &b"not json"[..],
        b"{}",
        b"{\"kind\":\"shout\"}",
        &[0xff, 0x00, 0x13][..],
    ] {
        raw.send_to(junk, target).await.unwrap();
    }
    raw.send_to(&datagram(Kind::Message, "zed", "still fine", 1), target)
        .await
        .unwrap();
    assert_eq!(text_of(&next(&ann).await), ["zed: still fine"]);
}

#[tokio::test]
async fn input_too_long_for_a_datagram_is_refused_without_a_gap() {
    let ann = peer("ann").await;
    let bob = peer("bob").await;
    ann.add_peer(bob.local_addr().unwrap());
    let long = "x".repeat(MAX_DATAGRAM_BYTES);
    assert!(matches!(
        ann.say(&long).await,
        Err(ChatError::TooLong { .. })
    ));
    ann.say("short").await.unwrap();
    // Bob sees the short message with no loss reported before it.
    let events = next(&bob).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(text_of(&events), ["ann: short"]);
}

#[tokio::test]
async fn an_unreachable_peer_does_not_stop_delivery_to_others() {
    let ann = peer("ann").await;
    let bob = peer("bob").await;
    let gone: SocketAddr = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    ann.add_peer(gone);
    ann.add_peer(bob.local_addr().unwrap());
    for text in ["one", "two"] {
        ann.say(text).await.unwrap();
    }
    assert_eq!(text_of(&next(&bob).await), ["ann: one"]);
    assert_eq!(text_of(&next(&bob).await), ["ann: two"]);
}

#[tokio::test]
async fn an_unnamed_peer_is_named_after_the_port_it_bound_even_port_0() {
    let peer = ChatPeer::bind("127.0.0.1:0", None).await.unwrap();
    let port = peer.local_addr().unwrap().port();
    assert_ne!(port, 0);
    assert_eq!(peer.name(), format!("user-{port}"));
}
