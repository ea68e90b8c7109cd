//! `benchmark push`'s mechanisms: the ways a server can tell its subscribers.

/// A way to push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mechanism {
    /// The WebSocket lab's `/ws/chat`.
    Ws,
    /// The WebSocket lab's `/sse/chat` (Server-Sent Events).
    Sse,
    /// The WebSocket lab's `/poll/chat` (long polling).
    Poll,
    /// The WebSocket lab's `/hooks` (webhooks to a callback served here).
    Hook,
    /// The gRPC lab's `ChatStream`.
    Grpc,
}

impl Mechanism {
    /// Every mechanism, in the report's order.
    pub const ALL: [Mechanism; 5] = [
        Mechanism::Ws,
        Mechanism::Sse,
        Mechanism::Poll,
        Mechanism::Hook,
        Mechanism::Grpc,
    ];

    /// Its key in reports.
    pub fn key(self) -> &'static str {
        match self {
            Mechanism::Ws => "ws",
            Mechanism::Sse => "sse",
            Mechanism::Poll => "poll",
            Mechanism::Hook => "hook",
            Mechanism::Grpc => "grpc",
        }
    }

    /// Its name for people.
    pub fn label(self) -> &'static str {
        match self {
            Mechanism::Ws => "WebSocket",
            Mechanism::Sse => "Server-Sent Events",
            Mechanism::Poll => "Long polling",
            Mechanism::Hook => "Webhooks",
            Mechanism::Grpc => "gRPC ChatStream",
        }
    }

    /// Whether each subscriber holds a connection open to the server.
    pub fn holds_a_connection(self) -> bool {
        self != Mechanism::Hook
    }
}
