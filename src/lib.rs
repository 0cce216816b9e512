//! apim-migrate: the file-level part of upgrading WSO2 API Manager packs, driven by Rhai
//! scripts, with plan, journal and rollback. See ARCHITECTURE.md for the map.

pub mod authoring;
pub mod change;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod interrupt;
pub mod inventory;
pub mod pack;
pub mod primitives;
pub mod repl;
pub mod report;
pub mod run;
pub mod script;
pub mod text;

#[cfg(test)]
mod tidy;

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
/// 0 done, 1 run failed and taken back, 2 bad usage or input, 130 stopped by SIGINT or
/// SIGTERM.
pub fn main_entry() -> ExitCode {
    commands::main()
}
