//! `benchmark serve LAB`: one of the servers the benchmark embeds, as a process of its
//! own. The floor's echo deployed beside external servers (so x floor divides by the
//! same network path), and every server under `benchmark cost`'s instruction counter.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;

use crate::adapters::{LABS, floor};
use crate::cli::ServeArgs;
use crate::placement::{CpuList, available_cpus};
use crate::security::Guard;
use crate::servers::EmbeddedServer;

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
    let running = EmbeddedServer::start_at(
        server,
        &args.addr,
        &cpus,
        args.single_thread,
        Guard {
            metrics: args.metrics.then(lab_kit::metrics::ServerMetrics::new),
            ..Guard::default()
        },
    )
    .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!("{} listening on {}", server.name, running.addr());
    std::io::stdout().flush().ok();
    until_stopped()?;
    drop(running);
    Ok(())
}

/// Blocks until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the signal handlers cannot be installed.
pub(crate) fn until_stopped() -> anyhow::Result<()> {
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
    })
}
