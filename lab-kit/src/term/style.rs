//! Colour on a terminal only: none when output goes to a pipe or a file, or when
//! `NO_COLOR` is set (anstream reads the environment the way other tools do).

use std::fmt::Display;
use std::sync::OnceLock;

use anstream::ColorChoice;
use anstyle::{AnsiColor, Style};

/// What a piece of text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// A pass, a success.
    Good,
    /// A failure, an error.
    Bad,
    /// Something to notice: a notice from a server, a warning.
    Note,
    /// Less important: times, decoration.
    Quiet,
}

/// `text` in its tone's colour when standard output takes colour, plain otherwise.
pub fn paint(tone: Tone, text: impl Display) -> String {
    if !colour() {
        return text.to_string();
    }
    let style = match tone {
        Tone::Good => Style::new().fg_color(Some(AnsiColor::Green.into())),
        Tone::Bad => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
        Tone::Note => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Tone::Quiet => Style::new().dimmed(),
    };
    format!("{style}{text}{style:#}")
}

fn colour() -> bool {
    static COLOUR: OnceLock<bool> = OnceLock::new();
    *COLOUR.get_or_init(|| {
        !matches!(
            anstream::AutoStream::choice(&std::io::stdout()),
            ColorChoice::Never
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_colour_when_output_is_not_a_terminal() {
        // Test output is captured, never a terminal.
        assert_eq!(paint(Tone::Good, "ok"), "ok");
    }
}
