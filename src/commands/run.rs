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
    let (Some(old), Some(new)) = (&args.packs.old, &args.packs.new) else {
        return Err(Failure::bad_input(
            "give the packs with --old DIR and --new DIR, or the nodes with --inventory FILE",
        ));
    };
    let packs = Packs {
        old: old.clone(),
        new: new.clone(),
        km: args.packs.km.clone(),
        via: args.packs.via.clone(),
        profile: args.packs.profile.clone(),
        old_profile: args.packs.old_profile.clone(),
    };
    let script = match &args.script {
        Some(name) => Script::load(name)?,
        None => {
            let chosen = run::choose_script(&packs)?;
            if !quiet {
                eprintln!("note: {}", chosen.why);
            }
            chosen.script
        }
    };
    let request = Request {
        script,
        packs,
        options: options(args, apply, quiet),
    };
    let outcome = run::run(&request)?;
    print_outcome(&outcome, args.json, verbose, quiet);
    match outcome.error {
        Some(error) => Err(Failure::RunFailed(anyhow::anyhow!(error))),
        None => Ok(()),
    }
}

pub(super) fn print_outcome(executed: &Executed, json: bool, verbose: bool, quiet: bool) {
    let outcome = Outcome::of(executed);
    if json {
        crate::outln!("{}", outcome.json());
    } else if !quiet || executed.error.is_some() {
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
    let Some(name) = &args.script else {
        return Err(Failure::bad_input(
            "--inventory needs SCRIPT: the nodes of a deployment run one script, chosen before any node's packs are opened (`apim-migrate path FROM TO` names it)",
        ));
    };
    let script = Script::load(name)?;
    let done = crate::inventory::run(script, path, &options(args, apply, quiet))?;
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
