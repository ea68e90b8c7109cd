//! The HTTP/2 flow-control windows each side of a cleartext connection announces, read
//! off the first bytes the relay moves: at a high bandwidth-delay product they, not the
//! protocol, decide how fast a big reply can go, so a report over a link says them.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// The client's connection preface.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Bytes of a direction's start looked at, at most.
const LOOK: usize = 4096;
/// What a window is before SETTINGS or WINDOW_UPDATE change it.
const DEFAULT_WINDOW: u32 = 65_535;
/// Distinct announcements kept (a run has a few kinds of client).
const KEEP: usize = 16;

const SETTINGS: u8 = 0x4;
const WINDOW_UPDATE: u8 = 0x8;
const PRIORITY: u8 = 0x2;
const PING: u8 = 0x6;
const ACK: u8 = 0x1;
const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

/// Which end announced a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Side {
    /// The client (what the server may send it).
    Client,
    /// The server (what the client may send it).
    Server,
}

/// One side's announcement: the window each stream starts with, and the connection's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Windows {
    /// SETTINGS_INITIAL_WINDOW_SIZE, bytes.
    pub stream: u32,
    /// The connection's window after the first WINDOW_UPDATE on stream 0, bytes.
    pub connection: u32,
}

/// Every distinct announcement a run's relays saw, by side.
#[derive(Debug, Default)]
pub(crate) struct Seen(Mutex<BTreeSet<(Side, Windows)>>);

impl Seen {
    fn add(&self, side: Side, windows: Windows) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() < KEEP {
            seen.insert((side, windows));
        }
    }

    /// What was seen, in order: clients first.
    pub(crate) fn all(&self) -> Vec<(Side, Windows)> {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter().copied().collect()
    }
}

/// Reads one direction's first bytes until it knows its side's windows, or that the
/// connection is not cleartext HTTP/2.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    side: Side,
    start: Vec<u8>,
}

impl Watch {
    /// A watch on the bytes `side` sends.
    pub(crate) fn new(side: Side) -> Self {
        Watch {
            side,
            start: Vec::new(),
        }
    }

    /// Takes the next chunk; true once there is nothing more to learn (the windows
    /// went into `seen`, or this is not HTTP/2).
    pub(crate) fn feed(&mut self, chunk: &[u8], seen: &Seen) -> bool {
        let room = LOOK - self.start.len();
        self.start
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
        match read(self.side, &self.start) {
            Reading::More if self.start.len() < LOOK => false,
            Reading::Found(windows) => {
                seen.add(self.side, windows);
                true
            }
            Reading::More | Reading::NotHttp2 => true,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Reading {
    More,
    NotHttp2,
    Found(Windows),
}

/// The windows in a direction's first bytes, as far as they go.
fn read(side: Side, bytes: &[u8]) -> Reading {
    let frames = match side {
        Side::Client => {
            let n = bytes.len().min(PREFACE.len());
            if bytes[..n] != PREFACE[..n] {
                return Reading::NotHttp2;
            }
            if n < PREFACE.len() {
                return Reading::More;
            }
            &bytes[PREFACE.len()..]
        }
        Side::Server => bytes,
    };
    let mut windows: Option<Windows> = None;
    let mut at = 0;
    loop {
        // The first frame's type is there before its header is whole.
        if windows.is_none() && frames.get(at + 3).is_some_and(|&kind| kind != SETTINGS) {
            return Reading::NotHttp2;
        }
        let Some(header) = frames.get(at..at + 9) else {
            return Reading::More;
        };
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let (kind, flags) = (header[3], header[4]);
        let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & !(1 << 31);
        let Some(payload) = frames.get(at + 9..at + 9 + length) else {
            return if windows.is_none() && stream != 0 {
                Reading::NotHttp2
            } else {
                Reading::More
            };
        };
        match (kind, windows.as_mut()) {
            // The first frame either way is SETTINGS, or this is not HTTP/2.
            (SETTINGS, None) if stream == 0 && flags & ACK == 0 && length.is_multiple_of(6) => {
                let stream_window = payload
                    .chunks_exact(6)
                    .filter(|e| u16::from_be_bytes([e[0], e[1]]) == SETTINGS_INITIAL_WINDOW_SIZE)
                    .map(|e| u32::from_be_bytes([e[2], e[3], e[4], e[5]]))
                    .next_back()
                    .unwrap_or(DEFAULT_WINDOW);
                windows = Some(Windows {
                    stream: stream_window,
                    connection: DEFAULT_WINDOW,
                });
            }
            (_, None) => return Reading::NotHttp2,
            (WINDOW_UPDATE, Some(found)) if stream == 0 && length == 4 => {
                let increment =
                    u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
                found.connection = DEFAULT_WINDOW.saturating_add(increment & !(1 << 31));
                return Reading::Found(*found);
            }
            // Acknowledgements and pings may come between; a stream's frame (or any
            // other) first: the connection's window stays as it began.
            (SETTINGS | PING | PRIORITY, Some(_)) => {}
            (_, Some(found)) => return Reading::Found(*found),
        }
        at += 9 + length;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        out.extend([kind, flags]);
        out.extend(stream.to_be_bytes());
        out.extend(payload);
        out
    }

    fn settings(window: u32) -> Vec<u8> {
        let mut payload = vec![0, 2, 0, 0, 0, 0]; // ENABLE_PUSH = 0
        payload.extend([0, 4]);
        payload.extend(window.to_be_bytes());
        frame(SETTINGS, 0, 0, &payload)
    }

    #[test]
    fn a_clients_preface_settings_and_window_update_give_its_windows() {
        let mut bytes = PREFACE.to_vec();
        bytes.extend(settings(2 << 20));
        bytes.extend(frame(
            WINDOW_UPDATE,
            0,
            0,
            &((5 << 20) - 65_535u32).to_be_bytes(),
        ));
        bytes.extend(frame(0x1, 0x4, 1, b"headers"));
        let seen = Seen::default();
        let mut watch = Watch::new(Side::Client);
        // In pieces, as reads return them.
        assert!(!watch.feed(&bytes[..10], &seen));
        assert!(!watch.feed(&bytes[10..40], &seen));
        assert!(watch.feed(&bytes[40..], &seen));
        let want = Windows {
            stream: 2 << 20,
            connection: 5 << 20,
        };
        assert_eq!(seen.all(), [(Side::Client, want)]);
    }

    #[test]
    fn a_server_without_a_window_update_keeps_the_connection_default() {
        let mut bytes = settings(1 << 20);
        bytes.extend(frame(SETTINGS, ACK, 0, &[]));
        // An acknowledgement says nothing yet: a window update may follow it.
        assert_eq!(read(Side::Server, &bytes), Reading::More);
        bytes.extend(frame(0x1, 0x4, 1, b"headers"));
        assert_eq!(
            read(Side::Server, &bytes),
            Reading::Found(Windows {
                stream: 1 << 20,
                connection: DEFAULT_WINDOW,
            })
        );
    }

    #[test]
    fn other_protocols_are_left_alone_at_once() {
        assert_eq!(read(Side::Client, b"GET / HTTP/1.1\r\n"), Reading::NotHttp2);
        assert_eq!(
            read(Side::Server, b"HTTP/1.1 200 OK\r\n\r\n"),
            Reading::NotHttp2
        );
        assert_eq!(
            read(Side::Server, b"{\"status\":\"ok\"}\n"),
            Reading::NotHttp2
        );
        // TLS records: a handshake record is not a SETTINGS frame.
        assert_eq!(
            read(Side::Server, &[0x16, 0x03, 0x03, 0x00, 0x7a, 0x02]),
            Reading::NotHttp2
        );
        assert_eq!(read(Side::Client, b"PRI * HT"), Reading::More);
    }
}
