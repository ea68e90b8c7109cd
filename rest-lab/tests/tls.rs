//! The REST lab over TLS (both HTTP versions on one port, picked by ALPN), with client
//! certificates, and with a bearer token on writes.

mod common;

use std::time::Duration;

use common::start_with;
use lab_kit::term::{Lab, explained_over};
use lab_kit::tls::{ALPN_HTTP, ClientTls, SelfSigned, ServerTls};
use lab_kit::token::{Bearer, Token};
use rest_lab::client::ClientOptions;
use rest_lab::selftest::run_self_test;
use rest_lab::{Config, HttpPolicy, RestClient};
use user_store::UserStore;

const TIMEOUT: Duration = Duration::from_secs(5);

fn tls_config(made: &SelfSigned, client_ca: bool) -> Config {
    let roots = client_ca.then(|| made.roots());
    Config {
        policy: HttpPolicy {
            tls: Some(ServerTls::new(made.server.clone(), roots, ALPN_HTTP).unwrap()),
            ..Config::new(UserStore::empty()).policy
        },
        ..Config::new(UserStore::empty())
    }
}

fn https_client(url: &str, tls: ClientTls, http2: bool, token: Option<Bearer>) -> RestClient {
    let options = ClientOptions {
        timeout: TIMEOUT,
        http2,
        tls: Some(tls),
        token,
        ..ClientOptions::default()
    };
    RestClient::with_options(&url.replace("http://", "https://"), &options).unwrap()
}

#[tokio::test]
async fn the_self_test_passes_over_https_in_both_http_versions() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_with(tls_config(&made, false)).await;
    for http2 in [false, true] {
        let tls = ClientTls::new(Some(made.roots()), None, &[]).unwrap();
        let client = https_client(&server.url, tls, http2, None);
        let mut out = Vec::new();
        let summary = run_self_test(&client, &mut out).await;
        let text = String::from_utf8(out).unwrap();
        assert!(summary.all_passed(), "http2 {http2}: {text}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn alpn_picks_h2_or_http1_on_the_same_port() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_with(tls_config(&made, false)).await;
    let addr = server.addr.to_string();
    for (asked, agreed) in [
        (&[&b"h2"[..], b"http/1.1"][..], &b"h2"[..]),
        (&[&b"http/1.1"[..]][..], &b"http/1.1"[..]),
    ] {
        let tls = ClientTls::new(Some(made.roots()), None, asked).unwrap();
        let stream = lab_kit::tls::connect(&addr, Some(&tls), TIMEOUT)
            .await
            .unwrap();
        assert_eq!(stream.alpn(), Some(agreed));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_certificate_and_serves_one_with() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_with(tls_config(&made, true)).await;

    let anonymous = ClientTls::new(Some(made.roots()), None, &[]).unwrap();
    let client = https_client(&server.url, anonymous, false, None);
    let addr = server.addr.to_string();
    let result = client
        .health()
        .await
        .map_err(|e| rest_lab::cli::client::handshake_explained(e, &addr));
    let error = explained_over(result, Lab::Rest, &addr, TIMEOUT, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("--cert FILE --key FILE"), "{error}");

    let identity = made.client("a student").unwrap();
    let certified = ClientTls::new(Some(made.roots()), Some(identity), &[]).unwrap();
    let client = https_client(&server.url, certified, false, None);
    assert!(client.health().await.unwrap().status.is_success());
    server.shutdown().await;
}

#[tokio::test]
async fn writes_without_the_token_get_401_and_reads_pass() {
    let server = start_with(Config {
        auth_token: Some(Token::parse("class-of-2026").unwrap()),
        ..Config::new(UserStore::new())
    })
    .await;
    let anonymous = server.client();
    assert_eq!(anonymous.list_users().await.unwrap().status, 200);
    let refused = anonymous
        .create_user("Eve", "eve@example.com")
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    assert!(
        refused.message().contains("bearer token"),
        "{:?}",
        refused.body
    );
    // The header says what to send.
    let raw = reqwest::Client::new()
        .delete(format!("{}/api/users/x", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    assert_eq!(
        raw.headers()["www-authenticate"],
        r#"Bearer realm="commlab""#
    );

    let wrong = RestClient::with_options(
        &server.url,
        &ClientOptions {
            token: Some(Bearer::parse("class-of-2025").unwrap()),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        wrong
            .create_user("Eve", "eve@example.com")
            .await
            .unwrap()
            .status,
        401
    );

    let holder = RestClient::with_options(
        &server.url,
        &ClientOptions {
            token: Some(Bearer::parse("class-of-2026").unwrap()),
            ..ClientOptions::default()
        },
    )
    .unwrap();
    let created = holder.create_user("Eve", "eve@example.com").await.unwrap();
    assert_eq!(created.status, 201, "{:?}", created.body);
    server.shutdown().await;
}

#[tokio::test]
async fn a_handshake_that_never_finishes_is_closed_within_the_idle_timeout() {
    let made = SelfSigned::generate(&[]).unwrap();
    let idle = Duration::from_millis(300);
    let mut config = tls_config(&made, false);
    config.policy.idle_timeout = idle;
    let server = start_with(config).await;
    let closed = lab_kit::stalled_handshake_closed_after(server.addr, Duration::from_secs(30))
        .await
        .expect("the stalled handshake was never closed");
    assert!(closed >= idle, "closed before the idle timeout");
    server.shutdown().await;
}
