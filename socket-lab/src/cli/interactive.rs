//! `socket-client interactive`: each typed line is sent and its reply printed.

use std::process::ExitCode;
use std::time::Duration;

use lab_kit::term::{Printer, Prompt, Tone, paint};

use lab_kit::tls::ClientStream;
use tokio::net::TcpStream;

use crate::client::{Client, ClientError, Dial};

const HELP: &str = "\
Each line you type is sent to the server and its reply printed, upper-cased.
  help    this text
  quit    leave (Ctrl-D too; Ctrl-C leaves with status 130)
Up and Down recall earlier lines.";

/// Runs the prompt until Ctrl-D, `quit` or Ctrl-C. Fails (status 1) when every line
/// sent was refused, and ends at once if the connection breaks.
pub(crate) async fn run(dial: &Dial, timeout: Duration) -> anyhow::Result<ExitCode> {
    let addr = dial.addr.as_str();
    let mut client = Client::open(dial, timeout).await?;
    let (mut prompt, mut out) = Prompt::new("> ")?;
    out.line(format!(
        "Connected to {addr}. Type a line to upper-case it; `help` for more, Ctrl-D to leave."
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
        if !answer(&mut client, &line, &mut out).await? {
            refused += 1;
        }
    }
    Ok(if sent > 0 && refused == sent {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Sends one line and prints the reply; false when it was refused. A broken connection
/// ends the session.
async fn answer(
    client: &mut Client<ClientStream<TcpStream>>,
    line: &str,
    out: &mut Printer,
) -> anyhow::Result<bool> {
    match client.uppercase(line).await {
        Ok(reply) => {
            out.line(reply).await;
            Ok(true)
        }
        Err(ClientError::Refused(reason)) => {
            out.line(format!("{} {reason}", paint(Tone::Bad, "refused:")))
                .await;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}
