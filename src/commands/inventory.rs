//! `run`/`plan --inventory FILE`: every node of a deployment on this machine, one report.

use crate::cli::RunArgs;
use crate::error::{CommandResult, Failure};
use crate::report::inventory::Combined;
use crate::script::Script;
use std::path::Path;

/// Plans (and with `apply`, runs) `args.script` on the nodes of the inventory at `path`.
pub fn run(args: &RunArgs, path: &Path, apply: bool, verbose: bool, quiet: bool) -> CommandResult {
    let script = Script::load(&args.script)?;
    let done = crate::inventory::run(script, path, &super::run::options(args, apply, quiet))?;
    let report = Combined::of(&done);
    if args.json {
        crate::outln!("{}", report.json());
    } else if !quiet || done.failed.is_some() {
        crate::out!("{}", report.human(verbose));
    }
    match &done.failed {
        Some(node) => Err(Failure::RunFailed(anyhow::anyhow!(
            "node `{node}`: the run failed and was taken back; the nodes after it were not run"
        ))),
        None => Ok(()),
    }
}
