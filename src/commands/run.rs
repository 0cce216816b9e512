//! `run` and `plan`: the command line made into a `run::Request` (or, with `--inventory`,
//! into the options of every node; with `run --plan FILE`, the saved plan), the question on
//! a terminal, the report printed and stored beside each run's journal.

use crate::change::reports::{self, Kind};
use crate::cli::{PlanCommand, RunArgs, RunCommand};
use crate::error::{CommandResult, Failure};
use crate::report::inventory::Combined;
use crate::report::progress::Terminal;
use crate::report::style::{self, paint};
use crate::report::Outcome;
use crate::run::{self, Confirm, Executed, Options, Packs, Request};
use crate::script::Script;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// `run`: plans, asks on a terminal (unless `--yes`), applies; or applies a saved plan.
pub fn run(command: &RunCommand, verbose: bool, quiet: bool) -> CommandResult {
    let args = &command.args;
    if let Some(path) = &command.plan {
        let executed = run::saved::apply_saved(path, options(args, true, quiet, None))?;
        return finish(&executed, args.json, verbose, false);
    }
    let confirm = if command.yes || !std::io::stdin().is_terminal() {
        None
    } else if args.json {
        return Err(Failure::bad_input(
            "--json on a terminal needs --yes: `run` asks before it applies, and a JSON document cannot hold the question",
        ));
    } else {
        Some(Arc::new(Ask { verbose }) as Arc<dyn Confirm>)
    };
    let asked = confirm.is_some();
    if let Some(inventory) = &args.inventory {
        return run_inventory(
            args,
            inventory,
            options(args, true, quiet, confirm),
            verbose,
        )
        .map(|_| ());
    }
    let request = request(args, options(args, true, quiet, confirm))?;
    let executed = run::run(&request)?;
    finish(
        &executed,
        args.json,
        verbose,
        asked && executed.has_changes(),
    )
}

/// `plan`: shows (and with `--out`, saves) the plan; with `--detailed-exitcode`, exit 2 when
/// changes are pending.
pub fn plan(command: &PlanCommand, verbose: bool, quiet: bool) -> CommandResult<u8> {
    let args = &command.args;
    let pending = if let Some(inventory) = &args.inventory {
        run_inventory(args, inventory, options(args, false, quiet, None), verbose)?
    } else {
        let request = request(args, options(args, false, quiet, None))?;
        let executed = match &command.out {
            Some(path) => {
                let (executed, saved) = run::saved::plan_to_save(&request)?;
                saved.write(path)?;
                print(&executed, args.json, verbose);
                if !args.json {
                    crate::outln!(
                        "\nsaved the plan to `{}`; `apim-migrate run --plan {}` applies exactly it, and refuses if a pack changes before then",
                        path.display(),
                        crate::text::shell_word(&path.display().to_string())
                    );
                }
                executed
            }
            None => {
                let executed = run::run(&request)?;
                print(&executed, args.json, verbose);
                executed
            }
        };
        executed.has_changes()
    };
    Ok(if command.detailed_exitcode && pending {
        2
    } else {
        0
    })
}

/// The request of `run`/`plan` for the packs on the command line.
fn request(args: &RunArgs, options: Options) -> CommandResult<Request> {
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
        Some(name) => Script::load(name).map_err(|error| {
            let message = format!("{error:#}");
            match Path::new(name).extension().is_some_and(|ext| ext == "rhai") {
                true => Failure::bad_input_in(name, message),
                false => Failure::bad_input(message),
            }
        })?,
        None => {
            let chosen = run::choose_script(&packs)?;
            crate::report::output::warning_text(&format!("note: {}\n", chosen.why));
            chosen.script
        }
    };
    Ok(Request {
        script,
        packs,
        options,
    })
}

/// Stores a run's report beside its journal, prints it, and turns a failed run into exit 1.
/// After the operator confirmed the plan on the terminal (`confirmed`), the plan is on the
/// screen already: only how it ended is printed.
fn finish(executed: &Executed, json: bool, verbose: bool, confirmed: bool) -> CommandResult {
    store(executed);
    if confirmed && !json {
        let outcome = Outcome::of(executed);
        if let Some(run_id) = &executed.run_id {
            crate::outln!("\n{} as run {run_id}", paint(style::HEADING, "applied"));
        }
        crate::out!("{}", outcome.closing());
    } else {
        print(executed, json, verbose);
    }
    match &executed.error {
        Some(error) if executed.interrupted => {
            Err(Failure::Interrupted(anyhow::anyhow!("{error}")))
        }
        Some(error) => Err(Failure::RunFailed(anyhow::anyhow!("{error}"))),
        None => Ok(()),
    }
}

/// Prints the report; with `--quiet` nothing but the error that ends the command (on stderr,
/// by `commands::main`).
fn print(executed: &Executed, json: bool, verbose: bool) {
    let outcome = Outcome::of(executed);
    if json {
        crate::report::output::document(&outcome.json());
    } else {
        outcome.print_human(verbose);
    }
}

/// Stores the report of a run (the document `--json` prints) beside its journal in each
/// target pack; a failure to store it is a warning, not the run's.
pub(super) fn store(executed: &Executed) {
    if let Some(run_id) = &executed.run_id {
        store_document(&Outcome::of(executed), run_id);
    }
}

/// Stores the report of run `run_id` (a run, or a REPL statement's run) in its target packs.
pub(super) fn store_document(outcome: &Outcome, run_id: &str) {
    let homes = outcome
        .plan
        .packs
        .iter()
        .filter(|pack| pack.target)
        .map(|pack| pack.home.as_path());
    if let Err(error) = reports::store(homes, run_id, Kind::Run, &|writer| {
        outcome.write_json(writer)
    }) {
        crate::warnln!("{error:#}; `apim-migrate show` will not have this run's report");
    }
}

/// The options of `run`/`plan` that hold for every node.
fn options(args: &RunArgs, apply: bool, quiet: bool, confirm: Option<Arc<dyn Confirm>>) -> Options {
    Options {
        set: args.packs.set.clone(),
        stock: args.packs.stock.clone(),
        old_stock: args.packs.old_stock.clone(),
        libs: args.packs.lib.clone(),
        time_limit: Duration::from_secs(args.packs.time_limit),
        resume: args.resume,
        apply,
        as_run: false,
        progress: Terminal::meter(quiet),
        confirm,
    }
}

/// Plans (and with `options.apply`, runs) `args.script` on the nodes of the inventory at
/// `path`; whether changes are pending (for `plan --detailed-exitcode`).
fn run_inventory(
    args: &RunArgs,
    path: &Path,
    options: Options,
    verbose: bool,
) -> CommandResult<bool> {
    let Some(name) = &args.script else {
        return Err(Failure::bad_input(
            "--inventory needs SCRIPT: the nodes of a deployment run one script, chosen before any node's packs are opened (`apim-migrate path FROM TO` names it)",
        ));
    };
    let script = Script::load(name)?;
    let done = crate::inventory::run(script, path, &options)?;
    for node in &done.nodes {
        if let crate::inventory::NodeRun::Here { executed, .. } = node {
            store(executed);
        }
    }
    let report = Combined::of(&done);
    if args.json {
        crate::report::output::document(&report.json());
    } else {
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
        None => Ok(done.nodes.iter().any(|node| {
            matches!(node, crate::inventory::NodeRun::Here { executed, .. } if executed.has_changes())
        })),
    }
}

/// The question `run` asks on a terminal: the plan is shown, then `apply N changes to ...?`
/// on stderr; only `y` or `yes` applies.
#[derive(Debug)]
struct Ask {
    verbose: bool,
}

impl Confirm for Ask {
    fn confirm(&self, planned: &[&Executed]) -> bool {
        for executed in planned {
            crate::out!("{}", Outcome::of(executed).human(self.verbose));
        }
        let changes: usize = planned
            .iter()
            .map(|executed| {
                executed
                    .plan
                    .actions
                    .iter()
                    .filter(|action| action.is_change())
                    .count()
            })
            .sum();
        let mut targets: Vec<String> = Vec::new();
        for executed in planned {
            for pack in executed.plan.packs.iter().filter(|pack| pack.target) {
                let shown = format!("`{}`", pack.home.display());
                if !targets.contains(&shown) {
                    targets.push(shown);
                }
            }
        }
        crate::report::output::error_text(&format!(
            "\n{} {changes} change{} to {}? [y/N] ",
            paint(style::TODO, "apply"),
            if changes == 1 { "" } else { "s" },
            targets.join(", ")
        ));
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }
}
