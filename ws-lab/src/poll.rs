//! `/poll/chat`: the chat room by long polling. `GET /poll/chat?after=N` answers at
//! once with the events after number N the room still holds, or waits up to the poll
//! timeout for the next one and answers with it (or with none); without `after` it
//! waits for the next event. `POST /poll/chat` with `{"name":"ann","text":"hi"}`
//! publishes a message to everyone in the room, whatever way they listen.
//!
//! ```text
//! {"events":[{"id":7,"event":{"kind":"message","sender":"ann","text":"hi","timestamp":"..."}}],
//!  "next":7,"skipped":0}
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::chat::{Outgoing, Room};

/// Most bytes of events one answer carries (at least one event, whatever its size);
/// `next` says where the rest begin.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// `?after=N`.
#[derive(Debug, Deserialize)]
pub(crate) struct After {
    pub(crate) after: Option<u64>,
}

/// One event and its number.
#[derive(Debug, Serialize)]
pub struct Numbered {
    /// Its number in the room.
    pub id: u64,
    /// The event, as the WebSocket chat sends it.
    pub event: Box<RawValue>,
}

/// A long poll's answer.
#[derive(Debug, Serialize)]
pub struct Answer {
    /// The events, oldest first (none when the wait timed out).
    pub events: Vec<Numbered>,
    /// What to ask after next time: the last event's number here, or `after` again.
    pub next: u64,
    /// Events after `after` the room no longer held (the poller was too far behind).
    pub skipped: u64,
}

/// `POST /poll/chat`'s body.
#[derive(Debug, Deserialize)]
pub(crate) struct Post {
    pub(crate) name: String,
    pub(crate) text: String,
}

/// The answer to `?after=after` (`None`: the next event), waiting up to `timeout`.
pub(crate) async fn answer(
    room: &Room,
    after: Option<u64>,
    timeout: Duration,
    stop: &CancellationToken,
) -> Answer {
    // Subscribe before looking, so an event published in between wakes the wait.
    let mut events = room.subscribe();
    // Without a number, or with one beyond the last (the server restarted and counts
    // afresh): from now on.
    let latest = room.latest();
    let after = after.map_or(latest, |after| after.min(latest));
    let (mut held, mut lost) = room.since(after);
    if held.is_empty() && lost == 0 {
        tokio::select! {
            () = tokio::time::sleep(timeout) => {}
            () = stop.cancelled() => {}
            () = next_after(&mut events, after) => {}
        }
        (held, lost) = room.since(after);
    }
    let mut answer = Answer {
        events: Vec::new(),
        next: after,
        skipped: lost,
    };
    let mut bytes = 0;
    for event in held {
        bytes += event.text.len();
        if !answer.events.is_empty() && bytes > MAX_ANSWER_BYTES {
            break;
        }
        answer.next = event.id;
        answer.events.push(numbered(&event));
    }
    answer
}

/// Until an event after number `after` is published (or the poller lags: then the room
/// has some to show).
async fn next_after(events: &mut broadcast::Receiver<Arc<Outgoing>>, after: u64) {
    loop {
        match events.recv().await {
            Ok(event) if event.id <= after => {}
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
        }
    }
}

/// An event with its number, as long polls and webhooks carry it.
pub(crate) fn numbered(event: &Outgoing) -> Numbered {
    // The room's texts are JSON it wrote itself.
    let event_json = RawValue::from_string(event.text.as_str().to_owned()).unwrap_or_default();
    Numbered {
        id: event.id,
        event: event_json,
    }
}
