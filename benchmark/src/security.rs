//! What `--tls` and `--auth` put between the benchmark's clients and its embedded
//! servers: one private CA made for the run, each server's certificate and ALPN, the
//! clients' trust in that CA (with or without session resumption), and a bearer token
//! made for the run.

use anyhow::Context as _;
use lab_kit::tls::{ClientTls, SelfSigned, ServerTls};
use lab_kit::token::{Bearer, Token};

/// How a server is started beyond the defaults: TLS with the run's certificate, a
/// token on writes, its Prometheus metrics on; none by default (`Guard::default()` is
/// cleartext, open, unmetered).
#[derive(Debug, Clone, Default)]
pub(crate) struct Guard {
    /// TLS, when `--tls`.
    pub tls: Option<ServerTls>,
    /// The token writes need, when `--auth`.
    pub token: Option<Token>,
    /// Metrics counted as a lab server with `--metrics` counts them (`benchmark serve
    /// --metrics`, `benchmark cost --metrics`: what they cost a request).
    pub metrics: Option<lab_kit::metrics::ServerMetrics>,
}

/// The run's TLS and token, made once.
#[derive(Debug, Default)]
pub(crate) struct Security {
    ca: Option<SelfSigned>,
    resumption: bool,
    token: Option<(Token, Bearer)>,
}

impl Security {
    /// With `tls`, a new CA and a certificate for this machine's loopback names;
    /// `resumption`: whether clients resume sessions; with `auth`, a random token.
    ///
    /// # Errors
    ///
    /// When the certificate cannot be made.
    pub(crate) fn new(tls: bool, resumption: bool, auth: bool) -> anyhow::Result<Self> {
        let ca = if tls {
            Some(SelfSigned::generate(&[]).context("cannot make the run's TLS certificate")?)
        } else {
            None
        };
        let token = auth.then(|| {
            // 122 random bits from the operating system, as 32 hex digits.
            let secret = uuid::Uuid::new_v4().simple().to_string();
            let token = Token::parse(&secret).expect("hex digits are a valid token");
            let bearer = Bearer::parse(&secret).expect("hex digits are a valid token");
            (token, bearer)
        });
        Ok(Security {
            ca,
            resumption,
            token,
        })
    }

    /// Whether servers and clients speak TLS.
    pub(crate) fn tls(&self) -> bool {
        self.ca.is_some()
    }

    /// What a server offering `alpn` (most preferred first; empty for none) serves with.
    ///
    /// # Errors
    ///
    /// When rustls refuses the certificate (it does not: rcgen just made it).
    pub(crate) fn guard(&self, alpn: &[&[u8]]) -> anyhow::Result<Guard> {
        let tls = match &self.ca {
            Some(ca) => Some(
                ServerTls::new(ca.server.clone(), None, alpn)
                    .context("cannot serve the run's TLS certificate")?,
            ),
            None => None,
        };
        Ok(Guard {
            tls,
            token: self.token.as_ref().map(|(token, _)| token.clone()),
            metrics: None,
        })
    }

    /// How a client asking for `alpn` speaks TLS: trusting the run's CA, resuming
    /// sessions unless `--tls-resumption off`; `None` in cleartext.
    ///
    /// # Errors
    ///
    /// When rustls refuses the configuration (it does not for a CA rcgen made).
    pub(crate) fn client(&self, alpn: &[&[u8]]) -> anyhow::Result<Option<ClientTls>> {
        let Some(ca) = &self.ca else {
            return Ok(None);
        };
        let tls = ClientTls::new(Some(ca.roots()), None, alpn)
            .context("cannot trust the run's TLS certificate")?;
        Ok(Some(if self.resumption {
            tls
        } else {
            tls.without_resumption()
        }))
    }

    /// The token clients present, when `--auth`.
    pub(crate) fn bearer(&self) -> Option<&Bearer> {
        self.token.as_ref().map(|(_, bearer)| bearer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_the_clients_present_is_the_one_the_servers_take() {
        let security = Security::new(false, true, true).unwrap();
        let guard = security.guard(&[]).unwrap();
        let bearer = security.bearer().unwrap();
        let header = bearer.header_value();
        assert!(guard.token.unwrap().matches_bearer(Some(header.as_bytes())));
        assert!(guard.tls.is_none() && security.client(&[]).unwrap().is_none());
        let other = Security::new(false, true, true).unwrap();
        assert_ne!(other.bearer().unwrap().secret(), bearer.secret());
    }

    #[test]
    fn without_flags_nothing_is_guarded() {
        let security = Security::new(false, true, false).unwrap();
        let guard = security.guard(lab_kit::tls::ALPN_H2).unwrap();
        assert!(guard.tls.is_none() && guard.token.is_none() && security.bearer().is_none());
        assert!(!security.tls());
    }
}
