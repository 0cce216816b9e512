//! One function per subcommand: validate input, call the library, print the result.

use crate::apply;
use crate::cli::{
    Cli, Command, DetectArgs, DocsArgs, HistoryArgs, RollbackArgs, RunArgs, ScriptsAction,
    ScriptsArgs,
};
use crate::engine;
use crate::error::{CommandResult, Failure};
use crate::journal;
use crate::pack::{compare_versions, Pack, Product};
use crate::planner::PackSlot;
use crate::report::Outcome;
use crate::scripts::{self, Script};
use crate::stock::Catalogue;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn dispatch(cli: Cli) -> CommandResult {
    let verbose = cli.verbose > 0;
    match cli.command {
        Command::Run(args) => run(&args, true, verbose, cli.quiet),
        Command::Plan(args) => run(&args, false, verbose, cli.quiet),
        Command::Rollback(args) => rollback(&args),
        Command::History(args) => history(&args),
        Command::Detect(args) => detect(&args),
        Command::Scripts(args) => scripts_command(&args),
        Command::Demo(args) => crate::demo::demo(args.dir.as_deref()),
        Command::Docs(args) => docs(&args),
    }
}

/// Identifies the pack given with `flag`, naming the flag in any error.
fn open_pack(flag: &str, dir: &Path) -> CommandResult<Pack> {
    Pack::identify(dir).map_err(|error| Failure::bad_input(format!("{flag}: {error:#}")))
}

/// Parses `--set KEY=VALUE` values.
pub fn parse_params(values: &[String]) -> CommandResult<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for value in values {
        let Some((key, val)) = value.split_once('=') else {
            return Err(Failure::bad_input(format!(
                "--set `{value}`: expected KEY=VALUE"
            )));
        };
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(Failure::bad_input(format!(
                "--set `{value}`: the key must be letters, digits, `_`, `-` or `.`"
            )));
        }
        params.insert(key.to_string(), val.to_string());
    }
    Ok(params)
}

/// Refuses pack combinations that cannot be right, whatever the script.
fn check_pack_roles(slots: &[PackSlot]) -> CommandResult {
    for (index, left) in slots.iter().enumerate() {
        for right in slots.iter().skip(index + 1) {
            if left.pack.home == right.pack.home {
                return Err(Failure::bad_input(format!(
                    "--{} and --{} are the same pack (`{}`): give two different packs",
                    left.role,
                    right.role,
                    left.pack.home.display()
                )));
            }
            if left.pack.home.starts_with(&right.pack.home)
                || right.pack.home.starts_with(&left.pack.home)
            {
                return Err(Failure::bad_input(format!(
                    "--{} (`{}`) and --{} (`{}`) are nested inside each other: give separate pack directories",
                    left.role,
                    left.pack.home.display(),
                    right.role,
                    right.pack.home.display()
                )));
            }
        }
    }
    let old = slots.iter().find(|slot| slot.role == "old");
    let new = slots.iter().find(|slot| slot.role == "new");
    if let (Some(old), Some(new)) = (old, new) {
        if old.pack.product == Product::ApiManager
            && new.pack.product == Product::ApiManager
            && compare_versions(&new.pack.version, &old.pack.version) != std::cmp::Ordering::Greater
        {
            return Err(Failure::bad_input(format!(
                "--new (`{}`) is API-M {}, not newer than --old (`{}`) API-M {}: were --old and --new swapped?",
                new.pack.home.display(),
                new.pack.version,
                old.pack.home.display(),
                old.pack.version
            )));
        }
    }
    Ok(())
}

/// Plans (and with `apply`, runs) a script; prints the report.
pub fn run(args: &RunArgs, apply: bool, verbose: bool, quiet: bool) -> CommandResult {
    let script = Script::load(&args.script)?;
    let params = parse_params(&args.set)?;
    let catalogue = Catalogue::with_files(&args.stock)?;
    let mut slots = vec![
        PackSlot {
            role: "old".to_string(),
            pack: open_pack("--old", &args.old)?,
            target: false,
        },
        PackSlot {
            role: "new".to_string(),
            pack: open_pack("--new", &args.new)?,
            target: true,
        },
    ];
    if let Some(km) = &args.km {
        slots.push(PackSlot {
            role: "km".to_string(),
            pack: open_pack("--km", km)?,
            target: true,
        });
    }
    check_pack_roles(&slots)?;
    let outcome = execute(&script, slots, params, catalogue, apply)?;
    print_outcome(&outcome, args.json, verbose, quiet);
    match outcome.error {
        Some(error) => Err(Failure::RunFailed(anyhow::anyhow!(error))),
        None => Ok(()),
    }
}

/// What `execute` produced: the plan with final statuses, the run id, any failure.
pub struct Executed {
    pub command: &'static str,
    pub run_id: Option<String>,
    pub plan: crate::plan::Plan,
    pub output: Vec<String>,
    pub error: Option<String>,
}

/// Runs the script to a plan, then applies it when asked. Script errors are bad input
/// (nothing has changed yet); apply failures are reported in `error`.
pub fn execute(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    apply: bool,
) -> CommandResult<Executed> {
    let (mut plan, output) = engine::plan(script, slots, params, catalogue)
        .map_err(|error| Failure::BadInput(anyhow::anyhow!("{error}")))?;
    if !apply {
        return Ok(Executed {
            command: "plan",
            run_id: None,
            plan,
            output,
            error: None,
        });
    }
    let run_id = journal::new_run_id();
    let error = match apply::apply(&mut plan, &run_id) {
        Ok(()) => None,
        Err(Failure::RunFailed(error)) => Some(format!("{error:#}")),
        Err(failure @ Failure::BadInput(_)) => return Err(failure),
    };
    Ok(Executed {
        command: "run",
        run_id: Some(run_id),
        plan,
        output,
        error,
    })
}

impl Executed {
    /// The report view of what was executed.
    pub fn outcome(&self) -> Outcome<'_> {
        Outcome {
            command: self.command,
            run_id: self.run_id.as_deref(),
            plan: &self.plan,
            output: &self.output,
            error: self.error.clone(),
        }
    }
}

fn print_outcome(executed: &Executed, json: bool, verbose: bool, quiet: bool) {
    let outcome = executed.outcome();
    if json {
        crate::outln!("{}", outcome.json());
    } else if !quiet || executed.error.is_some() {
        crate::out!("{}", outcome.human(verbose));
    }
}

fn rollback(args: &RollbackArgs) -> CommandResult {
    let mut homes = vec![canonical("--new", &args.new)?];
    if let Some(km) = &args.km {
        homes.push(canonical("--km", km)?);
    }
    let done = apply::rollback(&homes, args.force)?;
    if args.json {
        let document = serde_json::json!({
            "run_id": done.run_id,
            "script": done.script,
            "packs": done.packs,
            "restored": done.report.restored,
            "removed": done.report.removed,
            "removed_dirs": done.report.removed_dirs,
        });
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        let packs: Vec<String> = done
            .packs
            .iter()
            .map(|home| format!("`{}`", home.display()))
            .collect();
        crate::outln!(
            "rolled back run {} ({}) on {}: {} restored, {} removed, {} directories removed",
            done.run_id,
            done.script,
            packs.join(", "),
            done.report.restored.len(),
            done.report.removed.len(),
            done.report.removed_dirs.len()
        );
    }
    Ok(())
}

fn canonical(flag: &str, dir: &Path) -> CommandResult<PathBuf> {
    dir.canonicalize().map_err(|error| {
        Failure::bad_input(format!("{flag}: cannot open `{}`: {error}", dir.display()))
    })
}

fn history(args: &HistoryArgs) -> CommandResult {
    let home = canonical("DIR", &args.dir)?;
    let runs = journal::read_runs(&home)?;
    if args.json {
        let runs: Vec<serde_json::Value> = runs
            .iter()
            .map(|run| {
                serde_json::json!({
                    "run_id": run.run_id,
                    "started": run.started(),
                    "script": run.script_name(),
                    "state": run.state(),
                    "changes": run.changes.len(),
                    "packs": run.packs(),
                })
            })
            .collect();
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        );
        return Ok(());
    }
    if runs.is_empty() {
        crate::outln!("no runs recorded in `{}`", home.display());
        return Ok(());
    }
    crate::outln!("runs recorded in `{}` (oldest first)", home.display());
    for run in &runs {
        let others: Vec<String> = run
            .packs()
            .iter()
            .filter(|pack| pack.home != home)
            .map(|pack| format!("{} {}", pack.role, pack.home.display()))
            .collect();
        crate::outln!(
            "  {}  {}  {:<20} {:<16} {} changes{}",
            run.run_id,
            run.started(),
            run.script_name(),
            run.state(),
            run.changes.len(),
            if others.is_empty() {
                String::new()
            } else {
                format!("  ({})", others.join(", "))
            }
        );
    }
    Ok(())
}

fn detect(args: &DetectArgs) -> CommandResult {
    let catalogue = Catalogue::with_files(&args.stock)?;
    let mut detections = Vec::new();
    for dir in &args.dirs {
        let pack = Pack::identify(dir)?;
        detections.push(
            crate::detect::detect(&pack, &catalogue)
                .with_context(|| format!("cannot inspect `{}`", pack.home.display()))?,
        );
    }
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&detections).unwrap_or_default()
        );
    } else {
        let texts: Vec<String> = detections
            .iter()
            .map(|detection| detection.human())
            .collect();
        crate::out!("{}", texts.join("\n"));
    }
    Ok(())
}

fn scripts_command(args: &ScriptsArgs) -> CommandResult {
    match &args.action {
        Some(ScriptsAction::Show { name }) => {
            let script = Script::load(name)?;
            crate::out!("{}", script.source);
        }
        None => {
            crate::outln!(
                "bundled scripts (run one with `apim-migrate run NAME --old DIR --new DIR`):"
            );
            for (name, source) in scripts::BUNDLED {
                crate::outln!("\n  {name}");
                crate::outln!(
                    "{}",
                    crate::report::wrap(&scripts::description_of(source), "      ", "      ")
                );
            }
            crate::outln!("\nbundled library modules (`import \"NAME\" as NAME;`):");
            for (name, _) in scripts::STDLIB {
                crate::outln!("  {name}");
            }
        }
    }
    Ok(())
}

fn docs(args: &DocsArgs) -> CommandResult {
    let docs = engine::primitive_docs();
    let selected: Vec<_> = match &args.name {
        Some(name) => {
            let found: Vec<_> = docs.iter().filter(|doc| doc.name == name).collect();
            if found.is_empty() {
                let names: Vec<&str> = docs.iter().map(|doc| doc.name).collect();
                return Err(Failure::bad_input(format!(
                    "no primitive `{name}`; known: {}",
                    names.join(", ")
                )));
            }
            found
        }
        None => docs.iter().collect(),
    };
    for (index, doc) in selected.iter().enumerate() {
        if index > 0 {
            crate::outln!();
        }
        crate::outln!("{}", doc.signature);
        crate::outln!("{}", crate::report::wrap(doc.summary, "    ", "    "));
        crate::outln!("    example:");
        for line in doc.example.lines() {
            crate::outln!("        {line}");
        }
    }
    Ok(())
}
