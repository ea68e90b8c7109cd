//! `/ws/chat?name=NAME`: the chat room. Every text message a member sends is pushed to
//! every member, the sender included; joining and leaving are announced to the others.
//!
//! The room is a `tokio::sync::broadcast` channel of ready-to-send texts: sending never
//! waits for readers, so a slow member cannot hold up the room. A member more than the
//! room's capacity behind skips ahead and gets a notice saying how many it missed, so
//! what the room holds is bounded (capacity x message limit), whoever stops reading.
//! Every event has a number, and the room keeps the last `capacity` of them (the same
//! events the channel holds, shared): what Server-Sent Events resume from
//! (`Last-Event-ID`) and long polling asks after (`?after=N`).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

use crate::event::{Event, now};
use crate::session::{Session, Step, finish};

/// The shared room. Cheap to clone: clones are the same room.
#[derive(Debug, Clone)]
pub struct Room {
    events: broadcast::Sender<Arc<Outgoing>>,
    recent: Arc<Mutex<Recent>>,
    seats: Arc<Semaphore>,
    next_member: Arc<AtomicU64>,
    max_members: usize,
}

/// An event on its way to the members.
#[derive(Debug)]
pub(crate) struct Outgoing {
    /// Its number in the room: 1, 2, 3... in the order it was published.
    pub(crate) id: u64,
    /// The member it came from (0: a publisher that is not a member).
    pub(crate) from: u64,
    /// Whether the member it came from is left out (join and leave notices).
    pub(crate) others_only: bool,
    /// Its wire text.
    pub(crate) text: Utf8Bytes,
}

/// The last events, oldest first, and the next event's number.
#[derive(Debug)]
struct Recent {
    next: u64,
    events: VecDeque<Arc<Outgoing>>,
    capacity: usize,
}

/// A seat in the room, taken before the upgrade.
#[derive(Debug)]
pub struct Seat {
    _permit: OwnedSemaphorePermit,
}

impl Room {
    /// A room for at most `max_members`, keeping `capacity` events for members behind.
    pub fn new(max_members: usize, capacity: usize) -> Room {
        let max_members = max_members.clamp(1, Semaphore::MAX_PERMITS);
        let capacity = capacity.max(1);
        Room {
            events: broadcast::channel(capacity).0,
            recent: Arc::new(Mutex::new(Recent {
                next: 1,
                events: VecDeque::with_capacity(capacity),
                capacity,
            })),
            seats: Arc::new(Semaphore::new(max_members)),
            next_member: Arc::new(AtomicU64::new(1)),
            max_members,
        }
    }

    /// A seat, or `None` when the room is full.
    pub fn seat(&self) -> Option<Seat> {
        self.seats
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Seat { _permit: permit })
    }

    /// The cap on members.
    pub fn max_members(&self) -> usize {
        self.max_members
    }

    /// How many members are in the room.
    pub fn members(&self) -> usize {
        self.max_members - self.seats.available_permits()
    }

    /// Publishes `event` from member `from` (0: not a member) and returns its number.
    pub(crate) fn publish(&self, from: u64, others_only: bool, event: &Event) -> u64 {
        let text = event.to_json().into();
        // Numbered, kept and sent under one lock, so the channel's order is the numbers'.
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let id = recent.next;
        recent.next += 1;
        let outgoing = Arc::new(Outgoing {
            id,
            from,
            others_only,
            text,
        });
        if recent.events.len() == recent.capacity {
            recent.events.pop_front();
        }
        recent.events.push_back(Arc::clone(&outgoing));
        // Fails only when nobody listens, which is fine.
        let _ = self.events.send(outgoing);
        id
    }

    /// A new member's number.
    pub(crate) fn new_member(&self) -> u64 {
        self.next_member.fetch_add(1, Ordering::Relaxed)
    }

    /// Every event published from now on.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Outgoing>> {
        self.events.subscribe()
    }

    /// The number of the last event published (0 before the first).
    pub fn latest(&self) -> u64 {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent.next - 1
    }

    /// The events after number `after` that the room still holds, oldest first, and
    /// how many after it it no longer holds.
    pub(crate) fn since(&self, after: u64) -> (Vec<Arc<Outgoing>>, u64) {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = recent.events.front().map_or(recent.next, |e| e.id);
        let lost = oldest.saturating_sub(after.saturating_add(1));
        let held = recent
            .events
            .iter()
            .filter(|e| e.id > after)
            .cloned()
            .collect();
        (held, lost)
    }
}

/// Runs one member's session: its messages go to the room, the room's events come back
/// to it, until it leaves, goes idle, sends a message over `limit` (close 1009) or the
/// server stops (close 1001).
pub(crate) async fn serve(
    mut socket: WebSocket,
    session: Session,
    room: Room,
    name: String,
    seat: Seat,
    limit: usize,
) {
    let _seat = seat;
    let me = room.new_member();
    // Subscribe before announcing, so nothing said after the join is missed.
    let mut events = room.subscribe();
    let timestamp = now();
    room.publish(
        me,
        true,
        &Event::Join {
            sender: name.clone(),
            timestamp,
        },
    );
    let mut live = session.liveness();
    let step = loop {
        let pushed = tokio::select! {
            step = live.next(&mut socket, &session.stop) => match step {
                Step::Message(Message::Text(text)) => {
                    room.publish(me, false, &Event::message(&name, &text));
                    continue;
                }
                Step::Message(_) => Event::Notice {
                    text: "binary messages are not sent: send text".into(),
                }
                .to_json()
                .into(),
                other => break other,
            },
            received = events.recv() => match received {
                Ok(event) if event.others_only && event.from == me => continue,
                Ok(event) => event.text.clone(),
                Err(broadcast::error::RecvError::Lagged(missed)) => Event::Notice {
                    text: format!("{missed} messages were skipped: you fell behind"),
                }
                .to_json()
                .into(),
                Err(broadcast::error::RecvError::Closed) => break Step::Gone,
            },
        };
        if socket.send(Message::Text(pushed)).await.is_err() {
            break Step::Gone;
        }
    };
    // Others hear of the leaving, unless the whole server is stopping.
    if !matches!(step, Step::Stop) {
        room.publish(
            me,
            true,
            &Event::Leave {
                sender: name,
                timestamp: now(),
            },
        );
    }
    finish(socket, &step, session.idle, limit).await;
}
