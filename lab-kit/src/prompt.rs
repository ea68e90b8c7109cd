//! The line prompt of the clients' interactive modes.

use std::io::{self, Write};

use tokio::io::{AsyncBufReadExt, BufReader, Lines, Stdin};

/// Reads typed lines after a `> ` prompt until Ctrl-D (end of input) or Ctrl-C.
#[derive(Debug)]
pub struct Prompt {
    lines: Lines<BufReader<Stdin>>,
    marker: &'static str,
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::new()
    }
}

impl Prompt {
    /// A prompt on standard input, shown as `> `.
    pub fn new() -> Self {
        Prompt {
            lines: BufReader::new(tokio::io::stdin()).lines(),
            marker: "> ",
        }
    }

    /// A prompt that shows no marker, for modes where other output arrives while the
    /// person types (a chat), so the marker would only get in the way.
    pub fn unmarked() -> Self {
        Prompt {
            marker: "",
            ..Prompt::new()
        }
    }

    /// Prints the prompt and waits for a line; `None` when the person leaves
    /// (Ctrl-D or Ctrl-C), after printing a farewell.
    ///
    /// # Errors
    ///
    /// When standard input or output fails.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        if !self.marker.is_empty() {
            print!("{}", self.marker);
            io::stdout().flush()?;
        }
        let line = tokio::select! {
            line = self.lines.next_line() => line?,
            _ = tokio::signal::ctrl_c() => None,
        };
        if line.is_none() {
            println!("\nBye.");
        }
        Ok(line)
    }

    /// Like [`next_line`](Self::next_line), split into words by
    /// [`split_words`](crate::split_words). Blank lines are skipped, and a line with an
    /// open quote is reported and skipped, so a command loop only sees commands.
    ///
    /// # Errors
    ///
    /// When standard input or output fails.
    pub async fn next_words(&mut self) -> io::Result<Option<Vec<String>>> {
        while let Some(line) = self.next_line().await? {
            match crate::split_words(&line) {
                Ok(words) if words.is_empty() => continue,
                Ok(words) => return Ok(Some(words)),
                Err(e) => println!("{e}"),
            }
        }
        Ok(None)
    }
}
