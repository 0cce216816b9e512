//! The run pipeline: a plain `Request` (what to run, on which packs, with which options) is
//! prepared (packs opened and checked, profiles settled, history read, targets locked),
//! planned, and for a run applied. Checkpoints and `--continue` are settled here (`chain`).
//! This layer never sees clap and never prints: it returns what happened for `report`.

pub mod chain;
pub mod packs;

pub use packs::{check_pack_roles, lib_dir, open_pack, parse_params, resolve_profiles};

use crate::change::apply;
use crate::change::journal;
use crate::change::planner::PackSlot;
use crate::change::progress::Meter;
use crate::change::state::TargetLocks;
use crate::engine::{self, PlanOptions, Resume};
use crate::error::{CommandResult, Failure};
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
    /// `--lib` directories.
    pub libs: Vec<PathBuf>,
    pub time_limit: Duration,
    /// `--continue`: go on from the checkpoint a run of this script stopped at.
    pub resume: bool,
    /// `run` (apply) rather than `plan`.
    pub apply: bool,
    /// How progress is shown.
    pub progress: Arc<dyn Meter>,
}

/// Prepares and executes `request`: the plan, applied for a run, with the notes of
/// preparation among its warnings.
pub fn run(request: &Request) -> CommandResult<Executed> {
    let Some(prepared) = prepare(request, false)? else {
        return Err(Failure::bad_input(
            "--continue: no run is waiting at a checkpoint",
        ));
    };
    let locks = prepared.locks;
    let mut executed = execute(
        &prepared.script,
        prepared.slots,
        prepared.params,
        prepared.catalogue,
        prepared.options,
        &prepared.continue_with,
        locks.as_ref().zip(prepared.run_id),
    )?;
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
}

/// Everything `run` and `plan` check before planning (see `Prepared`). With `--continue` and
/// `only_waiting`, packs with no run waiting at a checkpoint give `None` instead of an error
/// (a deployment's nodes that went through in one go).
pub fn prepare(request: &Request, only_waiting: bool) -> CommandResult<Option<Prepared>> {
    let script = request.script.clone();
    let apply = request.options.apply;
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
    check_pack_roles(&slots)?;
    let mut notes = resolve_profiles(
        &mut slots,
        request.packs.profile.as_deref(),
        request.packs.old_profile.as_deref(),
    )?;
    // The hashes of files known from the targets' earlier runs, for all the packs; only a
    // run keeps what it learns, to save it.
    let hashes = crate::pack::hashes::HashCache::load(
        slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.root.as_ref()),
    );
    let hashes = std::sync::Arc::new(if apply {
        hashes
    } else {
        hashes.without_recording()
    });
    for slot in &mut slots {
        slot.pack.hashes = hashes.clone();
    }
    let given: Vec<(Role, &Pack)> = slots.iter().map(|slot| (slot.role, &slot.pack)).collect();
    header.check_packs(&script.name, &given)?;

    // A run locks its targets before it reads their history or plans, so that nothing
    // changes between the plan and its application.
    let run_id = apply.then(journal::new_run_id);
    let locks = match &run_id {
        Some(run_id) => Some(lock_targets(&slots, run_id)?),
        None => None,
    };
    let mut history = Vec::new();
    for slot in slots.iter().filter(|slot| slot.target) {
        let runs = journal::read_runs(&slot.pack.home)?;
        if let Err(refusal) = apply::refuse_unfinished(slot.role, &slot.pack.home, &runs) {
            if apply {
                return Err(refusal);
            }
            notes.push(refusal.to_string());
        }
        history.extend(runs);
    }
    let standing = chain::chain_state(&script, &slots, history);
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
                    chain::rollback_commands(&continuing),
                    chain::rollback_commands(&stopped)
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
        time_limit: Some(request.options.time_limit),
        libs: request
            .options
            .libs
            .iter()
            .map(|dir| lib_dir(dir))
            .collect::<CommandResult<_>>()?,
        progress: request.options.progress.clone(),
    };
    let continue_with = chain::continue_command(
        &script,
        &chain::pack_words(&slots, request),
        &request.options.set,
        &request.options.stock,
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
    }))
}

/// What `execute` produced: the plan with final statuses, the run id, any failure.
pub struct Executed {
    pub command: &'static str,
    pub run_id: Option<String>,
    pub plan: crate::change::plan::Plan,
    pub output: Vec<String>,
    pub error: Option<String>,
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

/// Runs the script to a plan, then applies it when `options.stop_at_checkpoint` (that is,
/// for `run`, which holds the locks of the targets and has its run id: `applying`). Script
/// errors are bad input (nothing has changed yet); apply failures are reported in `error`.
/// `continue_with` is the command shown if a checkpoint stops the run.
pub fn execute(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    options: PlanOptions,
    continue_with: &str,
    applying: Option<(&TargetLocks, String)>,
) -> CommandResult<Executed> {
    let progress = options.progress.clone();
    let mut executed = plan_script(script, slots, params, catalogue, options, continue_with)?;
    if executed.command == "run" {
        let Some((locks, run_id)) = applying else {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: a run without the locks of its packs"
            )));
        };
        executed.run_id = Some(run_id);
        apply_planned(&mut executed, locks, progress.as_ref())?;
    }
    Ok(executed)
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
        interrupted: false,
        hashes,
    })
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
        Err(failure @ Failure::BadInput(_)) => return Err(failure),
    };
    executed.run_id = Some(run_id);
    Ok(())
}

impl Executed {
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
