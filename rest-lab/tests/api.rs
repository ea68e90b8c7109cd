//! Every row of the REST contract, over real HTTP against an in-process server.

mod common;

use std::time::Duration;

use common::{start_server, start_with, start_with_policy};
use reqwest::{Method, StatusCode};
use rest_lab::client::{ApiReply, ClientOptions, RestClient};
use rest_lab::{Config, HttpPolicy};
use serde_json::{Value, json};
use user_store::{User, UserStore};

fn assert_error(reply: &ApiReply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.is_json(), "Content-Type {:?}", reply.content_type);
    assert_eq!(reply.body["status"], "error", "{}", reply.body);
    assert!(
        !reply.body["message"].as_str().unwrap().is_empty(),
        "an error says what went wrong"
    );
}

fn assert_success(reply: &ApiReply, status: StatusCode) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert!(reply.is_json(), "Content-Type {:?}", reply.content_type);
    assert_eq!(reply.body["status"], "success", "{}", reply.body);
}

#[tokio::test]
async fn list_is_in_creation_order_and_starts_with_the_demo_users() {
    let server = start_with(Config::new(UserStore::new())).await;
    let client = server.client();
    for i in 0..3 {
        let reply = client
            .create_user(&format!("User {i}"), &format!("u{i}@example.com"))
            .await
            .unwrap();
        assert_success(&reply, StatusCode::CREATED);
    }
    let reply = client.list_users().await.unwrap();
    assert_success(&reply, StatusCode::OK);
    let names: Vec<String> = reply
        .data::<Vec<User>>()
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(
        names,
        ["John Doe", "Jane Smith", "User 0", "User 1", "User 2"]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn create_returns_201_the_user_and_its_location() {
    let server = start_server().await;
    let client = server.client();
    let reply = client
        .create_user("  Ada Lovelace ", " ada@example.com ")
        .await
        .unwrap();
    assert_success(&reply, StatusCode::CREATED);
    let user: User = reply.data().unwrap();
    assert_eq!(user.name, "Ada Lovelace");
    assert_eq!(user.email, "ada@example.com");
    assert_eq!(reply.location, Some(format!("/api/users/{}", user.id)));
    let data = reply.body["data"].as_object().unwrap();
    let mut keys: Vec<_> = data.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "email", "id", "name"]);
    assert!(chrono::DateTime::parse_from_rfc3339(data["created_at"].as_str().unwrap()).is_ok());

    // The Location can be followed.
    let fetched = client
        .send(Method::GET, reply.location.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(fetched.data::<User>().unwrap(), user);
    server.shutdown().await;
}

#[tokio::test]
async fn get_unknown_or_malformed_ids_is_404() {
    let server = start_server().await;
    let client = server.client();
    for id in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".into(),
        "123".into(),
        "%FF%FE".into(),
    ] {
        let reply = client.get_user(&id).await.unwrap();
        assert_error(&reply, StatusCode::NOT_FOUND);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn create_refuses_bad_input_with_400() {
    let server = start_server().await;
    let client = server.client();
    let bad_bodies = [
        json!({}),
        json!({"name": "Ada"}),
        json!({"email": "ada@example.com"}),
        json!({"name": "   ", "email": "ada@example.com"}),
        json!({"name": "Ada", "email": ""}),
        json!({"name": "Ada", "email": "not-an-email"}),
        json!({"name": "Ada", "email": "a@@example.com"}),
        json!({"name": "Ada", "email": "a@b@example.com"}),
        json!({"name": "Ada", "email": "ada@example"}),
        json!({"name": "x".repeat(101), "email": "ada@example.com"}),
        json!({"name": 5, "email": "ada@example.com"}),
        json!({"name": "Ada", "email": ["ada@example.com"]}),
        json!(["Ada", "ada@example.com"]),
        json!("Ada"),
    ];
    for body in bad_bodies {
        let reply = client
            .send(Method::POST, "/api/users", Some(&body))
            .await
            .unwrap();
        assert_error(&reply, StatusCode::BAD_REQUEST);
    }
    // Malformed JSON.
    let reply = raw_post(&server.url, "application/json", "{\"name\": ").await;
    assert_error(&reply, StatusCode::BAD_REQUEST);
    // Nothing was created.
    assert_eq!(client.list_users_data().await.unwrap(), vec![]);
    server.shutdown().await;
}

#[tokio::test]
async fn validation_bounds_hold_over_http() {
    let server = start_server().await;
    let client = server.client();
    let name_100 = "n".repeat(100);
    assert_success(
        &client
            .create_user(&name_100, "a@example.com")
            .await
            .unwrap(),
        StatusCode::CREATED,
    );
    let domain = "@example.com";
    let email_254 = format!("{}{domain}", "e".repeat(254 - domain.len()));
    let email_255 = format!("{}{domain}", "e".repeat(255 - domain.len()));
    assert_success(
        &client.create_user("Long Email", &email_254).await.unwrap(),
        StatusCode::CREATED,
    );
    assert_error(
        &client
            .create_user("Longer Email", &email_255)
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    );
    server.shutdown().await;
}

#[tokio::test]
async fn duplicate_email_is_409_ignoring_case() {
    let server = start_server().await;
    let client = server.client();
    client
        .create_user_data("Ada", "ada@example.com")
        .await
        .unwrap();
    let reply = client
        .create_user("Other", "ADA@Example.com")
        .await
        .unwrap();
    assert_error(&reply, StatusCode::CONFLICT);
    server.shutdown().await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let server = start_server().await;
    let big = format!(
        "{{\"name\": \"{}\", \"email\": \"a@example.com\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let reply = raw_post(&server.url, "application/json", &big).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.message().contains("1048576"), "{}", reply.message());
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let server = start_server().await;
    let body = r#"{"name": "Ada", "email": "ada@example.com"}"#;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let reply = raw_post(&server.url, content_type, body).await;
        assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn update_is_partial_and_checked() {
    let server = start_server().await;
    let client = server.client();
    let ada = client
        .create_user_data("Ada", "ada@example.com")
        .await
        .unwrap();
    let bob = client
        .create_user_data("Bob", "bob@example.com")
        .await
        .unwrap();
    let id = ada.id.to_string();

    let reply = client
        .update_user(&id, Some("Countess"), None)
        .await
        .unwrap();
    assert_success(&reply, StatusCode::OK);
    let user: User = reply.data().unwrap();
    assert_eq!(
        (user.name.as_str(), user.email.as_str()),
        ("Countess", "ada@example.com")
    );

    let reply = client
        .update_user(&id, None, Some("countess@example.com"))
        .await
        .unwrap();
    let user: User = reply.data().unwrap();
    assert_eq!(
        (user.name.as_str(), user.email.as_str()),
        ("Countess", "countess@example.com")
    );
    assert_eq!(user.created_at, ada.created_at);

    // Keeping one's own email (any case) is not a conflict.
    let reply = client
        .update_user(&id, Some("Ada"), Some("COUNTESS@example.com"))
        .await
        .unwrap();
    assert_success(&reply, StatusCode::OK);

    // Neither field, a blank field, an invalid email: 400.
    assert_error(
        &client.update_user(&id, None, None).await.unwrap(),
        StatusCode::BAD_REQUEST,
    );
    assert_error(
        &client.update_user(&id, Some(" "), None).await.unwrap(),
        StatusCode::BAD_REQUEST,
    );
    assert_error(
        &client
            .update_user(&id, None, Some("x@y@z.com"))
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    );
    // Someone else's email: 409.
    assert_error(
        &client
            .update_user(&id, None, Some("BOB@example.com"))
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    );
    // Unknown id: 404.
    assert_error(
        &client
            .update_user(&uuid::Uuid::new_v4().to_string(), Some("X"), None)
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    );
    assert_error(
        &client.update_user("nope", Some("X"), None).await.unwrap(),
        StatusCode::NOT_FOUND,
    );
    // Bob is untouched.
    assert_eq!(
        client.get_user_data(&bob.id.to_string()).await.unwrap(),
        bob
    );
    server.shutdown().await;
}

#[tokio::test]
async fn delete_answers_with_a_message_then_404() {
    let server = start_server().await;
    let client = server.client();
    let ada = client
        .create_user_data("Ada", "ada@example.com")
        .await
        .unwrap();
    let id = ada.id.to_string();
    let reply = client.delete_user(&id).await.unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.is_json());
    assert_eq!(
        reply.body,
        json!({"status": "success", "message": format!("User {id} deleted")})
    );
    assert_error(
        &client.delete_user(&id).await.unwrap(),
        StatusCode::NOT_FOUND,
    );
    assert_error(&client.get_user(&id).await.unwrap(), StatusCode::NOT_FOUND);
    assert_error(
        &client.delete_user("bogus").await.unwrap(),
        StatusCode::NOT_FOUND,
    );
    server.shutdown().await;
}

#[tokio::test]
async fn search_matches_names_and_emails_and_needs_q() {
    let server = start_with(Config::new(UserStore::new())).await;
    let client = server.client();
    let reply = client.search(Some("JANE")).await.unwrap();
    assert_success(&reply, StatusCode::OK);
    let found: Vec<User> = reply.data().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "Jane Smith");
    let all: Vec<User> = client
        .search(Some("example.com"))
        .await
        .unwrap()
        .data()
        .unwrap();
    assert_eq!(all.len(), 2);
    let none: Vec<User> = client.search(Some("zzz")).await.unwrap().data().unwrap();
    assert!(none.is_empty());
    assert_error(&client.search(None).await.unwrap(), StatusCode::BAD_REQUEST);
    assert_error(
        &client.search(Some("  ")).await.unwrap(),
        StatusCode::BAD_REQUEST,
    );
    server.shutdown().await;
}

#[tokio::test]
async fn health_is_200() {
    let server = start_server().await;
    let reply = server.client().health().await.unwrap();
    assert_success(&reply, StatusCode::OK);
    assert_eq!(reply.body["data"]["status"], "healthy");
    server.shutdown().await;
}

#[tokio::test]
async fn every_reply_names_the_server_build() {
    let server = start_server().await;
    let url = format!("{}/health", server.client().base_url());
    let response = reqwest::get(&url).await.unwrap();
    let id = response.headers()["server"].to_str().unwrap().to_owned();
    assert!(id.starts_with("rest-lab/"), "{id}");
    assert_eq!(lab_kit::build::is_debug_build(&id), cfg!(debug_assertions));
    server.shutdown().await;
}

#[tokio::test]
async fn a_reply_body_past_the_limit_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A peer that promises and sends more than a reply may hold.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request).await;
        let size = rest_lab::client::MAX_REPLY_BYTES + 1024 * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..size / chunk.len() {
            if stream.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let client = RestClient::new(&format!("http://{addr}")).unwrap();
    let error = client.list_users_data().await.unwrap_err();
    assert!(error.to_string().contains("larger than"), "{error}");
    drop(client);
    peer.abort();
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_in_json() {
    let server = start_server().await;
    let client = server.client();
    for path in ["/", "/api", "/api/user", "/api/users/1/extra", "/healthz"] {
        let reply = client.send(Method::GET, path, None).await.unwrap();
        assert_error(&reply, StatusCode::NOT_FOUND);
    }
    for (method, path) in [
        (Method::DELETE, "/api/users"),
        (Method::PATCH, "/api/users"),
        (Method::POST, "/api/users/search"),
        (Method::POST, "/health"),
        (Method::PATCH, "/api/users/some-id"),
    ] {
        let reply = client.send(method, path, None).await.unwrap();
        assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn fifty_concurrent_posts_of_one_email_give_one_201() {
    let server = start_server().await;
    let client = server.client();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = client.clone();
        tasks.spawn(async move {
            client
                .create_user(&format!("Racer {i}"), "race@example.com")
                .await
                .unwrap()
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.unwrap());
    }
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 49));
    assert_eq!(client.list_users_data().await.unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn http2_cleartext_is_served_on_the_same_port() {
    let server = start_server().await;
    let options = ClientOptions {
        http2: true,
        ..ClientOptions::default()
    };
    let client = RestClient::with_options(&server.url, &options).unwrap();
    let created = client
        .create_user_data("Ada", "ada@example.com")
        .await
        .unwrap();
    assert_eq!(
        client.get_user_data(&created.id.to_string()).await.unwrap(),
        created
    );
    let http = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = http
        .get(format!("{}/health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    server.shutdown().await;
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_states_its_rules() {
    let server = start_server().await;
    let reply = server
        .client()
        .send(Method::GET, "/api/openapi.json", None)
        .await
        .unwrap();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.is_json());
    assert!(reply.body["openapi"].as_str().unwrap().starts_with("3."));
    // The schemas are the wire's: a user the server sends has exactly the properties
    // (all required) and the envelope the document names.
    let client = server.client();
    let created = client
        .create_user("Schema Check", "schema@example.com")
        .await
        .unwrap();
    let schemas = &reply.body["components"]["schemas"];
    let user_schema = &schemas["User"];
    let mut wire_keys: Vec<&String> = created.body["data"].as_object().unwrap().keys().collect();
    let mut doc_keys: Vec<&String> = user_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    wire_keys.sort();
    doc_keys.sort();
    assert_eq!(wire_keys, doc_keys);
    assert_eq!(
        user_schema["required"].as_array().unwrap().len(),
        wire_keys.len()
    );
    let created_ref = &reply.body["paths"]["/api/users"]["post"]["responses"]["201"]["content"]["application/json"]
        ["schema"]["$ref"];
    let envelope = created_ref.as_str().unwrap().rsplit('/').next().unwrap();
    assert_eq!(schemas[envelope]["properties"]["data"], *user_schema);
    let paths = &reply.body["paths"];
    for (path, methods) in [
        ("/api/users", &["get", "post"][..]),
        ("/api/users/{id}", &["get", "put", "delete"][..]),
        ("/api/users/search", &["get"][..]),
        ("/health", &["get"][..]),
    ] {
        for method in methods {
            assert!(
                paths[path][method].is_object(),
                "{method} {path} missing from the OpenAPI document"
            );
        }
    }
    let create = &paths["/api/users"]["post"]["responses"];
    for code in ["201", "400", "401", "409", "413", "415"] {
        assert!(create[code].is_object(), "POST /api/users lacks {code}");
    }
    // Writes may need the bearer token (optional: a server without one takes any).
    for (path, method) in [
        ("/api/users", "post"),
        ("/api/users/{id}", "put"),
        ("/api/users/{id}", "delete"),
    ] {
        assert!(
            paths[path][method]["responses"]["401"].is_object(),
            "{method} {path}"
        );
        assert_eq!(
            paths[path][method]["security"],
            serde_json::json!([{}, { "bearerAuth": [] }]),
            "{method} {path}"
        );
    }
    assert!(paths["/api/users"]["get"]["responses"]["401"].is_null());
    assert_eq!(
        reply.body["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    // Every rule the server enforces is stated.
    let doc = &reply.body;
    let q = &doc["paths"]["/api/users/search"]["get"]["parameters"][0];
    assert_eq!(
        (q["name"].as_str(), q["in"].as_str()),
        (Some("q"), Some("query"))
    );
    assert_eq!(q["required"], true);
    let create = &doc["components"]["schemas"]["CreateUserRequest"];
    assert_eq!(create["required"], serde_json::json!(["name", "email"]));
    assert_eq!(
        create["properties"]["name"]["pattern"],
        user_store::validate::NAME_PATTERN
    );
    assert_eq!(
        create["properties"]["email"]["pattern"],
        user_store::validate::EMAIL_PATTERN
    );
    let update = &doc["components"]["schemas"]["UpdateUserRequest"];
    assert_eq!(update["anyOf"].as_array().map(Vec::len), Some(2));
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            assert!(
                operation["responses"]["408"].is_object(),
                "{method} {path} does not document the request timeout"
            );
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_stalled_body_is_abandoned_with_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let state = Config {
        request_timeout: Duration::from_millis(300),
        ..Config::new(UserStore::empty())
    };
    let server = start_with(state).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    // Promise 100 bytes, send 10, then stall.
    stream
        .write_all(
            b"POST /api/users HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"name\": ",
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            response.extend_from_slice(&buf[..n]);
            if n == 0 || response.windows(1).any(|w| w == b"}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server answered within the timeout");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/json"), "{text}");
    assert!(text.contains("\"status\":\"error\""), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn self_test_suite_passes_and_cleans_up() {
    let server = start_with(Config::new(UserStore::new())).await;
    let client = server.client();
    let mut out = Vec::new();
    let summary = rest_lab::selftest::run_self_test(&client, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");
    assert_eq!(summary.total, 6);
    assert!(text.contains("Test Results: 6/6 Passed"), "{text}");
    // Only the demo users remain.
    assert_eq!(client.list_users_data().await.unwrap().len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn self_test_suite_fails_against_a_closed_port() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = RestClient::new(&url).unwrap();
    let mut out = Vec::new();
    let summary = rest_lab::selftest::run_self_test(&client, &mut out).await;
    assert_eq!(summary.passed, 0, "{}", String::from_utf8_lossy(&out));
    assert!(!summary.all_passed());
}

#[tokio::test]
async fn shutdown_lets_keep_alive_clients_go_and_stops_accepting() {
    let server = start_server().await;
    let client = server.client();
    client.health().await.unwrap();
    let addr = server.addr;
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .expect("shutdown completes despite an idle keep-alive connection");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_answers_every_request_the_client_already_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for _ in 0..5 {
        let mut server = start_server().await;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        // Three pipelined requests, the last one's body still on its way.
        let body = r#"{"name":"Late","email":"late@example.com"}"#;
        let head = format!(
            "GET /health HTTP/1.1\r\nhost: x\r\n\r\n\
             GET /api/users HTTP/1.1\r\nhost: x\r\n\r\n\
             POST /api/users HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{}",
            body.len(),
            &body[..10]
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        server.trigger_shutdown();
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream.write_all(&body.as_bytes()[10..]).await.unwrap();
        let mut seen = Vec::new();
        let end = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen))
            .await
            .expect("the server closed the connection");
        let seen = String::from_utf8_lossy(&seen);
        assert!(end.is_ok(), "{end:?} after {seen}");
        let statuses: Vec<_> = seen.matches("HTTP/1.1 ").collect();
        assert_eq!(statuses.len(), 3, "every request answered: {seen}");
        assert!(seen.contains("HTTP/1.1 201"), "{seen}");
        server.finished().await;
    }
}

#[tokio::test]
async fn shutdown_answers_a_request_sent_on_an_idle_kept_alive_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const GET: &[u8] = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n";
    for _ in 0..5 {
        let mut server = start_server().await;
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        stream.write_all(GET).await.unwrap();
        let mut first = [0; 12];
        stream.read_exact(&mut first).await.unwrap();
        // The connection is idle between requests when the stop and the next request
        // cross.
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream.write_all(GET).await.unwrap();
        server.trigger_shutdown();
        let mut seen = Vec::new();
        let end = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut seen))
            .await
            .expect("the server closed the connection");
        let seen = String::from_utf8_lossy(&seen);
        assert!(end.is_ok(), "{end:?} after {seen}");
        assert_eq!(seen.matches("HTTP/1.1 200").count(), 1, "answered: {seen}");
        server.finished().await;
    }
}

/// POSTs a raw body with the given Content-Type (none when empty).
async fn raw_post(url: &str, content_type: &str, body: &str) -> ApiReply {
    let http = reqwest::Client::new();
    let mut request = http.post(format!("{url}/api/users")).body(body.to_owned());
    if !content_type.is_empty() {
        request = request.header("content-type", content_type);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    ApiReply {
        status,
        content_type,
        location: None,
        body,
    }
}

#[tokio::test]
async fn a_client_stalling_in_its_headers_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let policy = HttpPolicy {
        header_timeout: Duration::from_millis(300),
        ..HttpPolicy::default()
    };
    let server = start_with_policy(Config::new(UserStore::empty()), policy).await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the server closed the connection in time");
    // Other clients are served all along.
    assert_eq!(
        server.client().health().await.unwrap().status,
        StatusCode::OK
    );
    server.shutdown().await;
}

/// The client keeps a reply's keys in the order the server sent them (what
/// `rest-client interactive` prints), not sorted.
#[tokio::test]
async fn replies_keep_the_wire_order_of_their_keys() {
    let server = start_server().await;
    let reply = server
        .client()
        .create_user("Wire Order", "order@example.com")
        .await
        .unwrap();
    let text = serde_json::to_string(&reply.body).unwrap();
    let at = |key: &str| text.find(&format!("\"{key}\"")).unwrap();
    assert!(at("status") < at("data"), "{text}");
    assert!(at("id") < at("name") && at("name") < at("email"), "{text}");
    assert!(at("email") < at("created_at"), "{text}");
    server.shutdown().await;
}
