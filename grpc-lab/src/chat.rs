//! The chat room behind `ChatStream`: one room shared by every open stream.
//!
//! Each incoming message is stamped with the server's time and broadcast to every member,
//! its sender included. The room is a `tokio::sync::broadcast` channel: sending never
//! waits for readers, so a slow reader cannot block the room. A member that falls more
//! than the room's capacity behind skips ahead and is told, by a message from sender
//! `server`, how many messages it missed.
//!
//! The room announces, from sender `server`, when a member joins and leaves: a member
//! is named by the `chat-name` metadata of its call, or else by the sender of its first
//! message (a client that sends no metadata is announced when it first speaks).
//!
//! Everything is bounded ([`ChatLimits`]): the members, the size of a message, the
//! messages the room keeps, and the bytes queued for each member. A member that never
//! reads holds its queue's bound and no more.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chrono::{SecondsFormat, Utc};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::config::ChatLimits;
use crate::pb::ChatMessage;

/// The call metadata a member names itself with (optional).
pub const CHAT_NAME_METADATA: &str = "chat-name";

/// Sender name of the room's own notices.
pub const SERVER_SENDER: &str = "server";

/// Messages queued for one member's HTTP/2 stream (within its byte bound); beyond
/// this it is behind and the room's buffer takes over (and lag is reported).
const MEMBER_QUEUE: usize = 16;

/// The shared chat room. Cheap to clone: clones are the same room.
#[derive(Debug, Clone)]
pub struct ChatRoom {
    messages: broadcast::Sender<ChatMessage>,
    closing: CancellationToken,
    seats: Arc<Semaphore>,
    limits: ChatLimits,
}

impl Default for ChatRoom {
    fn default() -> Self {
        ChatRoom::with_limits(ChatLimits::default())
    }
}

impl ChatRoom {
    /// A room that keeps up to `capacity` messages for members that are behind, with
    /// the other limits at their defaults.
    pub fn new(capacity: usize) -> Self {
        ChatRoom::with_limits(ChatLimits {
            capacity,
            ..ChatLimits::default()
        })
    }

    /// A room with these limits (each at least 1).
    pub fn with_limits(limits: ChatLimits) -> Self {
        let limits = ChatLimits {
            capacity: limits.capacity.max(1),
            max_members: limits.max_members.clamp(1, Semaphore::MAX_PERMITS),
            max_message_bytes: limits.max_message_bytes.max(1),
            member_queue_bytes: limits
                .member_queue_bytes
                .max(limits.max_message_bytes)
                .clamp(1, u32::MAX as usize),
        };
        let (messages, _) = broadcast::channel(limits.capacity);
        ChatRoom {
            messages,
            closing: CancellationToken::new(),
            seats: Arc::new(Semaphore::new(limits.max_members)),
            limits,
        }
    }

    /// The room's limits.
    pub fn limits(&self) -> ChatLimits {
        self.limits
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
    ///
    /// # Errors
    ///
    /// RESOURCE_EXHAUSTED when the room is full.
    pub fn join<S>(&self, inbound: S) -> Result<MemberStream, Status>
    where
        S: Stream<Item = Result<ChatMessage, Status>> + Send + Unpin + 'static,
    {
        self.join_as(None, inbound)
    }

    /// Like [`join`](Self::join), for a member that gave its `name` up front: the room
    /// announces it at once (otherwise when it first speaks).
    ///
    /// # Errors
    ///
    /// RESOURCE_EXHAUSTED when the room is full.
    pub fn join_as<S>(&self, name: Option<String>, inbound: S) -> Result<MemberStream, Status>
    where
        S: Stream<Item = Result<ChatMessage, Status>> + Send + Unpin + 'static,
    {
        let seat = self.seats.clone().try_acquire_owned().map_err(|_| {
            Status::resource_exhausted(format!(
                "the chat room is full ({} members); try again later",
                self.limits.max_members
            ))
        })?;
        // Subscribe before reading anything, so the member sees its own first message.
        let subscription = self.messages.subscribe();
        let (outbound, stream) = mpsc::channel(MEMBER_QUEUE);
        let left = self.closing.child_token();
        let name = name.filter(|name| !name.trim().is_empty());
        if let Some(name) = &name {
            let _ = self
                .messages
                .send(notice(format!("{name} joined the chat")));
        }
        tokio::spawn(receive(
            name,
            inbound,
            self.messages.clone(),
            outbound.clone(),
            left.clone(),
            self.limits.max_message_bytes,
        ));
        let queue = Arc::new(Semaphore::new(self.limits.member_queue_bytes));
        tokio::spawn(deliver(subscription, outbound, queue, left, seat));
        Ok(MemberStream {
            queued: ReceiverStream::new(stream),
        })
    }
}

/// A message queued for a member, with the share of its byte bound it holds.
type Queued = (Result<ChatMessage, Status>, Option<OwnedSemaphorePermit>);

/// One member's stream of room messages. Each message gives back its share of the
/// member's byte bound as it is taken.
#[derive(Debug)]
pub struct MemberStream {
    queued: ReceiverStream<Queued>,
}

impl Stream for MemberStream {
    type Item = Result<ChatMessage, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.queued)
            .poll_next(cx)
            .map(|queued| queued.map(|(message, _share)| message))
    }
}

/// The bytes a queued message holds: what its sender chose, plus the time stamp.
fn size(message: &ChatMessage) -> usize {
    message.sender.len() + message.content.len() + message.timestamp.len()
}

/// Stamps and broadcasts what one member sends, until it stops sending; announces the
/// member when it first speaks (if it was not named up front) and when it leaves.
async fn receive<S>(
    mut name: Option<String>,
    mut inbound: S,
    room: broadcast::Sender<ChatMessage>,
    outbound: mpsc::Sender<Queued>,
    left: CancellationToken,
    max_message_bytes: usize,
) where
    S: Stream<Item = Result<ChatMessage, Status>> + Unpin,
{
    loop {
        let next = tokio::select! {
            () = left.cancelled() => break,
            next = inbound.next() => next,
        };
        match next {
            Some(Ok(mut message)) => {
                let bytes = message.sender.len() + message.content.len();
                if bytes > max_message_bytes {
                    // Only the sender hears of it; if its queue is full, it is busy
                    // enough not to miss this notice.
                    let notice = notice(format!(
                        "your message of {bytes} bytes was not sent: the limit is {max_message_bytes}"
                    ));
                    let _ = outbound.try_send((Ok(notice), None));
                    continue;
                }
                if name.is_none() && !message.sender.trim().is_empty() {
                    name = Some(message.sender.clone());
                    let _ = room.send(notice(format!("{} joined the chat", message.sender)));
                }
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
    // A member leaving on its own is announced; a room closing for shutdown is not.
    if !left.is_cancelled()
        && let Some(name) = name
    {
        let _ = room.send(notice(format!("{name} left the chat")));
    }
    left.cancel();
}

/// Forwards room messages to one member, reporting what it missed when it falls behind.
/// Holds the member's seat until it leaves.
async fn deliver(
    mut subscription: broadcast::Receiver<ChatMessage>,
    outbound: mpsc::Sender<Queued>,
    queue: Arc<Semaphore>,
    left: CancellationToken,
    _seat: OwnedSemaphorePermit,
) {
    loop {
        let message = tokio::select! {
            () = left.cancelled() => break,
            () = outbound.closed() => break,
            received = subscription.recv() => match received {
                Ok(message) => message,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    notice(format!("you fell behind and missed {missed} messages"))
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        // Wait for room in the member's byte bound; meanwhile the room moves on, and a
        // member that stays behind skips ahead with a notice.
        let share = u32::try_from(size(&message)).unwrap_or(u32::MAX).max(1);
        let share = tokio::select! {
            () = left.cancelled() => break,
            share = queue.clone().acquire_many_owned(share) => share.ok(),
        };
        let sent = tokio::select! {
            () = left.cancelled() => break,
            sent = outbound.send((Ok(message), share)) => sent,
        };
        if sent.is_err() {
            break;
        }
    }
    left.cancel();
}

/// A message from the room itself.
fn notice(content: String) -> ChatMessage {
    ChatMessage {
        sender: SERVER_SENDER.into(),
        content,
        timestamp: now(),
    }
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

    async fn next_any(stream: &mut MemberStream) -> ChatMessage {
        tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("not an error")
    }

    fn is_presence(message: &ChatMessage) -> bool {
        message.sender == SERVER_SENDER
            && (message.content.ends_with(" joined the chat")
                || message.content.ends_with(" left the chat"))
    }

    /// The next message that is not a join or leave notice.
    async fn next(stream: &mut MemberStream) -> ChatMessage {
        loop {
            let message = next_any(stream).await;
            if !is_presence(&message) {
                return message;
            }
        }
    }

    #[tokio::test]
    async fn joining_and_leaving_are_announced_but_not_a_shutdown() {
        let room = ChatRoom::new(16);
        let (_watcher_tx, watcher_rx) = mpsc::channel(4);
        let mut watcher = room.join(ReceiverStream::new(watcher_rx)).unwrap();
        // Named up front: announced at once.
        let (ann_tx, ann_rx) = mpsc::channel(4);
        let _ann = room
            .join_as(Some("ann".into()), ReceiverStream::new(ann_rx))
            .unwrap();
        assert_eq!(next_any(&mut watcher).await.content, "ann joined the chat");
        // Unnamed: announced when it first speaks, before its message.
        let (bob_tx, bob_rx) = mpsc::channel(4);
        let _bob = room.join(ReceiverStream::new(bob_rx)).unwrap();
        bob_tx.send(Ok(message("bob", "hi"))).await.unwrap();
        assert_eq!(next_any(&mut watcher).await.content, "bob joined the chat");
        assert_eq!(next_any(&mut watcher).await.content, "hi");
        drop(ann_tx);
        let left = next_any(&mut watcher).await;
        assert_eq!(
            (left.sender.as_str(), left.content.as_str()),
            (SERVER_SENDER, "ann left the chat")
        );
        // A shutdown ends every stream without a stream of leave notices.
        room.close();
        let rest: Vec<_> =
            tokio::time::timeout(Duration::from_secs(5), watcher.collect::<Vec<_>>())
                .await
                .unwrap();
        assert!(
            rest.iter()
                .flatten()
                .all(|m| !m.content.ends_with("left the chat")),
            "{rest:?}"
        );
        drop(bob_tx);
    }

    #[tokio::test]
    async fn members_see_each_other_and_themselves_with_server_time() {
        let room = ChatRoom::new(16);
        let (ann_tx, ann_rx) = mpsc::channel(4);
        let (bob_tx, bob_rx) = mpsc::channel(4);
        let mut ann = room.join(ReceiverStream::new(ann_rx)).unwrap();
        let mut bob = room.join(ReceiverStream::new(bob_rx)).unwrap();

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
        let mut stream = room.join(ReceiverStream::new(rx)).unwrap();
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
        let mut slow = room.join(ReceiverStream::new(rx)).unwrap();
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
    async fn a_full_room_refuses_one_more_member_and_frees_the_seat_when_one_leaves() {
        let room = ChatRoom::with_limits(ChatLimits {
            max_members: 2,
            ..ChatLimits::default()
        });
        let (first_tx, first_rx) = mpsc::channel(4);
        let mut first = room.join(ReceiverStream::new(first_rx)).unwrap();
        let (_second_tx, second_rx) = mpsc::channel(4);
        let _second = room.join(ReceiverStream::new(second_rx)).unwrap();
        let (_tx, rx) = mpsc::channel(4);
        let refused = room.join(ReceiverStream::new(rx)).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        drop(first_tx);
        while first.next().await.is_some() {}
        // The seat frees when the first member's tasks have finished.
        let mut joined = None;
        for _ in 0..100 {
            let (_tx, rx) = mpsc::channel::<Result<ChatMessage, Status>>(4);
            if let Ok(stream) = room.join(ReceiverStream::new(rx)) {
                joined = Some(stream);
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(joined.is_some(), "the seat was never given back");
    }

    #[tokio::test]
    async fn an_oversized_message_is_not_sent_and_only_its_sender_hears_why() {
        let room = ChatRoom::with_limits(ChatLimits {
            max_message_bytes: 100,
            ..ChatLimits::default()
        });
        let (ann_tx, ann_rx) = mpsc::channel(4);
        let mut ann = room.join(ReceiverStream::new(ann_rx)).unwrap();
        let (_bob_tx, bob_rx) = mpsc::channel(4);
        let mut bob = room.join(ReceiverStream::new(bob_rx)).unwrap();
        ann_tx
            .send(Ok(message("ann", &"x".repeat(200))))
            .await
            .unwrap();
        ann_tx.send(Ok(message("ann", "short"))).await.unwrap();
        let told = next(&mut ann).await;
        assert_eq!(told.sender, SERVER_SENDER);
        assert!(told.content.contains("was not sent"), "{}", told.content);
        assert_eq!(next(&mut ann).await.content, "short");
        assert_eq!(
            next(&mut bob).await.content,
            "short",
            "bob never saw the big one"
        );
    }

    #[tokio::test]
    async fn a_member_is_queued_at_most_its_byte_bound_then_skips_ahead() {
        // 1 KiB messages, three to a queue: with a count of 16 alone, the room's 64
        // and the 16 queued would hold all 75 messages and nobody would fall behind.
        let room = ChatRoom::with_limits(ChatLimits {
            capacity: 64,
            max_message_bytes: 2_000,
            member_queue_bytes: 3_300,
            ..ChatLimits::default()
        });
        let (tx, rx) = mpsc::channel(256);
        let mut slow = room.join(ReceiverStream::new(rx)).unwrap();
        let text = "y".repeat(1_000);
        for _ in 0..75 {
            tx.send(Ok(message("fast", &text))).await.unwrap();
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut told = false;
        for _ in 0..75 {
            let got = next(&mut slow).await;
            if got.sender == SERVER_SENDER {
                told = true;
                break;
            }
        }
        assert!(
            told,
            "the member was never told it fell behind its byte bound"
        );
    }

    #[tokio::test]
    async fn closing_the_room_ends_every_stream() {
        let room = ChatRoom::new(4);
        let (_tx, rx) = mpsc::channel(4);
        let mut stream = room.join(ReceiverStream::new(rx)).unwrap();
        room.close();
        let end = tokio::time::timeout(Duration::from_secs(5), stream.next()).await;
        assert!(matches!(end, Ok(None)));
    }
}
