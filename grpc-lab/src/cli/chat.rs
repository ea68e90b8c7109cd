//! `grpc-client chat`: the chat room at a terminal. Lines typed are sent; everyone's
//! messages, and the room's notices of who joins and leaves, appear above the input.

use std::process::ExitCode;

use lab_kit::term::{Printer, Prompt, Tone, chat_time, paint};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;

use crate::chat::SERVER_SENDER;
use crate::client::GrpcClient;
use crate::pb;

/// Chats until Ctrl-D (status 0) or Ctrl-C (130). When the server ends the chat (it
/// stopped, or went away), says so and fails (status 1).
pub(crate) async fn run(client: &mut GrpcClient, name: &str) -> anyhow::Result<ExitCode> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    // The server's refusal (a name taken, a full room) in its own words, not tonic's
    // rendering of the status.
    let room = client
        .chat_as(name, ReceiverStream::new(rx))
        .await
        .map_err(|status| {
            anyhow::anyhow!(
                "cannot join the chat room: {} ({:?})",
                status.message(),
                status.code()
            )
        })?;
    let (mut prompt, mut out) = Prompt::new("")?;
    out.line(format!(
        "Joined the chat room at {} as {name}. Type to talk; Ctrl-D leaves.",
        client.url()
    ))
    .await;
    let mut shown = tokio::spawn(show_room(room, out.clone(), name.to_owned()));
    loop {
        let line = tokio::select! {
            line = prompt.next_line() => line?,
            ended = &mut shown => {
                let why = ended.unwrap_or_else(|e| format!("the chat stopped: {e}"));
                anyhow::bail!(why);
            }
        };
        let Some(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let message = pb::ChatMessage {
            sender: name.to_owned(),
            content: line,
            timestamp: String::new(),
        };
        if tx.send(message).await.is_err() {
            break;
        }
    }
    drop(tx);
    shown.abort();
    Ok(ExitCode::SUCCESS)
}

/// Prints the room's messages until the server ends the stream, but `own` ones coming
/// back, which are on the screen already as typed (every chat of the workspace shows
/// your line once); returns why it ended.
async fn show_room(mut room: Streaming<pb::ChatMessage>, mut out: Printer, own: String) -> String {
    loop {
        match room.next().await {
            Some(Ok(message)) if message.sender == own => {}
            Some(Ok(message)) => out.line(describe(&message)).await,
            Some(Err(status)) => return format!("the server ended the chat: {}", status.message()),
            None => return "the server ended the chat (it stopped)".to_owned(),
        }
    }
}

/// `[HH:MM:SS] name: text`, the room's own notices set apart.
fn describe(message: &pb::ChatMessage) -> String {
    let time = paint(Tone::Quiet, format!("[{}]", chat_time(&message.timestamp)));
    if message.sender == SERVER_SENDER {
        format!(
            "{time} {}",
            paint(Tone::Note, format!("* {}", message.content))
        )
    } else {
        format!("{time} {}: {}", message.sender, message.content)
    }
}
