//! Everything the REST server is told: its store and every limit, in one place.
//! A leaf: it imports nothing from the rest of the crate.

use std::time::Duration;

use lab_kit::ReplyBudget;
use lab_kit::http::HttpPolicy;
use lab_kit::metrics::ServerMetrics;
use lab_kit::token::Token;
use user_store::UserStore;

/// Default limit on a request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default limit on how long one request may take, body included.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The server's store and limits; also what every handler reaches as its state.
#[derive(Debug, Clone)]
pub struct Config {
    /// The users.
    pub store: UserStore,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Longest a client may take to send a request's headers, and again for the rest of
    /// the request and its handling.
    pub request_timeout: Duration,
    /// Memory list replies waiting to be read may hold across the server.
    pub reply_budget: ReplyBudget,
    /// The connection policy every lab's server shares.
    pub policy: HttpPolicy,
    /// With a token, writes (create, update, delete) need `Authorization: Bearer` it.
    pub auth_token: Option<Token>,
    /// With metrics (`--metrics`), requests are counted and `/metrics` serves them.
    pub metrics: Option<ServerMetrics>,
}

impl Config {
    /// A server around `store` with the default limits.
    pub fn new(store: UserStore) -> Self {
        Config {
            store,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            reply_budget: ReplyBudget::default(),
            policy: HttpPolicy {
                header_timeout: DEFAULT_REQUEST_TIMEOUT,
                ..HttpPolicy::default()
            },
            auth_token: None,
            metrics: None,
        }
    }
}
