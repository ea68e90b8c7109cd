//! The self-test suite `rest-client` runs by default: the original lab's six tests,
//! against a live server, printed as they go. It removes every user it creates.

use std::io::Write;

use lab_kit::args::url_authority;
use lab_kit::term::{Lab, Suite, Summary, explain_failure};
use reqwest::StatusCode;
use serde_json::json;
use user_store::User;

use crate::client::{ApiReply, RestClient, RestError};

/// The tests, in order.
const TESTS: [&str; 6] = [
    "CREATE (POST /api/users)",
    "READ (GET /api/users, GET /api/users/{id})",
    "UPDATE (PUT /api/users/{id})",
    "DELETE (DELETE /api/users/{id})",
    "Status Code Validation",
    "Request/Response Format",
];

/// Runs the suite against `client`'s server, printing to `out`. When no REST server
/// answers there, it says so once and reports every test as not run.
pub async fn run_self_test<W: Write>(client: &RestClient, out: W) -> Summary {
    let mut suite = Suite::new(out, "REST Lab Self-Test (HTTP/JSON)", client.base_url());
    let addr = url_authority(client.base_url());
    if let Some(reason) = explain_failure(Lab::Rest, &addr, client.timeout()).await {
        return suite.not_run(reason, &TESTS);
    }
    let mut created: Vec<String> = Vec::new();
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("selftest-{}@example.com", &tag[..12]);

    suite.test(TESTS[0]);
    let reply = client.create_user("Test User", &email).await;
    show(&mut suite, "POST /api/users", &reply);
    let user = match expect_status(&reply, StatusCode::CREATED).and_then(|r| r.data::<User>()) {
        Ok(user) => {
            created.push(user.id.to_string());
            let location = reply.as_ref().ok().and_then(|r| r.location.clone());
            let expected = format!("/api/users/{}", user.id);
            suite.check(
                "Location header",
                if location.as_deref() == Some(expected.as_str()) {
                    Ok(expected)
                } else {
                    Err(format!("expected {expected}, got {location:?}"))
                },
            );
            suite.check(
                "created user",
                if user.name == "Test User" && user.email == email {
                    Ok(format!("{} <{}> id {}", user.name, user.email, user.id))
                } else {
                    Err(format!("fields differ: {user:?}"))
                },
            );
            Some(user)
        }
        Err(e) => {
            suite.check("create", Err::<String, _>(e));
            None
        }
    };

    suite.test(TESTS[1]);
    let reply = client.list_users().await;
    show(&mut suite, "GET /api/users", &reply);
    let listed = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<Vec<User>>());
    suite.check(
        "read list",
        listed.map(|users| {
            let found = user.as_ref().is_some_and(|u| users.contains(u));
            format!("{} users, new user listed: {found}", users.len())
        }),
    );
    match &user {
        Some(user) => {
            let reply = client.get_user(&user.id.to_string()).await;
            show(&mut suite, &format!("GET /api/users/{}", user.id), &reply);
            let read = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<User>());
            suite.check("read one", same_user(read, user));
        }
        None => {
            suite.check("read one", Err::<String, _>("no user was created to read"));
        }
    }

    suite.test(TESTS[2]);
    match &user {
        Some(user) => {
            let id = user.id.to_string();
            let reply = client.update_user(&id, Some("Updated User"), None).await;
            show(&mut suite, &format!("PUT /api/users/{id}"), &reply);
            let updated = expect_status(&reply, StatusCode::OK).and_then(|r| r.data::<User>());
            suite.check(
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
            suite.check("update", Err::<String, _>("no user was created to update"));
        }
    }

    suite.test(TESTS[3]);
    match &user {
        Some(user) => {
            let id = user.id.to_string();
            let reply = client.delete_user(&id).await;
            show(&mut suite, &format!("DELETE /api/users/{id}"), &reply);
            let expected = format!("User {id} deleted");
            let deleted = expect_status(&reply, StatusCode::OK).and_then(|r| {
                if r.message() == expected {
                    created.retain(|c| *c != id);
                    Ok(format!("{:?}", r.message()))
                } else {
                    Err(RestError::BadBody(format!("message {:?}", r.message())))
                }
            });
            suite.check("delete", deleted);
            let gone = client.get_user(&id).await;
            suite.check(
                "gone afterwards",
                expect_status(&gone, StatusCode::NOT_FOUND).map(|_| "404"),
            );
        }
        None => {
            suite.check("delete", Err::<String, _>("no user was created to delete"));
        }
    }

    suite.test(TESTS[4]);
    let missing = uuid::Uuid::new_v4().to_string();
    let checks = [
        (
            "GET missing user -> 404",
            client.get_user(&missing).await,
            StatusCode::NOT_FOUND,
        ),
        (
            "POST empty data -> 400",
            client
                .send(reqwest::Method::POST, "/api/users", Some(&json!({})))
                .await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST invalid email -> 400",
            client.create_user("Bad Email", "not-an-email").await,
            StatusCode::BAD_REQUEST,
        ),
        (
            "search without query -> 400",
            client.search(None).await,
            StatusCode::BAD_REQUEST,
        ),
        ("GET all -> 200", client.list_users().await, StatusCode::OK),
    ];
    for (name, reply, status) in checks {
        // A server that wrongly accepts a bad user must not be left holding it.
        if let Ok(r) = &reply
            && r.status == StatusCode::CREATED
            && let Ok(u) = r.data::<User>()
        {
            created.push(u.id.to_string());
        }
        let result = expect_status(&reply, status).map(|r| match r.message() {
            "" => r.status.to_string(),
            message => format!("{} ({message})", r.status),
        });
        suite.check(name, result);
    }

    suite.test(TESTS[5]);
    let ok = client.list_users().await;
    suite.check("success is JSON", content_type(&ok));
    suite.check(
        "success envelope",
        envelope(&ok, |r| {
            r.body["status"] == "success" && r.body["data"].is_array()
        }),
    );
    let err = client.get_user(&missing).await;
    suite.check("error is JSON", content_type(&err));
    suite.check(
        "error envelope",
        envelope(&err, |r| {
            r.body["status"] == "error" && r.body["message"].is_string()
        }),
    );

    for id in created {
        let _ = client.delete_user(&id).await;
    }
    suite.finish()
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
