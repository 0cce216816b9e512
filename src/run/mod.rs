//! The run pipeline: a plain `Request` (what to run, on which packs, with which options) is
//! prepared (packs opened and checked, profiles settled, history read, targets locked),
//! planned, and for a run applied. Checkpoints and `--continue` are settled here (`chain`).
//! This layer never sees clap and never prints: it returns what happened for `report`.

pub mod chain;
pub mod packs;
pub mod saved;

pub use packs::{
    check_pack_roles, choose_script, lib_dir, open_pack, parse_params, resolve_profiles, Chosen,
};

use crate::change::apply;
use crate::change::journal;
use crate::change::journal::RunLog;
use crate::change::planner::PackSlot;
use crate::change::progress::Meter;
use crate::change::state::TargetLocks;
use crate::engine::{self, PlanOptions, Resume};
use crate::error::{CommandResult, Failure};
use crate::pack::hashes::HashCache;
use crate::pack::stock::Catalogue;
use crate::pack::{Pack, Role};
use crate::script::Script;
use chain::Chain;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What to run or plan: the script, its packs, and the options. Plain data, built from the
/// command line or from a node of an inventory: nothing is opened until `prepare`.
#[derive(Debug, Clone)]
pub struct Request {
    pub script: Script,
    pub packs: Packs,
    pub options: Options,
}

/// The packs of a run by role, and the profiles of their nodes when given.
#[derive(Debug, Clone)]
pub struct Packs {
    pub old: PathBuf,
    pub new: PathBuf,
    pub km: Option<PathBuf>,
    pub via: Option<PathBuf>,
    /// `--profile`: the new pack's node.
    pub profile: Option<String>,
    /// `--old-profile`: the old pack's node.
    pub old_profile: Option<String>,
}

/// How to run: the same for every node of an inventory.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--set KEY=VALUE`, as given (the command that goes on from a checkpoint repeats them).
    pub set: Vec<String>,
    /// `--stock` catalogues.
    pub stock: Vec<PathBuf>,
    /// `--old-stock`: a stock pack of the old release, for configuration migration.
    pub old_stock: Option<PathBuf>,
    /// `--lib` directories.
    pub libs: Vec<PathBuf>,
    pub time_limit: Duration,
    /// `--continue`: go on from the checkpoint a run of this script stopped at.
    pub resume: bool,
    /// `run` (apply) rather than `plan`.
    pub apply: bool,
    /// A `plan` of exactly what `run` would apply (`plan --out`): it stops at a checkpoint,
    /// and refuses what `run` refuses (an unfinished run, a chain waiting at a checkpoint).
    pub as_run: bool,
    /// How progress is shown.
    pub progress: Arc<dyn Meter>,
    /// Asked before a run applies anything, with everything planned (on a terminal);
    /// `None` applies without asking.
    pub confirm: Option<Arc<dyn Confirm>>,
}

/// Asks whether to apply what was planned: `run` on a terminal shows the plan and asks.
pub trait Confirm: std::fmt::Debug {
    /// Whether to apply `planned` (one run, or every node of an inventory).
    fn confirm(&self, planned: &[&Executed]) -> bool;
}

/// Prepares and executes `request`: the plan, with the notes of preparation among its
/// warnings; for a run, confirmed (when `options.confirm` asks) and applied.
pub fn run(request: &Request) -> CommandResult<Executed> {
    let Some(mut prepared) = prepare(request, false)? else {
        return Err(Failure::bad_input(
            "--continue: no run is waiting at a checkpoint",
        ));
    };
    let locks = prepared.locks.take();
    let run_id = prepared.run_id.take();
    let mut executed = plan_prepared(prepared)?;
    if executed.command == "run" && executed.message.is_none() {
        if let Some(confirm) = &request.options.confirm {
            if executed.has_changes() && !confirm.confirm(&[&executed]) {
                return Err(not_confirmed());
            }
        }
        let Some(locks) = locks else {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: a run without the locks of its packs"
            )));
        };
        // The run id its locks were taken under.
        executed.run_id = run_id;
        apply_planned(&mut executed, &locks, request.options.progress.as_ref())?;
    }
    Ok(executed)
}

/// The refusal of a plan the operator did not confirm.
pub fn not_confirmed() -> Failure {
    Failure::NotConfirmed(anyhow::anyhow!(
        "not applied: the plan was not confirmed, and nothing was changed (`--yes` applies without asking)"
    ))
}

/// Plans what `prepare` made ready, with the notes of preparation among the plan's
/// warnings; a chain that is complete already is not planned at all (`message` says so).
pub fn plan_prepared(prepared: Prepared) -> CommandResult<Executed> {
    let command = if prepared.apply { "run" } else { "plan" };
    if let Some(message) = prepared.complete {
        let hashes = prepared
            .slots
            .first()
            .map(|slot| slot.pack.hashes.clone())
            .unwrap_or_default();
        let info = crate::change::plan::ScriptInfo {
            name: prepared.script.name.clone(),
            sha256: crate::pack::files::sha256_bytes(prepared.script.source.as_bytes()),
            path: prepared
                .script
                .path
                .as_ref()
                .and_then(|path| path.canonicalize().ok()),
            source: None,
        };
        return Ok(Executed {
            command,
            run_id: None,
            plan: crate::change::planner::Planner::new(prepared.slots)
                .into_plan(info, prepared.params),
            output: Vec::new(),
            error: None,
            message: Some(message),
            interrupted: false,
            hashes,
        });
    }
    let mut executed = plan_script(
        &prepared.script,
        prepared.slots,
        prepared.params,
        prepared.catalogue,
        prepared.options,
        &prepared.continue_with,
    )?;
    executed.command = command;
    executed.add_notes(prepared.notes);
    Ok(executed)
}

/// A run or plan ready to be planned: packs opened and checked against the script and each
/// other, profiles settled, history read; a run holds the locks of its targets.
pub struct Prepared {
    pub script: Script,
    pub slots: Vec<PackSlot>,
    pub params: BTreeMap<String, String>,
    pub catalogue: Catalogue,
    pub options: PlanOptions,
    pub continue_with: String,
    pub locks: Option<TargetLocks>,
    /// The id the run will have (its locks name it); `None` for a plan.
    pub run_id: Option<String>,
    /// For the report's warnings.
    pub notes: Vec<String>,
    /// Set when the runs of the script on these packs are complete (a chain gone on from
    /// its checkpoint): there is nothing to do, and this says why.
    pub complete: Option<String>,
    /// A run (to apply), not a plan.
    pub apply: bool,
}

/// Everything `run` and `plan` check before planning (see `Prepared`). With `--continue` and
/// `only_waiting`, packs with no run waiting at a checkpoint give `None` instead of an error
/// (a deployment's nodes that went through in one go).
pub fn prepare(request: &Request, only_waiting: bool) -> CommandResult<Option<Prepared>> {
    let script = request.script.clone();
    let apply = request.options.apply;
    // What a run refuses, `plan --out` refuses too: its plan is to be applied.
    let as_run = apply || request.options.as_run;
    let mut params = parse_params(&request.options.set)?;
    let header = script.header()?;
    header.complete_params(&script.name, &mut params)?;
    let catalogue = Catalogue::with_files(&request.options.stock)?;
    let mut slots = vec![
        PackSlot::new(Role::Old, open_pack("--old", &request.packs.old)?),
        PackSlot::new(Role::New, open_pack("--new", &request.packs.new)?),
    ];
    if let Some(via) = &request.packs.via {
        slots.insert(1, PackSlot::new(Role::Via, open_pack("--via", via)?));
    }
    if let Some(km) = &request.packs.km {
        slots.push(PackSlot::new(Role::Km, open_pack("--km", km)?));
    }
    // A pack the script does not take says more than how the packs compare with each other
    // (`--via` given to a one-step script is not "--old and --via swapped").
    if slots.iter().any(|slot| {
        !header.accepts.is_empty()
            && !header
                .accepts
                .iter()
                .any(|accepts| accepts.role == slot.role)
    }) {
        let given: Vec<(Role, &Pack)> = slots.iter().map(|slot| (slot.role, &slot.pack)).collect();
        header.check_packs(&script.name, &given)?;
    }
    check_pack_roles(&slots)?;
    let mut notes = resolve_profiles(
        &mut slots,
        request.packs.profile.as_deref(),
        request.packs.old_profile.as_deref(),
    )?;
    let given: Vec<(Role, &Pack)> = slots.iter().map(|slot| (slot.role, &slot.pack)).collect();
    header.check_packs(&script.name, &given)?;

    // A run locks its targets before it reads their history, their hash caches or plans, so
    // that nothing changes between the plan and its application.
    let run_id = apply.then(journal::new_run_id);
    let locks = match &run_id {
        Some(run_id) => Some(lock_targets(&slots, run_id)?),
        None => None,
    };
    // The targets' hash caches are read on a thread of their own while their histories are
    // read here: each is some milliseconds of reading and hashing a file at 10,000 tenants.
    let (hashes, history) = std::thread::scope(|scope| {
        let hashes = scope.spawn(|| load_hashes(&slots, locks.is_some(), apply));
        let history = read_history(&slots, as_run, &mut notes);
        let hashes = hashes
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (hashes, history)
    });
    let history = history?;
    for slot in &mut slots {
        slot.pack.hashes = hashes.clone();
    }
    let standing = chain::chain_state(&script, &slots, history);
    let mut complete = None;
    let resume = match (request.options.resume, standing) {
        (true, Some(Chain::Waiting(run))) => {
            let checkpoint = run
                .checkpoint
                .clone()
                .unwrap_or_else(|| unreachable!("a run waiting at a checkpoint has one"));
            if run.script_sha256().as_deref()
                != Some(crate::pack::files::sha256_bytes(script.source.as_bytes()).as_str())
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
            complete = Some(format!(
                "nothing to continue: run {} already went on from the checkpoint of run {}, and the runs of `{}` on these packs are complete (`apim-migrate history DIR` shows them)",
                continuing.run_id, stopped.run_id, script.name
            ));
            None
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
            if as_run {
                return Err(Failure::bad_input(format!(
                    "run {} of `{}` stopped at checkpoint `{}` on these packs: running it again from the start would overwrite what was done since; once the work it names is done, go on with `{}`; to start over instead, take it back first with {}",
                    run.run_id,
                    script.name,
                    checkpoint.name,
                    checkpoint.continue_with,
                    chain::rollback_commands(&run)
                )));
            }
            notes.push(format!(
                "run {} stopped at checkpoint `{}`: this plan starts from the beginning; `plan ... --continue` plans what comes after the checkpoint",
                run.run_id, checkpoint.name
            ));
            None
        }
        (false, Some(Chain::Complete { stopped, continuing })) => {
            if as_run {
                complete = Some(format!(
                    "the runs of `{}` on these packs are complete: run {} went on from checkpoint `{}` of run {}, so there is nothing to do (running it from the start would overwrite what was done at the checkpoint; to start over, take both back first: {}, then {})",
                    script.name,
                    continuing.run_id,
                    continuing
                        .continues()
                        .map(|from| from.checkpoint)
                        .unwrap_or_default(),
                    stopped.run_id,
                    chain::rollback_commands(&continuing),
                    chain::rollback_commands(&stopped)
                ));
            } else {
                notes.push(format!(
                    "run {} already went on from the checkpoint of run {}: this plan starts from the beginning",
                    continuing.run_id, stopped.run_id
                ));
            }
            None
        }
        (false, None) => None,
    };
    let options = PlanOptions {
        stop_at_checkpoint: as_run,
        resume,
        script_dir: script.dir(),
        time_limit: Some(request.options.time_limit),
        libs: request
            .options
            .libs
            .iter()
            .map(|dir| lib_dir(dir))
            .collect::<CommandResult<_>>()?,
        progress: request.options.progress.clone(),
        old_stock: request.options.old_stock.clone(),
    };
    let continue_with = chain::continue_command(
        &script,
        &chain::pack_words(&slots, request),
        &request.options.set,
        &request.options.stock,
        request.options.old_stock.as_deref(),
    );
    Ok(Some(Prepared {
        script,
        slots,
        params,
        catalogue,
        options,
        continue_with,
        locks,
        run_id,
        notes,
        complete,
        apply,
    }))
}

/// What `execute` produced: the plan with final statuses, the run id, any failure.
pub struct Executed {
    pub command: &'static str,
    pub run_id: Option<String>,
    pub plan: crate::change::plan::Plan,
    pub output: Vec<String>,
    pub error: Option<String>,
    /// Why there was nothing to do, when that is worth saying (a chain already complete).
    pub message: Option<String>,
    /// Whether SIGINT or SIGTERM stopped the run (the error says what became of it).
    pub interrupted: bool,
    /// The hash cache the run's packs share (see `hashcache`).
    pub hashes: std::sync::Arc<crate::pack::hashes::HashCache>,
}

/// Locks the target packs of run `run_id` (see `state::PackLock`).
pub fn lock_targets(slots: &[PackSlot], run_id: &str) -> CommandResult<TargetLocks> {
    TargetLocks::acquire(
        slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.home.as_path()),
        &format!("run {run_id}"),
    )
    .map_err(Failure::BadInput)
}

/// Runs the script to a plan: `command` is `run` when `options.stop_at_checkpoint` (the plan
/// is to be applied by `apply_planned`), else `plan`. Script errors are bad input.
pub fn plan_script(
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
    let (mut plan, output) = engine::plan(
        script,
        slots,
        params,
        catalogue,
        options,
        crate::primitives::register_all,
    )
    .map_err(|error| {
        if crate::interrupt::requested() {
            Failure::Interrupted(anyhow::anyhow!(
                "{} while the script was planned; nothing was changed",
                crate::interrupt::Interrupted
            ))
        } else {
            Failure::BadInput(anyhow::Error::new(error))
        }
    })?;
    // Ctrl-C inside a long primitive is seen here, before anything is applied.
    if crate::interrupt::requested() {
        return Err(Failure::Interrupted(anyhow::anyhow!(
            "{} while the script was planned; nothing was changed",
            crate::interrupt::Interrupted
        )));
    }
    if let Some(checkpoint) = &mut plan.stopped_at {
        checkpoint.continue_with = continue_with.to_string();
    }
    Ok(Executed {
        command: if apply { "run" } else { "plan" },
        run_id: None,
        plan,
        output,
        error: None,
        message: None,
        interrupted: false,
        hashes,
    })
}

/// The hashes of files known from the targets' earlier runs, for all the packs; only a run
/// (`apply`) keeps what it learns, to save it.
fn load_hashes(slots: &[PackSlot], locked: bool, apply: bool) -> Arc<HashCache> {
    let mut hashes = HashCache::load(
        slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.root.as_ref()),
    );
    // What was loaded is moved, and what a run learns is spooled, into unnamed files in a
    // target's state directory (which a run's lock made; a plan uses it where it is there)
    // rather than held to the end: nothing of them is left, as no other process can open
    // them, no name is made, and they are gone when the command ends.
    let state_dir = slots
        .iter()
        .find(|slot| slot.target)
        .and_then(|slot| slot.pack.root.dir(crate::pack::STATE_DIR).ok());
    if let Some(dir) = state_dir {
        let scratch = || crate::change::disk::scratch_file(&dir);
        if !hashes.knows_none() {
            if let Some(known) = scratch() {
                hashes.move_known_to(known);
            }
        }
        if locked {
            if let [Some(entries), Some(listed)] = [scratch(), scratch()] {
                hashes.spill_into([entries, listed]);
            }
        }
    }
    Arc::new(if apply {
        hashes
    } else {
        hashes.without_recording()
    })
}

/// The runs recorded in the targets, each read for how it stands; a run that is unfinished,
/// failed and not taken back, or being rolled back refuses a run (`as_run`), and is a note
/// of a plan.
fn read_history(
    slots: &[PackSlot],
    as_run: bool,
    notes: &mut Vec<String>,
) -> CommandResult<Vec<RunLog>> {
    let mut history = Vec::new();
    for slot in slots.iter().filter(|slot| slot.target) {
        let runs = journal::read_runs_as(&slot.pack.home, journal::Read::Standing)?;
        if let Err(refusal) = apply::refuse_unfinished(slot.role, &slot.pack.home, &runs) {
            if as_run {
                return Err(refusal);
            }
            notes.push(refusal.to_string());
        }
        history.extend(runs);
    }
    Ok(history)
}

/// Applies what `plan_script` planned for a run, under the locks of its targets; a failure
/// that was taken back is reported in `error`.
pub fn apply_planned(
    executed: &mut Executed,
    locks: &TargetLocks,
    meter: &dyn Meter,
) -> CommandResult {
    let run_id = executed.run_id.clone().unwrap_or_else(journal::new_run_id);
    let changes = executed
        .plan
        .actions
        .iter()
        .filter(|action| action.is_change())
        .count();
    let progress = meter.applying(changes);
    let hashes = executed.hashes.clone();
    executed.error = match apply::apply(
        &mut executed.plan,
        &run_id,
        locks,
        progress.as_ref(),
        &hashes,
    ) {
        Ok(()) => {
            // Losing the cache costs only time: a failure to save it is not the run's.
            let targets = executed.plan.packs.iter().filter(|pack| pack.target);
            let _ = crate::change::hashes::save(&hashes, targets.map(|pack| pack.home.as_path()));
            None
        }
        Err(Failure::RunFailed(error)) => Some(format!("{error:#}")),
        Err(Failure::Interrupted(error)) => {
            executed.interrupted = true;
            Some(format!("{error:#}"))
        }
        Err(failure @ (Failure::BadInput(_) | Failure::NotConfirmed(_))) => return Err(failure),
    };
    executed.run_id = Some(run_id);
    Ok(())
}

impl Executed {
    /// Whether applying the plan would change a file.
    pub fn has_changes(&self) -> bool {
        self.plan.actions.iter().any(|action| action.is_change())
    }

    /// Notes of preparation (a changed script, a profile chosen against the pack's own
    /// configuration) shown among the plan's warnings.
    pub fn add_notes(&mut self, notes: Vec<String>) {
        for note in notes {
            self.plan.warnings.push(crate::change::plan::Warning {
                message: note,
                primitive: None,
                detail: None,
            });
        }
    }
}
