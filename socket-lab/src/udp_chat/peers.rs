//! The peers a participant sends to, pure (no I/O): those given on the command line,
//! kept for good, and those learned from what arrives, of which the one heard from
//! least recently makes room for a newcomer. So a full table never shuts newcomers out
//! (64 spoofed senders cannot take it for good), and a `--peer` is never pushed out.

use std::collections::BTreeMap;
use std::net::SocketAddr;

/// One known peer.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Given on the command line: never evicted.
    pinned: bool,
    /// When it was last heard from, on the table's own clock.
    heard: u64,
}

/// What hearing from an address did to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Already known.
    Known,
    /// Added to a table with room.
    Added,
    /// Added in place of this peer, the learned one heard from least recently.
    Replaced(SocketAddr),
    /// Not added: the table is full of peers given on the command line.
    Full,
}

/// Known peers, at most `max` of them.
#[derive(Debug)]
pub struct Peers {
    entries: BTreeMap<SocketAddr, Entry>,
    max: usize,
    clock: u64,
}

impl Peers {
    /// An empty table of at most `max` peers (at least one).
    pub fn new(max: usize) -> Self {
        Peers {
            entries: BTreeMap::new(),
            max: max.max(1),
            clock: 0,
        }
    }

    /// The most peers it keeps.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Keeps `addr` for good (a `--peer`); false when the table is already full of
    /// such peers.
    pub fn pin(&mut self, addr: SocketAddr) -> bool {
        match self.hear(addr) {
            Heard::Full => false,
            _ => {
                if let Some(entry) = self.entries.get_mut(&addr) {
                    entry.pinned = true;
                }
                true
            }
        }
    }

    /// Notes that `addr` was heard from now, making room for it if it is new.
    pub fn hear(&mut self, addr: SocketAddr) -> Heard {
        self.clock += 1;
        let now = self.clock;
        if let Some(entry) = self.entries.get_mut(&addr) {
            entry.heard = now;
            return Heard::Known;
        }
        let mut outcome = Heard::Added;
        if self.entries.len() >= self.max {
            let oldest = self
                .entries
                .iter()
                .filter(|(_, entry)| !entry.pinned)
                .min_by_key(|(_, entry)| entry.heard)
                .map(|(addr, _)| *addr);
            match oldest {
                Some(oldest) => {
                    self.entries.remove(&oldest);
                    outcome = Heard::Replaced(oldest);
                }
                None => return Heard::Full,
            }
        }
        self.entries.insert(
            addr,
            Entry {
                pinned: false,
                heard: now,
            },
        );
        outcome
    }

    /// Whether `addr` is in the table.
    pub fn contains(&self, addr: &SocketAddr) -> bool {
        self.entries.contains_key(addr)
    }

    /// Forgets a peer that left, unless it was given on the command line (it is still
    /// the one to talk to when it comes back).
    pub fn left(&mut self, addr: &SocketAddr) {
        if self.entries.get(addr).is_some_and(|entry| !entry.pinned) {
            self.entries.remove(addr);
        }
    }

    /// Every known peer's address.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.entries.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn a_newcomer_to_a_full_table_replaces_the_peer_heard_from_least_recently() {
        let mut peers = Peers::new(3);
        assert_eq!(peers.hear(addr(1)), Heard::Added);
        assert_eq!(peers.hear(addr(2)), Heard::Added);
        assert_eq!(peers.hear(addr(3)), Heard::Added);
        // 1 speaks again: 2 is now the one heard from least recently.
        assert_eq!(peers.hear(addr(1)), Heard::Known);
        assert_eq!(peers.hear(addr(4)), Heard::Replaced(addr(2)));
        assert_eq!(peers.addrs(), [addr(1), addr(3), addr(4)]);
    }

    #[test]
    fn a_peer_from_the_command_line_is_never_pushed_out_or_forgotten() {
        let mut peers = Peers::new(2);
        assert!(peers.pin(addr(1)));
        for port in 10..100 {
            assert_ne!(peers.hear(addr(port)), Heard::Full);
            assert!(peers.contains(&addr(1)), "evicted by {port}");
        }
        peers.left(&addr(1));
        assert!(peers.contains(&addr(1)));
        peers.left(&addr(99));
        assert!(!peers.contains(&addr(99)));
        // A table of pinned peers only keeps them and hears no newcomer.
        let mut pinned = Peers::new(1);
        assert!(pinned.pin(addr(1)));
        assert!(!pinned.pin(addr(2)));
        assert_eq!(pinned.hear(addr(3)), Heard::Full);
        assert_eq!(pinned.addrs(), [addr(1)]);
    }
}
