//! Lab servers started in-process, each on a runtime of its own.
//!
//! The server gets its own OS threads (a multi-threaded tokio runtime sized to the CPUs
//! the process may use), apart from the client threads, so an embedded server competes
//! for the CPU the way a separate process would, not by sharing the client's runtime.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;
use user_store::UserStore;

use crate::settings::Protocol;

/// A lab server running in this process until dropped.
#[derive(Debug)]
pub struct EmbeddedServer {
    protocol: Protocol,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedServer {
    /// Starts `protocol`'s server on `127.0.0.1:0`, with the usual demo users.
    ///
    /// # Errors
    ///
    /// When no port can be bound or the runtime cannot be built.
    pub fn start(protocol: Protocol) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(format!("embedded-{}", protocol.key()))
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("embedded-{}", protocol.key()))
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    let shutdown = async move {
                        let _ = stopped.await;
                    };
                    let result = match protocol {
                        Protocol::Socket => {
                            socket_lab::run(listener, socket_lab::ServerConfig::default(), shutdown)
                                .await
                                .map_err(|e| e.to_string())
                        }
                        Protocol::Rest => rest_lab::run(
                            listener,
                            rest_lab::AppState::new(UserStore::new()),
                            rest_lab::ServerConfig {
                                drain_timeout: Duration::from_secs(1),
                            },
                            shutdown,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                        Protocol::Grpc => grpc_lab::run(
                            listener,
                            grpc_lab::UserService::new(UserStore::new()),
                            Duration::from_secs(1),
                            shutdown,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                    };
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "embedded {} server failed", protocol.key());
                    }
                });
                // Connections still open are dropped with the runtime, without waiting.
                runtime.shutdown_background();
            })?;
        Ok(EmbeddedServer {
            protocol,
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address clients use: `host:port` for the socket lab, a URL for the others.
    pub fn target(&self) -> String {
        match self.protocol {
            Protocol::Socket => self.addr.to_string(),
            Protocol::Rest | Protocol::Grpc => format!("http://{}", self.addr),
        }
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
