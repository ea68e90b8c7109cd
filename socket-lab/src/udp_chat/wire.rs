//! What goes over the network: one JSON object per datagram, and its bounds.

use serde::{Deserialize, Serialize};

/// Largest datagram the chat sends: under 60 KiB, well inside UDP's 64 KiB limit.
pub const MAX_DATAGRAM_BYTES: usize = 60 * 1024;

/// Largest sequence number accepted: 2^53, the largest integer every JSON reader holds
/// exactly. A sender numbering from 1 never gets there; a datagram past it is malformed.
pub const MAX_SEQ: u64 = 1 << 53;

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
