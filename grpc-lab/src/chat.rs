//! The chat room behind `ChatStream`: one room shared by every open stream.
//!
//! Each incoming message is stamped with the server's time and broadcast to every member,
//! its sender included. The room is a `tokio::sync::broadcast` channel: sending never
//! waits for readers, so a slow reader cannot block the room. A member that falls more
//! than the room's capacity behind skips ahead and is told, by a message from sender
//! `server`, how many messages it missed.

use chrono::{SecondsFormat, Utc};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::pb::ChatMessage;

/// Default number of messages the room keeps for members that are behind.
pub const DEFAULT_ROOM_CAPACITY: usize = 256;

/// Sender name of the room's own notices.
pub const SERVER_SENDER: &str = "server";

/// Messages queued for one member's HTTP/2 stream; beyond this it is behind and the
/// room's buffer takes over (and lag is reported).
const MEMBER_QUEUE: usize = 16;

/// The shared chat room. Cheap to clone: clones are the same room.
#[derive(Debug, Clone)]
pub struct ChatRoom {
    messages: broadcast::Sender<ChatMessage>,
    closing: CancellationToken,
}

impl Default for ChatRoom {
    fn default() -> Self {
        ChatRoom::new(DEFAULT_ROOM_CAPACITY)
    }
}

impl ChatRoom {
    /// A room that keeps up to `capacity` messages for members that are behind.
    pub fn new(capacity: usize) -> Self {
        let (messages, _) = broadcast::channel(capacity.max(1));
        ChatRoom {
            messages,
            closing: CancellationToken::new(),
        }
    }

    /// How many streams are in the room now.
    pub fn members(&self) -> usize {
        self.messages.receiver_count()
    }

    /// Ends every member's stream (used when the server shuts down).
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// Adds a member whose messages arrive on `inbound`; returns the stream of every
    /// room message for it. The member leaves when `inbound` ends or fails, or when the
    /// returned stream is dropped (the client hung up).
    pub fn join<S>(&self, inbound: S) -> ReceiverStream<Result<ChatMessage, Status>>
    where
        S: Stream<Item = Result<ChatMessage, Status>> + Send + Unpin + 'static,
    {
        // Subscribe before reading anything, so the member sees its own first message.
        let subscription = self.messages.subscribe();
        let (outbound, stream) = mpsc::channel(MEMBER_QUEUE);
        let left = self.closing.child_token();
        tokio::spawn(receive(inbound, self.messages.clone(), left.clone()));
        tokio::spawn(deliver(subscription, outbound, left));
        ReceiverStream::new(stream)
    }
}

/// Stamps and broadcasts what one member sends, until it stops sending.
async fn receive<S>(mut inbound: S, room: broadcast::Sender<ChatMessage>, left: CancellationToken)
where
    S: Stream<Item = Result<ChatMessage, Status>> + Unpin,
{
    loop {
        let next = tokio::select! {
            () = left.cancelled() => break,
            next = inbound.next() => next,
        };
        match next {
            Some(Ok(mut message)) => {
                message.timestamp = now();
                // Fails only when nobody is subscribed, and this member always is.
                let _ = room.send(message);
            }
            Some(Err(status)) => {
                tracing::debug!(%status, "chat member's stream failed");
                break;
            }
            None => break,
        }
    }
    left.cancel();
}

/// Forwards room messages to one member, reporting what it missed when it falls behind.
async fn deliver(
    mut subscription: broadcast::Receiver<ChatMessage>,
    outbound: mpsc::Sender<Result<ChatMessage, Status>>,
    left: CancellationToken,
) {
    loop {
        let message = tokio::select! {
            () = left.cancelled() => break,
            () = outbound.closed() => break,
            received = subscription.recv() => match received {
                Ok(message) => message,
                Err(broadcast::error::RecvError::Lagged(missed)) => ChatMessage {
                    sender: SERVER_SENDER.into(),
                    content: format!("you fell behind and missed {missed} messages"),
                    timestamp: now(),
                },
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        let sent = tokio::select! {
            () = left.cancelled() => break,
            sent = outbound.send(Ok(message)) => sent,
        };
        if sent.is_err() {
            break;
        }
    }
    left.cancel();
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_stream::wrappers::ReceiverStream;

    use super::*;

    fn message(sender: &str, content: &str) -> ChatMessage {
        ChatMessage {
            sender: sender.into(),
            content: content.into(),
            timestamp: "client-set".into(),
        }
    }

    async fn next(stream: &mut ReceiverStream<Result<ChatMessage, Status>>) -> ChatMessage {
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("not an error")
    }

    #[tokio::test]
    async fn members_see_each_other_and_themselves_with_server_time() {
        let room = ChatRoom::new(16);
        let (ann_tx, ann_rx) = mpsc::channel(4);
        let (bob_tx, bob_rx) = mpsc::channel(4);
        let mut ann = room.join(ReceiverStream::new(ann_rx));
        let mut bob = room.join(ReceiverStream::new(bob_rx));

        ann_tx.send(Ok(message("ann", "hi"))).await.unwrap();
        for stream in [&mut ann, &mut bob] {
            let got = next(stream).await;
            assert_eq!((got.sender.as_str(), got.content.as_str()), ("ann", "hi"));
            assert!(chrono::DateTime::parse_from_rfc3339(&got.timestamp).is_ok());
        }
        bob_tx.send(Ok(message("bob", "hello"))).await.unwrap();
        assert_eq!(next(&mut ann).await.content, "hello");
        assert_eq!(next(&mut bob).await.content, "hello");
    }

    #[tokio::test]
    async fn a_member_leaves_when_its_inbound_ends() {
        let room = ChatRoom::new(16);
        let (tx, rx) = mpsc::channel(4);
        let mut stream = room.join(ReceiverStream::new(rx));
        assert_eq!(room.members(), 1);
        drop(tx);
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(end, Ok(None)), "stream ends");
        assert_eq!(room.members(), 0);
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_is_told_what_it_missed() {
        let room = ChatRoom::new(4);
        let (tx, rx) = mpsc::channel(256);
        let mut slow = room.join(ReceiverStream::new(rx));
        let total = 100;
        for i in 0..total {
            tx.send(Ok(message("fast", &i.to_string()))).await.unwrap();
            tokio::task::yield_now().await;
        }
        let mut seen = 0;
        let mut missed = 0;
        let mut last = -1i64;
        while last < total - 1 {
            let got = next(&mut slow).await;
            if got.sender == SERVER_SENDER {
                let n: usize = got
                    .content
                    .split_whitespace()
                    .nth(5)
                    .unwrap()
                    .parse()
                    .unwrap();
                missed += n;
            } else {
                let i: i64 = got.content.parse().unwrap();
                assert!(i > last, "in order");
                last = i;
                seen += 1;
            }
        }
        assert!(missed > 0, "the slow member was told it fell behind");
        assert_eq!(
            seen + missed,
            total as usize,
            "every message seen or reported"
        );
    }

    #[tokio::test]
    async fn closing_the_room_ends_every_stream() {
        let room = ChatRoom::new(4);
        let (_tx, rx) = mpsc::channel(4);
        let mut stream = room.join(ReceiverStream::new(rx));
        room.close();
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(end, Ok(None)));
    }
}
