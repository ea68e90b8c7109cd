//! What several rows share: how a probe connects (TCP, then TLS under `--tls`), the echo request and its check (floor, socket,
//! WebSocket), newline-framed streams, the connection clients share (`--connections`),
//! the socket lab's pipeline, the raw client's HTTP/2, and the user operations of the
//! REST and gRPC rows.

pub(crate) mod dial;
pub(crate) mod echo;
pub(crate) mod lines;
pub(crate) mod link;
pub(crate) mod pipeline;
pub(crate) mod raw_h2;
pub(crate) mod users;
