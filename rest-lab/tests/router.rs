//! The router in memory, with `oneshot`: no socket, so these show what the app alone
//! answers, headers included.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rest_lab::{Config, app};
use serde_json::Value;
use tower::ServiceExt;
use user_store::UserStore;

async fn call(request: Request<Body>) -> (StatusCode, Option<String>, Option<String>, Value) {
    let response = app(Config::new(UserStore::new()))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let header_text = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let location = header_text(header::LOCATION);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        location,
        serde_json::from_slice(&bytes).unwrap(),
    )
}

#[tokio::test]
async fn post_sets_location_and_json() {
    let request = Request::post("/api/users")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"name": "Ada", "email": "ada@example.com"}"#))
        .unwrap();
    let (status, content_type, location, body) = call(request).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let id = body["data"]["id"].as_str().unwrap();
    assert_eq!(location, Some(format!("/api/users/{id}")));
}

#[tokio::test]
async fn rejections_never_use_axums_plain_text() {
    let cases = [
        (
            Request::post("/api/users").body(Body::from("{}")).unwrap(),
            415,
        ),
        (
            Request::post("/api/users")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{oops"))
                .unwrap(),
            400,
        ),
        (
            Request::post("/api/users")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"name": {"first": "Ada"}}"#))
                .unwrap(),
            400,
        ),
        (Request::get("/nowhere").body(Body::empty()).unwrap(), 404),
        (Request::put("/api/users").body(Body::empty()).unwrap(), 405),
        (
            Request::get("/api/users/search?q=")
                .body(Body::empty())
                .unwrap(),
            400,
        ),
    ];
    for (request, expected) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, content_type, _, body) = call(request).await;
        assert_eq!(status.as_u16(), expected, "{what}: {body}");
        assert_eq!(content_type.as_deref(), Some("application/json"), "{what}");
        assert_eq!(body["status"], "error", "{what}");
    }
}
