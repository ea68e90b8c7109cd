//! UDP group chat: every participant binds a port and sends each message as one datagram
//! to every peer it knows. No connection, no server, no delivery guarantee, and the chat
//! says so: receivers use per-sender sequence numbers to drop duplicates and to report
//! messages that were lost or came out of order.
//!
//! A datagram is one JSON object:
//! `{"kind":"message","sender":"ann","text":"hi","timestamp":"2026-11-21T12:00:00.000Z","seq":3}`
//! with `kind` one of `message`, `join`, `leave`. Each sender numbers its datagrams from 1.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tokio::net::{ToSocketAddrs, UdpSocket};

/// Largest datagram the chat sends: under 60 KiB, well inside UDP's 64 KiB limit.
pub const MAX_DATAGRAM_BYTES: usize = 60 * 1024;

/// How many missing sequence numbers are remembered per sender, to recognise late
/// arrivals; beyond that the oldest are forgotten.
const MAX_REMEMBERED_GAPS: usize = 1024;

/// Largest sequence number accepted: 2^53, the largest integer every JSON reader holds
/// exactly. A sender numbering from 1 never gets there; a datagram past it is malformed.
pub const MAX_SEQ: u64 = 1 << 53;

/// Most peers a participant keeps by default: datagrams from further new addresses are
/// ignored, so spoofed senders cannot grow its memory or its fan-out.
pub const DEFAULT_MAX_PEERS: usize = 64;

/// What a datagram is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A chat line.
    Message,
    /// The sender has joined (sent on start, so others learn the newcomer).
    Join,
    /// The sender is leaving (sent on Ctrl-D or Ctrl-C).
    Leave,
}

/// One datagram on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Datagram {
    /// What it is for.
    pub kind: Kind,
    /// The sender's name.
    pub sender: String,
    /// The text (empty for join and leave).
    #[serde(default)]
    pub text: String,
    /// When it was sent, RFC 3339.
    pub timestamp: String,
    /// The sender's sequence number, from 1.
    pub seq: u64,
}

/// What a receiver makes of an incoming datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new participant (or one that restarted) announced itself.
    Joined {
        /// Its name.
        name: String,
        /// Its address.
        from: SocketAddr,
    },
    /// A participant left.
    Left {
        /// Its name.
        name: String,
        /// Its address.
        from: SocketAddr,
    },
    /// A chat line.
    Message {
        /// The datagram.
        datagram: Datagram,
        /// Its sender's address.
        from: SocketAddr,
    },
    /// Datagrams from this sender never arrived (so far).
    Lost {
        /// The sender's name.
        name: String,
        /// How many are missing.
        count: u64,
        /// The first and last missing sequence numbers.
        range: (u64, u64),
    },
    /// A datagram arrived after later ones from the same sender.
    OutOfOrder {
        /// The sender's name.
        name: String,
        /// Its sequence number.
        seq: u64,
    },
}

/// What the receiver knows about one sender's sequence numbers.
#[derive(Debug, Default)]
struct SenderState {
    /// The next sequence number expected (0: none yet); wider than a sequence number,
    /// so the one after the largest is still a number.
    next: u128,
    /// Numbers skipped over and not seen since.
    missing: BTreeSet<u64>,
}

/// Per-sender sequence bookkeeping: duplicates, gaps and late arrivals.
#[derive(Debug, Default)]
pub struct SequenceTracker {
    senders: HashMap<SocketAddr, SenderState>,
}

/// What the tracker decided about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The next one expected.
    InOrder,
    /// Newer than expected: these were skipped (and may still come).
    AfterGap {
        /// First skipped number.
        first: u64,
        /// Last skipped number.
        last: u64,
    },
    /// Older than the newest, but was missing: it came late.
    Late,
    /// Already seen (or too old to tell): drop it.
    Duplicate,
}

impl SequenceTracker {
    /// Classifies datagram number `seq` from `from`. A `join` starts the sender afresh,
    /// since a restarted program numbers from 1 again.
    pub fn observe(&mut self, from: SocketAddr, kind: Kind, seq: u64) -> Verdict {
        if kind == Kind::Join {
            self.senders.remove(&from);
        }
        let state = self.senders.entry(from).or_default();
        if state.next == 0 {
            // First datagram heard from this sender: whatever came before it is not a loss
            // we can know about (we may have started later).
            state.next = u128::from(seq) + 1;
            return Verdict::InOrder;
        }
        let wide = u128::from(seq);
        if wide == state.next {
            state.next = wide + 1;
            Verdict::InOrder
        } else if wide > state.next {
            // next < seq <= u64::MAX, so next fits a sequence number.
            let first = u64::try_from(state.next).unwrap_or(u64::MAX);
            let last = seq - 1;
            // Remember only the newest gaps: the ones that may still arrive.
            let remembered = last
                .saturating_sub(MAX_REMEMBERED_GAPS as u64 - 1)
                .max(first);
            state.missing.extend(remembered..=last);
            while state.missing.len() > MAX_REMEMBERED_GAPS {
                state.missing.pop_first();
            }
            state.next = wide + 1;
            Verdict::AfterGap { first, last }
        } else if state.missing.remove(&seq) {
            Verdict::Late
        } else {
            Verdict::Duplicate
        }
    }

    /// Forgets a sender (it left).
    pub fn forget(&mut self, from: SocketAddr) {
        self.senders.remove(&from);
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The message does not fit in one datagram.
    #[error("message too long: {size} bytes as a datagram, the limit is {limit}; split it up")]
    TooLong {
        /// Its encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// One participant: its socket, its name, and what it knows of the others.
#[derive(Debug)]
pub struct ChatPeer {
    socket: UdpSocket,
    name: String,
    next_seq: AtomicU64,
    peers: Mutex<BTreeSet<SocketAddr>>,
    max_peers: usize,
    tracker: Mutex<SequenceTracker>,
}

impl ChatPeer {
    /// Binds `addr` (port 0 picks a free one) as `name`, or as `user-PORT` (the port
    /// bound) when `name` is `None`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind(addr: impl ToSocketAddrs, name: Option<String>) -> io::Result<Self> {
        let socket = UdpSocket::bind(addr).await?;
        let name = match name {
            Some(name) => name,
            None => format!("user-{}", socket.local_addr()?.port()),
        };
        Ok(ChatPeer {
            socket,
            name,
            next_seq: AtomicU64::new(1),
            peers: Mutex::new(BTreeSet::new()),
            max_peers: DEFAULT_MAX_PEERS,
            tracker: Mutex::new(SequenceTracker::default()),
        })
    }

    /// Keeps at most `max_peers` peers (at least one): datagrams from further new
    /// addresses are ignored.
    #[must_use]
    pub fn with_max_peers(mut self, max_peers: usize) -> Self {
        self.max_peers = max_peers.max(1);
        self
    }

    /// This participant's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The address others send to.
    ///
    /// # Errors
    ///
    /// When the socket cannot say.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Adds a peer to send to; false when the peer table is full.
    pub fn add_peer(&self, peer: SocketAddr) -> bool {
        let mut peers = self.peers();
        if peers.len() >= self.max_peers && !peers.contains(&peer) {
            return false;
        }
        peers.insert(peer);
        true
    }

    /// The peers messages go to now.
    pub fn known_peers(&self) -> Vec<SocketAddr> {
        self.peers().iter().copied().collect()
    }

    /// Announces this participant to every known peer.
    ///
    /// # Errors
    ///
    /// When the socket fails.
    pub async fn join(&self) -> Result<(), ChatError> {
        self.broadcast(Kind::Join, "").await
    }

    /// Tells every known peer this participant is leaving.
    ///
    /// # Errors
    ///
    /// When the socket fails.
    pub async fn leave(&self) -> Result<(), ChatError> {
        self.broadcast(Kind::Leave, "").await
    }

    /// Sends a chat line to every known peer.
    ///
    /// # Errors
    ///
    /// [`ChatError::TooLong`] when it does not fit in one datagram (nothing is sent).
    pub async fn say(&self, text: &str) -> Result<(), ChatError> {
        self.broadcast(Kind::Message, text).await
    }

    async fn broadcast(&self, kind: Kind, text: &str) -> Result<(), ChatError> {
        let datagram = Datagram {
            kind,
            sender: self.name.clone(),
            text: text.to_owned(),
            timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            seq: 0,
        };
        // Check the size before taking a sequence number, so a refused message leaves
        // no gap for the others to report.
        let size = serde_json::to_vec(&datagram)
            .map_err(io::Error::other)?
            .len()
            + 20;
        if size > MAX_DATAGRAM_BYTES {
            return Err(ChatError::TooLong {
                size,
                limit: MAX_DATAGRAM_BYTES,
            });
        }
        let datagram = Datagram {
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            ..datagram
        };
        let bytes = serde_json::to_vec(&datagram).map_err(io::Error::other)?;
        for peer in self.known_peers() {
            // One unreachable peer must not stop the others from hearing the message.
            if let Err(e) = self.socket.send_to(&bytes, peer).await {
                tracing::debug!(%peer, error = %e, "datagram not sent");
            }
        }
        Ok(())
    }

    /// Waits for the next thing worth telling the person: a message, a join or leave, a
    /// loss or a late arrival. Malformed datagrams and duplicates are skipped (logged at
    /// debug level). A message that follows a gap yields the loss first, then the
    /// message, in the returned list.
    ///
    /// # Errors
    ///
    /// When the socket fails.
    pub async fn receive(&self) -> io::Result<Vec<Event>> {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let (n, from) = match self.socket.recv_from(&mut buffer).await {
                Ok(received) => received,
                // On Linux an ICMP "port unreachable" from an earlier send can surface
                // here; it says nothing about this datagram, so keep listening.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e),
            };
            let datagram: Datagram = match serde_json::from_slice(&buffer[..n]) {
                Ok(datagram) => datagram,
                Err(e) => {
                    tracing::debug!(%from, error = %e, "ignored a malformed datagram");
                    continue;
                }
            };
            let events = self.apply(datagram, from);
            if !events.is_empty() {
                return Ok(events);
            }
        }
    }

    /// Updates peers and sequence bookkeeping for one datagram; returns what to show.
    pub fn apply(&self, datagram: Datagram, from: SocketAddr) -> Vec<Event> {
        if datagram.seq == 0 || datagram.seq > MAX_SEQ {
            tracing::debug!(%from, seq = datagram.seq, "ignored a sequence number out of range");
            return Vec::new();
        }
        {
            let peers = self.peers();
            if peers.len() >= self.max_peers && !peers.contains(&from) {
                tracing::debug!(%from, "ignored a datagram: the peer table is full");
                return Vec::new();
            }
        }
        let verdict = self
            .tracker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(from, datagram.kind, datagram.seq);
        if verdict == Verdict::Duplicate {
            tracing::debug!(%from, seq = datagram.seq, "dropped a duplicate datagram");
            return Vec::new();
        }
        let name = datagram.sender.clone();
        let mut events = Vec::new();
        if let Verdict::AfterGap { first, last } = verdict {
            events.push(Event::Lost {
                name: name.clone(),
                count: last - first + 1,
                range: (first, last),
            });
        }
        if verdict == Verdict::Late {
            events.push(Event::OutOfOrder {
                name: name.clone(),
                seq: datagram.seq,
            });
        }
        match datagram.kind {
            Kind::Join => {
                let _ = self.add_peer(from);
                events.push(Event::Joined { name, from });
            }
            Kind::Leave => {
                self.peers().remove(&from);
                self.tracker
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .forget(from);
                events.push(Event::Left { name, from });
            }
            Kind::Message => {
                // Learn peers from what they send, so whoever contacted us gets answers.
                let _ = self.add_peer(from);
                events.push(Event::Message { datagram, from });
            }
        }
        events
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, BTreeSet<SocketAddr>> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `text` safe to print: control characters (escape sequences that would repaint the
/// terminal, newlines that would forge lines) and bidirectional overrides are shown
/// escaped, as `\u{1b}`, never interpreted.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// How an event reads in the terminal (names and text from the network escaped).
pub fn describe(event: &Event) -> String {
    match event {
        Event::Joined { name, from } => {
            format!("* {} joined the chat ({from})", printable(name))
        }
        Event::Left { name, .. } => format!("* {} left the chat", printable(name)),
        Event::Message { datagram, .. } => {
            let time = lab_kit::term::chat_time(&datagram.timestamp);
            format!(
                "[{}] {}: {}",
                printable(&time),
                printable(&datagram.sender),
                printable(&datagram.text)
            )
        }
        Event::Lost { name, count, range } => format!(
            "! {count} message{} from {} lost (#{} to #{}): UDP does not resend",
            if *count == 1 { "" } else { "s" },
            printable(name),
            range.0,
            range.1
        ),
        Event::OutOfOrder { name, seq } => {
            format!(
                "! message #{seq} from {} arrived out of order",
                printable(name)
            )
        }
    }
}

#[cfg(test)]
mod tests {
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
    async fn spoofed_senders_cannot_grow_the_peer_table_and_bad_numbers_are_ignored() {
        let peer = ChatPeer::bind("127.0.0.1:0", Some("me".into()))
            .await
            .unwrap()
            .with_max_peers(8);
        for port in 1..=5000 {
            let _ = peer.apply(datagram(Kind::Message, "x", "hi", 1), addr(port));
        }
        assert_eq!(peer.known_peers().len(), 8);
        let tracked = peer.tracker.lock().unwrap().senders.len();
        assert!(tracked <= 8, "{tracked} senders tracked");
        // A known peer is still heard; a new one is not.
        assert_eq!(
            peer.apply(datagram(Kind::Message, "x", "again", 2), addr(1))
                .len(),
            1
        );
        assert!(
            peer.apply(datagram(Kind::Join, "y", "", 1), addr(6000))
                .is_empty()
        );
        // Once a peer leaves, there is room again.
        assert_eq!(
            peer.apply(datagram(Kind::Leave, "x", "", 3), addr(1)).len(),
            1
        );
        assert_eq!(
            peer.apply(datagram(Kind::Join, "y", "", 1), addr(6000))
                .len(),
            1
        );
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
