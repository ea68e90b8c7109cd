//! The socket lab over TLS: the self-test with the server's CA, and every way a TLS
//! connection goes wrong said in one line.

mod common;

use std::time::Duration;

use common::start_server;
use lab_kit::term::{Lab, explain_failure_over, explained_over};
use lab_kit::tls::{ClientTls, SelfSigned, ServerTls};
use rustls::RootCertStore;
use socket_lab::client::Dial;
use socket_lab::selftest::run_self_test_over;
use socket_lab::{Client, ServerConfig};

const TIMEOUT: Duration = Duration::from_secs(5);

fn tls_config(made: &SelfSigned) -> ServerConfig {
    ServerConfig {
        tls: Some(ServerTls::new(made.server.clone(), None, &[]).unwrap()),
        ..ServerConfig::default()
    }
}

fn trusting(roots: RootCertStore) -> Option<ClientTls> {
    Some(ClientTls::new(Some(roots), None, &[]).unwrap())
}

#[tokio::test]
async fn the_self_test_passes_over_tls_with_the_servers_ca() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_server(tls_config(&made)).await;
    let dial = Dial {
        addr: server.addr.to_string(),
        tls: trusting(made.roots()),
    };
    let mut out = Vec::new();
    let summary = run_self_test_over(&dial, TIMEOUT, &mut out).await;
    let text = String::from_utf8(out).unwrap();
    assert!(summary.all_passed(), "{text}");
    assert!(text.contains("TLS"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_and_a_cleartext_client_are_each_said_in_one_line() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_server(tls_config(&made)).await;
    let addr = server.addr.to_string();

    // A CA of another server's: not the one that signed this certificate.
    let other = SelfSigned::generate(&[]).unwrap();
    let dial = Dial {
        addr: addr.clone(),
        tls: trusting(other.roots()),
    };
    let result = Client::open(&dial, TIMEOUT)
        .await
        .map_err(anyhow::Error::from);
    let error = explained_over(result, Lab::Socket, &addr, TIMEOUT, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("not signed by a CA this client trusts"),
        "{error}"
    );
    assert!(error.contains("--ca FILE"), "{error}");

    // Cleartext against the TLS port.
    let line = explain_failure_over(Lab::Socket, &addr, TIMEOUT, false)
        .await
        .unwrap();
    assert!(
        line.contains(&format!("speaks TLS: connect to tls://{addr}")),
        "{line}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tls_against_a_cleartext_port_says_to_drop_tls() {
    let made = SelfSigned::generate(&[]).unwrap();
    let server = start_server(ServerConfig::default()).await;
    let addr = server.addr.to_string();
    let dial = Dial {
        addr: addr.clone(),
        tls: trusting(made.roots()),
    };
    let result = Client::open(&dial, TIMEOUT)
        .await
        .map_err(anyhow::Error::from);
    let error = explained_over(result, Lab::Socket, &addr, TIMEOUT, true)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("answers in cleartext, not TLS"), "{error}");
    assert!(error.contains(&format!("tcp://{addr}")), "{error}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_handshake_that_never_finishes_is_closed_within_the_idle_timeout() {
    let made = SelfSigned::generate(&[]).unwrap();
    let idle = Duration::from_millis(300);
    let server = start_server(ServerConfig {
        idle_timeout: idle,
        ..tls_config(&made)
    })
    .await;
    let closed = lab_kit::stalled_handshake_closed_after(server.addr, Duration::from_secs(30))
        .await
        .expect("the stalled handshake was never closed");
    assert!(closed >= idle, "closed before the idle timeout");
    server.shutdown().await;
}
