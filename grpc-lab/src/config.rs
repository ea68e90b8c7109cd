//! Everything the gRPC server is told: its store and every limit, in one place. A
//! leaf: it imports nothing from the rest of the crate.

use lab_kit::ReplyBudget;
use lab_kit::http::HttpPolicy;
use user_store::UserStore;

/// Default number of messages the room keeps for members that are behind.
pub const DEFAULT_ROOM_CAPACITY: usize = 256;
/// Default cap on members.
pub const DEFAULT_MAX_MEMBERS: usize = 100;
/// Default cap on one message (sender and text), in bytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 64 << 10;
/// Default bound on the messages queued for one member, in bytes.
pub const DEFAULT_MEMBER_QUEUE_BYTES: usize = 256 << 10;

/// kept for the room, and `member_queue_bytes` more for each of `max_members` members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatLimits {
    /// Messages the room keeps for members that are behind.
    pub capacity: usize,
    /// Most members at once; one more is refused with RESOURCE_EXHAUSTED.
    pub max_members: usize,
    /// Largest message (sender and text, in bytes); a larger one is not sent and its
    /// sender is told why.
    pub max_message_bytes: usize,
    /// Bytes queued for one member beyond what it has read; past it, the member falls
    /// behind and skips ahead with a notice.
    pub member_queue_bytes: usize,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            capacity: DEFAULT_ROOM_CAPACITY,
            max_members: DEFAULT_MAX_MEMBERS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            member_queue_bytes: DEFAULT_MEMBER_QUEUE_BYTES,
        }
    }
}

/// The server's store and limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// The users.
    pub store: UserStore,
    /// The chat room's bounds.
    pub chat: ChatLimits,
    /// Memory GetAllUsers and ListUsers replies waiting to be read may hold.
    pub reply_budget: ReplyBudget,
    /// The connection policy every lab's server shares (served HTTP/2 only, whatever
    /// it says).
    pub policy: HttpPolicy,
    /// With a token, writes (CreateUser, UpdateUser, DeleteUser, CreateUsers) need
    /// `authorization: Bearer` it; reads, Greet, the chat and health stay open.
    pub auth_token: Option<lab_kit::token::Token>,
}

impl Config {
    /// A server around `store` with the default limits.
    pub fn new(store: UserStore) -> Self {
        Config {
            store,
            chat: ChatLimits::default(),
            reply_budget: ReplyBudget::default(),
            policy: HttpPolicy::default(),
            auth_token: None,
        }
    }
}
