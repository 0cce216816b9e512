//! `run` and `plan`: the command line made into a `run::Request` (or, with `--inventory`,
//! into the options of every node), the report printed.

use crate::cli::RunArgs;
use crate::error::{CommandResult, Failure};
use crate::report::inventory::Combined;
use crate::report::progress::Terminal;
use crate::report::Outcome;
use crate::run::{self, Executed, Options, Packs, Request};
use crate::script::Script;
use std::path::Path;
use std::time::Duration;

/// Plans (and with `apply`, runs) a script; prints the report.
pub fn run(args: &RunArgs, apply: bool, verbose: bool, quiet: bool) -> CommandResult {
    if let Some(inventory) = &args.inventory {
        return run_inventory(args, inventory, apply, verbose, quiet);
    }
    let script = Script::load(&args.script)?;
    let (Some(old), Some(new)) = (&args.packs.old, &args.packs.new) else {
        return Err(Failure::bad_input(
            "give the packs with --old DIR and --new DIR, or the nodes with --inventory FILE",
        ));
    };
    let request = Request {
        script,
        packs: Packs {
            old: old.clone(),
            new: new.clone(),
            km: args.packs.km.clone(),
            via: args.packs.via.clone(),
            profile: args.packs.profile.clone(),
            old_profile: args.packs.old_profile.clone(),
        },
        options: options(args, apply, quiet),
    };
    let outcome = run::run(&request)?;
    print_outcome(&outcome, args.json, verbose, quiet);
    match outcome.error {
        Some(error) if outcome.interrupted => Err(Failure::Interrupted(anyhow::anyhow!(error))),
        Some(error) => Err(Failure::RunFailed(anyhow::anyhow!(error))),
        None => Ok(()),
    }
}

/// Prints the report; with `--quiet` nothing but the error that ends the command (on stderr,
/// by `commands::main`).
pub(super) fn print_outcome(executed: &Executed, json: bool, verbose: bool, quiet: bool) {
    let outcome = Outcome::of(executed);
    if json {
        crate::outln!("{}", outcome.json());
    } else if !quiet {
        crate::out!("{}", outcome.human(verbose));
    }
}

/// The options of `run`/`plan` that hold for every node.
fn options(args: &RunArgs, apply: bool, quiet: bool) -> Options {
    Options {
        set: args.packs.set.clone(),
        stock: args.packs.stock.clone(),
        libs: args.packs.lib.clone(),
        time_limit: Duration::from_secs(args.packs.time_limit),
        resume: args.resume,
        apply,
        progress: Terminal::meter(quiet),
    }
}

/// Plans (and with `apply`, runs) `args.script` on the nodes of the inventory at `path`.
fn run_inventory(
    args: &RunArgs,
    path: &Path,
    apply: bool,
    verbose: bool,
    quiet: bool,
) -> CommandResult {
    let script = Script::load(&args.script)?;
    let done = crate::inventory::run(script, path, &options(args, apply, quiet))?;
    let report = Combined::of(&done);
    if args.json {
        crate::outln!("{}", report.json());
    } else if !quiet {
        crate::out!("{}", report.human(verbose));
    }
    let interrupted = done.nodes.iter().any(|node| match node {
        crate::inventory::NodeRun::Here { executed, .. } => executed.interrupted,
        _ => false,
    });
    match &done.failed {
        Some(node) if interrupted => Err(Failure::Interrupted(anyhow::anyhow!(
            "node `{node}`: the run was interrupted ({}) and taken back; the nodes after it were not run",
            crate::interrupt::signal_name()
        ))),
        Some(node) => Err(Failure::RunFailed(anyhow::anyhow!(
            "node `{node}`: the run failed and was taken back; the nodes after it were not run"
        ))),
        None => Ok(()),
    }
}
