//! The flags that ask for TLS: a server's certificate (files, or one made at start-up),
//! client certificates it requires, and a client's trust and certificate.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::ServerLab;

use super::certs::{Identity, SelfSigned, read_roots};
use super::{ClientTls, ServerTls, TlsError};

/// How a lab server is asked to speak TLS (cleartext when none of these is given).
#[derive(Debug, Clone, Args)]
pub struct ServerTlsArgs<L: ServerLab> {
    /// Serve TLS with this certificate chain (PEM, leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", env = L::TLS_CERT_ENV, requires = "tls_key",
          conflicts_with = "tls_self_signed")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", env = L::TLS_KEY_ENV, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve TLS with a certificate made at start-up for localhost, 127.0.0.1, ::1 and
    /// every --tls-name, signed by a private CA whose certificate is written to
    /// --tls-ca-out (the log says where) for clients to trust with --ca.
    #[arg(long)]
    pub tls_self_signed: bool,
    /// Another name (host name or IP address) the self-signed certificate is valid
    /// for; repeat for more.
    #[arg(long, value_name = "NAME", requires = "tls_self_signed")]
    pub tls_name: Vec<String>,
    /// Where --tls-self-signed writes its CA's certificate [default: the system's
    /// temporary folder, commlab-SERVER-ca.pem].
    #[arg(long, value_name = "FILE", requires = "tls_self_signed")]
    pub tls_ca_out: Option<PathBuf>,
    /// Require every client to show a certificate this CA (PEM) signed: mutual TLS.
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// With --tls-self-signed: require client certificates from the server's own CA,
    /// and write one for clients (certificate and key, beside the CA's file).
    #[arg(long, requires = "tls_self_signed", conflicts_with = "tls_client_ca")]
    pub tls_require_client_cert: bool,
    #[arg(skip)]
    lab: PhantomData<L>,
}

impl<L: ServerLab> ServerTlsArgs<L> {
    /// Whether TLS was asked for.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some() || self.tls_self_signed
    }

    /// The TLS the flags ask for, offering the lab's ALPN, or `None` for cleartext. A
    /// self-signed set-up writes its files under the lab's binary name
    /// (`commlab-rest-server-ca.pem`) and logs where.
    ///
    /// # Errors
    ///
    /// When a file cannot be read or written, or the flags do not go together.
    pub fn server_tls(&self) -> Result<Option<ServerTls>, TlsError> {
        let (alpn, server) = (L::ALPN, L::BINARY);
        if !self.enabled() {
            if self.tls_client_ca.is_some() {
                return Err(TlsError::Usage(
                    "--tls-client-ca needs TLS: add --tls-cert FILE --tls-key FILE or \
                     --tls-self-signed"
                        .into(),
                ));
            }
            return Ok(None);
        }
        let client_ca = self.tls_client_ca.as_deref().map(read_roots).transpose()?;
        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => {
                ServerTls::new(Identity::from_pem_files(cert, key)?, client_ca, alpn)?
            }
            _ => {
                let made = SelfSigned::generate(&self.tls_name)?;
                let ca_path = self.tls_ca_out.clone().unwrap_or_else(|| {
                    std::env::temp_dir().join(format!("commlab-{server}-ca.pem"))
                });
                made.write_ca(&ca_path)?;
                tracing::info!(
                    names = %made.names.join(", "),
                    ca = %ca_path.display(),
                    "TLS with a self-signed certificate: clients trust it with --ca {}",
                    ca_path.display()
                );
                let client_ca = if self.tls_require_client_cert {
                    let (cert, key) = client_paths(&ca_path);
                    write_client(&made, &cert, &key)?;
                    tracing::info!(
                        cert = %cert.display(),
                        key = %key.display(),
                        "client certificates required: clients show one with --cert {} --key {}",
                        cert.display(),
                        key.display()
                    );
                    Some(made.roots())
                } else {
                    client_ca
                };
                ServerTls::new(made.server, client_ca, alpn)?
            }
        };
        if tls.asks_client_certificates() {
            tracing::info!("mutual TLS: a client without a certificate the CA signed is refused");
        }
        Ok(Some(tls))
    }
}

/// Where a self-signed server writes the client certificate and key for `ca`'s clients.
fn client_paths(ca: &Path) -> (PathBuf, PathBuf) {
    let stem = ca
        .file_name()
        .and_then(|n| n.to_str())
        .map_or("commlab", |n| {
            n.trim_end_matches(".pem").trim_end_matches("-ca")
        });
    (
        ca.with_file_name(format!("{stem}-client.pem")),
        ca.with_file_name(format!("{stem}-client-key.pem")),
    )
}

fn write_client(made: &SelfSigned, cert: &Path, key: &Path) -> Result<(), TlsError> {
    let (cert_pem, key_pem) = made.client_pem("commlab client")?;
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |source| TlsError::Write { path, source }
    };
    std::fs::write(cert, cert_pem).map_err(write_error(cert))?;
    write_private(key, key_pem.as_bytes()).map_err(write_error(key))
}

/// A private key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// How a lab client speaks TLS: whom it trusts, and the certificate it shows.
#[derive(Debug, Clone, Default, Args)]
pub struct ClientTlsArgs {
    /// Trust the CA in this PEM file (for a server's private or self-signed CA) instead
    /// of the system's CAs; used with https://, wss:// or tls:// URLs.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Show this certificate (PEM) to a server that requires one (mutual TLS); needs
    /// --key.
    #[arg(long, global = true, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM).
    #[arg(long, global = true, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl ClientTlsArgs {
    /// The client TLS the flags ask for, asking for `alpn`.
    ///
    /// # Errors
    ///
    /// When a file cannot be read, or there is no `--ca` and no system CA.
    pub fn client_tls(&self, alpn: &[&[u8]]) -> Result<ClientTls, TlsError> {
        let roots = self.ca.as_deref().map(read_roots).transpose()?;
        let identity = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(Identity::from_pem_files(cert, key)?),
            _ => None,
        };
        ClientTls::new(roots, identity, alpn)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    crate::server_lab!(
        TestServer,
        "COMMLAB_TLS_TEST_NOT_SET",
        "127.0.0.1:0",
        "Where to listen.",
        "test server",
        "test-server",
        crate::tls::ALPN_HTTP,
    );

    #[derive(Debug, Parser)]
    struct Server {
        #[command(flatten)]
        tls: ServerTlsArgs<TestServer>,
    }

    #[test]
    fn cleartext_unless_asked_and_a_client_ca_alone_is_a_usage_error() {
        let plain = Server::try_parse_from(["s"]).unwrap();
        assert!(plain.tls.server_tls().unwrap().is_none());
        let lonely = Server::try_parse_from(["s", "--tls-client-ca", "/nonexistent.pem"]).unwrap();
        let error = lonely.tls.server_tls().unwrap_err().to_string();
        assert!(error.contains("--tls-self-signed"), "{error}");
        // A key without its certificate is clap's to refuse.
        assert!(Server::try_parse_from(["s", "--tls-key", "k.pem"]).is_err());
    }

    #[test]
    fn self_signed_with_client_certificates_writes_what_a_client_needs() {
        let dir = std::env::temp_dir().join(format!("commlab-tls-args-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("lab-ca.pem");
        let args = Server::try_parse_from([
            "s",
            "--tls-self-signed",
            "--tls-name",
            "lab.example",
            "--tls-require-client-cert",
            "--tls-ca-out",
            ca.to_str().unwrap(),
        ])
        .unwrap();
        let tls = args.tls.server_tls().unwrap().unwrap();
        assert!(tls.asks_client_certificates());
        // The CA reads back as a trust root, and the client's files as an identity.
        assert_eq!(read_roots(&ca).unwrap().len(), 1);
        let (cert, key) = client_paths(&ca);
        assert_eq!(cert, dir.join("lab-client.pem"));
        assert!(Identity::from_pem_files(&cert, &key).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the client key is readable by others: {mode:o}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
