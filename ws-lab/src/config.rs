//! Everything the WebSocket server is told, in one place. A leaf: it imports nothing
//! from the rest of the crate.

use std::time::Duration;

use lab_kit::http::HttpPolicy;

/// Default limit on one message, in bytes (larger: the connection closes with 1009).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Default cap on chat members.
pub const DEFAULT_MAX_MEMBERS: usize = 100;
/// Default number of chat messages the room keeps for members that are behind.
pub const DEFAULT_ROOM_CAPACITY: usize = 256;
/// Default time between pings; a peer that sends nothing, not even the pong, for the
/// idle timeout is dropped.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Default cap on webhooks.
pub const DEFAULT_MAX_HOOKS: usize = 100;
/// Default longest one webhook delivery attempt may take.
pub const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// Default longest a long poll waits for an event before it answers with none.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(20);

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest message a client may send, in bytes.
    pub max_message_bytes: usize,
    /// Most chat members at once; one more is refused with 503 before the upgrade.
    pub max_members: usize,
    /// Chat messages the room keeps for members that are behind; a member further
    /// behind skips ahead and is told how many it missed.
    pub room_capacity: usize,
    /// Time between pings (at most half the idle timeout, so a live peer always has a
    /// pong on its way before the idle timeout).
    pub ping_interval: Duration,
    /// Longest `GET /poll/chat` waits for an event before it answers with none (also
    /// the keep-alive interval of `/sse/chat` is the ping interval).
    pub poll_timeout: Duration,
    /// Hosts besides loopback that a webhook may call back.
    pub hook_allow: Vec<String>,
    /// Most webhooks at once; one more is refused with 503.
    pub max_hooks: usize,
    /// Longest one webhook delivery attempt may take.
    pub hook_timeout: Duration,
    /// The connection policy every lab's server shares; its idle timeout counts from the
    /// last frame the client sent (a pong counts).
    pub policy: HttpPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_members: DEFAULT_MAX_MEMBERS,
            room_capacity: DEFAULT_ROOM_CAPACITY,
            ping_interval: DEFAULT_PING_INTERVAL,
            poll_timeout: DEFAULT_POLL_TIMEOUT,
            hook_allow: Vec::new(),
            max_hooks: DEFAULT_MAX_HOOKS,
            hook_timeout: DEFAULT_HOOK_TIMEOUT,
            policy: HttpPolicy::default(),
        }
    }
}
