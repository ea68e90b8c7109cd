//! `grpc-peer`: one side of the peer-to-peer chat. Serves ChattingService on `--addr`
//! and talks to the other peer's at `--peer`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lab_kit::completions::{CompletionsArgs, print_completions};
use lab_kit::term::{Prompt, Tone, paint};

use crate::peer::{Peer, describe};

/// Peer-to-peer chat over gRPC: serves ChattingService on --addr and talks to the
/// other peer's at --peer. Start one peer in each of two terminals.
#[derive(Debug, Parser)]
#[command(name = "grpc-peer", version = lab_kit::build::VERSION, subcommand_negates_reqs = true)]
pub struct PeerCli {
    /// Your name in the chat.
    #[arg(long, required = true)]
    pub name: Option<String>,
    /// Address to serve ChattingService on: host:port, or a port for every interface.
    #[arg(long, alias = "listen", value_name = "ADDR", required = true,
          value_parser = lab_kit::args::listen_addr)]
    pub addr: Option<String>,
    /// The other peer: host:port or http://host:port.
    #[arg(long, alias = "connect", value_name = "URL", required = true,
          value_parser = lab_kit::args::cleartext_http_url)]
    pub peer: Option<String>,
    /// Something other than chatting.
    #[command(subcommand)]
    pub command: Option<PeerCommand>,
}

/// What `grpc-peer` does instead of chatting.
#[derive(Debug, Clone, Subcommand)]
pub enum PeerCommand {
    /// Print shell completions.
    Completions(CompletionsArgs),
}

/// Runs one chat peer until Ctrl-D (status 0) or Ctrl-C (130).
///
/// # Errors
///
/// When the address cannot be bound or the other peer's host does not resolve.
pub async fn run(cli: PeerCli) -> anyhow::Result<ExitCode> {
    let (Some(name), Some(addr), Some(other)) = (cli.name, cli.addr, cli.peer) else {
        if let Some(PeerCommand::Completions(shell)) = &cli.command {
            print_completions::<PeerCli>(shell);
        }
        return Ok(ExitCode::SUCCESS);
    };
    // A host that does not resolve would be retried forever: refuse it now.
    let authority = lab_kit::args::url_authority(&other);
    if tokio::net::lookup_host(authority.as_str()).await.is_err() {
        anyhow::bail!("cannot resolve the other peer {authority}: check the host name");
    }
    let listener = lab_kit::listen::bind(&addr, "chat peer").await?;
    let mut peer = Peer::start(&name, listener, &other)?;
    let (mut prompt, mut out) = Prompt::new("")?;
    out.line(format!("{name} listening on {}.", peer.local_addr()))
        .await;
    out.line(format!(
        "Waiting for the other peer at {other}... (Ctrl-C gives up)"
    ))
    .await;
    let other_name = loop {
        tokio::select! {
            found = peer.wait_for_other() => match found {
                Ok(other_name) => break other_name,
                Err(e) => {
                    peer.stop().await;
                    return Err(e.into());
                }
            },
            line = prompt.next_line() => match line {
                Ok(Some(_)) => out.line("not connected yet: that line was not sent").await,
                Ok(None) => {
                    peer.stop().await;
                    return Ok(ExitCode::SUCCESS);
                }
                Err(e) => {
                    peer.stop().await;
                    return Err(e.into());
                }
            },
        }
    };
    out.line(format!(
        "You are chatting with {other_name}. Type to talk; Ctrl-D leaves."
    ))
    .await;

    // Say when the other peer leaves and when it comes back.
    let mut presence = peer.presence();
    let mut notices = out.clone();
    let watched_name = other_name.clone();
    let watching = tokio::spawn(async move {
        let mut present = true;
        loop {
            present = presence.changed(present).await;
            let notice = if present {
                format!("* {watched_name} is back")
            } else {
                format!(
                    "* {watched_name} left (not answering): what you type is not delivered until it is back"
                )
            };
            notices.line(paint(Tone::Note, notice)).await;
        }
    });
    let mut inbox = peer.take_inbox();
    let mut shower = out.clone();
    let showing = tokio::spawn(async move {
        while let Some(message) = inbox.recv().await {
            shower.line(describe(&message)).await;
        }
    });
    let ended = loop {
        let line = match prompt.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break Ok(ExitCode::SUCCESS),
            Err(e) => break Err(e.into()),
        };
        if line.trim().is_empty() {
            continue;
        }
        match peer.send(&line).await {
            Ok(message) => out.line(describe(&message)).await,
            Err(_) => {
                let warning = format!("{other_name} unreachable: message not delivered");
                out.line(paint(Tone::Bad, warning)).await;
            }
        }
    };
    showing.abort();
    watching.abort();
    drop(prompt);
    peer.stop().await;
    ended
}
