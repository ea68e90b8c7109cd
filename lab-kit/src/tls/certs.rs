//! Certificates and keys: read from PEM files, or made at start-up by rcgen (a private
//! CA and a server certificate it signs), so a lab can speak TLS with no files and a
//! client can trust it with the CA's certificate alone. The CA's key lives only in the
//! server's memory and dies with it, so its certificates keep rcgen's open-ended
//! validity rather than an expiry that a long-running lab would outlive.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::TlsError;

/// A certificate chain (leaf first) and the private key of its leaf: what a server
/// shows, or a client shows under mutual TLS.
#[derive(Debug)]
pub struct Identity {
    /// The leaf certificate, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl Identity {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// # Errors
    ///
    /// When a file cannot be read or holds no certificate or no key.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        Ok(Identity {
            chain: read_certificates(cert)?,
            key: PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Pem {
                path: key.to_owned(),
                what: "a private key",
                reason: e.to_string(),
            })?,
        })
    }
}

/// Every certificate in a PEM file.
///
/// # Errors
///
/// When the file cannot be read, or holds none.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |reason: String| TlsError::Pem {
        path: path.to_owned(),
        what: "a certificate",
        reason,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error("no CERTIFICATE block in it".into()));
    }
    Ok(chain)
}

/// The CAs in a PEM file, as trust roots (`--ca`, `--tls-client-ca`).
///
/// # Errors
///
/// When the file cannot be read, holds no certificate, or one is not a CA rustls takes.
pub fn read_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for certificate in read_certificates(path)? {
        roots.add(certificate).map_err(|e| TlsError::Pem {
            path: path.to_owned(),
            what: "a CA certificate",
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// A private CA made at start-up and a server certificate it signed: what
/// `--tls-self-signed` serves with, and what tests and the benchmark trust.
pub struct SelfSigned {
    ca: CertifiedIssuer<'static, KeyPair>,
    /// The server's certificate and key.
    pub server: Identity,
    /// The names the server certificate is valid for.
    pub names: Vec<String>,
}

impl std::fmt::Debug for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys stay out of logs.
        f.debug_struct("SelfSigned")
            .field("names", &self.names)
            .finish_non_exhaustive()
    }
}

impl SelfSigned {
    /// A new CA and a server certificate for `localhost`, `127.0.0.1`, `::1` and
    /// `names` (host names or IP addresses).
    ///
    /// # Errors
    ///
    /// When a name is neither a DNS name nor an IP address.
    pub fn generate(names: &[String]) -> Result<Self, TlsError> {
        let mut all: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        for name in names {
            if !all.contains(name) {
                all.push(name.clone());
            }
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.distinguished_name = name("commlab local CA");
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;

        let (server, _) = issue(
            &ca,
            &all,
            "commlab server",
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        Ok(SelfSigned {
            ca,
            server,
            names: all,
        })
    }

    /// The CA's certificate, PEM: what a client passes with `--ca`.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// The CA's certificate, as a trust root.
    pub fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        // A certificate rcgen just made is one rustls reads.
        let _ = roots.add(self.ca.der().clone());
        roots
    }

    /// A client certificate the same CA signed, for mutual TLS (tests, the benchmark).
    ///
    /// # Errors
    ///
    /// When rcgen cannot make it (never for a plain name).
    pub fn client(&self, name: &str) -> Result<Identity, TlsError> {
        issue(
            &self.ca,
            &[name.to_owned()],
            name,
            ExtendedKeyUsagePurpose::ClientAuth,
        )
        .map(|(identity, _)| identity)
    }

    /// The same as [`client`](Self::client), as PEM text: the certificate, then the key.
    ///
    /// # Errors
    ///
    /// When rcgen cannot make it (never for a plain name).
    pub fn client_pem(&self, name: &str) -> Result<(String, String), TlsError> {
        issue(
            &self.ca,
            &[name.to_owned()],
            name,
            ExtendedKeyUsagePurpose::ClientAuth,
        )
        .map(|(_, pem)| pem)
    }

    /// Writes the CA's certificate to `path` (through a file beside it, renamed into
    /// place, so a reader never sees half of it).
    ///
    /// # Errors
    ///
    /// When the file cannot be written.
    pub fn write_ca(&self, path: &Path) -> Result<(), TlsError> {
        let write_error = |source| TlsError::Write {
            path: path.to_owned(),
            source,
        };
        let partial = partial_path(path);
        let mut file = std::fs::File::create(&partial).map_err(write_error)?;
        file.write_all(self.ca_pem().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(write_error)?;
        std::fs::rename(&partial, path).map_err(write_error)
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

fn name(common: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common);
    name
}

/// A leaf certificate for `names`, signed by `ca`, for `usage`; also as PEM (certificate,
/// key).
fn issue(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[String],
    common: &str,
    usage: ExtendedKeyUsagePurpose,
) -> Result<(Identity, (String, String)), TlsError> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    for name in names {
        params.subject_alt_names.push(match name.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(
                name.clone()
                    .try_into()
                    .map_err(|_| TlsError::Name(name.clone()))?,
            ),
        });
    }
    params.distinguished_name = name(common);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let certificate = params.signed_by(&key, ca)?;
    let pem = (certificate.pem(), key.serialize_pem());
    let identity = Identity {
        chain: vec![certificate.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    };
    Ok((identity, pem))
}
