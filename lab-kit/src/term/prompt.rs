//! The line prompt of the clients' interactive modes and chats.
//!
//! On a terminal it is a line editor (rustyline-async): arrows move and recall history,
//! and lines printed through the [`Printer`] while the person types appear above the
//! input line instead of over it. When standard input or output is not a terminal (a
//! pipe, a test), lines are read plainly and printed plainly.
//!
//! Ctrl-D (end of input) ends the session normally; Ctrl-C ends it with
//! [`Interrupted`], which [`exit_code`](super::exit_code) turns into exit status 130.

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use rustyline_async::{Readline, ReadlineError, ReadlineEvent, SharedWriter};
use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};

use super::Interrupted;

/// Why the prompt could not give a line.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The person pressed Ctrl-C.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
    /// The terminal failed.
    #[error("terminal: {0}")]
    Io(#[from] io::Error),
}

/// Reads typed lines until Ctrl-D or Ctrl-C.
pub struct Prompt {
    input: Input,
    // The editor stops (`Closed`) once every writer is gone; it keeps one of its own.
    _writer: Option<SharedWriter>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

enum Input {
    Editor(Readline),
    Lines(Lines<BufReader<Stdin>>, Interrupts),
}

/// Ctrl-C when the input is not a terminal: SIGINT, caught from the moment the prompt
/// exists (so one pressed before the first read is not lost).
#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);
#[cfg(not(unix))]
struct Interrupts;

impl Interrupts {
    fn catch() -> io::Result<Interrupts> {
        #[cfg(unix)]
        return Ok(Interrupts(tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::interrupt(),
        )?));
        #[cfg(not(unix))]
        return Ok(Interrupts);
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        self.0.recv().await;
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Input::Editor(_) => "Editor",
            Input::Lines(..) => "Lines",
        })
    }
}

/// Prints whole lines to the person: above the input line while a [`Prompt`] edits it,
/// on standard output otherwise. Cheap to clone.
#[derive(Clone)]
pub struct Printer(Option<SharedWriter>);

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Printer(editor)"
        } else {
            "Printer(stdout)"
        })
    }
}

/// Lines the editor keeps for Up and Down.
const HISTORY: usize = 500;

impl Prompt {
    /// A prompt shown as `marker` (`"> "`, or `""` in a chat where other lines arrive
    /// while the person types), and the printer to use while it is open.
    ///
    /// # Errors
    ///
    /// When the terminal cannot be put in the editor's mode.
    pub fn new(marker: &str) -> io::Result<(Prompt, Printer)> {
        if io::stdin().is_terminal() && io::stdout().is_terminal() {
            let (mut editor, writer) = Readline::new(marker.to_owned()).map_err(into_io)?;
            editor.set_max_history(HISTORY);
            // Ctrl-C leaves no half-typed line behind.
            editor.should_print_line_on(true, false);
            Ok((
                Prompt {
                    input: Input::Editor(editor),
                    _writer: Some(writer.clone()),
                },
                Printer(Some(writer)),
            ))
        } else {
            let lines = BufReader::new(tokio::io::stdin()).lines();
            Ok((
                Prompt {
                    input: Input::Lines(lines, Interrupts::catch()?),
                    _writer: None,
                },
                Printer(None),
            ))
        }
    }

    /// Waits for the next line; `Ok(None)` at Ctrl-D (end of input).
    ///
    /// # Errors
    ///
    /// [`PromptError::Interrupted`] at Ctrl-C; [`PromptError::Io`] when the terminal fails.
    pub async fn next_line(&mut self) -> Result<Option<String>, PromptError> {
        match &mut self.input {
            Input::Editor(editor) => match editor.readline().await {
                Ok(ReadlineEvent::Line(line)) => {
                    if !line.trim().is_empty() {
                        editor.add_history_entry(line.clone());
                    }
                    Ok(Some(line))
                }
                Ok(ReadlineEvent::Eof) => Ok(None),
                Ok(ReadlineEvent::Interrupted) => Err(Interrupted.into()),
                Err(e) => Err(into_io(e).into()),
            },
            Input::Lines(lines, interrupts) => tokio::select! {
                line = lines.next_line() => Ok(line?),
                () = interrupts.next() => Err(Interrupted.into()),
            },
        }
    }

    /// Like [`next_line`](Self::next_line), split into words by
    /// [`split_words`](super::split_words). Blank lines are skipped, and a line with an
    /// open quote is reported and skipped, so a command loop only sees commands.
    ///
    /// # Errors
    ///
    /// As [`next_line`](Self::next_line).
    pub async fn next_words(
        &mut self,
        printer: &mut Printer,
    ) -> Result<Option<Vec<String>>, PromptError> {
        while let Some(line) = self.next_line().await? {
            match super::split_words(&line) {
                Ok(words) if words.is_empty() => continue,
                Ok(words) => return Ok(Some(words)),
                Err(e) => printer.line(e).await,
            }
        }
        Ok(None)
    }
}

impl Drop for Prompt {
    fn drop(&mut self) {
        // Print what is still queued before the terminal leaves the editor's mode.
        if let Input::Editor(editor) = &mut self.input {
            let _ = editor.flush();
        }
    }
}

impl Printer {
    /// A printer to standard output, for code that runs without a prompt.
    pub fn stdout() -> Printer {
        Printer(None)
    }

    /// Prints `text` (one or more lines) as one block.
    pub async fn line(&mut self, text: impl Display) {
        let mut block = text.to_string();
        block.push('\n');
        match &mut self.0 {
            None => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(block.as_bytes());
                let _ = out.flush();
            }
            Some(writer) => {
                // The editor's queue is bounded: when it is full, wait for the editor
                // to print some (it does so while it waits for input).
                // A refused write keeps the block in the writer; an empty write
                // offers it again.
                let mut result = writer.write(block.as_bytes());
                while matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    result = writer.write(&[]);
                }
                // Any other error: the prompt is gone, nothing left to print on.
            }
        }
    }
}

fn into_io(error: ReadlineError) -> io::Error {
    match error {
        ReadlineError::IO(e) => e,
        other => io::Error::other(other.to_string()),
    }
}
