//! `udp-chat`: the UDP group chat at a terminal. Each line typed goes as one datagram
//! to every peer known; peers are also learned from whoever writes.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Printer, Prompt, Tone, paint};

use crate::udp_chat::{ChatError, ChatPeer, DEFAULT_MAX_PEERS, describe};

/// Default address the chat binds.
pub const DEFAULT_ADDR: &str = "0.0.0.0:8081";

/// UDP group chat: each line you type goes as one datagram to every peer you know;
/// peers are also learned from whoever writes to you.
#[derive(Debug, Parser)]
#[command(name = "udp-chat", version = lab_kit::build::VERSION)]
pub struct UdpChatCli {
    /// Address to bind: host:port, or a port for every interface (0 picks a free one).
    #[arg(long, alias = "port", env = "UDP_CHAT_ADDR", default_value = DEFAULT_ADDR,
          value_parser = lab_kit::args::listen_addr)]
    pub addr: String,
    /// A participant to write to, as host:port; repeat the flag for several.
    #[arg(long = "peer", value_name = "HOST:PORT")]
    pub peers: Vec<String>,
    /// Your name in the chat (default: user-PORT, the port bound).
    #[arg(long)]
    pub name: Option<String>,
    /// First send N numbered messages as fast as possible, to show what UDP loses.
    #[arg(long, value_name = "N")]
    pub flood: Option<u64>,
    /// Most peers kept (1 to 10000); a newcomer past them takes the place of the peer
    /// heard from least recently (never a --peer).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PEERS as u64,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_peers: u64,
    /// Something other than chatting.
    #[command(subcommand)]
    pub command: Option<UdpChatCommand>,
}

/// What `udp-chat` does instead of chatting.
#[derive(Debug, Clone, Subcommand)]
pub enum UdpChatCommand {
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs the chat until Ctrl-D or Ctrl-C; either way every peer is told you left.
///
/// # Errors
///
/// When the address cannot be bound or a peer address cannot be resolved; Ctrl-C
/// returns [`Interrupted`](lab_kit::term::Interrupted) (status 130).
pub async fn run(cli: UdpChatCli) -> anyhow::Result<ExitCode> {
    if let Some(UdpChatCommand::Completions(shell)) = &cli.command {
        print_completions::<UdpChatCli>(shell);
        return Ok(ExitCode::SUCCESS);
    }
    let max_peers = usize::try_from(cli.max_peers).unwrap_or(usize::MAX);
    anyhow::ensure!(
        cli.peers.len() <= max_peers,
        "{} --peer addresses but --max-peers {}: raise --max-peers",
        cli.peers.len(),
        cli.max_peers
    );
    let peer = ChatPeer::bind(cli.addr.as_str(), cli.name.clone())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot bind UDP {}: {e}; choose another with --addr",
                cli.addr
            )
        })?
        .with_max_peers(max_peers);
    for address in &cli.peers {
        let first = tokio::net::lookup_host(address.as_str())
            .await
            .ok()
            .and_then(|mut resolved| resolved.next())
            .ok_or_else(|| anyhow::anyhow!("cannot resolve peer {address}: check the host name"))?;
        let _ = peer.add_peer(first);
    }
    let peer = Arc::new(peer);
    let (mut prompt, mut out) = Prompt::new("")?;
    out.line(format!(
        "UDP chat on {} as {}; peers: {}. Type to talk; Ctrl-D leaves.",
        peer.local_addr()?,
        peer.name(),
        if cli.peers.is_empty() {
            "none yet (they are learned from who writes to you)".to_owned()
        } else {
            cli.peers.join(", ")
        }
    ))
    .await;
    peer.join().await?;
    let receiving = tokio::spawn(show_incoming(Arc::clone(&peer), out.clone()));

    if let Some(count) = cli.flood {
        flood(&peer, count, &mut out).await?;
    }
    let ended = talk(&peer, &mut prompt, &mut out).await;
    // Tell the others on the way out, whether by Ctrl-D or Ctrl-C.
    peer.leave().await?;
    receiving.abort();
    out.line("* you left the chat").await;
    drop(prompt);
    ended.map(|()| ExitCode::SUCCESS)
}

async fn talk(peer: &ChatPeer, prompt: &mut Prompt, out: &mut Printer) -> anyhow::Result<()> {
    while let Some(line) = prompt.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        match peer.say(&line).await {
            Ok(()) => {}
            Err(e @ ChatError::TooLong { .. }) => out.line(format!("! {e}")).await,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn show_incoming(peer: Arc<ChatPeer>, mut out: Printer) {
    loop {
        match peer.receive().await {
            Ok(events) => {
                for event in &events {
                    out.line(describe(event)).await;
                }
            }
            Err(e) => {
                out.line(paint(Tone::Bad, format!("! receiving failed: {e}")))
                    .await;
                break;
            }
        }
    }
}

/// Sends `count` numbered messages back to back and says how it went: UDP takes them
/// all at once; the receivers' `lost` lines show what the network or their buffers
/// dropped.
async fn flood(peer: &ChatPeer, count: u64, out: &mut Printer) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut failed = 0u64;
    for i in 1..=count {
        if peer.say(&format!("flood #{i} of {count}")).await.is_err() {
            failed += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    out.line(format!(
        "* flood: sent {} of {count} messages in {:.1} ms ({:.0} per second){}; \
         receivers report any they lost",
        count - failed,
        secs * 1e3,
        (count - failed) as f64 / secs.max(1e-9),
        if failed > 0 {
            format!(", {failed} refused by the local socket")
        } else {
            String::new()
        }
    ))
    .await;
    Ok(())
}
