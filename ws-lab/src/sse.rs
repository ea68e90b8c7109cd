//! `GET /sse/chat?name=NAME`: the chat room as Server-Sent Events, one way, server to
//! client. Each event is the WebSocket chat's JSON, with its number in the room as the
//! SSE `id`; a client that reconnects with `Last-Event-ID: N` first gets what it missed
//! from the room's recent events, and a notice when some are no longer held. Members
//! post with `POST /poll/chat`. Keep-alive comments go out every ping interval, and the
//! stream ends when the server stops.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::Event as SseEvent;
use futures_util::Stream;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::chat::{Outgoing, Room, Seat};
use crate::event::{Event, now};

/// A member's place in the room while its stream lives: announces its leaving when the
/// stream is dropped (the client went away), unless the server is stopping.
struct Membership {
    room: Room,
    me: u64,
    name: String,
    stop: CancellationToken,
    _seat: Seat,
}

impl Drop for Membership {
    fn drop(&mut self) {
        if !self.stop.is_cancelled() {
            let leave = Event::Leave {
                sender: std::mem::take(&mut self.name),
                timestamp: now(),
            };
            self.room.publish(self.me, true, &leave);
        }
    }
}

/// What the stream carries from one event to the next.
struct Feed {
    membership: Membership,
    events: broadcast::Receiver<Arc<Outgoing>>,
    /// Events to send before the live ones: a resume's backlog.
    backlog: VecDeque<SseEvent>,
    /// The last number sent: live events up to it were in the backlog.
    last: u64,
}

fn numbered(event: &Outgoing) -> SseEvent {
    SseEvent::default()
        .id(event.id.to_string())
        .data(event.text.as_str())
}

fn notice(text: String) -> SseEvent {
    SseEvent::default().data(Event::Notice { text }.to_json())
}

/// The stream of one member named `name`, resuming after event `resume` when given.
pub(crate) fn stream(
    room: Room,
    seat: Seat,
    name: String,
    resume: Option<u64>,
    stop: CancellationToken,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static {
    let me = room.new_member();
    // Subscribe before announcing and before reading the backlog, so nothing falls
    // between the two.
    let events = room.subscribe();
    let join = Event::Join {
        sender: name.clone(),
        timestamp: now(),
    };
    room.publish(me, true, &join);
    let mut backlog = VecDeque::new();
    let mut last = 0;
    if let Some(after) = resume {
        // A number beyond the last (the server restarted and counts afresh) means now.
        let after = after.min(room.latest());
        let (held, lost) = room.since(after);
        if lost > 0 {
            backlog.push_back(notice(format!(
                "{lost} events after {after} are no longer held: resuming from the oldest \
                 the room has"
            )));
        }
        backlog.extend(
            held.iter()
                .filter(|e| !(e.others_only && e.from == me))
                .map(|e| numbered(e)),
        );
        last = held.last().map_or(after, |e| e.id);
    }
    let feed = Feed {
        membership: Membership {
            room,
            me,
            name,
            stop,
            _seat: seat,
        },
        events,
        backlog,
        last,
    };
    futures_util::stream::unfold(feed, |mut feed| async move {
        if let Some(event) = feed.backlog.pop_front() {
            return Some((Ok(event), feed));
        }
        let stop = feed.membership.stop.clone();
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => return None,
                received = feed.events.recv() => received,
            };
            let event = match received {
                Ok(event) if event.id <= feed.last => continue,
                Ok(event) if event.others_only && event.from == feed.membership.me => continue,
                Ok(event) => {
                    feed.last = event.id;
                    numbered(&event)
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    notice(format!("{missed} messages were skipped: you fell behind"))
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            return Some((Ok(event), feed));
        }
    })
}
