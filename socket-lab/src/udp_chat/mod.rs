//! UDP group chat: every participant binds a port and sends each message as one datagram
//! to every peer it knows. No connection, no server, no delivery guarantee, and the chat
//! says so: receivers use per-sender sequence numbers to drop duplicates and to report
//! messages that were lost or came out of order.
//!
//! A datagram is one JSON object:
//! `{"kind":"message","sender":"ann","text":"hi","timestamp":"2026-11-21T12:00:00.000Z","seq":3}`
//! with `kind` one of `message`, `join`, `leave`. Each sender numbers its datagrams from 1.
//!
//! The module is in three parts, as mini-redis splits frame, state and connection:
//! [`wire`] (the datagram), [`sequence`] (the pure tracker) and [`peer`] (the socket
//! and what it hears).

mod peer;
mod peers;
mod sequence;
mod wire;

pub use peer::{ChatError, ChatPeer, DEFAULT_MAX_PEERS, Event, describe, printable};
pub use peers::{Heard, Peers};
pub use sequence::{SequenceTracker, Verdict};
pub use wire::{Datagram, Kind, MAX_DATAGRAM_BYTES, MAX_SEQ};

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::sequence::MAX_REMEMBERED_GAPS;
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn in_order_duplicates_gaps_and_late_arrivals() {
        let mut tracker = SequenceTracker::default();
        let a = addr(1);
        assert_eq!(tracker.observe(a, Kind::Join, 1), Verdict::InOrder);
        assert_eq!(tracker.observe(a, Kind::Message, 2), Verdict::InOrder);
        assert_eq!(tracker.observe(a, Kind::Message, 2), Verdict::Duplicate);
        assert_eq!(
            tracker.observe(a, Kind::Message, 6),
            Verdict::AfterGap { first: 3, last: 5 }
        );
        assert_eq!(tracker.observe(a, Kind::Message, 4), Verdict::Late);
        assert_eq!(tracker.observe(a, Kind::Message, 4), Verdict::Duplicate);
        assert_eq!(tracker.observe(a, Kind::Message, 7), Verdict::InOrder);
        assert_eq!(tracker.observe(a, Kind::Message, 1), Verdict::Duplicate);
    }

    #[test]
    fn senders_are_tracked_apart_and_a_join_starts_afresh() {
        let mut tracker = SequenceTracker::default();
        assert_eq!(
            tracker.observe(addr(1), Kind::Message, 10),
            Verdict::InOrder
        );
        assert_eq!(tracker.observe(addr(2), Kind::Message, 1), Verdict::InOrder);
        assert_eq!(
            tracker.observe(addr(1), Kind::Message, 11),
            Verdict::InOrder
        );
        // Restarted: numbers from 1 again.
        assert_eq!(tracker.observe(addr(1), Kind::Join, 1), Verdict::InOrder);
        assert_eq!(tracker.observe(addr(1), Kind::Message, 2), Verdict::InOrder);
    }

    #[test]
    fn events_read_honestly() {
        let lost = Event::Lost {
            name: "ann".into(),
            count: 3,
            range: (3, 5),
        };
        assert_eq!(
            describe(&lost),
            "! 3 messages from ann lost (#3 to #5): UDP does not resend"
        );
        let left = Event::Left {
            name: "bob".into(),
            from: addr(9),
        };
        assert_eq!(describe(&left), "* bob left the chat");
    }

    #[test]
    fn sequence_numbers_at_the_edge_never_overflow() {
        let mut tracker = SequenceTracker::default();
        let a = addr(1);
        assert_eq!(tracker.observe(a, Kind::Message, 1), Verdict::InOrder);
        // A huge jump: one gap reported, only the newest gaps remembered.
        assert_eq!(
            tracker.observe(a, Kind::Message, u64::MAX),
            Verdict::AfterGap {
                first: 2,
                last: u64::MAX - 1
            }
        );
        assert_eq!(
            tracker.observe(a, Kind::Message, u64::MAX),
            Verdict::Duplicate
        );
        assert_eq!(
            tracker.observe(a, Kind::Message, u64::MAX - 1),
            Verdict::Late
        );
        assert_eq!(tracker.observe(a, Kind::Message, 3), Verdict::Duplicate);
        assert!(tracker.senders[&a].missing.len() <= MAX_REMEMBERED_GAPS);
        let b = addr(2);
        assert_eq!(
            tracker.observe(b, Kind::Message, u64::MAX),
            Verdict::InOrder
        );
        assert_eq!(
            tracker.observe(b, Kind::Message, u64::MAX),
            Verdict::Duplicate
        );
    }

    fn datagram(kind: Kind, sender: &str, text: &str, seq: u64) -> Datagram {
        Datagram {
            kind,
            sender: sender.into(),
            text: text.into(),
            timestamp: "2026-11-22T10:00:00.000Z".into(),
            seq,
        }
    }

    #[tokio::test]
    async fn spoofed_senders_cannot_grow_the_peer_table_or_shut_a_newcomer_out() {
        let peer = ChatPeer::bind("127.0.0.1:0", Some("me".into()))
            .await
            .unwrap()
            .with_max_peers(8);
        // A --peer, kept whatever arrives.
        assert!(peer.add_peer(addr(7000)));
        for port in 1..=5000 {
            let _ = peer.apply(datagram(Kind::Message, "x", "hi", 1), addr(port));
        }
        assert_eq!(peer.known_peers().len(), 8);
        assert!(peer.known_peers().contains(&addr(7000)));
        let tracked = peer.tracker.lock().unwrap().senders.len();
        assert!(tracked <= 8, "{tracked} senders tracked");
        // The table stays full of spoofed senders, yet a newcomer is heard (before,
        // every newcomer after 64 others was ignored for good), taking the place of the
        // quietest; the --peer is still there.
        assert_eq!(
            peer.apply(datagram(Kind::Join, "y", "", 1), addr(6000))
                .len(),
            1
        );
        assert!(peer.known_peers().contains(&addr(6000)));
        assert!(peer.known_peers().contains(&addr(7000)));
        assert!(!peer.known_peers().contains(&addr(4994)));
        assert_eq!(
            peer.apply(datagram(Kind::Message, "y", "hello", 2), addr(6000))
                .len(),
            1
        );
        // A peer that leaves makes room; a --peer that leaves is kept to talk to.
        assert_eq!(
            peer.apply(datagram(Kind::Leave, "x", "", 2), addr(5000))
                .len(),
            1
        );
        assert!(!peer.known_peers().contains(&addr(5000)));
        let _ = peer.apply(datagram(Kind::Leave, "p", "", 1), addr(7000));
        assert!(peer.known_peers().contains(&addr(7000)));
        // Sequence numbers outside 1..=2^53 are malformed.
        for seq in [0, MAX_SEQ + 1, u64::MAX] {
            assert!(
                peer.apply(datagram(Kind::Message, "y", "z", seq), addr(6000))
                    .is_empty()
            );
        }
    }
    #[test]
    fn names_and_text_from_the_network_are_shown_escaped() {
        let message = Event::Message {
            datagram: datagram(
                Kind::Message,
                "mal\u{1b}[2Jlory",
                "line\nforged: hi \u{202e}txet",
                1,
            ),
            from: addr(1),
        };
        let shown = describe(&message);
        assert!(
            shown.ends_with(r"mal\u{1b}[2Jlory: line\u{a}forged: hi \u{202e}txet"),
            "{shown}"
        );
        assert!(!shown.contains('\u{1b}') && !shown.contains('\n'));
        assert_eq!(printable("héllo wörld"), "héllo wörld");
    }

    mod properties {
        use proptest::prelude::*;

        use std::net::SocketAddr;

        use super::super::sequence::MAX_REMEMBERED_GAPS;
        use super::super::*;

        fn seq() -> impl Strategy<Value = u64> {
            prop_oneof![
                0u64..40,
                (u64::MAX - 40)..=u64::MAX,
                any::<u64>(),
                Just(MAX_SEQ),
                Just(MAX_SEQ + 1)
            ]
        }

        fn kind() -> impl Strategy<Value = Kind> {
            prop::sample::select(vec![Kind::Message, Kind::Join, Kind::Leave])
        }

        proptest! {
            #[test]
            fn any_sequence_of_numbers_keeps_the_tracker_bounded(
                steps in prop::collection::vec((0u16..4, kind(), seq()), 0..200)
            ) {
                let mut tracker = SequenceTracker::default();
                for (sender, kind, seq) in steps {
                    let from = SocketAddr::from(([127, 0, 0, 1], 9000 + sender));
                    let _ = tracker.observe(from, kind, seq);
                    prop_assert!(tracker.senders.len() <= 4);
                    for state in tracker.senders.values() {
                        prop_assert!(state.missing.len() <= MAX_REMEMBERED_GAPS);
                    }
                }
            }

            #[test]
            fn any_datagram_from_any_sender_keeps_the_peer_table_bounded(
                datagrams in prop::collection::vec(
                    (any::<u16>(), kind(), ".{0,12}", seq()), 0..120)
            ) {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(async {
                    let peer = ChatPeer::bind("127.0.0.1:0", Some("me".into())).await.unwrap().with_max_peers(8);
                    for (port, kind, text, seq) in datagrams {
                        let from = SocketAddr::from(([127, 0, 0, 2], port));
                        let datagram = Datagram {
                            kind,
                            sender: text.clone(),
                            text,
                            timestamp: String::new(),
                            seq,
                        };
                        for event in peer.apply(datagram, from) {
                            // Whatever came in, what is shown holds no control character.
                            let shown = describe(&event);
                            assert!(!shown.chars().any(char::is_control), "{shown:?}");
                        }
                        assert!(peer.known_peers().len() <= 8);
                    }
                });
            }

            #[test]
            fn any_bytes_decode_to_a_datagram_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
                let _ = serde_json::from_slice::<Datagram>(&bytes);
            }
        }
    }
}
