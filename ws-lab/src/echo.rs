//! `/ws/echo`: every text message is the socket lab's request and gets exactly the
//! socket lab's reply or error reply, in order, on a connection that stays open.

use axum::extract::ws::{Message, WebSocket};
use socket_lab::protocol;

use crate::session::{Session, Step, finish};

/// The error reply to a binary message.
pub const BINARY_REFUSED: &str = "binary messages are not accepted: send the request as text";

/// Serves one echo connection until the peer leaves, goes idle, sends a message over
/// `limit` (close 1009) or the server stops (close 1001, after the message in hand).
pub(crate) async fn serve(mut socket: WebSocket, session: Session, limit: usize) {
    let mut live = session.liveness();
    let (mut reply, mut scratch) = (Vec::new(), String::new());
    let step = loop {
        let step = live.next(&mut socket, &session.stop).await;
        reply.clear();
        match &step {
            Step::Message(Message::Text(text)) => {
                protocol::respond(text.as_bytes(), &mut reply, &mut scratch);
            }
            Step::Message(_) => protocol::encode_error(&mut reply, BINARY_REFUSED, None),
            _ => break step,
        }
        if reply.last() == Some(&b'\n') {
            reply.pop();
        }
        // The protocol writes UTF-8 JSON only.
        let text = String::from_utf8_lossy(&reply).into_owned();
        if socket.send(Message::Text(text.into())).await.is_err() {
            break Step::Gone;
        }
    };
    finish(socket, &step, session.idle, limit).await;
}
