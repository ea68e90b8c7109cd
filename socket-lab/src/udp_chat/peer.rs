//! A participant: its socket, the peers it knows, and what each datagram it receives
//! means ([`Event`]), shown to a person by [`describe`].

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{SecondsFormat, Utc};
use tokio::net::{ToSocketAddrs, UdpSocket};

use super::peers::{Heard, Peers};
use super::sequence::{SequenceTracker, Verdict};
use super::wire::{Datagram, Kind, MAX_DATAGRAM_BYTES, MAX_SEQ};

/// Most peers a participant keeps by default: datagrams from further new addresses are
/// ignored, so spoofed senders cannot grow its memory or its fan-out.
pub const DEFAULT_MAX_PEERS: usize = 64;

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
    pub(super) socket: UdpSocket,
    pub(super) name: String,
    pub(super) next_seq: AtomicU64,
    pub(super) peers: Mutex<Peers>,
    pub(super) tracker: Mutex<SequenceTracker>,
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
            peers: Mutex::new(Peers::new(DEFAULT_MAX_PEERS)),
            tracker: Mutex::new(SequenceTracker::default()),
        })
    }

    /// Keeps at most `max_peers` peers (at least one): a newcomer past them takes the
    /// place of the learned peer heard from least recently (never a peer given with
    /// [`add_peer`](Self::add_peer)).
    #[must_use]
    pub fn with_max_peers(self, max_peers: usize) -> Self {
        *self.peers() = Peers::new(max_peers);
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

    /// Adds a peer to send to for good (a `--peer`: never replaced by a newcomer);
    /// false when the table is full of such peers.
    pub fn add_peer(&self, peer: SocketAddr) -> bool {
        self.peers().pin(peer)
    }

    /// The peers messages go to now.
    pub fn known_peers(&self) -> Vec<SocketAddr> {
        self.peers().addrs()
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
        // Whoever writes is heard: a newcomer to a full table takes the place of the
        // learned peer heard from least recently, whose sequence state goes with it.
        let heard = self.peers().hear(from);
        match heard {
            Heard::Full => {
                tracing::debug!(%from, "ignored a datagram: every peer was given with --peer");
                return Vec::new();
            }
            Heard::Replaced(old) => {
                tracing::debug!(%from, %old, "a newcomer took the place of the quietest peer");
                self.tracker().forget(old);
            }
            Heard::Known | Heard::Added => {}
        }
        let verdict = self.tracker().observe(from, datagram.kind, datagram.seq);
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
            Kind::Join => events.push(Event::Joined { name, from }),
            Kind::Leave => {
                self.peers().left(&from);
                self.tracker().forget(from);
                events.push(Event::Left { name, from });
            }
            // Peers are learned from what they send (above), so whoever contacted us
            // gets answers.
            Kind::Message => events.push(Event::Message { datagram, from }),
        }
        events
    }

    fn peers(&self) -> std::sync::MutexGuard<'_, Peers> {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, SequenceTracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
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
