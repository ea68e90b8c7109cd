//! Every method and status code of users.v1.UserService, against an in-process server.

mod common;

use std::time::Duration;

use common::{start_server, start_with, start_with_room};
use grpc_lab::pb;
use grpc_lab::{Config, SERVICE_NAME};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use user_store::UserStore;

fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Code {
    let status = result.expect_err("the call should fail");
    assert!(
        !status.message().is_empty(),
        "a status says what went wrong"
    );
    status.code()
}

#[tokio::test]
async fn every_reply_names_the_server_build() {
    let server = start_server().await;
    let mut client = server.client().await;
    let reply = client.raw().get_all_users(pb::Empty {}).await.unwrap();
    let id = reply
        .metadata()
        .get("server")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("grpc-lab/"), "{id}");
    assert_eq!(lab_kit::build::is_debug_build(&id), cfg!(debug_assertions));
    server.shutdown().await;
}

#[tokio::test]
async fn get_all_users_lists_in_creation_order() {
    let server = start_with(Config::new(UserStore::new())).await;
    let mut client = server.client().await;
    for i in 0..3 {
        client
            .create_user(&format!("User {i}"), &format!("u{i}@example.com"))
            .await
            .unwrap();
    }
    let reply = client
        .raw()
        .get_all_users(pb::Empty {})
        .await
        .unwrap()
        .into_inner();
    assert!(reply.success);
    let names: Vec<_> = reply.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        ["John Doe", "Jane Smith", "User 0", "User 1", "User 2"]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn create_and_get_round_trip_every_field() {
    let server = start_server().await;
    let mut client = server.client().await;
    let request = pb::CreateUserRequest {
        name: "  Ada Lovelace ".into(),
        email: "ada@example.com".into(),
    };
    let reply = client
        .raw()
        .create_user(request)
        .await
        .unwrap()
        .into_inner();
    assert!(reply.success);
    assert!(!reply.message.is_empty());
    let created = reply.user.unwrap();
    assert_eq!(created.name, "Ada Lovelace");
    assert_eq!(
        uuid::Uuid::parse_str(&created.id)
            .unwrap()
            .get_version_num(),
        4
    );
    assert!(created.created_at.ends_with('Z'));
    assert!(chrono::DateTime::parse_from_rfc3339(&created.created_at).is_ok());

    let reply = client
        .raw()
        .get_user(pb::UserRequest {
            id: created.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.success);
    assert_eq!(reply.user.unwrap(), created);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_not_found() {
    let server = start_server().await;
    let mut client = server.client().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    for id in [unknown.as_str(), "not-a-uuid", ""] {
        assert_eq!(code(client.get_user(id).await), Code::NotFound, "{id:?}");
        assert_eq!(code(client.delete_user(id).await), Code::NotFound, "{id:?}");
        assert_eq!(
            code(client.update_user(id, Some("X"), None).await),
            Code::NotFound,
            "{id:?}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn invalid_fields_are_invalid_argument() {
    let server = start_server().await;
    let mut client = server.client().await;
    for (name, email) in [
        ("", "a@example.com"),
        ("   ", "a@example.com"),
        ("Ada", ""),
        ("Ada", "not-an-email"),
        ("Ada", "a@b@example.com"),
        (&"n".repeat(101) as &str, "a@example.com"),
    ] {
        assert_eq!(
            code(client.create_user(name, email).await),
            Code::InvalidArgument,
            "{name:?} {email:?}"
        );
    }
    assert!(client.get_all_users().await.unwrap().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn duplicate_email_is_already_exists() {
    let server = start_server().await;
    let mut client = server.client().await;
    client.create_user("Ada", "ada@example.com").await.unwrap();
    let status = client
        .create_user("Other", "ADA@example.com")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(
        status.message().contains("ADA@example.com"),
        "{}",
        status.message()
    );
    server.shutdown().await;
}

#[tokio::test]
async fn update_uses_field_presence() {
    let server = start_server().await;
    let mut client = server.client().await;
    let ada = client.create_user("Ada", "ada@example.com").await.unwrap();
    client.create_user("Bob", "bob@example.com").await.unwrap();

    let renamed = client
        .update_user(&ada.id, Some("Countess"), None)
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.email.as_str()),
        ("Countess", "ada@example.com")
    );
    let moved = client
        .update_user(&ada.id, None, Some("countess@example.com"))
        .await
        .unwrap();
    assert_eq!(
        (moved.name.as_str(), moved.email.as_str()),
        ("Countess", "countess@example.com")
    );
    assert_eq!(moved.created_at, ada.created_at);

    // Present but blank: refused, even though an absent field would be fine.
    assert_eq!(
        code(client.update_user(&ada.id, Some(""), None).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(client.update_user(&ada.id, None, Some(" ")).await),
        Code::InvalidArgument
    );
    // Nothing to update at all.
    assert_eq!(
        code(client.update_user(&ada.id, None, None).await),
        Code::InvalidArgument
    );
    // Someone else's email; one's own is fine.
    assert_eq!(
        code(
            client
                .update_user(&ada.id, None, Some("Bob@example.com"))
                .await
        ),
        Code::AlreadyExists
    );
    client
        .update_user(&ada.id, None, Some("COUNTESS@example.com"))
        .await
        .unwrap();

    let reply = client
        .raw()
        .update_user(pb::UpdateUserRequest {
            id: ada.id.clone(),
            name: Some("Ada".into()),
            email: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.success);
    assert!(!reply.message.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn delete_removes_the_user() {
    let server = start_server().await;
    let mut client = server.client().await;
    let ada = client.create_user("Ada", "ada@example.com").await.unwrap();
    let reply = client
        .raw()
        .delete_user(pb::UserRequest { id: ada.id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.success);
    assert_eq!(reply.message, format!("User {} deleted", ada.id));
    assert_eq!(code(client.get_user(&ada.id).await), Code::NotFound);
    server.shutdown().await;
}

#[tokio::test]
async fn list_users_streams_the_first_limit_users() {
    let server = start_server().await;
    let mut client = server.client().await;
    for i in 0..5 {
        client
            .create_user(&format!("User {i}"), &format!("u{i}@example.com"))
            .await
            .unwrap();
    }
    let all = client.get_all_users().await.unwrap();
    for (limit, expected) in [(0u32, 5usize), (1, 1), (3, 3), (5, 5), (50, 5)] {
        let streamed: Vec<pb::User> = client
            .list_users(limit)
            .await
            .unwrap()
            .map(|u| u.unwrap())
            .collect()
            .await;
        assert_eq!(streamed.len(), expected, "limit {limit}");
        assert_eq!(streamed[..], all[..expected], "limit {limit}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn dropping_a_list_stream_early_leaves_the_server_healthy() {
    let server = start_server().await;
    let mut client = server.client().await;
    let batch: Vec<_> = (0..2000)
        .map(|i| pb::CreateUserRequest {
            name: format!("User {i}"),
            email: format!("u{i}@example.com"),
        })
        .collect();
    assert_eq!(
        client.create_users(batch).await.unwrap().created_count,
        2000
    );
    for _ in 0..20 {
        let mut stream = client.list_users(0).await.unwrap();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.name, "User 0");
        drop(stream);
    }
    // The same connection still serves calls.
    assert_eq!(client.get_all_users().await.unwrap().len(), 2000);
    let streamed: Vec<_> = client.list_users(10).await.unwrap().collect().await;
    let count = streamed.len();
    assert_eq!(count, 10);
    server.shutdown().await;
}

#[tokio::test]
async fn create_users_reports_each_rejection_by_index() {
    let server = start_server().await;
    let mut client = server.client().await;
    client
        .create_user("Existing", "taken@example.com")
        .await
        .unwrap();
    let request = |name: &str, email: &str| pb::CreateUserRequest {
        name: name.into(),
        email: email.into(),
    };
    let summary = client
        .create_users(vec![
            request("Ok Zero", "zero@example.com"),
            request("", "blank@example.com"),
            request("Ok Two", "two@example.com"),
            request("Bad Email", "nope"),
            request("Dup", "TAKEN@example.com"),
            request("Dup In Batch", "zero@example.com"),
        ])
        .await
        .unwrap();
    assert_eq!(summary.created_count, 2);
    let names: Vec<_> = summary.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["Ok Zero", "Ok Two"]);
    assert_eq!(summary.errors.len(), 4, "{:?}", summary.errors);
    let prefixes: Vec<_> = summary
        .errors
        .iter()
        .map(|e| e.split(": ").next().unwrap())
        .collect();
    assert_eq!(prefixes, ["#1", "#3", "#4", "#5"]);
    assert!(
        summary.errors[0].contains("name must not be blank"),
        "{}",
        summary.errors[0]
    );
    assert!(
        summary.errors[2].contains("already exists"),
        "{}",
        summary.errors[2]
    );
    // What the summary says was made is what the store holds.
    assert_eq!(client.get_all_users().await.unwrap().len(), 3);

    let empty = client.create_users(Vec::new()).await.unwrap();
    assert_eq!(
        (empty.created_count, empty.users.len(), empty.errors.len()),
        (0, 0, 0)
    );
    server.shutdown().await;
}

async fn channel(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn chat_message(sender: &str, content: &str) -> pb::ChatMessage {
    pb::ChatMessage {
        sender: sender.into(),
        content: content.into(),
        timestamp: String::new(),
    }
}

/// The next chat message that is not the room's notice of someone joining or leaving.
async fn next_message(stream: &mut tonic::Streaming<pb::ChatMessage>) -> pb::ChatMessage {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("a chat message in time")
            .expect("stream open")
            .expect("no error");
        let presence = message.content.ends_with(" joined the chat")
            || message.content.ends_with(" left the chat");
        if !(message.sender == grpc_lab::chat::SERVER_SENDER && presence) {
            return message;
        }
    }
}

#[tokio::test]
async fn two_chat_streams_see_each_others_messages_in_order() {
    let server = start_server().await;
    let (ann_tx, ann_rx) = tokio::sync::mpsc::channel(16);
    let (bob_tx, bob_rx) = tokio::sync::mpsc::channel(16);
    let mut ann = server
        .client()
        .await
        .chat(ReceiverStream::new(ann_rx))
        .await
        .unwrap();
    let mut bob = server
        .client()
        .await
        .chat(ReceiverStream::new(bob_rx))
        .await
        .unwrap();

    // Each side waits for its own echo before the other speaks, so the order is fixed.
    let script = [
        ("ann", "hi bob"),
        ("bob", "hi ann"),
        ("ann", "how are you?"),
        ("bob", "fine"),
    ];
    for (sender, content) in script {
        let tx = if sender == "ann" { &ann_tx } else { &bob_tx };
        tx.send(chat_message(sender, content)).await.unwrap();
        for stream in [&mut ann, &mut bob] {
            let got = next_message(stream).await;
            assert_eq!(
                (got.sender.as_str(), got.content.as_str()),
                (sender, content)
            );
            assert!(chrono::DateTime::parse_from_rfc3339(&got.timestamp).is_ok());
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_slow_chat_reader_does_not_delay_a_fast_one_and_learns_what_it_missed() {
    let server = start_with_room(UserStore::empty(), 8).await;
    let (fast_tx, fast_rx) = tokio::sync::mpsc::channel(16);
    let (_slow_tx, slow_rx) = tokio::sync::mpsc::channel::<pb::ChatMessage>(16);
    let mut fast = server
        .client()
        .await
        .chat(ReceiverStream::new(fast_rx))
        .await
        .unwrap();
    // The slow member joins on its own connection and does not read for now.
    let mut slow = server
        .client()
        .await
        .chat(ReceiverStream::new(slow_rx))
        .await
        .unwrap();

    // Large messages fill the slow member's HTTP/2 window quickly.
    let total = 400;
    let body = "x".repeat(16 * 1024);
    // The fast member talks at its own pace: each message, then its echo.
    let talk = async {
        for i in 0..total {
            fast_tx
                .send(chat_message("fast", &format!("{i} {body}")))
                .await
                .unwrap();
            let got = next_message(&mut fast).await;
            assert_eq!(
                got.sender, "fast",
                "the fast member is never told it lagged"
            );
            assert!(got.content.starts_with(&format!("{i} ")));
        }
    };
    tokio::time::timeout(Duration::from_secs(60), talk)
        .await
        .expect("the fast member got every message while the slow one was not reading");

    // Now the slow member reads: some messages, a notice, then newer messages.
    let mut notice = None;
    let mut last = -1i64;
    let mut seen = 0;
    while last < total - 1 {
        let got = next_message(&mut slow).await;
        if got.sender == "server" {
            notice = Some(got.content);
            continue;
        }
        let i: i64 = got.content.split(' ').next().unwrap().parse().unwrap();
        assert!(i > last, "in order");
        last = i;
        seen += 1;
    }
    let notice = notice.expect("the slow member was told it fell behind");
    assert!(notice.contains("missed"), "{notice}");
    assert!(seen < total, "it skipped what it missed");
    server.shutdown().await;
}

#[tokio::test]
async fn health_reports_serving_for_the_server_and_the_service() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let server = start_server().await;
    let mut health = HealthClient::new(channel(&server.url).await);
    for service in ["", SERVICE_NAME] {
        let reply = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reply.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await;
    assert_eq!(code(unknown), Code::NotFound);
    server.shutdown().await;
}

#[tokio::test]
async fn reflection_lists_the_service_and_describes_it() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let server = start_server().await;
    let mut reflection = ServerReflectionClient::new(channel(&server.url).await);
    let requests = vec![
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        },
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(SERVICE_NAME.into())),
        },
    ];
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();
    let first = replies.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("expected a service list, got {first:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&SERVICE_NAME), "{names:?}");
    assert!(names.contains(&grpc_lab::GREET_SERVICE_NAME), "{names:?}");
    let second = replies.next().await.unwrap().unwrap();
    assert!(
        matches!(second.message_response, Some(MessageResponse::FileDescriptorResponse(ref f)) if !f.file_descriptor_proto.is_empty()),
        "{second:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn self_test_suite_passes_and_cleans_up() {
    let server = start_with(Config::new(UserStore::new())).await;
    let mut out = Vec::new();
    let summary =
        grpc_lab::selftest::run_self_test(&server.url, Duration::from_secs(5), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");
    assert_eq!(summary.total, 6);
    assert!(text.contains("Test Results: 6/6 Passed"), "{text}");
    assert_eq!(
        server.client().await.get_all_users().await.unwrap().len(),
        2
    );
    server.shutdown().await;
}

#[tokio::test]
async fn self_test_suite_fails_against_a_closed_port() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let mut out = Vec::new();
    let summary = grpc_lab::selftest::run_self_test(&url, Duration::from_secs(2), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(!summary.all_passed(), "{text}");
    // Said once, with the next step; every planned test reported as not run.
    assert_eq!((summary.passed, summary.total), (0, 6), "{text}");
    assert_eq!(text.matches("nothing listens on").count(), 1, "{text}");
    assert!(text.contains("--bin grpc-server"), "{text}");
    assert_eq!(text.matches(": not run").count(), 6, "{text}");
}

#[tokio::test]
async fn a_client_pointed_at_the_rest_server_says_so() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // An HTTP/1.1 server where the gRPC server was expected.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 512];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let cli = <grpc_lab::cli::client::ClientCli as clap::Parser>::parse_from([
        "grpc-client",
        "check",
        "--url",
        &addr,
    ]);
    let error = grpc_lab::cli::client::run(cli)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not the gRPC server"), "{error}");
    assert!(error.contains("HTTP/1.1 server answers"), "{error}");
}

#[tokio::test]
async fn shutdown_ends_open_chat_streams_promptly() {
    let server = start_server().await;
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let mut stream = server
        .client()
        .await
        .chat(ReceiverStream::new(rx))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(4), server.shutdown())
        .await
        .expect("shutdown does not wait for the drain timeout");
    let end = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .unwrap();
    assert!(
        !matches!(end, Some(Ok(_))),
        "no more messages after shutdown"
    );
}

#[tokio::test]
async fn messages_over_the_4_mib_default_are_refused() {
    let server = start_server().await;
    let mut client = server.client().await;
    let huge = "x".repeat(5 * 1024 * 1024);
    assert_eq!(
        code(client.create_user(&huge, "a@example.com").await),
        Code::OutOfRange
    );
    // The connection and server carry on.
    assert!(client.get_all_users().await.unwrap().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn greet_is_served_beside_the_user_service() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let server = start_server().await;
    let mut client = server.client().await;
    assert_eq!(client.greet("Ada").await.unwrap(), "Hello, Ada!");
    assert_eq!(code(client.greet("  ").await), Code::InvalidArgument);

    let mut health = HealthClient::new(channel(&server.url).await);
    let reply = health
        .check(HealthCheckRequest {
            service: grpc_lab::GREET_SERVICE_NAME.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.status(), ServingStatus::Serving);

    // The CLI's `greet` command against the same server.
    let cli = <grpc_lab::cli::client::ClientCli as clap::Parser>::parse_from([
        "grpc-client",
        "--url",
        &server.url,
        "greet",
        "Grace",
    ]);
    let code = grpc_lab::cli::client::run(cli).await.unwrap();
    assert_eq!(code, std::process::ExitCode::SUCCESS);
    server.shutdown().await;
}

/// `grpc-client chat` (the real binary, input piped and left open): when the server
/// stops, it says so and exits 1 instead of waiting for input and exiting 0.
#[tokio::test]
async fn the_chat_client_says_when_the_server_goes_and_fails() {
    use std::process::{Command, Stdio};
    let server = start_server().await;
    let url = server.url.clone();
    let mut child = Command::new(env!("CARGO_BIN_EXE_grpc-client"))
        .args(["chat", "--name", "ann", "--url", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until ann is in the room (her join is announced), then stop the server.
    let mut watcher = server.client().await;
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let mut room = watcher.chat(ReceiverStream::new(rx)).await.unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), room.next())
            .await
            .expect("ann joins in time")
            .unwrap()
            .unwrap();
        if message.content == "ann joined the chat" {
            break;
        }
    }
    server.shutdown().await;
    // Input stays open: only the server's going can end the session.
    let stdin = child.stdin.take();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    drop(stdin);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the server ended the chat"), "{stderr}");
}
