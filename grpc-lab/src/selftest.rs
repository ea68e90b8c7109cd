//! The self-test suite `grpc-client` runs by default: the original lab's three tests and
//! one for each streaming method, against a live server. It removes what it creates.

use std::io::Write;
use std::time::Duration;

use lab_kit::args::url_authority;
use lab_kit::term::{Lab, Suite, Summary, explain_failure};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

use crate::chat::SERVER_SENDER;
use crate::client::GrpcClient;
use crate::pb;

/// The tests, in order.
const TESTS: [&str; 6] = [
    "Service Method Invocation (GetAllUsers)",
    "Serialization Round Trip (CreateUser, GetUser)",
    "Error Handling",
    "Server Streaming (ListUsers)",
    "Client Streaming (CreateUsers)",
    "Bidirectional Streaming (ChatStream)",
];

/// Runs the suite against the server at `url`, printing to `out`. When no gRPC server
/// answers there, it says so once and reports every test as not run.
pub async fn run_self_test<W: Write>(url: &str, timeout: Duration, out: W) -> Summary {
    let suite = Suite::new(out, "gRPC Lab Self-Test (HTTP/2, Protocol Buffers)", url);
    if let Some(reason) = explain_failure(Lab::Grpc, &url_authority(url), timeout).await {
        return suite.not_run(reason, &TESTS);
    }
    let mut client = match GrpcClient::connect(url, timeout).await {
        Ok(client) => client,
        Err(e) => return suite.not_run(e, &TESTS),
    };
    let mut suite = suite;
    let mut created: Vec<String> = Vec::new();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = |n: &str| format!("selftest-{n}-{}@example.com", &tag[..12]);

    suite.test(TESTS[0]);
    let all = client.get_all_users().await;
    suite.check(
        "GetAllUsers",
        all.as_ref()
            .map(|users| format!("{} users", users.len()))
            .map_err(describe),
    );

    suite.test(TESTS[1]);
    let made = client.create_user("Round Trip", &email("trip")).await;
    let original = match made {
        Ok(user) => {
            created.push(user.id.clone());
            suite.info(format!(
                "created {} <{}> id {}",
                user.name, user.email, user.id
            ));
            Some(user)
        }
        Err(status) => {
            suite.check("CreateUser", Err::<String, _>(describe(&status)));
            None
        }
    };
    if let Some(original) = &original {
        let read = client.get_user(&original.id).await;
        suite.check(
            "every field equal",
            match read {
                Ok(user) if user == *original => Ok(format!(
                    "id, name, email, created_at ({}) all match",
                    user.created_at
                )),
                Ok(user) => Err(format!("expected {original:?}, got {user:?}")),
                Err(status) => Err(describe(&status)),
            },
        );
    }

    suite.test(TESTS[2]);
    let missing = uuid::Uuid::new_v4().to_string();
    suite.check(
        "NOT_FOUND",
        expect_code(client.get_user(&missing).await, Code::NotFound),
    );
    suite.check(
        "INVALID_ARGUMENT for blank fields",
        expect_code(client.create_user("", "").await, Code::InvalidArgument),
    );
    suite.check(
        "INVALID_ARGUMENT for an invalid email",
        expect_code(
            client.create_user("Bad Email", "not-an-email").await,
            Code::InvalidArgument,
        ),
    );
    let duplicate = match &original {
        Some(user) => client.create_user("Copy", &user.email).await,
        None => Err(Status::failed_precondition(
            "no user was created to duplicate",
        )),
    };
    suite.check(
        "ALREADY_EXISTS for a duplicate email",
        expect_code(duplicate, Code::AlreadyExists),
    );

    suite.test(TESTS[3]);
    let result = list_matches_get_all(&mut client, 2).await;
    suite.check("ListUsers limit 2", result);

    suite.test(TESTS[4]);
    let requests = vec![
        pb::CreateUserRequest {
            name: "Batch One".into(),
            email: email("b1"),
        },
        pb::CreateUserRequest {
            name: "Batch Bad".into(),
            email: "not-an-email".into(),
        },
        pb::CreateUserRequest {
            name: "Batch Two".into(),
            email: email("b2"),
        },
    ];
    let summary = client.create_users(requests).await;
    if let Ok(summary) = &summary {
        created.extend(summary.users.iter().map(|u| u.id.clone()));
    }
    suite.check(
        "3 sent, 1 invalid",
        match summary {
            Ok(s)
                if s.created_count == 2
                    && s.errors.len() == 1
                    && s.errors[0].starts_with("#1: ") =>
            {
                Ok(format!(
                    "created {}, errors {:?}",
                    s.created_count, s.errors
                ))
            }
            Ok(s) => Err(format!("unexpected summary {s:?}")),
            Err(status) => Err(describe(&status)),
        },
    );

    suite.test(TESTS[5]);
    let result = chat_round_trip(&mut client, &tag, timeout).await;
    suite.check("round trip", result);

    for id in created {
        let _ = client.delete_user(&id).await;
    }
    suite.finish()
}

fn describe(status: &Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T, Status>,
    code: Code,
) -> Result<String, String> {
    match result {
        Err(status) if status.code() == code => Ok(format!("{:?}: {}", code, status.message())),
        Err(status) => Err(format!("expected {code:?}, got {}", describe(&status))),
        Ok(value) => Err(format!("expected {code:?}, got success {value:?}")),
    }
}

async fn list_matches_get_all(client: &mut GrpcClient, limit: u32) -> Result<String, String> {
    let all = client.get_all_users().await.map_err(|s| describe(&s))?;
    let mut stream = client.list_users(limit).await.map_err(|s| describe(&s))?;
    let mut streamed = Vec::new();
    while let Some(user) = stream.next().await {
        streamed.push(user.map_err(|s| describe(&s))?);
    }
    let expected: Vec<_> = all.into_iter().take(limit as usize).collect();
    if streamed == expected {
        Ok(format!(
            "{} users streamed, same as the first {limit} of GetAllUsers",
            streamed.len()
        ))
    } else {
        Err(format!("streamed {streamed:?}, expected {expected:?}"))
    }
}

async fn chat_round_trip(
    client: &mut GrpcClient,
    tag: &str,
    timeout: Duration,
) -> Result<String, String> {
    let sender = format!("selftest-{}", &tag[..6]);
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let mut replies = client
        .chat(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .map_err(|s| describe(&s))?;
    let message = pb::ChatMessage {
        sender: sender.clone(),
        content: "hello room".into(),
        timestamp: String::new(),
    };
    tx.send(message)
        .await
        .map_err(|_| "the chat stream closed".to_string())?;
    let wait = async {
        while let Some(reply) = replies.next().await {
            let reply = reply.map_err(|s| describe(&s))?;
            // Other people may be chatting too: wait for our own message.
            if reply.sender == sender && reply.content == "hello room" {
                return Ok(reply);
            }
            if reply.sender == SERVER_SENDER {
                continue;
            }
        }
        Err("the chat stream ended before our message came back".to_string())
    };
    let reply = tokio::time::timeout(timeout, wait)
        .await
        .map_err(|_| format!("no echo within {timeout:?}"))??;
    drop(tx);
    if reply.timestamp.is_empty() {
        return Err("the server did not stamp the message".into());
    }
    Ok(format!(
        "own message came back, stamped {}",
        reply.timestamp
    ))
}
