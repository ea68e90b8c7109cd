//! A stream that keeps a copy of every byte it moves, each direction apart, so an
//! exchange can be read back afterwards exactly as it went over the connection.

use std::sync::{Arc, Mutex, PoisonError};

use crate::engine::traffic::{Observer, Tap};

/// Everything sent and received so far.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    /// Client to server.
    pub sent: Vec<u8>,
    /// Server to client.
    pub received: Vec<u8>,
}

/// A shared handle on a [`Recording`].
pub(crate) type Tape = Arc<Mutex<Recording>>;

/// `(sent, received)` lengths now: where a phase ends.
pub(crate) fn mark(tape: &Tape) -> (usize, usize) {
    let recording = tape.lock().unwrap_or_else(PoisonError::into_inner);
    (recording.sent.len(), recording.received.len())
}

/// A copy of what was recorded.
pub(crate) fn bytes(tape: &Tape) -> (Vec<u8>, Vec<u8>) {
    let recording = tape.lock().unwrap_or_else(PoisonError::into_inner);
    (recording.sent.clone(), recording.received.clone())
}

impl Observer for Tape {
    fn read(&self, bytes: &[u8]) {
        let mut recording = self.lock().unwrap_or_else(PoisonError::into_inner);
        recording.received.extend_from_slice(bytes);
    }

    fn wrote(&self, bytes: &[u8]) {
        let mut recording = self.lock().unwrap_or_else(PoisonError::into_inner);
        recording.sent.extend_from_slice(bytes);
    }
}

/// A stream that records every byte it moves onto a [`Tape`].
pub(crate) type Recorded<S> = Tap<S, Tape>;

#[cfg(test)]
mod tests {
    use std::io::IoSlice;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn the_tape_holds_every_byte_each_way_in_order() {
        let (near, mut far) = tokio::io::duplex(64);
        let tape = Tape::default();
        let mut recorded = Recorded::new(near, tape.clone());
        recorded.write_all(b"GET / ").await.unwrap();
        let n = recorded
            .write_vectored(&[IoSlice::new(b"HTTP"), IoSlice::new(b"/1.1\r\n")])
            .await
            .unwrap();
        let mut got = vec![0u8; 6 + n];
        far.read_exact(&mut got).await.unwrap();
        far.write_all(b"HTTP/1.1 200 OK\r\n").await.unwrap();
        drop(far);
        let mut back = Vec::new();
        recorded.read_to_end(&mut back).await.unwrap();
        let (sent, received) = bytes(&tape);
        assert_eq!(sent, got);
        assert_eq!(received, b"HTTP/1.1 200 OK\r\n");
        assert_eq!(mark(&tape), (6 + n, 17));
    }
}
