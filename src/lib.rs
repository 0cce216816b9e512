//! apim-migrate: the file-level part of upgrading WSO2 API Manager packs, driven by Rhai
//! scripts, with plan, journal and rollback. See ARCHITECTURE.md for the map.

pub mod authoring;
pub mod change;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod inventory;
pub mod pack;
pub mod primitives;
pub mod repl;
pub mod report;
pub mod run;
pub mod script;
pub mod text;

use clap::Parser;
use std::process::ExitCode;

/// The system allocator, counting what is allocated, so that a script that grows its data
/// without bound is stopped with an error (see `engine::MAX_SCRIPT_MEMORY`) instead of
/// exhausting the machine.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Bytes allocated on the heap right now.
pub fn allocated() -> usize {
    ALLOCATOR.allocated()
}

/// Parses the command line, runs the command, and maps the outcome to an exit code:
/// 0 done, 1 run failed and taken back, 2 bad usage or input.
pub fn main_entry() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose, cli.quiet);
    match commands::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let text = failure.to_string();
            // Script errors carry a located, multi-line rendering; others are one line.
            eprintln!("error: {text}");
            ExitCode::from(failure.exit_code())
        }
    }
}

fn init_tracing(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0 | 1) => "warn",
        (false, 2) => "info",
        (false, _) => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .try_init();
}
