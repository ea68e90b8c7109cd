//! `ws-client chat`: the chat room at a terminal. What others say is pushed by the
//! server and appears above the line you are typing; nothing is polled.

use std::process::ExitCode;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lab_kit::term::{Prompt, Tone, chat_time, paint};
use tokio_tungstenite::tungstenite::Message;

use crate::client::CHAT_PATH;
use crate::event::Event;

/// Chats until Ctrl-D (status 0) or Ctrl-C (130). When the server closes the chat (it
/// stopped, or went away), says so and fails (status 1).
pub(crate) async fn run(
    url: &str,
    timeout: Duration,
    tls: Option<&lab_kit::tls::ClientTls>,
    name: &str,
) -> anyhow::Result<ExitCode> {
    let address = format!("{url}{CHAT_PATH}?name={}", encode(name));
    let stream = crate::client::open_stream(&address, timeout, tls).await?;
    let connecting = tokio_tungstenite::client_async(address.as_str(), stream);
    let (socket, _) = tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| anyhow::anyhow!("joining the chat at {url} timed out after {timeout:?}"))?
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot join the chat at {url}: {}",
                lab_kit::error_chain(&e)
            )
        })?;
    let (mut outgoing, mut incoming) = socket.split();
    let (mut prompt, mut out) = Prompt::new("")?;
    out.line(format!(
        "Joined the chat room at {url} as {name}. Type to talk; Ctrl-D leaves."
    ))
    .await;
    let printer = out.clone();
    let own = name.to_owned();
    let mut shown = tokio::spawn(async move {
        let mut printer = printer;
        loop {
            match incoming.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Some(line) = describe(&text, &own) {
                        printer.line(line).await;
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    let why = frame
                        .map(|f| format!(" ({} {})", f.code, f.reason))
                        .unwrap_or_default();
                    return format!("the server closed the chat{why}");
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return format!("the chat connection failed: {e}"),
                None => return "the server closed the chat".to_owned(),
            }
        }
    });
    loop {
        let line = tokio::select! {
            line = prompt.next_line() => line?,
            ended = &mut shown => anyhow::bail!(ended.unwrap_or_else(|e| e.to_string())),
        };
        let Some(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        if outgoing.send(Message::Text(line.into())).await.is_err() {
            break;
        }
    }
    let _ = outgoing.send(Message::Close(None)).await;
    shown.abort();
    Ok(ExitCode::SUCCESS)
}

/// One pushed event as a line: `[HH:MM:SS] name: text`, notices set apart; `None` for
/// `own` messages coming back, which are on the screen already as typed (every chat of
/// the workspace shows your line once, as the UDP chat does).
pub(crate) fn describe(text: &str, own: &str) -> Option<String> {
    let stamp = |t: &str| paint(Tone::Quiet, format!("[{}]", chat_time(t)));
    Some(match serde_json::from_str::<Event>(text) {
        Ok(Event::Message { sender, .. }) if sender == own => return None,
        Ok(Event::Message {
            sender,
            text,
            timestamp,
        }) => format!("{} {sender}: {text}", stamp(&timestamp)),
        Ok(Event::Join { sender, timestamp }) => {
            format!(
                "{} {}",
                stamp(&timestamp),
                paint(Tone::Note, format!("* {sender} joined the chat"))
            )
        }
        Ok(Event::Leave { sender, timestamp }) => {
            format!(
                "{} {}",
                stamp(&timestamp),
                paint(Tone::Note, format!("* {sender} left the chat"))
            )
        }
        Ok(Event::Notice { text }) => paint(Tone::Note, format!("! {text}")),
        Err(_) => paint(Tone::Bad, format!("? {text}")),
    })
}

/// `name` made safe for a query string (percent-encoding what is not unreserved).
pub(crate) fn encode(name: &str) -> String {
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn your_own_line_shows_once_and_everyone_elses_with_its_time() {
        let said = |sender: &str| {
            serde_json::to_string(&Event::Message {
                sender: sender.into(),
                text: "hi".into(),
                timestamp: "2026-12-02T16:00:00Z".into(),
            })
            .unwrap()
        };
        assert_eq!(describe(&said("ann"), "ann"), None, "typed already");
        let theirs = describe(&said("bob"), "ann").unwrap();
        assert!(theirs.ends_with("bob: hi"), "{theirs}");
        // Notices about yourself still show.
        let joined = serde_json::to_string(&Event::Join {
            sender: "ann".into(),
            timestamp: "2026-12-02T16:00:00Z".into(),
        })
        .unwrap();
        assert!(
            describe(&joined, "ann")
                .unwrap()
                .contains("ann joined the chat")
        );
    }
}
