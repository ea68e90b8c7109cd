//! A client's side of TLS: whom it trusts (a private CA from `--ca`, or the system's
//! roots), the certificate it shows under mutual TLS, the protocols it asks for by ALPN,
//! and a failed handshake said in one line with the next step.

use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::certs::Identity;
use super::stream::{ClientStream, MaybeTls};
use super::{TlsError, provider};

/// How a client speaks TLS: made once, shared by every connection it opens (so a
/// reconnection can resume the session the last one made).
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("alpn", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Trusts `roots` (the system's when `None`), shows `identity` when a server asks
    /// for a client certificate, and asks for `alpn` (most preferred first).
    ///
    /// # Errors
    ///
    /// When the system has no roots to read, or the client key does not match.
    pub fn new(
        roots: Option<RootCertStore>,
        identity: Option<Identity>,
        alpn: &[&[u8]],
    ) -> Result<Self, TlsError> {
        let roots = match roots {
            Some(roots) => roots,
            None => system_roots()?,
        };
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(identity) => builder.with_client_auth_cert(identity.chain, identity.key)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(ClientTls {
            config: Arc::new(config),
        })
    }

    /// The rustls configuration, for libraries that take one (reqwest, hyper).
    pub fn config(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }

    /// This configuration asking for `alpn` instead (most preferred first).
    pub fn with_alpn(&self, alpn: &[&[u8]]) -> ClientTls {
        let mut config = (*self.config).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        ClientTls {
            config: Arc::new(config),
        }
    }

    /// This configuration handing each session's secrets to `log` (as `SSLKEYLOGFILE`
    /// does for Wireshark): for tools that decrypt what they recorded, never for a
    /// client that talks to anyone else.
    pub fn with_key_log(&self, log: Arc<dyn rustls::KeyLog>) -> ClientTls {
        let mut config = (*self.config).clone();
        config.key_log = log;
        ClientTls {
            config: Arc::new(config),
        }
    }

    /// This configuration with session resumption off: every handshake a full one.
    pub fn without_resumption(&self) -> ClientTls {
        let mut config = (*self.config).clone();
        config.resumption = rustls::client::Resumption::disabled();
        ClientTls {
            config: Arc::new(config),
        }
    }

    /// A TLS session over `io` to `host` (a name or an IP address; the certificate must
    /// be valid for it).
    ///
    /// # Errors
    ///
    /// When `host` is not a name TLS can check, or the handshake fails ([`explain`]
    /// says why in words).
    pub async fn connect<S>(&self, host: &str, io: S) -> std::io::Result<TlsStream<S>>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = server_name(host)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        TlsConnector::from(Arc::clone(&self.config))
            .connect(name, io)
            .await
    }
}

/// A connection to `authority` (`host:port`): TCP with `TCP_NODELAY`, then a TLS
/// handshake when `tls` is given, both within `timeout`.
///
/// # Errors
///
/// When the name does not resolve, nothing accepts, the handshake fails ([`explain`]
/// says why in words) or `timeout` passes.
pub async fn connect(
    authority: &str,
    tls: Option<&ClientTls>,
    timeout: std::time::Duration,
) -> std::io::Result<ClientStream<tokio::net::TcpStream>> {
    let open = async {
        let tcp = tokio::net::TcpStream::connect(authority).await?;
        tcp.set_nodelay(true)?;
        match tls {
            None => Ok(MaybeTls::Plain(tcp)),
            Some(tls) => {
                let host = authority
                    .rsplit_once(':')
                    .map_or(authority, |(host, _)| host);
                Ok(MaybeTls::Tls(Box::new(tls.connect(host, tcp).await?)))
            }
        }
    };
    tokio::time::timeout(timeout, open).await.map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no connection to {authority} within {timeout:.0?}"),
        )
    })?
}

/// The name a certificate is checked against: `host` without an IPv6 literal's brackets.
///
/// # Errors
///
/// When `host` is neither a DNS name nor an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_owned()).map_err(|_| TlsError::Name(host.to_owned()))
}

/// The system's trust roots (the certificates under `/etc/ssl/certs` on Debian, or
/// where `SSL_CERT_FILE` / `SSL_CERT_DIR` point).
///
/// # Errors
///
/// When none can be read.
pub fn system_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (_added, _ignored) = roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        let why = found
            .errors
            .first()
            .map_or_else(|| "none found".to_owned(), ToString::to_string);
        return Err(TlsError::NoSystemRoots(why));
    }
    Ok(roots)
}

/// The rustls error somewhere in `error`'s chain (an `io::Error` carries it inside, not
/// as its source).
pub fn rustls_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(inner);
        }
        next = error.source();
    }
    None
}

/// One line for a failed TLS handshake with `authority` that says what to do, or `None`
/// when `error` is not one this can explain.
pub fn explain(error: &(dyn std::error::Error + 'static), authority: &str) -> Option<String> {
    let line = match rustls_error(error)? {
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer | CertificateError::BadSignature,
        ) => format!(
            "{authority}'s certificate is not signed by a CA this client trusts: pass that CA's \
             certificate with --ca FILE (a server started with --tls-self-signed logs where it \
             wrote its CA)"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => {
            let presented = match rustls_error(error) {
                Some(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForNameContext { presented, .. },
                )) => format!(" (it names {})", presented.join(", ")),
                _ => String::new(),
            };
            format!(
                "{authority}'s certificate is not valid for the name connected to{presented}: \
                 connect by a name it lists, or give the server's certificate this name \
                 (--tls-name with --tls-self-signed)"
            )
        }
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => format!("{authority}'s certificate has expired: the server needs a new one"),
        rustls::Error::InvalidCertificate(other) => {
            format!("{authority}'s certificate is refused ({other:?})")
        }
        rustls::Error::InvalidMessage(_) | rustls::Error::PeerIncompatible(_) => format!(
            "{authority} does not answer in TLS (a cleartext server?): connect without TLS \
             (http://, ws://, host:port) or to the server's TLS port"
        ),
        rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::HandshakeFailure,
        ) => format!(
            "{authority} refused the handshake: it asks for a client certificate its CA signed \
             (pass --cert FILE --key FILE)"
        ),
        rustls::Error::NoApplicationProtocol
        | rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => {
            format!(
                "{authority} speaks none of the protocols this client asks for by ALPN: is it \
                 another lab's server?"
            )
        }
        _ => return None,
    };
    Some(line)
}
