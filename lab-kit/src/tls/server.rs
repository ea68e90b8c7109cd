//! A server's side of TLS: the configuration every lab serves with (its certificate,
//! the protocols it offers by ALPN, client certificates when asked for), and the
//! handshake, bounded in time like everything else a client can hold open.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;

use super::certs::Identity;
use super::stream::{MaybeTls, ServerStream};
use super::{TlsError, provider};

/// How a server speaks TLS: made once at start-up, shared by every connection.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    client_certificates: bool,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("client_certificates", &self.client_certificates)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Serves `identity`, offering `alpn` (most preferred first; empty for none) and,
    /// with `client_ca`, asking every client for a certificate that CA signed (mutual
    /// TLS: a client without one is refused in the handshake).
    ///
    /// # Errors
    ///
    /// When the key does not match the certificate, or the client CA is unusable.
    pub fn new(
        identity: Identity,
        client_ca: Option<RootCertStore>,
        alpn: &[&[u8]],
    ) -> Result<Self, TlsError> {
        let provider = provider();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let client_certificates = client_ca.is_some();
        let builder = match client_ca {
            Some(roots) => builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| TlsError::ClientCa(e.to_string()))?,
            ),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_single_cert(identity.chain, identity.key)?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            client_certificates,
        })
    }

    /// Whether clients must show a certificate.
    pub fn asks_client_certificates(&self) -> bool {
        self.client_certificates
    }
}

/// The connection `io` as the server speaks it: with `tls`, after a handshake that must
/// finish within `limit` (a client that opens a connection and never finishes it is
/// closed, as one that never sends a request is); without, as it is.
///
/// # Errors
///
/// When the handshake fails (not TLS, an untrusted client certificate, no protocol in
/// common) or takes longer than `limit`.
pub async fn accept<S>(
    tls: Option<&ServerTls>,
    io: S,
    limit: Duration,
) -> std::io::Result<ServerStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(tls) = tls else {
        return Ok(MaybeTls::Plain(io));
    };
    match tokio::time::timeout(limit, tls.acceptor.accept(io)).await {
        Ok(Ok(stream)) => Ok(MaybeTls::Tls(Box::new(stream))),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("TLS handshake not finished within {limit:.0?}: connection closed"),
        )),
    }
}
