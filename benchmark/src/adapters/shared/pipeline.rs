//! A socket lab connection several clients pipeline on (`--connections` below
//! `--concurrency`): every request carries the contract's `id`, a reader task hands each
//! reply to the client whose id it echoes, in whatever order replies come. A client
//! waits only for its own reply, not for the requests ahead of it on the wire.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use socket_lab::protocol::{Reply, Request, Status};
use tokio::io::ReadHalf;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{Mutex, oneshot};
use tokio::task::AbortHandle;

use crate::engine::probe::{CallError, ErrorKind};

/// Longest reply line read: the longest payload, with room for the reply's fields.
const MAX_REPLY_LINE: u64 = crate::settings::MAX_PAYLOAD as u64 + 64 * 1024;

type Waiting = RefCell<HashMap<u64, oneshot::Sender<Result<String, CallError>>>>;

/// What the reader task and the clients share.
#[derive(Debug, Default)]
struct Replies {
    /// One entry per client waiting, by the id it sent: never more than the link's
    /// clients, since each has one request out at a time.
    waiting: Waiting,
    /// Why the connection is unusable, once it is.
    broken: RefCell<Option<CallError>>,
}

impl Replies {
    /// Fails every waiting client with `error` and refuses new requests.
    fn break_with(&self, error: CallError) {
        for (_, waiter) in self.waiting.borrow_mut().drain() {
            let _ = waiter.send(Err(error.clone()));
        }
        self.broken.borrow_mut().get_or_insert(error);
    }
}

/// One pipelined connection; cloned into each client on it. Lives on one load thread.
#[derive(Debug, Clone)]
pub(crate) struct Pipeline(Rc<Inner>);

#[derive(Debug)]
struct Inner {
    writer: Mutex<Box<dyn AsyncWriteDebug>>,
    replies: Rc<Replies>,
    next_id: Cell<u64>,
    reader: AbortHandle,
}

/// A writer the pipeline can hold behind one type.
trait AsyncWriteDebug: AsyncWrite + Unpin + std::fmt::Debug {}
impl<T: AsyncWrite + Unpin + std::fmt::Debug> AsyncWriteDebug for T {}

impl Drop for Inner {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Takes a waiting entry back out when the client stops waiting (a timeout).
struct Pending<'a> {
    replies: &'a Replies,
    id: u64,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        self.replies.waiting.borrow_mut().remove(&self.id);
    }
}

impl Pipeline {
    /// Starts the reader on `stream`; must be called inside a `LocalSet`.
    pub(crate) fn new<S>(stream: S) -> Self
    where
        S: AsyncRead + AsyncWrite + std::fmt::Debug + Send + 'static,
    {
        let (reader, writer) = tokio::io::split(stream);
        let replies = Rc::new(Replies::default());
        let reader = tokio::task::spawn_local(read_replies(reader, Rc::clone(&replies)));
        Pipeline(Rc::new(Inner {
            writer: Mutex::new(Box::new(writer)),
            replies,
            next_id: Cell::new(0),
            reader: reader.abort_handle(),
        }))
    }

    /// Whether the connection has failed (closed, reset, a reply nobody asked for).
    pub(crate) fn is_broken(&self) -> bool {
        self.0.replies.broken.borrow().is_some()
    }

    /// Sends `text` to be upper-cased with the next id, and waits for the reply with that
    /// id; returns the upper-cased text.
    ///
    /// # Errors
    ///
    /// A transport error when the connection fails, a status error for an error reply,
    /// a wrong reply for one that is not the contract's.
    pub(crate) async fn uppercase(&self, text: &str) -> Result<String, CallError> {
        let inner = &self.0;
        if let Some(error) = inner.replies.broken.borrow().clone() {
            return Err(error);
        }
        let id = inner.next_id.get();
        inner.next_id.set(id + 1);
        let (sender, reply) = oneshot::channel();
        inner.replies.waiting.borrow_mut().insert(id, sender);
        let _pending = Pending {
            replies: &inner.replies,
            id,
        };
        let request = Request {
            message: text,
            id: Some(&serde_json::Value::from(id)),
        };
        let mut line = serde_json::to_vec(&request)
            .map_err(|e| CallError::new(ErrorKind::WrongReply, e.to_string()))?;
        line.push(b'\n');
        {
            let mut writer = inner.writer.lock().await;
            if let Err(e) = writer.write_all(&line).await {
                let error = CallError::new(ErrorKind::Transport, e.to_string());
                inner.replies.break_with(error.clone());
                return Err(error);
            }
        }
        reply.await.unwrap_or_else(|_| {
            Err(CallError::new(
                ErrorKind::Transport,
                "the connection's reader stopped",
            ))
        })
    }
}

/// Reads reply lines until the connection ends, handing each to its client by id.
async fn read_replies<S: AsyncRead>(reader: ReadHalf<S>, replies: Rc<Replies>) {
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    let error = loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_REPLY_LINE)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) => {
                break CallError::new(ErrorKind::Transport, "the server closed the connection");
            }
            Err(e) => break CallError::new(ErrorKind::Transport, e.to_string()),
            Ok(_) if !line.ends_with(b"\n") => {
                break CallError::new(ErrorKind::WrongReply, "a reply line too long or cut off");
            }
            Ok(_) => {}
        }
        let (id, outcome) = match parse(&line) {
            Ok(parsed) => parsed,
            Err(error) => break error,
        };
        // None: the client timed out and left.
        let waiter = replies.waiting.borrow_mut().remove(&id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(outcome);
        }
    };
    replies.break_with(error);
}

/// A reply line's id and what it says.
fn parse(line: &[u8]) -> Result<(u64, Result<String, CallError>), CallError> {
    let reply: Reply = serde_json::from_slice(line)
        .map_err(|e| CallError::new(ErrorKind::WrongReply, format!("bad reply: {e}")))?;
    let id = reply
        .id
        .as_ref()
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| CallError::new(ErrorKind::WrongReply, "a reply without our id"))?;
    let outcome = match (reply.status, reply.message) {
        (Status::Ok, Some(text)) => Ok(text),
        (Status::Ok, None) => Err(CallError::new(
            ErrorKind::WrongReply,
            "ok without a message",
        )),
        (Status::Error, _) => Err(CallError::new(
            ErrorKind::Status,
            reply.error.unwrap_or_default(),
        )),
    };
    Ok((id, outcome))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    /// A fake server that reads `count` requests, then answers them last first.
    async fn reversing_server(count: usize) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut requests = Vec::new();
            while requests.len() < count {
                let line = lines.next_line().await.unwrap().unwrap();
                let value: serde_json::Value = serde_json::from_str(&line).unwrap();
                requests.push(value);
            }
            for request in requests.iter().rev() {
                let text = request["message"].as_str().unwrap().to_uppercase();
                let reply =
                    serde_json::json!({"status": "ok", "message": text, "id": request["id"]});
                write
                    .write_all(format!("{reply}\n").as_bytes())
                    .await
                    .unwrap();
            }
            // Then a reply with an id nobody sent.
            let stray = r#"{"status":"ok","message":"X","id":"stray"}"#;
            let _ = write.write_all(format!("{stray}\n").as_bytes()).await;
            let _ = lines.next_line().await;
        });
        addr
    }

    #[tokio::test(flavor = "current_thread")]
    async fn replies_out_of_order_reach_the_client_that_asked() {
        let addr = reversing_server(3).await;
        tokio::task::LocalSet::new()
            .run_until(async move {
                let pipeline = Pipeline::new(TcpStream::connect(addr).await.unwrap());
                let (a, b, c) = tokio::join!(
                    pipeline.uppercase("first"),
                    pipeline.uppercase("second"),
                    pipeline.uppercase("third"),
                );
                assert_eq!(a.unwrap(), "FIRST");
                assert_eq!(b.unwrap(), "SECOND");
                assert_eq!(c.unwrap(), "THIRD");
                // The stray reply breaks the connection for whoever comes next.
                while !pipeline.is_broken() {
                    tokio::task::yield_now().await;
                }
                let error = pipeline.uppercase("fourth").await.unwrap_err();
                assert_eq!(error.kind, ErrorKind::WrongReply, "{error:?}");
            })
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn pipelined_clients_of_the_real_server_get_their_own_replies() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(socket_lab::run(
            listener,
            socket_lab::ServerConfig::default(),
            async {
                let _ = stopped.await;
            },
        ));
        tokio::task::LocalSet::new()
            .run_until(async move {
                let pipeline = Pipeline::new(TcpStream::connect(addr).await.unwrap());
                let mut clients = tokio::task::JoinSet::new();
                for i in 0..20 {
                    let pipeline = pipeline.clone();
                    clients.spawn_local(async move {
                        let text = format!("client {i}");
                        (pipeline.uppercase(&text).await, text.to_uppercase())
                    });
                }
                for (reply, expected) in clients.join_all().await {
                    assert_eq!(reply.unwrap(), expected);
                }
            })
            .await;
        let _ = stop.send(());
        server.await.unwrap().unwrap();
    }
}
