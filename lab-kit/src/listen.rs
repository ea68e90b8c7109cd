//! Binding a server's address, with an error a person can act on.

use tokio::net::TcpListener;

/// Binds `addr` (as [`listen_addr`](crate::args::listen_addr) reads it) and logs where
/// `server` listens.
///
/// # Errors
///
/// When the address cannot be bound, saying why and what to try.
pub async fn bind(addr: &str, server: &str) -> anyhow::Result<TcpListener> {
    bind_flag(addr, server, "--addr").await
}

/// As [`bind`], for an address another flag gave (`--metrics-addr`), which the advice
/// names.
///
/// # Errors
///
/// When the address cannot be bound, saying why and what to try.
pub async fn bind_flag(addr: &str, server: &str, flag: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        let advice = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                format!(": something already listens there (another server?); choose another with {flag}")
            }
            std::io::ErrorKind::PermissionDenied => {
                format!(": ports below 1024 need privileges; choose a higher one with {flag}")
            }
            _ => String::new(),
        };
        anyhow::anyhow!("cannot listen on {addr}: {e}{advice}")
    })?;
    tracing::info!(addr = %listener.local_addr()?, "{server} listening");
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_address_says_what_to_do() {
        let taken = bind("127.0.0.1:0", "test").await.unwrap();
        let addr = taken.local_addr().unwrap().to_string();
        let error = bind(&addr, "test").await.unwrap_err().to_string();
        assert!(
            error.contains(&format!("cannot listen on {addr}")),
            "{error}"
        );
        assert!(error.contains("--addr"), "{error}");
    }
}
