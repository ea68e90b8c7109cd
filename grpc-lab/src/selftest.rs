//! The self-test suite `grpc-client` runs by default: the original lab's three tests and
//! one for each streaming method, against a live server. It removes what it creates.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

use lab_kit::args::url_authority;
use lab_kit::term::{Lab, Suite, Summary, explain_failure_over};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

use crate::chat::SERVER_SENDER;
use crate::client::{Access, GrpcClient};
use crate::pb;

/// The tests, in order: each a name and an async function over the run's shared state.
fn tests<'a, W: Write>() -> [(&'static str, Test<'a, W>); 6] {
    [
        ("Service Method Invocation (GetAllUsers)", get_all),
        ("Serialization Round Trip (CreateUser, GetUser)", round_trip),
        ("Error Handling", errors),
        ("Server Streaming (ListUsers)", server_streaming),
        ("Client Streaming (CreateUsers)", client_streaming),
        ("Bidirectional Streaming (ChatStream)", chat),
    ]
}

/// One test of the suite.
type Test<'a, W> = for<'r> fn(&'r mut Run<'a, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>>;

/// What the tests share: the report, the client, the user the round trip made (the
/// error test duplicates its email), and every user to remove at the end.
struct Run<'a, W: Write> {
    suite: Suite<W>,
    client: GrpcClient,
    tag: String,
    timeout: Duration,
    original: Option<pb::User>,
    created: Vec<String>,
    lifetime: std::marker::PhantomData<&'a ()>,
}

impl<W: Write> Run<'_, W> {
    /// A unique email for `n`.
    fn email(&self, n: &str) -> String {
        format!("selftest-{n}-{}@example.com", &self.tag[..12])
    }
}

/// Runs the suite against the server at `url`, printing to `out`. When no gRPC server
/// answers there, it says so once and reports every test as not run.
pub async fn run_self_test<W: Write>(url: &str, timeout: Duration, out: W) -> Summary {
    run_self_test_over(url, timeout, &Access::default(), out).await
}

/// [`run_self_test`] as `access` says: TLS for `https://`, the token on writes.
pub async fn run_self_test_over<W: Write>(
    url: &str,
    timeout: Duration,
    access: &Access,
    out: W,
) -> Summary {
    let tests = tests::<W>();
    let names = tests.map(|(name, _)| name);
    let suite = Suite::new(out, "gRPC Lab Self-Test (HTTP/2, Protocol Buffers)", url);
    let tls = lab_kit::args::is_tls_url(url);
    if let Some(reason) = explain_failure_over(Lab::Grpc, &url_authority(url), timeout, tls).await {
        return suite.not_run(reason, &names);
    }
    let client = match GrpcClient::open(url, timeout, access).await {
        Ok(client) => client,
        Err(e) => return suite.not_run(e, &names),
    };
    let mut run = Run {
        suite,
        client,
        tag: uuid::Uuid::new_v4().simple().to_string(),
        timeout,
        original: None,
        created: Vec::new(),
        lifetime: std::marker::PhantomData,
    };
    for (name, test) in tests {
        run.suite.test(name);
        test(&mut run).await;
    }
    for id in std::mem::take(&mut run.created) {
        let _ = run.client.delete_user(&id).await;
    }
    run.suite.finish()
}

/// GetAllUsers answers.
fn get_all<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let all = run.client.get_all_users().await;
        run.suite.check(
            "GetAllUsers",
            all.as_ref()
                .map(|users| format!("{} users", users.len()))
                .map_err(describe),
        );
    })
}

/// A created user reads back with every field equal.
fn round_trip<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let made = run
            .client
            .create_user("Round Trip", &run.email("trip"))
            .await;
        run.original = match made {
            Ok(user) => {
                run.created.push(user.id.clone());
                run.suite.info(format!(
                    "created {} <{}> id {}",
                    user.name, user.email, user.id
                ));
                Some(user)
            }
            Err(status) => {
                run.suite
                    .check("CreateUser", Err::<String, _>(describe(&status)));
                None
            }
        };
        if let Some(original) = &run.original {
            let read = run.client.get_user(&original.id).await;
            run.suite.check(
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
    })
}

/// Each contract error code: NOT_FOUND, INVALID_ARGUMENT twice, ALREADY_EXISTS.
fn errors<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let missing = uuid::Uuid::new_v4().to_string();
        run.suite.check(
            "NOT_FOUND",
            expect_code(run.client.get_user(&missing).await, Code::NotFound),
        );
        run.suite.check(
            "INVALID_ARGUMENT for blank fields",
            expect_code(run.client.create_user("", "").await, Code::InvalidArgument),
        );
        run.suite.check(
            "INVALID_ARGUMENT for an invalid email",
            expect_code(
                run.client.create_user("Bad Email", "not-an-email").await,
                Code::InvalidArgument,
            ),
        );
        let duplicate = match &run.original {
            Some(user) => run.client.create_user("Copy", &user.email).await,
            None => Err(Status::failed_precondition(
                "no user was created to duplicate",
            )),
        };
        run.suite.check(
            "ALREADY_EXISTS for a duplicate email",
            expect_code(duplicate, Code::AlreadyExists),
        );
    })
}

/// ListUsers streams what GetAllUsers returns, up to its limit.
fn server_streaming<'r, W: Write>(
    run: &'r mut Run<'_, W>,
) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let result = list_matches_get_all(&mut run.client, 2).await;
        run.suite.check("ListUsers limit 2", result);
    })
}

/// CreateUsers counts what it made and says which message was refused.
fn client_streaming<'r, W: Write>(
    run: &'r mut Run<'_, W>,
) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let requests = vec![
            pb::CreateUserRequest {
                name: "Batch One".into(),
                email: run.email("b1"),
            },
            pb::CreateUserRequest {
                name: "Batch Bad".into(),
                email: "not-an-email".into(),
            },
            pb::CreateUserRequest {
                name: "Batch Two".into(),
                email: run.email("b2"),
            },
        ];
        let summary = run.client.create_users(requests).await;
        if let Ok(summary) = &summary {
            run.created
                .extend(summary.users.iter().map(|u| u.id.clone()));
        }
        run.suite.check(
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
    })
}

/// ChatStream echoes a message back to its sender.
fn chat<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let result = chat_round_trip(&mut run.client, &run.tag, run.timeout).await;
        run.suite.check("round trip", result);
    })
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
