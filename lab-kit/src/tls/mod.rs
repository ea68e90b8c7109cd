//! TLS for every lab, through rustls (no OpenSSL, no system libraries) with the *ring*
//! crypto provider, which builds in seconds where aws-lc-rs compiles a C library for
//! minutes on two cores.
//!
//! - [`certs`]: certificates and keys from PEM files, or a private CA made at start-up
//!   ([`SelfSigned`]);
//! - [`server`]: what a server serves with ([`ServerTls`]) and the bounded handshake
//!   ([`accept`]); [`MaybeTls`] is an accepted connection either way;
//! - [`client`]: whom a client trusts and the certificate it shows ([`ClientTls`]),
//!   a connection opened with or without it ([`connect`]), and a failed handshake said
//!   in words ([`explain`]);
//! - [`args`]: the flags that ask for all of it.

pub mod args;
pub mod certs;
pub mod client;
pub mod server;
mod stream;

use std::path::PathBuf;
use std::sync::Arc;

pub use args::{ClientTlsArgs, ServerTlsArgs};
pub use certs::{Identity, SelfSigned};
pub use client::{ClientTls, connect, explain};
pub use server::{ServerTls, accept};
pub use stream::{ClientStream, MaybeTls, ServerStream};

/// ALPN for a server of HTTP/2 and HTTP/1.1 on one port (the REST lab).
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN for HTTP/2 only (gRPC).
pub const ALPN_H2: &[&[u8]] = &[b"h2"];
/// ALPN for HTTP/1.1 only (the WebSocket lab's upgrades).
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];

/// The crypto every TLS configuration here uses: *ring*'s. Also installed as the
/// process's default (once), for libraries that build a configuration of their own
/// (reqwest does for every client, even one that only speaks `http://`).
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    install_default_provider();
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes *ring* the process's default rustls provider, unless one already is.
pub fn install_default_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another provider installed first is fine: it is only a default.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or held nothing usable.
    #[error("cannot read {what} from {}: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was looked for in it.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A name a certificate cannot be checked against.
    #[error("{0:?} is neither a host name nor an IP address")]
    Name(String),
    /// rustls refused the configuration (a key that does not match its certificate).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// rcgen could not make a certificate.
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The client CA cannot verify client certificates.
    #[error("the client CA cannot be used: {0}")]
    ClientCa(String),
    /// No system trust roots: `--ca` is needed.
    #[error("no system CA certificates to trust ({0}): pass the server's CA with --ca FILE")]
    NoSystemRoots(String),
    /// Flags that do not go together.
    #[error("{0}")]
    Usage(String),
}
