//! The self-test suite `rest-client` runs by default: the original lab's six tests,
//! against a live server, printed as they go. It removes every user it creates.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use lab_kit::args::url_authority;
use lab_kit::term::{Lab, Suite, Summary, explain_failure_over};
use reqwest::StatusCode;
use serde_json::json;
use user_store::User;

use crate::client::{ApiReply, RestClient, RestError};

/// The tests, in order: each a name and an async function over the run's shared state.
fn tests<'a, W: Write>() -> [(&'static str, Test<'a, W>); 6] {
    [
        ("CREATE (POST /api/users)", create),
        ("READ (GET /api/users, GET /api/users/{id})", read),
        ("UPDATE (PUT /api/users/{id})", update),
        ("DELETE (DELETE /api/users/{id})", delete),
        ("Status Code Validation", status_codes),
        ("Request/Response Format", format),
    ]
}

/// One test of the suite.
type Test<'a, W> = for<'r> fn(&'r mut Run<'a, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>>;

/// What the tests share: the report, the client, the user CREATE made (the later tests
/// read, update and delete it), and every user to remove at the end.
struct Run<'a, W: Write> {
    suite: Suite<W>,
    client: &'a RestClient,
    email: String,
    missing: String,
    user: Option<User>,
    created: Vec<String>,
}

/// Runs the suite against `client`'s server, printing to `out`. When no REST server
/// answers there, it says so once and reports every test as not run.
pub async fn run_self_test<W: Write>(client: &RestClient, out: W) -> Summary {
    let tests = tests::<W>();
    let suite = Suite::new(out, "REST Lab Self-Test (HTTP/JSON)", client.base_url());
    let addr = url_authority(client.base_url());
    let tls = lab_kit::args::is_tls_url(client.base_url());
    if let Some(reason) = explain_failure_over(Lab::Rest, &addr, client.timeout(), tls).await {
        return suite.not_run(reason, &tests.map(|(name, _)| name));
    }
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut run = Run {
        suite,
        client,
        email: format!("selftest-{}@example.com", &tag[..12]),
        missing: uuid::Uuid::new_v4().to_string(),
        user: None,
        created: Vec::new(),
    };
    for (name, test) in tests {
        run.suite.test(name);
        test(&mut run).await;
    }
    for id in std::mem::take(&mut run.created) {
        let _ = client.delete_user(&id).await;
    }
    run.suite.finish()
}

/// The user is made, with its Location header and fields.
fn create<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let reply = run.client.create_user("Test User", &run.email).await;
        show(&mut run.suite, "POST /api/users", &reply);
        run.user = match expect_status(&reply, StatusCode::CREATED).and_then(|r| r.data::<User>()) {
            Ok(user) => {
                run.created.push(user.id.to_string());
                let location = reply.as_ref().ok().and_then(|r| r.location.clone());
                let expected = format!("/api/users/{}", user.id);
                run.suite.check(
                    "Location header",
                    if location.as_deref() == Some(expected.as_str()) {
                        Ok(expected)
                    } else {
                        Err(format!("expected {expected}, got {location:?}"))
                    },
                );
                run.suite.check(
                    "created user",
                    if user.name == "Test User" && user.email == run.email {
                        Ok(format!("{} <{}> id {}", user.name, user.email, user.id))
                    } else {
                        Err(format!("fields differ: {user:?}"))
                    },
                );
                Some(user)
            }
            Err(e) => {
                run.suite.check("create", Err::<String, _>(e));
                None
            }
        };
    })
}

/// The list holds the new user; reading it by id gives every field back.
fn read<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let reply = run.client.list_users().await;
        show(&mut run.suite, "GET /api/users", &reply);
        let listed = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<Vec<User>>());
        run.suite.check(
            "read list",
            listed.map(|users| {
                let found = run.user.as_ref().is_some_and(|u| users.contains(u));
                format!("{} users, new user listed: {found}", users.len())
            }),
        );
        match &run.user {
            Some(user) => {
                let reply = run.client.get_user(&user.id.to_string()).await;
                show(
                    &mut run.suite,
                    &format!("GET /api/users/{}", user.id),
                    &reply,
                );
                let read = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<User>());
                run.suite.check("read one", same_user(read, user));
            }
            None => {
                run.suite
                    .check("read one", Err::<String, _>("no user was created to read"));
            }
        }
    })
}

/// A PUT changes the name and leaves the email.
fn update<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        match &run.user {
            Some(user) => {
                let id = user.id.to_string();
                let reply = run
                    .client
                    .update_user(&id, Some("Updated User"), None)
                    .await;
                show(&mut run.suite, &format!("PUT /api/users/{id}"), &reply);
                let updated = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<User>());
                run.suite.check(
                    "update name",
                    match updated {
                        Ok(u) if u.name == "Updated User" && u.email == user.email => {
                            Ok(format!("name is now {:?}, email unchanged", u.name))
                        }
                        Ok(u) => Err(format!("unexpected user after update: {u:?}")),
                        Err(e) => Err(e.to_string()),
                    },
                );
            }
            None => {
                run.suite
                    .check("update", Err::<String, _>("no user was created to update"));
            }
        }
    })
}

/// A DELETE says so, and the user is gone afterwards.
fn delete<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        match &run.user {
            Some(user) => {
                let id = user.id.to_string();
                let reply = run.client.delete_user(&id).await;
                show(&mut run.suite, &format!("DELETE /api/users/{id}"), &reply);
                let expected = format!("User {id} deleted");
                let deleted = expect_status(&reply, StatusCode::OK).and_then(|r| {
                    if r.message() == expected {
                        run.created.retain(|c| *c != id);
                        Ok(format!("{:?}", r.message()))
                    } else {
                        Err(RestError::BadBody(format!("message {:?}", r.message())))
                    }
                });
                run.suite.check("delete", deleted);
                let gone = run.client.get_user(&id).await;
                run.suite.check(
                    "gone afterwards",
                    expect_status(&gone, StatusCode::NOT_FOUND).map(|_| "404"),
                );
            }
            None => {
                run.suite
                    .check("delete", Err::<String, _>("no user was created to delete"));
            }
        }
    })
}

/// Each contract status: 404, 400 for empty data, a bad email, a search without query; 200.
fn status_codes<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let checks = [
            (
                "GET missing user -> 404",
                run.client.get_user(&run.missing).await,
                StatusCode::NOT_FOUND,
            ),
            (
                "POST empty data -> 400",
                run.client
                    .send(reqwest::Method::POST, "/api/users", Some(&json!({})))
                    .await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "POST invalid email -> 400",
                run.client.create_user("Bad Email", "not-an-email").await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "search without query -> 400",
                run.client.search(None).await,
                StatusCode::BAD_REQUEST,
            ),
            (
                "GET all -> 200",
                run.client.list_users().await,
                StatusCode::OK,
            ),
        ];
        for (name, reply, status) in checks {
            // A server that wrongly accepts a bad user must not be left holding it.
            if let Ok(r) = &reply
                && r.status == StatusCode::CREATED
                && let Ok(u) = r.data::<User>()
            {
                run.created.push(u.id.to_string());
            }
            let result = expect_status(&reply, status).map(|r| match r.message() {
                "" => r.status.to_string(),
                message => format!("{} ({message})", r.status),
            });
            run.suite.check(name, result);
        }
    })
}

/// Successes and errors are JSON in their envelopes.
fn format<'r, W: Write>(run: &'r mut Run<'_, W>) -> Pin<Box<dyn Future<Output = ()> + 'r>> {
    Box::pin(async move {
        let ok = run.client.list_users().await;
        run.suite.check("success is JSON", content_type(&ok));
        run.suite.check(
            "success envelope",
            envelope(&ok, |r| {
                r.body["status"] == "success" && r.body["data"].is_array()
            }),
        );
        let err = run.client.get_user(&run.missing).await;
        run.suite.check("error is JSON", content_type(&err));
        run.suite.check(
            "error envelope",
            envelope(&err, |r| {
                r.body["status"] == "error" && r.body["message"].is_string()
            }),
        );
    })
}

fn show<W: Write>(suite: &mut Suite<W>, request: &str, reply: &Result<ApiReply, RestError>) {
    match reply {
        Ok(r) => suite.info(format!("{request} -> {}", r.status)),
        Err(_) => suite.info(format!("{request} -> no response")),
    }
}

fn expect_status(
    reply: &Result<ApiReply, RestError>,
    status: StatusCode,
) -> Result<&ApiReply, RestError> {
    match reply {
        Ok(r) if r.status == status => Ok(r),
        Ok(r) => Err(RestError::BadBody(format!(
            "expected {status}, got {} {}",
            r.status, r.body
        ))),
        Err(e) => Err(RestError::BadBody(e.to_string())),
    }
}

fn same_user(read: Result<User, RestError>, expected: &User) -> Result<String, String> {
    match read {
        Ok(user) if user == *expected => Ok("every field matches".into()),
        Ok(user) => Err(format!("expected {expected:?}, got {user:?}")),
        Err(e) => Err(e.to_string()),
    }
}

fn content_type(reply: &Result<ApiReply, RestError>) -> Result<String, String> {
    match reply {
        Ok(r) if r.is_json() => Ok(r.content_type.clone().unwrap_or_default()),
        Ok(r) => Err(format!("Content-Type is {:?}", r.content_type)),
        Err(e) => Err(e.to_string()),
    }
}

fn envelope(
    reply: &Result<ApiReply, RestError>,
    shape: impl Fn(&ApiReply) -> bool,
) -> Result<String, String> {
    match reply {
        Ok(r) if shape(r) => Ok(format!(
            "status {:?}",
            r.body["status"].as_str().unwrap_or_default()
        )),
        Ok(r) => Err(format!("unexpected body {}", r.body)),
        Err(e) => Err(e.to_string()),
    }
}
