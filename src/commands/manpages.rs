//! `manpages DIR`: the man pages, generated from the command line's definitions.

use crate::cli::{Cli, ManpagesArgs};
use crate::error::{CommandResult, Failure};

/// Writes `apim-migrate.1` and `apim-migrate-COMMAND.1` for each command (and each
/// subcommand of one) into the directory, and lists them.
pub fn manpages(args: &ManpagesArgs) -> CommandResult {
    let mut command = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    // Built, every subcommand knows its full name (`apim-migrate-run`), which names its page.
    command.build();
    let mut pages = Vec::new();
    render(&command, &mut pages)
        .map_err(|error| Failure::bad_input(format!("cannot render the man pages: {error}")))?;
    crate::change::disk::write_files(&args.dir, &pages)
        .map_err(|error| Failure::bad_input_in(&args.dir, format!("{error:#}")))?;
    crate::outln!(
        "wrote {} man pages into `{}` (`man -l {}` reads one in place):",
        pages.len(),
        args.dir.display(),
        args.dir.join("apim-migrate.1").display()
    );
    for (name, _) in &pages {
        crate::outln!("  {name}");
    }
    Ok(())
}

/// The page of `command`, then those of its subcommands.
fn render(command: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    let mut page = Vec::new();
    man.render(&mut page)?;
    pages.push((man.get_filename(), page));
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        render(sub, pages)?;
    }
    Ok(())
}
