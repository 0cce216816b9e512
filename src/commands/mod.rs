//! One file per subcommand: arguments in, a request to the library, the report out. With
//! `report`, the only layer that prints.

mod check;
mod defs;
pub mod demo;
mod detect;
mod docs;
mod history;
mod path;
pub mod repl;
mod rollback;
mod run;

mod scripts;

use crate::cli::{Cli, Command};
use crate::error::{CommandResult, Failure};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parses the command line, runs the command, prints the error that ends it, and gives the
/// exit code (see `error::Failure`).
pub fn main() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    crate::report::log::init(cli.verbose, cli.quiet);
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            crate::report::error(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

pub fn dispatch(cli: Cli) -> CommandResult {
    let verbose = cli.verbose > 0;
    match cli.command {
        Command::Run(args) => run::run(&args, true, verbose, cli.quiet),
        Command::Plan(args) => run::run(&args, false, verbose, cli.quiet),
        Command::Rollback(args) => rollback::rollback(&args),
        Command::History(args) => history::history(&args),
        Command::Detect(args) => detect::detect(&args),
        Command::Scripts(args) => scripts::scripts(&args),
        Command::Path(args) => path::path(&args),
        Command::Demo(args) => demo::demo(args.dir.as_deref()),
        Command::Docs(args) => docs::docs(&args),
        Command::Check(args) => check::check(&args),
        Command::Repl(args) => repl::repl(&args, verbose),
        Command::Defs(args) => defs::defs(&args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "apim-migrate", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
    }
}

/// The canonical path of a target pack directory given with `flag`.
fn canonical(flag: &str, dir: &Path) -> CommandResult<PathBuf> {
    let home = dir.canonicalize().map_err(|error| {
        Failure::bad_input(format!(
            "{flag}: cannot open `{}`: {error} (give the home directory of a target pack)",
            dir.display()
        ))
    })?;
    if !home.is_dir() {
        return Err(Failure::bad_input(format!(
            "{flag}: `{}` is not a directory (give the home directory of a target pack)",
            dir.display()
        )));
    }
    Ok(home)
}
