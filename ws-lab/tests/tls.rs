//! The WebSocket lab over TLS (wss://, ALPN http/1.1): the whole self-test, the chat
//! included, with the server's CA.

use std::time::Duration;

use lab_kit::SpawnedServer;
use lab_kit::tls::{ALPN_HTTP1, ClientTls, SelfSigned, ServerTls};
use ws_lab::Config;
use ws_lab::client::{ECHO_PATH, WsClient};
use ws_lab::selftest::run_self_test_over;

const TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn the_self_test_passes_over_wss_and_an_untrusted_certificate_is_said_so() {
    let made = SelfSigned::generate(&[]).unwrap();
    let mut config = Config::default();
    config.policy.tls = Some(ServerTls::new(made.server.clone(), None, ALPN_HTTP1).unwrap());
    let server = SpawnedServer::start(|listener, stop| ws_lab::run(listener, config, stop))
        .await
        .unwrap();
    let url = format!("wss://{}", server.addr());
    let trusted = ClientTls::new(Some(made.roots()), None, &[]).unwrap();
    let mut out = Vec::new();
    let summary = run_self_test_over(&url, TIMEOUT, Some(&trusted), &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");

    let other = SelfSigned::generate(&[]).unwrap();
    let untrusted = ClientTls::new(Some(other.roots()), None, &[]).unwrap();
    let error = WsClient::open(&format!("{url}{ECHO_PATH}"), TIMEOUT, Some(&untrusted))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("not signed by a CA this client trusts"),
        "{error}"
    );
    server.shutdown().await.unwrap().unwrap();
}
