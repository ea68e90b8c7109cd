//! `/hooks`: webhooks, the push that needs no open connection. A subscriber registers a
//! callback URL (`POST /hooks {"url": ...}`, only on a loopback address or a host the
//! server was told to allow, so the server cannot be aimed at other machines); the
//! server then POSTs every event of the room to it, as long polling numbers them
//! (`{"id":7,"event":{...}}`), each with a timeout and a few attempts spaced by a
//! doubling back-off. A hook whose events keep failing every attempt is dropped. Each
//! hook reads the room like a member, so one that falls behind skips ahead and is sent
//! a notice (id 0), and a slow callback holds up no one else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::chat::Room;
use crate::event::Event;
use crate::poll::{Numbered, numbered};

/// Attempts at one event before it counts as failed.
pub const ATTEMPTS: u32 = 3;
/// The wait after a first failed attempt; it doubles after each further one.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Events in a row that fail every attempt before the hook is dropped.
pub const MAX_FAILED_EVENTS: u32 = 3;

/// A registered hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hook {
    /// Its number, for `DELETE /hooks/{id}`.
    pub id: u64,
    /// Where events are POSTed.
    pub url: String,
}

/// What the registry is told.
#[derive(Debug, Clone)]
pub struct HookLimits {
    /// Hosts besides loopback that a hook may call back.
    pub allowed_hosts: Vec<String>,
    /// Most hooks at once.
    pub max_hooks: usize,
    /// Longest one delivery attempt may take.
    pub timeout: Duration,
}

/// Why a hook was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Not an http(s) URL.
    #[error("{0:?} is not an http:// or https:// URL")]
    NotAUrl(String),
    /// A host the server may not call.
    #[error(
        "{0} is not a loopback address or an allowed host (ws-server --hook-allow HOST): \
         the server calls back only where it was told it may"
    )]
    NotAllowed(String),
    /// The registry is full.
    #[error("there are already {0} hooks; delete one first")]
    Full(usize),
    /// The HTTP client could not be built.
    #[error("webhooks are unavailable: {0}")]
    Unavailable(String),
}

/// Every hook, and what delivers to them. Cheap to clone: clones are the same registry.
#[derive(Debug, Clone)]
pub(crate) struct Hooks {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    room: Room,
    client: Result<reqwest::Client, String>,
    limits: HookLimits,
    next: AtomicU64,
    hooks: Mutex<HashMap<u64, (Hook, CancellationToken)>>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Hooks {
    /// A registry delivering `room`'s events, its deliveries tracked by `tasks` and
    /// ended by `stop`.
    pub(crate) fn new(
        room: Room,
        limits: HookLimits,
        stop: CancellationToken,
        tasks: TaskTracker,
    ) -> Hooks {
        lab_kit::tls::install_default_provider();
        let client = reqwest::Client::builder()
            // A redirect could send the server anywhere: none are followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string());
        Hooks {
            inner: Arc::new(Inner {
                room,
                client,
                limits,
                next: AtomicU64::new(1),
                hooks: Mutex::new(HashMap::new()),
                stop,
                tasks,
            }),
        }
    }

    /// Registers `url` and starts delivering to it.
    ///
    /// # Errors
    ///
    /// A URL that is not http(s), a host not allowed, a full registry.
    pub(crate) fn register(&self, url: &str) -> Result<Hook, Refusal> {
        let inner = &self.inner;
        let client = inner.client.clone().map_err(Refusal::Unavailable)?;
        let parsed = reqwest::Url::parse(url).map_err(|_| Refusal::NotAUrl(url.to_owned()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Refusal::NotAUrl(url.to_owned()));
        }
        let host = parsed.host_str().unwrap_or_default().to_owned();
        if !allowed(&host, &inner.limits.allowed_hosts) {
            return Err(Refusal::NotAllowed(host));
        }
        let mut hooks = inner.hooks.lock().unwrap_or_else(PoisonError::into_inner);
        if hooks.len() >= inner.limits.max_hooks {
            return Err(Refusal::Full(inner.limits.max_hooks));
        }
        let hook = Hook {
            id: inner.next.fetch_add(1, Ordering::Relaxed),
            url: parsed.to_string(),
        };
        let cancel = inner.stop.child_token();
        hooks.insert(hook.id, (hook.clone(), cancel.clone()));
        // Subscribed now: every event from here on is the hook's.
        let events = inner.room.subscribe();
        let delivery = deliver(Arc::clone(inner), client, hook.clone(), events, cancel);
        inner.tasks.spawn(delivery);
        Ok(hook)
    }

    /// Stops delivering to hook `id`; false when there is no such hook.
    pub(crate) fn remove(&self, id: u64) -> bool {
        self.inner.remove(id)
    }

    /// Every hook, by number.
    pub(crate) fn list(&self) -> Vec<Hook> {
        let hooks = self
            .inner
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut list: Vec<Hook> = hooks.values().map(|(hook, _)| hook.clone()).collect();
        list.sort_by_key(|hook| hook.id);
        list
    }
}

impl Inner {
    fn remove(&self, id: u64) -> bool {
        let mut hooks = self.hooks.lock().unwrap_or_else(PoisonError::into_inner);
        match hooks.remove(&id) {
            Some((_, cancel)) => {
                cancel.cancel();
                true
            }
            None => false,
        }
    }
}

/// Loopback by address or name, or one of the allowed hosts.
fn allowed(host: &str, allowed_hosts: &[String]) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    };
    loopback || allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(bare))
}

/// Delivers every event to one hook until it is removed, the server stops, or its
/// events keep failing.
async fn deliver(
    inner: Arc<Inner>,
    client: reqwest::Client,
    hook: Hook,
    mut events: broadcast::Receiver<Arc<crate::chat::Outgoing>>,
    cancel: CancellationToken,
) {
    let mut failed = 0;
    loop {
        let received = tokio::select! {
            () = cancel.cancelled() => return,
            received = events.recv() => received,
        };
        let body = match received {
            Ok(event) => numbered(&event),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                let text = format!("{missed} messages were skipped: the hook fell behind");
                Numbered {
                    id: 0,
                    event: serde_json::value::RawValue::from_string(
                        Event::Notice { text }.to_json(),
                    )
                    .unwrap_or_default(),
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let delivered = tokio::select! {
            () = cancel.cancelled() => return,
            delivered = send(&client, &hook.url, body, inner.limits.timeout, &cancel) => delivered,
        };
        if delivered {
            failed = 0;
        } else {
            failed += 1;
            if failed >= MAX_FAILED_EVENTS {
                tracing::warn!(hook = hook.id, url = %hook.url, "dropping a webhook whose last {failed} events all failed");
                inner.remove(hook.id);
                return;
            }
        }
    }
}

/// Up to [`ATTEMPTS`] POSTs of `body`, backing off between them; true once one is
/// answered 2xx.
async fn send(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> bool {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        if sent.is_ok_and(|reply| reply.status().is_success()) {
            return true;
        }
        if attempt < ATTEMPTS {
            tokio::select! {
                () = cancel.cancelled() => return false,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff *= 2;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_allowed_hosts_may_be_called_back() {
        let allowed_hosts = vec!["hooks.internal".to_owned()];
        for host in [
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "localhost",
            "LOCALHOST",
            "hooks.internal",
        ] {
            assert!(allowed(host, &allowed_hosts), "{host}");
        }
        for host in [
            "10.0.0.1",
            "169.254.169.254",
            "example.com",
            "[::2]",
            "",
            "localhost.evil",
        ] {
            assert!(!allowed(host, &allowed_hosts), "{host}");
        }
    }
}
