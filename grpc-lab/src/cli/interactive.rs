//! `grpc-client interactive`: a prompt for every unary method and ListUsers.

use std::process::ExitCode;

use lab_kit::term::{Printer, Prompt, Tone, count, paint};
use tokio_stream::StreamExt;
use tonic::Status;
use user_store::UserUpdate;

use super::show;
use crate::client::GrpcClient;

const HELP: &str = "\
commands:
  all                                    GetAllUsers
  list [LIMIT]                           ListUsers (server streaming; 0 or none = all)
  get ID                                 GetUser
  create NAME EMAIL                      CreateUser
  update ID [--name NAME] [--email E]    UpdateUser (absent fields stay unchanged)
  delete ID                              DeleteUser
  help                                   this list
  quit                                   leave (Ctrl-D too; Ctrl-C leaves with status 130)
Quote words with spaces: create \"Ada Lovelace\" ada@example.com
Up and Down recall earlier lines.";

/// Runs the prompt until Ctrl-D, `quit` or Ctrl-C. Fails (status 1) when every call
/// made failed.
pub(crate) async fn run(client: &mut GrpcClient) -> anyhow::Result<ExitCode> {
    let (mut prompt, mut out) = Prompt::new("> ")?;
    out.line(format!(
        "gRPC client for {}. Type `help` for commands.",
        client.url()
    ))
    .await;
    let (mut calls, mut failed) = (0, 0);
    while let Some(words) = prompt.next_words(&mut out).await? {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let result: Result<String, Status> = match words.as_slice() {
            ["quit" | "exit"] => break,
            ["help"] => {
                out.line(HELP).await;
                continue;
            }
            ["all"] => client.get_all_users().await.map(|users| {
                let mut text = count(users.len(), "user", "users");
                users
                    .iter()
                    .for_each(|u| text.push_str(&format!("\n  {}", show(u))));
                text
            }),
            ["list"] => list(client, 0, &mut out).await,
            ["list", limit] => match limit.parse::<u32>() {
                Ok(limit) => list(client, limit, &mut out).await,
                Err(_) => {
                    out.line("LIMIT must be a whole number; usage: list [LIMIT]")
                        .await;
                    continue;
                }
            },
            ["get", id] => client.get_user(id).await.map(|u| show(&u)),
            ["create", name, email] => client
                .create_user(name, email)
                .await
                .map(|u| format!("created {}", show(&u))),
            ["update", id, options @ ..] => match UserUpdate::from_flags(options) {
                Ok(update) => client
                    .update_user(id, update.name.as_deref(), update.email.as_deref())
                    .await
                    .map(|u| format!("updated {}", show(&u))),
                Err(e) => {
                    out.line(format!("{e}; usage: update ID [--name NAME] [--email E]"))
                        .await;
                    continue;
                }
            },
            ["delete", id] => client.delete_user(id).await,
            [command, ..] => {
                out.line(usage(command)).await;
                continue;
            }
            [] => continue,
        };
        calls += 1;
        match result {
            Ok(text) => out.line(text).await,
            Err(status) => {
                failed += 1;
                let label = paint(Tone::Bad, format!("error {:?}:", status.code()));
                out.line(format!("{label} {}", status.message())).await;
            }
        }
    }
    Ok(if calls > 0 && failed == calls {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What to type instead, for a command given the wrong words.
fn usage(command: &str) -> String {
    HELP.lines()
        .map(str::trim_start)
        .find(|line| line.split_whitespace().next() == Some(command))
        .and_then(|line| line.split("  ").next())
        .map_or_else(
            || format!("unknown command {command:?}; type `help`"),
            |form| format!("usage: {form}"),
        )
}

/// Streams ListUsers, printing each user as it arrives.
async fn list(client: &mut GrpcClient, limit: u32, out: &mut Printer) -> Result<String, Status> {
    let mut stream = client.list_users(limit).await?;
    let mut streamed = 0;
    while let Some(user) = stream.next().await {
        out.line(format!("  {}", show(&user?))).await;
        streamed += 1;
    }
    Ok(format!("{} streamed", count(streamed, "user", "users")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_command_with_wrong_words_shows_its_usage() {
        assert_eq!(usage("get"), "usage: get ID");
        assert_eq!(usage("list"), "usage: list [LIMIT]");
        assert!(usage("fly").contains("unknown command"));
    }
}
