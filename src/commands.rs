//! One function per subcommand: validate input, call the library, print the result.

use crate::apply;
use crate::cli::{
    CheckArgs, Cli, Command, DefsArgs, DetectArgs, DocsArgs, HistoryArgs, NewArgs, RollbackArgs,
    RunArgs, ScriptsAction, ScriptsArgs,
};
use crate::engine::{self, PlanOptions, Resume};
use crate::error::{CommandResult, Failure};
use crate::journal::{self, RunLog, TargetLocks};
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
        Command::Check(args) => check(&args),
        Command::Repl(args) => crate::repl::repl(&args, verbose),
        Command::Defs(args) => defs(&args),
        Command::Completions(args) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut command, "apim-migrate", &mut script);
            crate::out!("{}", String::from_utf8_lossy(&script));
            Ok(())
        }
    }
}

fn check(args: &CheckArgs) -> CommandResult {
    let checked = crate::check::check(&args.scripts);
    let mut problems = 0;
    let mut failing = 0;
    for script in &checked {
        if script.errors.is_empty() {
            crate::outln!("ok: {}", script.script);
            continue;
        }
        failing += 1;
        for error in &script.errors {
            problems += 1;
            eprintln!("error: {error}\n");
        }
    }
    if problems == 0 {
        return Ok(());
    }
    Err(Failure::bad_input(format!(
        "{problems} problem{} in {failing} of {} script{}; nothing was run",
        if problems == 1 { "" } else { "s" },
        checked.len(),
        if checked.len() == 1 { "" } else { "s" }
    )))
}

/// Identifies the pack given with `flag`, naming the flag in any error.
pub(crate) fn open_pack(flag: &str, dir: &Path) -> CommandResult<Pack> {
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
pub(crate) fn check_pack_roles(slots: &[PackSlot]) -> CommandResult {
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
    // API-M packs must get newer along the path: old, then via, then new.
    let path: Vec<&PackSlot> = ["old", "via", "new"]
        .iter()
        .filter_map(|role| slots.iter().find(|slot| slot.role == *role))
        .filter(|slot| slot.pack.product == Product::ApiManager)
        .collect();
    for pair in path.windows(2) {
        let (earlier, later) = (pair[0], pair[1]);
        if compare_versions(&later.pack.version, &earlier.pack.version)
            != std::cmp::Ordering::Greater
        {
            return Err(Failure::bad_input(format!(
                "--{} (`{}`) is API-M {}, not newer than --{} (`{}`) API-M {}: were --{} and --{} swapped?",
                later.role,
                later.pack.home.display(),
                later.pack.version,
                earlier.role,
                earlier.pack.home.display(),
                earlier.pack.version,
                earlier.role,
                later.role
            )));
        }
    }
    Ok(())
}

/// Settles the profile of each pack: `--old-profile` and `--profile` when given, else what
/// the pack says; a fresh new pack (all-in-one by its stock deployment.toml) takes what the
/// old node's profile becomes. Refuses a new profile the old one cannot become. Returns notes
/// for the report.
pub(crate) fn resolve_profiles(
    slots: &mut [PackSlot],
    profile: Option<&str>,
    old_profile: Option<&str>,
) -> CommandResult<Vec<String>> {
    use crate::profile::{self, Generation, NodeProfile, ALL_IN_ONE};
    let mut notes = Vec::new();
    let position = |slots: &[PackSlot], role: &str| slots.iter().position(|slot| slot.role == role);
    let old = position(slots, "old");
    if let (Some(name), Some(old)) = (old_profile, old) {
        slots[old].profile =
            profile::given(&slots[old].pack, name, "--old-profile").map_err(Failure::bad_input)?;
    }
    let old_node = old.map(|old| {
        (
            Generation::of_pack(&slots[old].pack),
            slots[old].profile.clone(),
        )
    });
    // A node's profile in a later generation: its first successor.
    let successor = |generation: Option<Generation>| -> Option<NodeProfile> {
        let (Some((Some(old_generation), old_profile)), Some(generation)) = (&old_node, generation)
        else {
            return None;
        };
        if old_profile.name == ALL_IN_ONE {
            return None;
        }
        let next = *old_generation
            .successors(&old_profile.name, generation)
            .first()?;
        Some(NodeProfile::new(
            next,
            if next == old_profile.name {
                format!("the old pack's profile ({})", old_profile.decided_by)
            } else {
                format!(
                    "the old pack's profile, {} ({}), becomes {next} in {}",
                    old_profile.name,
                    old_profile.decided_by,
                    generation.label()
                )
            },
        ))
    };
    for role in ["via", "new"] {
        let Some(index) = position(slots, role) else {
            continue;
        };
        let generation = Generation::of_pack(&slots[index].pack);
        let detected = slots[index].profile.clone();
        if role == "new" {
            if let Some(name) = profile {
                let chosen = profile::given(&slots[index].pack, name, "--profile")
                    .map_err(Failure::bad_input)?;
                if detected.name != ALL_IN_ONE && detected.name != chosen.name {
                    notes.push(format!(
                        "--new says its profile is {} ({}); planned for {} as --profile says",
                        detected.name, detected.decided_by, chosen.name
                    ));
                }
                slots[index].profile = chosen;
                continue;
            }
        }
        if detected.name == ALL_IN_ONE {
            if let Some(next) = successor(generation) {
                slots[index].profile = next;
            }
        }
    }
    // What each later pack's node became must be a successor of the old node's profile.
    if let Some((Some(old_generation), old_profile)) = &old_node {
        for role in ["via", "new"] {
            let Some(index) = position(slots, role) else {
                continue;
            };
            let Some(generation) = Generation::of_pack(&slots[index].pack) else {
                continue;
            };
            let became = &slots[index].profile;
            let allowed = old_generation.successors(&old_profile.name, generation);
            if !allowed.contains(&became.name.as_str()) {
                return Err(Failure::bad_input(format!(
                    "--{role} is to be a {} node ({}), but the old pack is a {} node ({}), which becomes {} in {}: give the right --profile, or --old-profile if the old node's profile was misread",
                    became.name,
                    became.decided_by,
                    old_profile.name,
                    old_profile.decided_by,
                    allowed.join(" or "),
                    generation.label()
                )));
            }
        }
    }
    Ok(notes)
}

/// Where the runs of a script with checkpoints stand on exactly these packs.
enum Chain {
    /// This run stopped at a checkpoint, and no later run has gone on from it.
    Waiting(Box<RunLog>),
    /// `continuing` went on from the checkpoint of `stopped`, and the chain ended there.
    Complete {
        stopped: Box<RunLog>,
        continuing: Box<RunLog>,
    },
}

/// The runs of `script` on exactly these packs that stopped at a checkpoint, if any is still
/// in place: the last one waiting, or the chain it began, complete.
/// `history` holds the runs of every target pack (a run on several packs, once per pack).
fn chain_state(script: &Script, slots: &[PackSlot], history: Vec<RunLog>) -> Option<Chain> {
    let mut wanted: Vec<(String, PathBuf)> = slots
        .iter()
        .map(|slot| (slot.role.clone(), slot.pack.home.clone()))
        .collect();
    wanted.sort();
    let mut runs: Vec<RunLog> = Vec::new();
    for run in history {
        if !runs.iter().any(|known| known.run_id == run.run_id) {
            runs.push(run);
        }
    }
    let same_packs = |run: &RunLog| {
        let mut packs: Vec<(String, PathBuf)> = run
            .packs()
            .into_iter()
            .map(|pack| (pack.role, pack.home))
            .collect();
        packs.sort();
        packs == wanted
    };
    runs.retain(|run| run.script_name() == script.name && same_packs(run));
    runs.sort_by(|left, right| left.run_id.cmp(&right.run_id));
    let continuing = |stopped: &RunLog| {
        runs.iter()
            .find(|later| later.goes_on_from(&stopped.run_id))
            .cloned()
    };
    let last = runs.iter().rev().find(|run| run.stopped_at_checkpoint())?;
    Some(match continuing(last) {
        None => Chain::Waiting(Box::new(last.clone())),
        Some(continuing) => Chain::Complete {
            stopped: Box::new(last.clone()),
            continuing: Box::new(continuing),
        },
    })
}

/// `apim-migrate rollback --ROLE DIR` for each target pack a run changed.
fn rollback_commands(run: &RunLog) -> String {
    let commands: Vec<String> = run
        .packs()
        .iter()
        .filter(|pack| pack.target)
        .filter(|pack| journal::read_run(&pack.home, &run.run_id).is_ok_and(|log| log.in_effect()))
        .map(|pack| {
            format!(
                "`apim-migrate rollback --{} {}`",
                pack.role,
                shell_word(&pack.home.display().to_string())
            )
        })
        .collect();
    match commands.first() {
        Some(command) => command.clone(),
        None => "`apim-migrate rollback`".to_string(),
    }
}

/// A word of a shell command, quoted when it needs to be.
pub(crate) fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:=@%+-,".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The command that goes on from a checkpoint: this one, with absolute paths and `--continue`.
fn continue_command(args: &RunArgs, script: &Script, slots: &[PackSlot]) -> String {
    let script_word = match &script.path {
        Some(path) => path
            .canonicalize()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| script.name.clone()),
        None => script.name.clone(),
    };
    let mut words = vec!["apim-migrate".to_string(), "run".to_string(), script_word];
    for role in ["old", "via", "new", "km"] {
        if let Some(slot) = slots.iter().find(|slot| slot.role == role) {
            words.push(format!("--{role}"));
            words.push(slot.pack.home.display().to_string());
        }
    }
    for (flag, value) in [
        ("--profile", &args.profile),
        ("--old-profile", &args.old_profile),
    ] {
        if let Some(value) = value {
            words.push(flag.to_string());
            words.push(value.clone());
        }
    }
    for value in &args.set {
        words.push("--set".to_string());
        words.push(value.clone());
    }
    for file in &args.stock {
        words.push("--stock".to_string());
        words.push(
            file.canonicalize()
                .unwrap_or_else(|_| file.clone())
                .display()
                .to_string(),
        );
    }
    words.push("--continue".to_string());
    words
        .iter()
        .map(|word| shell_word(word))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Plans (and with `apply`, runs) a script; prints the report.
pub fn run(args: &RunArgs, apply: bool, verbose: bool, quiet: bool) -> CommandResult {
    if let Some(inventory) = &args.inventory {
        return crate::inventory::run(args, inventory, apply, verbose, quiet);
    }
    let script = Script::load(&args.script)?;
    let Some(prepared) = prepare(args, script, apply, quiet, false)? else {
        return Err(Failure::bad_input(
            "--continue: no run is waiting at a checkpoint",
        ));
    };
    let locks = prepared.locks;
    let mut outcome = execute(
        &prepared.script,
        prepared.slots,
        prepared.params,
        prepared.catalogue,
        prepared.options,
        &prepared.continue_with,
        locks.as_ref(),
    )?;
    for note in prepared.notes {
        outcome.plan.warnings.push(crate::plan::Warning {
            message: note,
            primitive: None,
            detail: None,
        });
    }
    print_outcome(&outcome, args.json, verbose, quiet);
    match outcome.error {
        Some(error) => Err(Failure::RunFailed(anyhow::anyhow!(error))),
        None => Ok(()),
    }
}

/// A run or plan ready to be planned: packs opened and checked against the script and each
/// other, profiles settled, history read; a run holds the locks of its targets.
pub(crate) struct Prepared {
    pub script: Script,
    pub slots: Vec<PackSlot>,
    pub params: BTreeMap<String, String>,
    pub catalogue: Catalogue,
    pub options: PlanOptions,
    pub continue_with: String,
    pub locks: Option<TargetLocks>,
    /// For the report's warnings.
    pub notes: Vec<String>,
}

/// Everything `run` and `plan` check before planning (see `Prepared`). With `--continue` and
/// `only_waiting`, packs with no run waiting at a checkpoint give `None` instead of an error
/// (a deployment's nodes that went through in one go).
pub(crate) fn prepare(
    args: &RunArgs,
    script: Script,
    apply: bool,
    quiet: bool,
    only_waiting: bool,
) -> CommandResult<Option<Prepared>> {
    let (Some(old), Some(new)) = (&args.old, &args.new) else {
        return Err(Failure::bad_input(
            "give the packs with --old DIR and --new DIR, or the nodes with --inventory FILE",
        ));
    };
    let mut params = parse_params(&args.set)?;
    let header = script.header()?;
    header.complete_params(&script.name, &mut params)?;
    let catalogue = Catalogue::with_files(&args.stock)?;
    let mut slots = vec![
        PackSlot::new("old", open_pack("--old", old)?, false),
        PackSlot::new("new", open_pack("--new", new)?, true),
    ];
    if let Some(via) = &args.via {
        slots.insert(1, PackSlot::new("via", open_pack("--via", via)?, true));
    }
    if let Some(km) = &args.km {
        slots.push(PackSlot::new("km", open_pack("--km", km)?, true));
    }
    check_pack_roles(&slots)?;
    let mut notes = resolve_profiles(
        &mut slots,
        args.profile.as_deref(),
        args.old_profile.as_deref(),
    )?;
    // The hashes of files known from the targets' earlier runs, for all the packs; only a
    // run keeps what it learns, to save it.
    let hashes = crate::hashcache::HashCache::load(
        slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.home.as_path()),
    );
    let hashes = std::sync::Arc::new(if apply {
        hashes
    } else {
        hashes.without_recording()
    });
    for slot in &mut slots {
        slot.pack.hashes = hashes.clone();
    }
    let given: Vec<(&str, &Pack)> = slots
        .iter()
        .map(|slot| (slot.role.as_str(), &slot.pack))
        .collect();
    header.check_packs(&script.name, &given)?;

    // A run locks its targets before it reads their history or plans, so that nothing
    // changes between the plan and its application.
    let locks = if apply {
        Some(lock_targets(&slots)?)
    } else {
        None
    };
    let mut history = Vec::new();
    for slot in slots.iter().filter(|slot| slot.target) {
        let runs = journal::read_runs(&slot.pack.home)?;
        if let Err(refusal) = apply::refuse_unfinished(&slot.role, &slot.pack.home, &runs) {
            if apply {
                return Err(refusal);
            }
            notes.push(refusal.to_string());
        }
        history.extend(runs);
    }
    let chain = chain_state(&script, &slots, history);
    let resume = match (args.resume, chain) {
        (true, Some(Chain::Waiting(run))) => {
            let checkpoint = run
                .checkpoint
                .clone()
                .unwrap_or_else(|| unreachable!("a run waiting at a checkpoint has one"));
            if run.script_sha256().as_deref()
                != Some(crate::fsx::sha256_bytes(script.source.as_bytes()).as_str())
            {
                notes.push(format!(
                    "the script `{}` changed since run {} stopped at checkpoint `{}`: what comes after the checkpoint is planned with the script as it is now",
                    script.name, run.run_id, checkpoint.name
                ));
            }
            Some(Resume {
                run_id: run.run_id.clone(),
                checkpoint: checkpoint.name,
                findings: checkpoint.findings,
            })
        }
        (true, Some(Chain::Complete { .. }) | None) if only_waiting => return Ok(None),
        (true, Some(Chain::Complete { stopped, continuing })) => {
            return Err(Failure::bad_input(format!(
                "--continue: run {} already went on from the checkpoint of run {}, and no run of `{}` is waiting at a checkpoint on these packs (`apim-migrate history DIR` shows the runs)",
                continuing.run_id, stopped.run_id, script.name
            )))
        }
        (true, None) => {
            return Err(Failure::bad_input(format!(
                "--continue: no run of `{}` on these packs stopped at a checkpoint; run it without --continue first (`apim-migrate history DIR` lists the runs of a pack)",
                script.name
            )))
        }
        (false, Some(Chain::Waiting(run))) => {
            let checkpoint = run
                .checkpoint
                .clone()
                .unwrap_or_else(|| unreachable!("a run waiting at a checkpoint has one"));
            if apply {
                return Err(Failure::bad_input(format!(
                    "run {} of `{}` stopped at checkpoint `{}` on these packs: running it again from the start would overwrite what was done since; once the work it names is done, go on with `{}`; to start over instead, take it back first with {}",
                    run.run_id,
                    script.name,
                    checkpoint.name,
                    checkpoint.continue_with,
                    rollback_commands(&run)
                )));
            }
            notes.push(format!(
                "run {} stopped at checkpoint `{}`: this plan starts from the beginning; `plan ... --continue` plans what comes after the checkpoint",
                run.run_id, checkpoint.name
            ));
            None
        }
        (false, Some(Chain::Complete { stopped, continuing })) => {
            if apply {
                return Err(Failure::bad_input(format!(
                    "the runs of `{}` on these packs are complete: run {} went on from checkpoint `{}` of run {}; running it again from the start would overwrite what was done at the checkpoint. To start over, take both back first: {}, then {}",
                    script.name,
                    continuing.run_id,
                    continuing
                        .continues()
                        .map(|from| from.checkpoint)
                        .unwrap_or_default(),
                    stopped.run_id,
                    rollback_commands(&continuing),
                    rollback_commands(&stopped)
                )));
            }
            notes.push(format!(
                "run {} already went on from the checkpoint of run {}: this plan starts from the beginning",
                continuing.run_id, stopped.run_id
            ));
            None
        }
        (false, None) => None,
    };
    let options = PlanOptions {
        stop_at_checkpoint: apply,
        resume,
        script_dir: script.dir(),
        time_limit: Some(std::time::Duration::from_secs(args.time_limit)),
        libs: args
            .lib
            .iter()
            .map(|dir| lib_dir(dir))
            .collect::<CommandResult<_>>()?,
        show_progress: crate::progress::Progress::wanted(quiet),
    };
    let continue_with = continue_command(args, &script, &slots);
    Ok(Some(Prepared {
        script,
        slots,
        params,
        catalogue,
        options,
        continue_with,
        locks,
        notes,
    }))
}

/// What `execute` produced: the plan with final statuses, the run id, any failure.
pub struct Executed {
    pub command: &'static str,
    pub run_id: Option<String>,
    pub plan: crate::plan::Plan,
    pub output: Vec<String>,
    pub error: Option<String>,
    /// The hash cache the run's packs share (see `hashcache`).
    pub(crate) hashes: std::sync::Arc<crate::hashcache::HashCache>,
}

/// Locks the target packs of a run (see `journal::PackLock`).
pub fn lock_targets(slots: &[PackSlot]) -> CommandResult<TargetLocks> {
    TargetLocks::acquire(
        slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.home.as_path()),
        &format!("run {}", std::process::id()),
    )
    .map_err(Failure::BadInput)
}

/// Runs the script to a plan, then applies it when `options.stop_at_checkpoint` (that is,
/// for `run`, which holds `locks` on the targets). Script errors are bad input (nothing has
/// changed yet); apply failures are reported in `error`. `continue_with` is the command
/// shown if a checkpoint stops the run.
pub fn execute(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    options: PlanOptions,
    continue_with: &str,
    locks: Option<&TargetLocks>,
) -> CommandResult<Executed> {
    let show_progress = options.show_progress;
    let mut executed = plan_script(script, slots, params, catalogue, options, continue_with)?;
    if executed.command == "run" {
        let Some(locks) = locks else {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: a run without the locks of its packs"
            )));
        };
        apply_planned(&mut executed, locks, show_progress)?;
    }
    Ok(executed)
}

/// Runs the script to a plan: `command` is `run` when `options.stop_at_checkpoint` (the plan
/// is to be applied by `apply_planned`), else `plan`. Script errors are bad input.
pub(crate) fn plan_script(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    options: PlanOptions,
    continue_with: &str,
) -> CommandResult<Executed> {
    let apply = options.stop_at_checkpoint;
    // The run's hash cache, shared by its packs; saved once the run is applied.
    let hashes = slots
        .first()
        .map(|slot| slot.pack.hashes.clone())
        .unwrap_or_default();
    let (mut plan, output) = engine::plan(script, slots, params, catalogue, options)
        .map_err(|error| Failure::BadInput(anyhow::anyhow!("{error}")))?;
    if let Some(checkpoint) = &mut plan.stopped_at {
        checkpoint.continue_with = continue_with.to_string();
    }
    Ok(Executed {
        command: if apply { "run" } else { "plan" },
        run_id: None,
        plan,
        output,
        error: None,
        hashes,
    })
}

/// Applies what `plan_script` planned for a run, under the locks of its targets; a failure
/// that was taken back is reported in `error`.
pub(crate) fn apply_planned(
    executed: &mut Executed,
    locks: &TargetLocks,
    show_progress: bool,
) -> CommandResult {
    let run_id = journal::new_run_id();
    let changes = executed
        .plan
        .actions
        .iter()
        .filter(|action| action.is_change())
        .count();
    let progress = crate::progress::Progress::applying(show_progress, changes);
    let hashes = executed.hashes.clone();
    executed.error = match apply::apply(&mut executed.plan, &run_id, locks, &progress, &hashes) {
        Ok(()) => {
            // Losing the cache costs only time: a failure to save it is not the run's.
            let targets = executed.plan.packs.iter().filter(|pack| pack.target);
            let _ = hashes.save(targets.map(|pack| pack.home.as_path()));
            None
        }
        Err(Failure::RunFailed(error)) => Some(format!("{error:#}")),
        Err(failure @ Failure::BadInput(_)) => return Err(failure),
    };
    executed.run_id = Some(run_id);
    Ok(())
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
    let mut homes = Vec::new();
    for (flag, dir) in [
        ("--new", &args.new),
        ("--via", &args.via),
        ("--km", &args.km),
    ] {
        if let Some(dir) = dir {
            homes.push(canonical(flag, dir)?);
        }
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

/// A `--lib` directory, which must exist.
pub(crate) fn lib_dir(dir: &Path) -> CommandResult<PathBuf> {
    match dir.canonicalize() {
        Ok(path) if path.is_dir() => Ok(path),
        _ => Err(Failure::bad_input(format!(
            "--lib: `{}` is not a directory (give a directory of `.rhai` modules)",
            dir.display()
        ))),
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
                    "statement": run.statement(),
                    "state": run.state(),
                    "changes": run.changes.len(),
                    "packs": run.packs(),
                    "checkpoint": run.checkpoint.as_ref().map(|checkpoint| serde_json::json!({
                        "name": checkpoint.name,
                        "message": checkpoint.message,
                        "continue_with": checkpoint.continue_with,
                        "findings": checkpoint.findings.len(),
                        "continued": continued_by(&runs, run),
                    })),
                    "continues": run.continues(),
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
        if let Some(statement) = run.statement() {
            for line in statement.lines() {
                crate::outln!("      > {line}");
            }
        }
        if let Some(from) = run.continues() {
            crate::outln!(
                "      continues run {} from checkpoint `{}`",
                from.run_id,
                from.checkpoint
            );
        }
        if let Some(checkpoint) = &run.checkpoint {
            let state = match continued_by(&runs, run) {
                Some(later) => format!("continued by run {later}"),
                None if run.stopped_at_checkpoint() => "waiting".to_string(),
                None => "abandoned".to_string(),
            };
            crate::outln!(
                "      stopped at checkpoint `{}` ({state})",
                checkpoint.name
            );
        }
    }
    // Where a chain of steps stands: the last run that stopped at a checkpoint and has not
    // been gone on from.
    if let Some(run) = runs
        .iter()
        .rev()
        .find(|run| run.stopped_at_checkpoint() && continued_by(&runs, run).is_none())
    {
        if let Some(checkpoint) = &run.checkpoint {
            crate::outln!(
                "\nthe chain stands at checkpoint `{}` (run {}):",
                checkpoint.name,
                run.run_id
            );
            crate::outln!("{}", crate::report::wrap(&checkpoint.message, "  ", "  "));
            crate::outln!("then go on with:\n  {}", checkpoint.continue_with);
        }
    } else if let Some(run) = runs
        .iter()
        .rev()
        .find(|run| !run.rolled_back && run.end.as_deref() == Some("complete"))
    {
        if let Some(from) = run.continues() {
            crate::outln!(
                "\nthe chain is complete: run {} went on from checkpoint `{}` of run {}",
                run.run_id,
                from.checkpoint,
                from.run_id
            );
        }
    }
    Ok(())
}

/// The run (recorded in the same pack) that went on from `run`'s checkpoint, if any.
fn continued_by(runs: &[RunLog], run: &RunLog) -> Option<String> {
    runs.iter()
        .find(|later| later.goes_on_from(&run.run_id))
        .map(|later| later.run_id.clone())
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
        Some(ScriptsAction::New(args)) => new_script(args)?,
        None => list_scripts(&args.dir, args.json)?,
    }
    Ok(())
}

/// `scripts [--dir DIR] [--json]`: the bundled scripts, then the site scripts of DIR.
fn list_scripts(dir: &Path, json: bool) -> CommandResult {
    let bundled = scripts::listed_bundled();
    let local = scripts::listed_in(dir)?;
    let modules: Vec<&str> = scripts::STDLIB.iter().map(|(name, _)| *name).collect();
    if json {
        let document = serde_json::json!({
            "dir": dir,
            "scripts": bundled.iter().chain(&local).collect::<Vec<_>>(),
            "modules": modules,
        });
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
        return Ok(());
    }
    crate::outln!(
        "bundled scripts (run one with `apim-migrate run NAME --old DIR --new DIR`; two-step paths also take `--via DIR`):"
    );
    for listed in &bundled {
        print_listed(listed);
    }
    if local.is_empty() {
        crate::outln!(
            "\nno site scripts (`*.rhai`) in `{}`; `apim-migrate scripts new NAME --from STANDARD` starts one",
            dir.display()
        );
    } else {
        crate::outln!(
            "\nsite scripts in `{}` (run one with `apim-migrate run PATH ...`):",
            dir.display()
        );
        for listed in &local {
            print_listed(listed);
        }
    }
    crate::outln!("\nbundled library modules (`import \"NAME\" as NAME;`):");
    for name in modules {
        crate::outln!("  {name}");
    }
    Ok(())
}

/// One script of the `scripts` listing: name (and path), description, packs, parameters.
fn print_listed(listed: &scripts::Listed) {
    const INDENT: &str = "      ";
    match &listed.path {
        Some(path) => crate::outln!("\n  {}  ({})", listed.name, path.display()),
        None => crate::outln!("\n  {}", listed.name),
    }
    if !listed.description.is_empty() {
        crate::outln!(
            "{}",
            crate::report::wrap(&listed.description, INDENT, INDENT)
        );
    }
    if let Some(error) = &listed.error {
        crate::outln!("{INDENT}error: {error}");
        return;
    }
    if let Some(based_on) = &listed.based_on {
        let now = match listed.standard_unchanged {
            Some(true) => "the bundled one is still the same",
            _ => "the bundled one has changed since",
        };
        crate::outln!(
            "{INDENT}based on: {} (sha256 {}) from apim-migrate {}; {now}",
            based_on.script,
            based_on.sha256,
            based_on.version
        );
    }
    if listed.accepts.is_empty() {
        crate::outln!("{INDENT}accepts:  not declared (the script's own checks decide)");
    } else {
        let accepts: Vec<String> = listed
            .accepts
            .iter()
            .map(|accepts| {
                format!(
                    "--{} {}{}",
                    accepts.role,
                    accepts.wanted(),
                    if accepts.optional { " (optional)" } else { "" }
                )
            })
            .collect();
        crate::outln!("{INDENT}accepts:  {}", accepts.join("; "));
    }
    match &listed.params {
        None => crate::outln!("{INDENT}params:   not declared (any --set is passed on)"),
        Some(params) if params.is_empty() => crate::outln!("{INDENT}params:   none"),
        Some(params) => {
            for (index, param) in params.iter().enumerate() {
                let label = if index == 0 { "params:  " } else { "         " };
                let text = if param.description.is_empty() {
                    String::new()
                } else {
                    format!("  {}", param.description)
                };
                crate::outln!("{INDENT}{label} {}={}{text}", param.name, param.default);
            }
        }
    }
}

/// `scripts new NAME [--from STANDARD] [--force]`: writes the script and says what comes next.
fn new_script(args: &NewArgs) -> CommandResult {
    let new = crate::scaffold::new_script(args.from.as_deref())?;
    let path = crate::scaffold::script_path(&args.name)?;
    crate::scaffold::write_script(&path, &new.source, args.force)?;
    let shown = shell_word(&path.display().to_string());
    match &new.based_on {
        Some(based_on) => crate::outln!(
            "wrote {}: {} (the body unchanged; its header names the standard and its SHA-256)",
            path.display(),
            based_on.line()
        ),
        None => crate::outln!(
            "wrote {}: a skeleton for the packs of `{}`, with a walk-through of the primitives",
            path.display(),
            crate::scaffold::DEFAULT_STANDARD
        ),
    }
    let mut packs = Vec::new();
    for role in ["old", "via", "new", "km"] {
        if let Some(accepts) = new.accepts.iter().find(|accepts| accepts.role == role) {
            let product = accepts.product.as_str();
            let version = accepts.versions.first().map(String::as_str).unwrap_or("");
            let flag = format!("--{role} /opt/{product}-{version}");
            packs.push(if accepts.optional {
                format!("[{flag}]")
            } else {
                flag
            });
        }
    }
    crate::outln!("next: describe it in its header and change what your site needs, then");
    crate::outln!("  apim-migrate check {shown}");
    crate::outln!("  apim-migrate plan {shown} {}", packs.join(" "));
    Ok(())
}

/// `defs DIR`: the definition files for editors, and where they went.
fn defs(args: &DefsArgs) -> CommandResult {
    let written = crate::defs::write(&args.dir)?;
    crate::outln!(
        "wrote {} Rhai definition files into `{}`, for the Rhai language server of your editor:",
        written.len(),
        args.dir.display()
    );
    for (path, bytes) in written {
        crate::outln!("  {} ({bytes} bytes)", path.display());
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
        crate::out!("{}", engine::render_doc(doc));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("/opt/wso2am-2.0.0"), "/opt/wso2am-2.0.0");
        assert_eq!(shell_word("key=value"), "key=value");
        assert_eq!(shell_word("/opt/my packs/x"), "'/opt/my packs/x'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
