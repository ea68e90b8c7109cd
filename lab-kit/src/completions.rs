//! `completions <SHELL>`: every binary prints its own shell completions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

/// The `completions` subcommand's argument.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in: bash, zsh, fish, elvish or powershell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script of `C`'s command line for `shell` on stdout, for
/// example `rest-client completions bash > ~/.local/share/bash-completion/completions/rest-client`.
pub fn print_completions<C: CommandFactory>(args: &CompletionsArgs) {
    let mut command = C::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
}
