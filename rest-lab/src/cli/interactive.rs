//! `rest-client interactive`: a prompt for every route of the API.

use std::process::ExitCode;

use lab_kit::term::{Lab, Printer, Prompt, Tone, explain_failure, paint};
use serde_json::Value;
use user_store::UserUpdate;

use crate::client::{ApiReply, RestClient, RestError};

const HELP: &str = "\
commands:
  list                                   GET    /api/users
  get ID                                 GET    /api/users/ID
  create NAME EMAIL                      POST   /api/users
  update ID [--name NAME] [--email E]    PUT    /api/users/ID
  delete ID                              DELETE /api/users/ID
  search QUERY                           GET    /api/users/search?q=QUERY
  help                                   this list
  quit                                   leave (Ctrl-D too; Ctrl-C leaves with status 130)
Quote words with spaces: create \"Ada Lovelace\" ada@example.com
Up and Down recall earlier lines.";

/// Runs the prompt until Ctrl-D, `quit` or Ctrl-C. Fails (status 1) when every
/// request sent failed to get an answer.
pub(crate) async fn run(client: &RestClient) -> anyhow::Result<ExitCode> {
    let (mut prompt, mut out) = Prompt::new("> ")?;
    out.line(format!(
        "REST client for {}. Type `help` for commands.",
        client.base_url()
    ))
    .await;
    let (mut sent, mut failed) = (0, 0);
    while let Some(words) = prompt.next_words(&mut out).await? {
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let reply = match words.as_slice() {
            ["quit" | "exit"] => break,
            ["help"] => {
                out.line(HELP).await;
                continue;
            }
            ["list"] => client.list_users().await,
            ["get", id] => client.get_user(id).await,
            ["create", name, email] => client.create_user(name, email).await,
            ["update", id, options @ ..] => match UserUpdate::from_flags(options) {
                Ok(update) => {
                    let (name, email) = (update.name.as_deref(), update.email.as_deref());
                    client.update_user(id, name, email).await
                }
                Err(e) => {
                    out.line(format!("{e}; usage: update ID [--name NAME] [--email E]"))
                        .await;
                    continue;
                }
            },
            ["delete", id] => client.delete_user(id).await,
            ["search", query] => client.search(Some(query)).await,
            [command, ..] => {
                out.line(usage(command)).await;
                continue;
            }
            [] => continue,
        };
        sent += 1;
        if !show(reply, client, &mut out).await {
            failed += 1;
        }
    }
    Ok(if sent > 0 && failed == sent {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// What to type instead, for a command given the wrong words.
fn usage(command: &str) -> String {
    let known = HELP
        .lines()
        .map(str::trim_start)
        .find(|line| line.split_whitespace().next() == Some(command));
    match known {
        Some(line) => {
            let form: Vec<&str> = line.split("  ").take(1).collect();
            format!("usage: {}", form.join(""))
        }
        None => format!("unknown command {command:?}; type `help`"),
    }
}

/// Prints a reply (status, then the body as sent, pretty-printed); false when no
/// answer came, said in one line with the next step when the reason is that the REST
/// server is not what answers (nothing listens, or another kind of server).
async fn show(reply: Result<ApiReply, RestError>, client: &RestClient, out: &mut Printer) -> bool {
    match reply {
        Ok(reply) => {
            let tone = if reply.status.is_success() {
                Tone::Good
            } else {
                Tone::Bad
            };
            let body = if reply.body == Value::Null {
                String::new()
            } else {
                // serde_json keeps the keys in the order the server sent them.
                serde_json::to_string_pretty(&reply.body).unwrap_or_default()
            };
            out.line(format!("{}\n{body}", paint(tone, reply.status)))
                .await;
            true
        }
        Err(e) => {
            let explained = match &e {
                RestError::Http { .. } => {
                    let base = client.base_url();
                    let authority = base
                        .split_once("://")
                        .map_or(base, |(_, rest)| rest)
                        .trim_end_matches('/');
                    explain_failure(Lab::Rest, authority, client.timeout()).await
                }
                _ => None,
            };
            let text = explained.unwrap_or_else(|| e.to_string());
            out.line(format!("{} {text}", paint(Tone::Bad, "error:")))
                .await;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_command_with_wrong_words_shows_its_usage() {
        assert_eq!(usage("get"), "usage: get ID");
        assert_eq!(
            usage("update"),
            "usage: update ID [--name NAME] [--email E]"
        );
        assert!(usage("fly").contains("unknown command"));
    }
}
