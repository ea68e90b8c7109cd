//! Line framing over one TCP stream (cleartext or TLS): the only code in the server that
//! touches bytes.
//!
//! Reading keeps three cases apart: a line is *incomplete* (read more), a line is
//! complete (hand it out, whatever its content), or the bytes waiting for a newline are
//! *over the limit* ([`FrameError::TooLong`]). The buffer never grows past the limit, so a
//! client cannot make the server hold more than that while it withholds the newline.
//!
//! Replies are buffered and written when the server is about to wait for more input: a
//! client that pipelines a batch of lines gets the whole batch of replies in one write.

use std::io;
use std::time::Duration;

use lab_kit::tls::{MaybeTls, ServerStream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// How much to ask the kernel for in one read.
const READ_CHUNK: usize = 16 * 1024;
/// Buffered replies past this size are written out without waiting for the batch to end.
const WRITE_HIGH_WATER: usize = 64 * 1024;

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    /// The line grew past the limit before its newline arrived.
    #[error("line longer than {limit} bytes")]
    TooLong {
        /// The limit in force, in bytes.
        limit: usize,
    },
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A TCP stream read as newline-terminated lines, with buffered writes.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: ServerStream<TcpStream>,
    /// Bytes read and not yet handed out start at `start`; `scanned` of them are known
    /// to hold no newline, so a slowly arriving line is searched only once.
    input: Vec<u8>,
    start: usize,
    scanned: usize,
    /// Replies not yet written to the socket.
    output: Vec<u8>,
    max_line_bytes: usize,
    eof: bool,
}

impl Connection {
    /// Wraps `stream`, refusing lines longer than `max_line_bytes` (newline excluded).
    pub(crate) fn new(stream: ServerStream<TcpStream>, max_line_bytes: usize) -> Self {
        Connection {
            stream,
            input: Vec::with_capacity(READ_CHUNK.min(max_line_bytes + 1)),
            start: 0,
            scanned: 0,
            output: Vec::with_capacity(4 * 1024),
            max_line_bytes,
            eof: false,
        }
    }

    /// Returns the next line without its `\n`, or `None` at a clean end of stream.
    ///
    /// Bytes after the last newline at end of stream count as a final line, so
    /// `printf '{"message":"hi"}' | nc` is answered too. Buffered replies are flushed
    /// before waiting on the socket.
    ///
    /// Cancel safe: dropping the future loses no input and no output.
    ///
    /// # Errors
    ///
    /// [`FrameError::TooLong`] when the line passes the limit; the connection should be
    /// closed after an error reply, since the rest of that line cannot be trusted.
    /// [`FrameError::Io`] when the socket fails.
    pub(crate) async fn read_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let (start, end) = loop {
            let unscanned = self.start + self.scanned;
            if let Some(i) = memchr::memchr(b'\n', &self.input[unscanned..]) {
                let end = unscanned + i;
                let start = self.start;
                self.start = end + 1;
                self.scanned = 0;
                break (start, end);
            }
            self.scanned = self.input.len() - self.start;
            if self.scanned > self.max_line_bytes {
                return Err(FrameError::TooLong {
                    limit: self.max_line_bytes,
                });
            }
            if self.eof {
                if self.scanned == 0 {
                    return Ok(None);
                }
                let (start, end) = (self.start, self.input.len());
                self.start = end;
                self.scanned = 0;
                break (start, end);
            }
            // About to wait for the client: this is the end of a pipelined batch.
            self.flush().await?;
            self.fill().await?;
        };
        Ok(Some(&self.input[start..end]))
    }

    /// True when bytes have been read that no [`read_frame`](Self::read_frame) has
    /// returned yet: a complete line, or the start of one.
    pub(crate) fn has_buffered_input(&self) -> bool {
        self.start < self.input.len()
    }

    /// Reads whatever the socket already holds, without waiting. Returns the number of
    /// bytes read (0 when nothing was waiting).
    ///
    /// # Errors
    ///
    /// When the socket fails.
    pub(crate) fn try_fill(&mut self) -> io::Result<usize> {
        let room = self.make_room();
        if room == 0 || self.eof {
            return Ok(0);
        }
        let old_len = self.input.len();
        self.input.resize(old_len + room, 0);
        let result = match &mut self.stream {
            MaybeTls::Plain(tcp) => tcp.try_read(&mut self.input[old_len..]),
            // TLS has no non-blocking read of its own: poll once, and take Pending as
            // nothing waiting (the next await registers the task's own waker again).
            tls => {
                let mut buf = ReadBuf::new(&mut self.input[old_len..]);
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                match std::pin::Pin::new(tls).poll_read(&mut cx, &mut buf) {
                    std::task::Poll::Ready(Ok(())) => Ok(buf.filled().len()),
                    std::task::Poll::Ready(Err(e)) => Err(e),
                    std::task::Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
                }
            }
        };
        let read = match result {
            Ok(0) => {
                self.eof = true;
                0
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) => {
                self.input.truncate(old_len);
                return Err(e);
            }
        };
        self.input.truncate(old_len + read);
        Ok(read)
    }

    /// Queues one reply line (newline included) for writing.
    ///
    /// # Errors
    ///
    /// When a large backlog of replies is written out and the socket fails.
    pub(crate) async fn write_frame(&mut self, line: &[u8]) -> io::Result<()> {
        self.output.extend_from_slice(line);
        if self.output.len() >= WRITE_HIGH_WATER {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes every queued reply to the socket.
    ///
    /// Cancel safe: bytes are dropped from the queue only once the socket took them.
    ///
    /// # Errors
    ///
    /// When the socket fails.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        while !self.output.is_empty() {
            let n = self.stream.write(&self.output).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.output.drain(..n);
        }
        Ok(())
    }

    /// Flushes the queued replies and closes the connection politely, giving up after
    /// `grace`.
    ///
    /// Closing a socket that still has unread input makes the kernel send a reset, which
    /// can destroy a reply the client has not read yet (the error for an over-long line,
    /// say). So this sends FIN first and then reads and discards what the client still
    /// sends, until it closes its side or `grace` runs out.
    pub(crate) async fn close(mut self, grace: Duration) {
        let polite = async {
            self.flush().await?;
            self.stream.shutdown().await?;
            let mut sink = [0u8; 4096];
            while self.stream.read(&mut sink).await? > 0 {}
            io::Result::Ok(())
        };
        let _ = tokio::time::timeout(grace, polite).await;
    }

    /// Reads more input into the buffer, at most up to one byte past the line limit.
    async fn fill(&mut self) -> io::Result<()> {
        let room = self.make_room();
        let want = room.min(READ_CHUNK);
        self.input.reserve(want);
        let n = (&mut self.stream)
            .take(want as u64)
            .read_buf(&mut self.input)
            .await?;
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Moves the unconsumed input to the front and returns how many more bytes may be
    /// buffered: enough for a line of exactly the limit plus its newline, no more.
    fn make_room(&mut self) -> usize {
        if self.start > 0 {
            self.input.drain(..self.start);
            self.start = 0;
        }
        (self.max_line_bytes + 1).saturating_sub(self.input.len())
    }
}
