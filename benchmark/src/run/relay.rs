//! `benchmark relay --to HOST:PORT --link SPEC`: the emulated link in front of any
//! server, as a process of its own, so an outside client crosses the same network the
//! benchmark's rows do and the two can be held against each other.

use std::io::Write as _;

use anyhow::Context as _;

use crate::cli::RelayArgs;
use crate::network::relay::{Relay, Shared};
use crate::placement::CpuList;
use crate::run::serve::until_stopped;

/// Relays until Ctrl-C or SIGTERM.
///
/// # Errors
///
/// When the address cannot be bound or the signal handlers cannot be installed.
pub(crate) fn relay(args: &RelayArgs) -> anyhow::Result<()> {
    let cpus = CpuList(args.cpu.into_iter().collect());
    let relay = Relay::start_at(
        &args.addr,
        args.to.clone(),
        args.link,
        Shared::of(&args.link),
        &cpus,
    )
    .with_context(|| format!("cannot listen on {}", args.addr))?;
    println!("relay listening on {}", relay.addr());
    println!("to {} across {}", args.to, args.link.describe());
    std::io::stdout().flush().ok();
    until_stopped()?;
    drop(relay);
    Ok(())
}
