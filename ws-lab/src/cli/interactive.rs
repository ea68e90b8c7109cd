//! `ws-client interactive`: each typed line is sent on one kept-open echo connection.

use std::process::ExitCode;
use std::time::Duration;

use lab_kit::term::{Prompt, Tone, paint};

use crate::client::{ECHO_PATH, WsClient, WsError};

const HELP: &str = "\
Each line you type is sent on the open WebSocket and its reply printed, upper-cased.
  help    this text
  quit    leave (Ctrl-D too; Ctrl-C leaves with status 130)
Up and Down recall earlier lines.";

/// Runs the prompt until Ctrl-D, `quit` or Ctrl-C. Fails (status 1) when every line
/// sent was refused; ends at once if the connection closes.
pub(crate) async fn run(
    url: &str,
    timeout: Duration,
    tls: Option<&lab_kit::tls::ClientTls>,
) -> anyhow::Result<ExitCode> {
    let mut client = WsClient::open(&format!("{url}{ECHO_PATH}"), timeout, tls).await?;
    let (mut prompt, mut out) = Prompt::new("> ")?;
    out.line(format!(
        "Connected to {url}{ECHO_PATH}. Type a line to upper-case it; `help` for more, Ctrl-D to leave."
    ))
    .await;
    let (mut sent, mut refused) = (0, 0);
    while let Some(line) = prompt.next_line().await? {
        match line.trim() {
            "" => continue,
            "quit" | "exit" => break,
            "help" => {
                out.line(HELP).await;
                continue;
            }
            _ => {}
        }
        sent += 1;
        match client.uppercase(&line).await {
            Ok(reply) => out.line(reply).await,
            Err(WsError::Refused(reason)) => {
                refused += 1;
                out.line(format!("{} {reason}", paint(Tone::Bad, "refused:")))
                    .await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    client.close().await;
    Ok(if sent > 0 && refused == sent {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
