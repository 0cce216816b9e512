//! One file per subcommand: arguments in, a request to the library, the report out. With
//! `report`, the only layer that prints.

mod check;
mod completions;
mod defs;
pub mod demo;
mod detect;
mod docs;
mod history;
mod manpages;
mod path;
pub mod repl;
mod rollback;
mod run;
mod scripts;
mod show;
mod verify;

use crate::cli::{Cli, ColorWhen, Command};
use crate::error::{CommandResult, Failure, EXIT_BAD_INPUT, EXIT_RUN_FAILED};
use crate::report::document;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Parses the command line, runs the command, prints the error that ends it (and, under
/// `--json`, the error document if the command printed none), and gives the exit code (see
/// `error::Failure`; `plan --detailed-exitcode` turns every error into 1).
pub fn main() -> ExitCode {
    // First, while the process has one thread (see `pack::descriptors`).
    let descriptors = crate::pack::descriptors::prepare();
    let raw: Vec<OsString> = std::env::args_os().collect();
    let detailed = has_flag(&raw, "--detailed-exitcode");
    let command = <Cli as clap::CommandFactory>::command().color(match color_in(&raw) {
        Some(ColorWhen::Always) => clap::ColorChoice::Always,
        Some(ColorWhen::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    });
    let cli = match command
        .try_get_matches_from(&raw)
        .and_then(|matches| <Cli as clap::FromArgMatches>::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error, &raw, detailed),
    };
    crate::report::output::init(
        match cli.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        },
        cli.quiet,
    );
    crate::report::log::init(cli.verbose, cli.quiet);
    tracing::debug!(
        "open files: soft limit {} (was {}), {} directory handles kept per pack and {} by all, descriptor table of {}",
        descriptors.limit,
        descriptors.limit_before,
        descriptors.cached_dirs,
        descriptors.budget,
        descriptors.table
    );
    let name = cli.command.name();
    let json = cli.command.json();
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
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            crate::report::error(&failure);
            if json {
                crate::report::output::document(&document::error_document(name, &failure));
            }
            ExitCode::from(match failure {
                Failure::Interrupted(_) => failure.exit_code(),
                _ if detailed => EXIT_RUN_FAILED,
                _ => failure.exit_code(),
            })
        }
    }
}

/// Runs `work` on a thread with `engine::SCRIPT_STACK` of stack, where scripts cannot
/// overflow it (see there); where the system will not reserve that much, on a smaller one.
fn on_the_script_stack(
    work: impl FnOnce() -> CommandResult<u8> + Send + 'static,
) -> CommandResult<u8> {
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

/// A command line clap refused (or `--help`, `--version`): clap's own message, and under
/// `--json` an error document too, so that a caller parsing stdout always finds one.
fn usage_error(error: &clap::Error, raw: &[OsString], detailed: bool) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if has_flag(raw, "--json") {
        let rendered = error.render().to_string();
        let message = rendered
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        let command = <Cli as clap::CommandFactory>::command();
        let name = raw
            .iter()
            .skip(1)
            .filter_map(|arg| arg.to_str())
            .find(|arg| command.find_subcommand(arg).is_some())
            .unwrap_or("apim-migrate");
        crate::report::output::document(&document::error_document(
            name,
            &Failure::bad_input(message),
        ));
    }
    let _ = error.print();
    ExitCode::from(if detailed {
        EXIT_RUN_FAILED
    } else {
        EXIT_BAD_INPUT
    })
}

/// Whether `flag` is among the arguments (before a `--`).
fn has_flag(raw: &[OsString], flag: &str) -> bool {
    raw.iter()
        .skip(1)
        .take_while(|arg| *arg != "--")
        .any(|arg| arg == flag)
}

/// `--color WHEN` (or `--color=WHEN`), read before clap parses, so that clap's own help and
/// errors follow it too.
fn color_in(raw: &[OsString]) -> Option<ColorWhen> {
    let words: Vec<&str> = raw.iter().filter_map(|arg| arg.to_str()).collect();
    let value = words.windows(2).rev().find_map(|pair| match pair {
        ["--color", value] => Some(*value),
        [_, word] => word.strip_prefix("--color="),
        _ => None,
    })?;
    match value {
        "always" => Some(ColorWhen::Always),
        "never" => Some(ColorWhen::Never),
        _ => Some(ColorWhen::Auto),
    }
}

/// Runs the command; the exit code of a success (0, or 2 for `plan --detailed-exitcode`
/// with changes pending).
pub fn dispatch(cli: Cli) -> CommandResult<u8> {
    let verbose = cli.verbose > 0;
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(command) => return run::run(&command, verbose, quiet).map(|()| 0),
        Command::Plan(command) => return run::plan(&command, verbose, quiet),
        Command::Rollback(args) => rollback::rollback(&args),
        Command::History(args) => history::history(&args),
        Command::Show(args) => show::show(&args, verbose),
        Command::Detect(args) => detect::detect(&args),
        Command::Verify(args) => return verify::verify(&args),
        Command::Scripts(args) => scripts::scripts(&args),
        Command::Path(args) => path::path(&args),
        Command::Demo(args) => demo::demo(args.dir.as_deref()),
        Command::Docs(args) => docs::docs(&args),
        Command::Check(args) => check::check(&args),
        Command::Repl(args) => repl::repl(&args, verbose),
        Command::Defs(args) => defs::defs(&args),
        Command::Manpages(args) => manpages::manpages(&args),
        Command::Completions(args) => completions::completions(&args),
    }
    .map(|()| 0)
}

/// The canonical path of a target pack directory given with `flag`.
fn canonical(flag: &str, dir: &Path) -> CommandResult<PathBuf> {
    let home = dir.canonicalize().map_err(|error| {
        Failure::bad_input_in(
            dir,
            format!(
                "{flag}: cannot open `{}`: {error} (give the home directory of a target pack)",
                dir.display()
            ),
        )
    })?;
    if !home.is_dir() {
        return Err(Failure::bad_input_in(
            dir,
            format!(
                "{flag}: `{}` is not a directory (give the home directory of a target pack)",
                dir.display()
            ),
        ));
    }
    Ok(home)
}
