//! `grpc-client chat` refused by the server: the refusal in the server's own words.

use std::process::{Command, Stdio};
use std::time::Duration;

use grpc_lab::client::GrpcClient;

#[tokio::test]
async fn a_full_room_is_said_in_the_servers_words() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = grpc_lab::Config::new(user_store::UserStore::new());
    config.chat.max_members = 1;
    tokio::spawn(grpc_lab::run(
        listener,
        config,
        std::future::pending::<()>(),
    ));
    // One member fills the room.
    let mut first = GrpcClient::connect(&url, Duration::from_secs(5))
        .await
        .unwrap();
    let _seat = first.chat_as("ann", tokio_stream::pending()).await.unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_grpc-client"))
            .args(["--url", &url, "chat", "--name", "bob"])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "cannot join the chat room: the chat room is full (1 members); try again later \
             (ResourceExhausted)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("status:"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}
