//! Any body, any content type, against the JSON extractor and the user rules: the
//! answer is always our JSON envelope with a status the contract names, never a panic,
//! a 500 or axum's plain text.

use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use proptest::prelude::*;
use rest_lab::{Config, app};
use serde_json::Value;
use tower::ServiceExt;
use user_store::UserStore;

/// Bodies from the pieces JSON and the rules care about, and plain bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"",
        ":",
        ",",
        "\"name\"",
        "\"email\"",
        "null",
        "1",
        "\"Ada\"",
        "\"a@b.co\"",
        "\"\\u0000\"",
        "\"\\u202e\"",
        " ",
        "\"\"",
        "true",
    ]);
    prop_oneof![
        prop::collection::vec(piece, 0..20).prop_map(|p| p.concat().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(vec![
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("text/plain"),
        Some("application/vnd.api+json"),
        None,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        // Integration tests have no lib.rs beside them to keep failures by.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_body_gets_an_enveloped_answer_the_contract_names(
        body in body(),
        content_type in content_type(),
        put in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (status, reply) = runtime.block_on(async {
            let store = UserStore::new();
            let id = store.list()[0].id;
            let mut request = if put {
                Request::put(format!("/api/users/{id}"))
            } else {
                Request::post("/api/users")
            };
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            let response = app(Config::new(store))
                .oneshot(request.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes))
        });
        let reply = reply.expect("the answer is JSON");
        let allowed: &[u16] = if put { &[200, 400, 409, 415] } else { &[201, 400, 409, 415] };
        prop_assert!(allowed.contains(&status), "{status}: {reply}");
        let expected = if status < 300 { "success" } else { "error" };
        prop_assert_eq!(reply["status"].as_str(), Some(expected));
    }
}
