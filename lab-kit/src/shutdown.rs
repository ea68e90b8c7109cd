//! The stop signal every server binary waits on.

/// Completes when the process is asked to stop: Ctrl-C, or SIGTERM on Unix (what
/// `docker stop` and most service managers send).
///
/// Servers take their stop signal as a plain future, so tests pass a oneshot receiver
/// instead and binaries pass this.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, never complete: the process can still be
        // killed, and pretending a signal arrived would stop the server at once.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };

    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
