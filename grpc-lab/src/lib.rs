//! The gRPC lab: `users.v1.UserService` over HTTP/2 with tonic and Protocol Buffers.
//!
//! Run the server with `cargo run -p grpc-lab --bin grpc-server` and its self-test client
//! with `cargo run -p grpc-lab --bin grpc-client`. The pieces:
//!
//! - [`pb`]: the code generated from `proto/user_service.proto` at build time.
//! - [`config`]: [`Config`], the store and every limit (a leaf).
//! - [`service`]: [`UserService`], the unary and streaming methods on the shared store.
//! - [`chat`]: [`ChatRoom`], the room every `ChatStream` call joins.
//! - [`greet`]: [`GreetService`](greet::GreetService), the classic hello, served beside it.
//! - [`peer`]: the peer-to-peer chat behind `grpc-peer` (`proto/chat.proto`).
//! - `status`: the one place store errors become gRPC status codes.
//! - [`server`]: [`run`], with health and reflection beside the service.
//! - [`client`]: [`GrpcClient`], shared by the self-test, the demo, the prompt and the benchmark.
//! - [`cli`]: the binaries, one module per app.

pub mod chat;
pub mod cli;
pub mod client;
pub mod config;
pub mod greet;
pub mod peer;
pub mod selftest;
pub mod server;
pub mod service;
mod status;

pub use chat::ChatRoom;
pub use client::GrpcClient;
pub use config::Config;
pub use lab_kit::http::HttpPolicy;
pub use server::run;
pub use service::UserService;

/// Code generated from `proto/user_service.proto` (package `users.v1`).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod pb {
    tonic::include_proto!("users.v1");

    /// The encoded descriptors of the main server's proto files (`user_service.proto`
    /// and `greet.proto`), served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/commlab_descriptor.bin"));
}

/// Code generated from `proto/greet.proto` (package `greet`).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod greet_pb {
    tonic::include_proto!("greet");
}

/// Code generated from `proto/chat.proto` (no package, as in the classic exercise).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod chat_pb {
    tonic::include_proto!("_");

    /// The encoded descriptor of `chat.proto`, served by each peer's reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/chat_descriptor.bin"));
}

/// The fully qualified service name, as health checks and reflection know it.
pub const SERVICE_NAME: &str = "users.v1.UserService";
/// The greeting service's fully qualified name.
pub const GREET_SERVICE_NAME: &str = "greet.GreetService";
