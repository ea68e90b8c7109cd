//! What every WebSocket session shares: keeping the connection alive (a ping every
//! interval, and a peer that sends nothing, not even the pong, for the idle timeout is
//! dropped), noticing the server's shutdown, and closing with a code.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, close_code};
use lab_kit::connection::RequestGuard;
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite;
use tokio_util::sync::CancellationToken;

/// What a session was handed at the upgrade.
#[derive(Debug)]
pub(crate) struct Session {
    /// Marks the connection busy for as long as the session runs (the HTTP idle
    /// timeout no longer applies; [`Session::next`] keeps its own).
    pub(crate) _busy: Option<RequestGuard>,
    /// Cancelled when the server begins to shut down.
    pub(crate) stop: CancellationToken,
    /// Longest the peer may send nothing (not even a pong).
    pub(crate) idle: Duration,
    /// Time between pings.
    pub(crate) ping_interval: Duration,
}

/// What the peer did next.
#[derive(Debug)]
pub(crate) enum Step {
    /// A text or binary message.
    Message(Message),
    /// It closed, or the connection broke.
    Gone,
    /// It sent a message over the limit.
    TooBig,
    /// It sent nothing for the idle timeout.
    Idle,
    /// The server is shutting down.
    Stop,
}

/// Pings and the idle clock of one session.
#[derive(Debug)]
pub(crate) struct Liveness {
    ping: Interval,
    deadline: Instant,
    idle: Duration,
}

impl Session {
    /// The liveness clock for this session, started now.
    pub(crate) fn liveness(&self) -> Liveness {
        let period = self
            .ping_interval
            .min(self.idle / 2)
            .max(Duration::from_millis(10));
        let mut ping = tokio::time::interval_at(Instant::now() + period, period);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Liveness {
            ping,
            deadline: Instant::now() + self.idle,
            idle: self.idle,
        }
    }
}

impl Liveness {
    /// Waits for the peer's next message, pinging it meanwhile. Control frames reset
    /// the idle clock and are otherwise handled by the WebSocket layer.
    pub(crate) async fn next(&mut self, socket: &mut WebSocket, stop: &CancellationToken) -> Step {
        loop {
            // The clocks come before more input: a peer that streams frames of a
            // message it never finishes must not keep the idle clock from firing.
            tokio::select! {
                biased;
                () = stop.cancelled() => return Step::Stop,
                () = tokio::time::sleep_until(self.deadline) => return Step::Idle,
                frame = socket.recv() => {
                    self.deadline = Instant::now() + self.idle;
                    match frame {
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | None => return Step::Gone,
                        Some(Ok(message)) => return Step::Message(message),
                        Some(Err(e)) => return if too_big(e) { Step::TooBig } else { Step::Gone },
                    }
                }
                _ = self.ping.tick() => {
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        return Step::Gone;
                    }
                }
            }
        }
    }
}

fn too_big(error: axum::Error) -> bool {
    matches!(
        error.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Ends a session with a Close frame carrying `code` and `reason` (best effort: a peer
/// that is gone gets nothing).
pub(crate) async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
    // Give the peer a moment to answer the close, so it sees the code and not a reset.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

/// Ends a session for `step` when it is not a message: the close code the contract
/// names for each reason.
pub(crate) async fn finish(socket: WebSocket, step: &Step, idle: Duration, limit: usize) {
    match step {
        Step::TooBig => {
            close(
                socket,
                close_code::SIZE,
                &format!("message larger than {limit} bytes"),
            )
            .await;
        }
        Step::Idle => {
            close(
                socket,
                close_code::NORMAL,
                &format!("nothing received for {idle:.0?}"),
            )
            .await;
        }
        Step::Stop => close(socket, close_code::AWAY, "server shutting down").await,
        Step::Gone | Step::Message(_) => {}
    }
}
