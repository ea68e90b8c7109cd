//! The gRPC lab over TLS (ALPN h2) and with a bearer token on writes.

mod common;

use std::time::Duration;

use common::start_with;
use grpc_lab::client::Access;
use grpc_lab::selftest::run_self_test_over;
use grpc_lab::{Config, GrpcClient, HttpPolicy};
use lab_kit::tls::{ALPN_H2, ClientTls, SelfSigned, ServerTls};
use lab_kit::token::{Bearer, Token};
use tonic::Code;
use user_store::UserStore;

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_self_test_passes_over_tls_with_the_servers_ca() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_with(Config {
        policy: HttpPolicy {
            tls: Some(ServerTls::new(made.server.clone(), None, ALPN_H2).unwrap()),
            ..HttpPolicy::default()
        },
        ..Config::new(UserStore::new())
    })
    .await;
    let url = server.url.replace("http://", "https://");
    let access = Access {
        tls: Some(ClientTls::new(Some(made.roots()), None, &[]).unwrap()),
        token: None,
    };
    let mut out = Vec::new();
    let summary = run_self_test_over(&url, TIMEOUT, &access, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");

    // The same port in cleartext is refused by the handshake, not served.
    let plain = GrpcClient::connect(&server.url, TIMEOUT).await;
    let failed = match plain {
        Err(_) => true,
        Ok(mut client) => client.get_all_users().await.is_err(),
    };
    assert!(failed, "cleartext was served on the TLS port");
    server.shutdown().await;
}

#[tokio::test]
async fn writes_without_the_token_are_unauthenticated_and_reads_pass() {
    let server = start_with(Config {
        auth_token: Some(Token::parse("class-of-2026").unwrap()),
        ..Config::new(UserStore::new())
    })
    .await;
    let mut anonymous = server.client().await;
    assert_eq!(anonymous.get_all_users().await.unwrap().len(), 2);
    let refused = anonymous
        .create_user("Eve", "eve@example.com")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(refused.message().contains("--token"), "{refused:?}");
    let refused = anonymous.delete_user("not-an-id").await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");

    let wrong = Access {
        tls: None,
        token: Some(Bearer::parse("class-of-2025").unwrap()),
    };
    let mut wrong = GrpcClient::open(&server.url, TIMEOUT, &wrong)
        .await
        .unwrap();
    let refused = wrong
        .create_user("Eve", "eve@example.com")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);

    let holder = Access {
        tls: None,
        token: Some(Bearer::parse("class-of-2026").unwrap()),
    };
    let mut holder = GrpcClient::open(&server.url, TIMEOUT, &holder)
        .await
        .unwrap();
    let created = holder.create_user("Eve", "eve@example.com").await.unwrap();
    assert_eq!(created.name, "Eve");
    holder.delete_user(&created.id).await.unwrap();
    server.shutdown().await;
}
