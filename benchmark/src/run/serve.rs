//! `benchmark serve LAB`: one of the servers the benchmark embeds, as a process of its
//! own. The floor's echo deployed beside external servers (so x floor divides by the
//! same network path), and every server under `benchmark cost`'s instruction counter.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;

use crate::adapters::{LABS, floor};
use crate::placement::{CpuList, available_cpus};
use crate::servers::EmbeddedServer;
use crate::settings::Lab;

/// What `benchmark serve` takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The server: `floor` (the echo every row is divided by), `socket`, `rest`,
    /// `grpc` or `ws` (each lab's server as the benchmark embeds it).
    #[arg(value_enum)]
    pub lab: ServedLab,
    /// Where to listen; port 0 picks a free one. The address is printed on the first
    /// line of standard output.
    #[arg(long, env = "SERVE_ADDR", default_value = "127.0.0.1:7070")]
    pub addr: String,
    /// The floor's echo looks this long for the next request before it sleeps, in
    /// microseconds (the embedded floor's 200; 0 never looks).
    #[arg(long, default_value_t = 200)]
    pub spin_us: u64,
    /// CPUs for the server's runtime, one worker thread pinned to each (like 1 or
    /// 2-3); every CPU this process may use when left out.
    #[arg(long, value_name = "LIST", value_parser = CpuList::parse)]
    pub cpus: Option<CpuList>,
}

/// A server `benchmark serve` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ServedLab {
    /// The floor's echo.
    Floor,
    /// The socket lab.
    Socket,
    /// The REST lab.
    Rest,
    /// The gRPC lab.
    Grpc,
    /// The WebSocket lab.
    Ws,
}

impl ServedLab {
    fn lab(self) -> Lab {
        match self {
            ServedLab::Floor => Lab::Floor,
            ServedLab::Socket => Lab::Socket,
            ServedLab::Rest => Lab::Rest,
            ServedLab::Grpc => Lab::Grpc,
            ServedLab::Ws => Lab::Ws,
        }
    }
}

/// Serves until Ctrl-C or SIGTERM, then stops cleanly (so a profiler around the process
/// writes its counts).
///
/// # Errors
///
/// When the address cannot be bound or the signal handlers cannot be installed.
pub(crate) fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let lab = args.lab.lab();
    let server = LABS
        .iter()
        .find(|server| server.key == lab)
        .context("no such server")?;
    floor::set_spin(Duration::from_micros(args.spin_us));
    let cpus = args
        .cpus
        .clone()
        .unwrap_or_else(|| CpuList(available_cpus()));
    let running = EmbeddedServer::start_at(server, &args.addr, &cpus)
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!("{} listening on {}", server.name, running.addr());
    std::io::stdout().flush().ok();
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    signals.block_on(async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        anyhow::Ok(())
    })?;
    drop(running);
    Ok(())
}
