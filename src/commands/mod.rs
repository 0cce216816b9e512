//! One file per subcommand: arguments in, a request to the library, the report out. With
//! `report`, the only layer that prints.

mod check;
mod defs;
pub mod demo;
mod detect;
mod docs;
mod history;
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
    // The commands that change packs stop at a boundary on SIGINT or SIGTERM (and take back
    // what they had done, or say how to finish); the others end at once, as by default.
    if matches!(
        cli.command,
        Command::Run(_) | Command::Plan(_) | Command::Rollback(_)
    ) {
        if let Err(error) = crate::interrupt::install() {
            tracing::warn!(
                "cannot handle SIGINT and SIGTERM ({error}): they end the process at once"
            );
        }
    }
    match on_the_script_stack(move || dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            crate::report::error(&failure);
            ExitCode::from(failure.exit_code())
        }
    }
}

/// Runs `work` on a thread with `engine::SCRIPT_STACK` of stack, where scripts cannot
/// overflow it (see there); where the system will not reserve that much, on a smaller one.
fn on_the_script_stack(work: impl FnOnce() -> CommandResult + Send + 'static) -> CommandResult {
    let mut work = Some(work);
    for size in [crate::engine::SCRIPT_STACK, crate::engine::SCRIPT_STACK / 4] {
        let Some(job) = work.take() else { break };
        let job = std::sync::Arc::new(std::sync::Mutex::new(Some(job)));
        let handed = job.clone();
        let spawned = std::thread::Builder::new()
            .name("apim-migrate".to_string())
            .stack_size(size)
            .spawn(move || {
                let job = handed.lock().ok().and_then(|mut job| job.take());
                job.map(|job| job())
            });
        match spawned {
            Ok(thread) => {
                return match thread.join() {
                    Ok(Some(outcome)) => outcome,
                    Ok(None) => Err(Failure::RunFailed(anyhow::anyhow!(
                        "internal: the command did not start"
                    ))),
                    // The panic was printed where it happened; its locks were released as
                    // it unwound.
                    Err(_) => Err(Failure::RunFailed(anyhow::anyhow!(
                        "internal error (a bug in apim-migrate): the command stopped; see the message above"
                    ))),
                };
            }
            // Not spawned: the job is still in its slot, for the next try.
            Err(_) => work = job.lock().ok().and_then(|mut job| job.take()),
        }
    }
    match work {
        Some(work) => work(),
        None => Err(Failure::RunFailed(anyhow::anyhow!(
            "internal: the command did not start"
        ))),
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
