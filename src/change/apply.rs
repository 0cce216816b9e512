//! Applying a plan. Every change is journaled and flushed before it is made, replaced files
//! are backed up first, files are written through the packs' directory handles (never
//! through a link) and never seen half-written; a failure, or SIGINT/SIGTERM, takes back
//! everything the run had applied.

use super::batch::{flush_and_record, write_batch};
use super::progress::Progress;
use crate::change::journal::{self, JournalWriter, Record, RunLog, BACKUP_DIR};
use crate::change::plan::{Effect, FileState, Plan, Status};
use crate::change::rollback::{self, Share};
use crate::change::state::TargetLocks;
use crate::change::target::TargetTree;
use crate::error::Failure;
use crate::pack::hashes::HashCache;
use crate::pack::root::{self, PackRoot};
use crate::pack::{name, Role};
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Refuses to build on top of a run on `home` (whose history is `runs`) that never finished
/// (killed, power loss), failed without being taken back, is being rolled back, or whose
/// journal cannot be trusted, naming what to do.
pub fn refuse_unfinished(role: Role, home: &Path, runs: &[RunLog]) -> Result<(), Failure> {
    let shown = name::shown_path(home);
    let command = format!(
        "apim-migrate rollback --{role} {}",
        crate::text::shell_word(&shown)
    );
    for run in runs {
        if let Err(damaged) = run.trusted() {
            return Err(Failure::BadInput(damaged));
        }
        let refusal = if run.rollback_incomplete() {
            format!(
                "a rollback of run {} on `{shown}` did not finish; finish it with `{command}`, then run again",
                run.run_id
            )
        } else if run.unfinished() {
            format!(
                "an earlier run ({}) on `{shown}` did not finish (was it killed?); take it back first with `{command}`, then run again",
                run.run_id
            )
        } else if run.failed_in_place() {
            format!(
                "run {} on `{shown}` failed and could not be taken back; take it back with `{command}`, then run again",
                run.run_id
            )
        } else {
            continue;
        };
        return Err(Failure::bad_input(refusal));
    }
    Ok(())
}

/// A target pack while a run applies: where it writes, and its journal.
pub(super) struct Target {
    pub(super) tree: TargetTree,
    pub(super) writer: JournalWriter,
}

/// Why applying stopped before the end.
enum Stop {
    /// The change at this index of the plan failed.
    Failed(usize, anyhow::Error),
    /// SIGINT or SIGTERM: no change was started after it.
    Interrupted,
}

/// `apim-migrate rollback --ROLE DIR ...` for the targets of a run.
fn rollback_command(targets: &BTreeMap<Role, PathBuf>) -> String {
    let mut words = vec!["apim-migrate rollback".to_string()];
    for (role, home) in targets {
        words.push(format!(
            "--{role} {}",
            crate::text::shell_word(&name::shown_path(home))
        ));
    }
    words.join(" ")
}

/// Applies the changes of `plan` as run `run_id`, updating each action's status. The caller
/// holds the locks of the target packs, taken before it read their history (and refused an
/// unfinished run) and planned, so that nothing changes between the plan and its application.
pub fn apply(
    plan: &mut Plan,
    run_id: &str,
    locks: &TargetLocks,
    progress: &dyn Progress,
    hashes: &HashCache,
) -> Result<(), Failure> {
    let homes: BTreeMap<Role, PathBuf> = plan
        .packs
        .iter()
        .filter(|pack| pack.target)
        .map(|pack| (pack.role, pack.home.clone()))
        .collect();
    for (role, home) in &homes {
        if !locks.covers(home) {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: the lock of --{role} `{}` is not held",
                home.display()
            )));
        }
    }
    let mut targets = open_targets(plan, run_id, &homes)?;

    let inject_failure_at = injected_failure();
    // Indices of the changes as `u32`s (a plan's `seq` is one), as are those performed:
    // both are held to the end, 134,000 of each at 100,000 tenants.
    let changes: Vec<u32> = (0..plan.actions.len())
        .filter(|index| plan.actions[*index].is_change())
        .filter_map(|index| u32::try_from(index).ok())
        .collect();
    let mut attempted = 0;
    let mut stop: Option<Stop> = None;
    // Changes go in batches. For each: the targets are checked and the replaced files backed
    // up (each backup flushed); the batch's records are written to the journal and flushed
    // once; the files are written (new ones linked in once written, others renamed into
    // place, so never seen half-written). Once every batch is written, the filesystems are
    // flushed once, and only then are the changes recorded as done. So the journal describes
    // every change before it starts, and a change recorded as done is on the disk, as when
    // every file was flushed by itself, at one flush for the whole run: a flush after each
    // batch made the disk write back the same directories again and again, and the run wait
    // for it. What a crash leaves unflushed is a file in one of its own changes' states or
    // none of them, and a rollback decides from the file and the journal's hashes, never from
    // `Done` records (see "Crash safety" in ARCHITECTURE.md).
    let mut claims = Claims::default();
    let trees: BTreeMap<Role, TargetTree> = targets
        .iter()
        .map(|(role, target)| (*role, target.tree.clone()))
        .collect();
    let mut performed = Vec::new();
    for batch in batches(plan, &changes) {
        let batch = &changes[batch];
        let mut prepared: Vec<(usize, Prepared)> = Vec::new();
        for index in batch.iter().map(|&index| index as usize) {
            if crate::interrupt::requested() {
                stop = Some(Stop::Interrupted);
                break;
            }
            let action = &plan.actions[index];
            let step = match targets.get_mut(&action.pack) {
                Some(target) => prepare(target, action, &mut claims),
                None => Err(anyhow::anyhow!("`{}` is not a target pack", action.pack)),
            };
            match step {
                Ok(ready) => prepared.push((index, ready)),
                Err(error) => {
                    stop = Some(Stop::Failed(index, error));
                    break;
                }
            }
        }
        for target in targets.values_mut() {
            if let Err(error) = target.writer.flush() {
                if !matches!(stop, Some(Stop::Failed(..))) {
                    stop = Some(Stop::Failed(batch[0] as usize, error));
                }
            }
        }
        if stop.is_some() {
            break;
        }
        // The position in this batch of the change at which to fail, for the tests.
        let injected = inject_failure_at
            .and_then(|at| at.checked_sub(attempted + 1))
            .filter(|position| *position < prepared.len());
        let results = write_batch(
            &plan.actions,
            &trees,
            &prepared,
            injected,
            progress,
            attempted,
            hashes,
        );
        attempted += prepared.len();
        for ((index, _), result) in prepared.iter().zip(results) {
            match result {
                Some(Ok(())) => {
                    plan.actions[*index].status = Status::Changed;
                    performed.push(*index as u32);
                }
                Some(Err(error)) => {
                    if !matches!(stop, Some(Stop::Failed(..))) {
                        stop = Some(Stop::Failed(*index, error));
                    }
                }
                None => {
                    stop.get_or_insert(Stop::Interrupted);
                }
            }
        }
        if stop.is_some() {
            break;
        }
        // The directories this batch created are there for the next batch to see.
        claims.settle();
    }
    // The one flush of the run. A run that stops is taken back below without it: the undo
    // decides from the files, whether flushed or not.
    if stop.is_none() {
        if let Err((index, error)) =
            flush_and_record(&trees, &plan.actions, performed, &mut targets)
        {
            stop = Some(Stop::Failed(index, error));
        }
    }
    progress.finish();
    // A run asked to stop once every change is made is taken back all the same: it did not
    // complete.
    if stop.is_none() && crate::interrupt::requested() {
        stop = Some(Stop::Interrupted);
    }
    match stop {
        None => complete(plan, &mut targets, &homes),
        Some(stop) => Err(take_back(
            plan,
            run_id,
            &mut targets,
            &homes,
            stop,
            changes.len(),
        )),
    }
}

/// Opens each target and creates its journal, with the run's first record. A failure
/// leaves the journals made so far recording a run that changed nothing.
fn open_targets(
    plan: &Plan,
    run_id: &str,
    homes: &BTreeMap<Role, PathBuf>,
) -> Result<BTreeMap<Role, Target>, Failure> {
    let mut targets: BTreeMap<Role, Target> = BTreeMap::new();
    for (role, home) in homes {
        let opened = (|| -> Result<Target> {
            let root = Arc::new(PackRoot::open(home).map_err(|error| {
                anyhow::anyhow!("cannot open `{}`: {error}", name::shown_path(home))
            })?);
            let mut writer = JournalWriter::create(&root, run_id)?;
            writer.append(&Record::Run {
                run_id: run_id.to_string(),
                started: journal::now(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                script: plan.script.clone(),
                packs: plan.packs.clone(),
                params: plan.params.clone(),
                continues: plan.continues.clone(),
                sources: plan.sources.clone(),
            })?;
            Ok(Target {
                tree: TargetTree::new(root),
                writer,
            })
        })();
        match opened {
            Ok(target) => {
                targets.insert(*role, target);
            }
            Err(error) => {
                for target in targets.values_mut() {
                    let _ = target.writer.append(&Record::End {
                        status: "undone".to_string(),
                        at: journal::now(),
                        cause: None,
                    });
                    let _ = target.writer.seal();
                }
                return Err(Failure::RunFailed(anyhow::anyhow!(
                    "{error:#}; nothing was changed"
                )));
            }
        }
    }
    Ok(targets)
}

/// Records the run as complete (and where it stopped at a checkpoint) in every journal.
fn complete(
    plan: &Plan,
    targets: &mut BTreeMap<Role, Target>,
    homes: &BTreeMap<Role, PathBuf>,
) -> Result<(), Failure> {
    for target in targets.values_mut() {
        let ended = (|| -> Result<()> {
            if let Some(checkpoint) = &plan.stopped_at {
                target.writer.queue(&Record::Checkpoint {
                    name: checkpoint.name.clone(),
                    message: checkpoint.message.clone(),
                    continue_with: checkpoint.continue_with.clone(),
                    findings: plan.findings.clone(),
                })?;
            }
            target.writer.append(&Record::End {
                status: "complete".to_string(),
                at: journal::now(),
                cause: None,
            })
        })();
        if let Err(error) = ended {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "every change was made, but the journal could not record the end of the run: {error:#}; the history shows it unfinished: `{}` takes it back",
                rollback_command(homes)
            )));
        }
        if let Err(error) = target.writer.seal() {
            tracing::warn!("{error:#}: the journal of this run is not sealed");
        }
    }
    Ok(())
}

/// Takes back everything the run applied after `stop`, records how that went, and returns
/// the failure the run ends with. The report's actions say what was taken back and what is
/// still in place.
fn take_back(
    plan: &mut Plan,
    run_id: &str,
    targets: &mut BTreeMap<Role, Target>,
    homes: &BTreeMap<Role, PathBuf>,
    stop: Stop,
    total: usize,
) -> Failure {
    let interrupted = matches!(stop, Stop::Interrupted);
    let (failed_index, cause) = match stop {
        Stop::Failed(index, error) => (Some(index), error),
        Stop::Interrupted => (None, anyhow::anyhow!(crate::interrupt::Interrupted)),
    };
    let made = plan
        .actions
        .iter()
        .filter(|action| action.status == Status::Changed)
        .count();
    if let Some(index) = failed_index {
        let action = &mut plan.actions[index];
        action.status = Status::Failed;
        action.reason = Some(format!("{cause:#}").into());
    }
    let not_attempted: Box<str> = if interrupted {
        format!("not attempted: the run was {}", cause).into()
    } else {
        "not attempted: an earlier change failed".into()
    };
    for action in plan.actions.iter_mut() {
        if action.is_change() && action.status == Status::Planned {
            action.status = Status::Skipped;
            action.reason = Some(not_attempted.clone());
        }
    }
    // The undo reads the journals back, as a later `rollback` would: everything queued must
    // be in them.
    for target in targets.values_mut() {
        let _ = target.writer.flush();
    }
    let undone = undo(run_id, targets);
    let taken_back = match &undone {
        Ok(undone) => undone.clone(),
        Err((undone, _)) => undone.clone(),
    };
    let complete = undone.is_ok();
    for target in targets.values_mut() {
        let _ = target.writer.append(&Record::End {
            status: if complete { "undone" } else { "failed" }.to_string(),
            at: journal::now(),
            cause: interrupted.then(|| cause.to_string()),
        });
        let _ = target.writer.seal();
    }
    let why = if interrupted {
        "the run was interrupted"
    } else {
        "the run failed"
    };
    for action in plan.actions.iter_mut() {
        if action.status != Status::Changed {
            continue;
        }
        let home = homes.get(&action.pack).cloned().unwrap_or_default();
        if taken_back.contains(&(home, action.seq as usize)) {
            action.status = Status::Skipped;
            action.reason = Some(format!("applied, then taken back because {why}").into());
        } else {
            action.reason = Some(
                format!(
                    "applied, and still in place: taking the run back failed; `{}` takes it back",
                    rollback_command(homes)
                )
                .into(),
            );
        }
    }
    let still_in_place = plan
        .actions
        .iter()
        .filter(|action| action.status == Status::Changed)
        .count();
    let at = match failed_index {
        Some(index) => format!(
            " at `{}:{}`",
            plan.actions[index].pack,
            name::shown(&plan.actions[index].path)
        ),
        None => String::new(),
    };
    let message = match (&undone, interrupted) {
        (Ok(_), true) => format!(
            "{cause} after {made} of {total} changes: everything the run had applied was taken back"
        ),
        (Ok(_), false) => format!(
            "the run failed{at}: {cause:#}; everything it had applied was taken back"
        ),
        (Err((_, undo_error)), _) => format!(
            "{}{at}: {cause:#}; taking it back also failed: {undo_error:#}; {still_in_place} of the {made} changes it made are still in place: run `{}` once the cause is fixed",
            if interrupted { "the run was interrupted" } else { "the run failed" },
            rollback_command(homes)
        ),
    };
    if interrupted {
        Failure::Interrupted(anyhow::anyhow!(message))
    } else {
        Failure::RunFailed(anyhow::anyhow!(message))
    }
}

type Undone = std::collections::BTreeSet<(PathBuf, usize)>;

/// Takes back what the journals of `run_id` record, forced (the files are the run's own),
/// not stopping for a signal: the changes taken back, or those and why it stopped.
fn undo(
    run_id: &str,
    targets: &mut BTreeMap<Role, Target>,
) -> std::result::Result<Undone, (Undone, anyhow::Error)> {
    let mut shares = Vec::new();
    for target in targets.values_mut() {
        match journal::read_run_at(&target.tree.root, run_id)
            .and_then(|log| log.trusted().map(|()| log))
        {
            Ok(log) => shares.push(Share {
                log,
                tree: target.tree.clone(),
                writer: &mut target.writer,
            }),
            Err(error) => return Err((Undone::new(), error)),
        }
    }
    // The run's `End` says how this went (`undone` or `failed`), not a rollback record.
    let steps = rollback::check(&shares, true).map_err(|error| (Undone::new(), error))?;
    let performed = rollback::perform(&mut shares, steps, false);
    match performed.error {
        None => Ok(performed.report.undone),
        Some(error) => Err((performed.report.undone, error)),
    }
}

/// The number of the change at which to fail, for testing the failure path end to end
/// (`APIM_MIGRATE_INJECT_FAILURE=N`).
fn injected_failure() -> Option<usize> {
    std::env::var("APIM_MIGRATE_INJECT_FAILURE")
        .ok()
        .and_then(|value| value.parse().ok())
}

/// How many changes share one flush of the journal and one flush of the filesystems.
const BATCH: usize = 1024;

/// The changes (indices into the plan) cut into batches of at most `BATCH`, a batch ending
/// before a file it already changes: a second change of a file is checked against, and
/// backs up, what the first one wrote. Each batch is a range of `changes`.
fn batches(plan: &Plan, changes: &[u32]) -> Vec<std::ops::Range<usize>> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut paths: HashSet<(&str, &str)> = HashSet::new();
    for (at, &index) in changes.iter().enumerate() {
        let action = &plan.actions[index as usize];
        let key = (action.pack.as_str(), &*action.path);
        if at - start == BATCH || paths.contains(&key) {
            batches.push(start..at);
            start = at;
            paths.clear();
        }
        paths.insert(key);
    }
    if start < changes.len() {
        batches.push(start..changes.len());
    }
    batches
}

/// A change checked and journaled, ready to be written.
pub(super) struct Prepared {
    pub(super) after: FileState,
    pub(super) created_dirs: Vec<String>,
}

/// The directories that changes already journaled will create, which the next changes must
/// not claim again. With thousands of new tenant folders, looking each path up component by
/// component was most of the system calls of a run: a path whose directory is there costs
/// one look (often none: the handle is kept).
#[derive(Default)]
struct Claims {
    /// To be created by changes of the current batch (there once it is written).
    pending: HashSet<(Role, String)>,
}

impl Claims {
    /// Refuses a link on the way to `relative`; returns the directories that are missing and
    /// not yet claimed (outermost first, now claimed), and whether the file's directory
    /// exists on disk already. For a file that is `new` (nothing was there when planned),
    /// whose directory is often new too (a tenant's, in a fresh pack), the path is looked
    /// at from the top down, where the directories kept open cost nothing, so that a new
    /// tenant's folder costs one lookup that fails; for a file replaced, whose directory is
    /// there, the directory first.
    fn claim(
        &mut self,
        role: Role,
        tree: &TargetTree,
        relative: &str,
        new: bool,
    ) -> Result<(Vec<String>, bool)> {
        let (parent, _) = root::split(relative);
        if parent.is_empty() {
            return Ok((Vec::new(), true));
        }
        if self.pending.contains(&(role, parent.to_string())) {
            return Ok((Vec::new(), false));
        }
        if !new && tree.dir(parent)?.is_some() {
            return Ok((Vec::new(), true));
        }
        let mut missing = Vec::new();
        let mut on_disk = true;
        let mut end = 0;
        for part in parent.split('/') {
            end += part.len();
            let prefix = &parent[..end];
            end += 1;
            if self.pending.contains(&(role, prefix.to_string())) {
                on_disk = false;
                continue;
            }
            if on_disk {
                if tree.dir(prefix)?.is_some() {
                    continue;
                }
                on_disk = false;
            }
            self.pending.insert((role, prefix.to_string()));
            missing.push(prefix.to_string());
        }
        Ok((missing, on_disk))
    }

    /// The batch is written: the directories it created are there.
    fn settle(&mut self) {
        self.pending.clear();
    }
}

/// Checks that the target is still as planned, backs up a file about to be replaced (the
/// backup checked to hold what the plan saw, and flushed), and queues the change's `Begin`
/// record.
fn prepare(
    target: &mut Target,
    action: &crate::change::plan::Action,
    claims: &mut Claims,
) -> Result<Prepared> {
    let Some(after) = action.after.clone() else {
        bail!("internal: change without an after state");
    };
    let Some(effect) = action.effect else {
        bail!("internal: change without an effect");
    };
    let tree = &target.tree;
    let (created_dirs, dir_on_disk) =
        claims.claim(action.pack, tree, &action.path, effect == Effect::Create)?;
    let changed = || {
        anyhow::anyhow!(
            "`{}` changed after it was planned; plan again",
            tree.shown(&action.path)
        )
    };
    // The plan's view of the target must still hold: someone may have changed the pack
    // between planning and applying.
    let backup = match (effect, &action.before) {
        (Effect::Create, None) => {
            if dir_on_disk
                && tree
                    .root
                    .stat(&action.path)
                    .map_err(|error| tree.refusal(&action.path, &error))?
                    .is_some()
            {
                return Err(changed());
            }
            None
        }
        (Effect::Replace, Some(before)) => {
            if !dir_on_disk {
                return Err(changed());
            }
            let name = format!("{:06}", action.seq);
            let shown = target.writer.backup_shown(&name);
            tree.back_up(
                &action.path,
                &target.writer.backup_dir,
                &name,
                &shown,
                before,
            )?;
            Some(format!("{BACKUP_DIR}/{name}"))
        }
        _ => bail!("internal: a change whose effect does not match its before state"),
    };
    target.writer.queue(&Record::Begin {
        seq: action.seq as usize,
        primitive: action.primitive.to_string(),
        path: action.path.to_string(),
        effect,
        before: action.before.clone(),
        after: after.clone(),
        created_dirs: created_dirs.clone(),
        backup,
    })?;
    Ok(Prepared {
        after,
        created_dirs,
    })
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use crate::change::plan::{Action, ActionKind, Content, ScriptInfo};

    fn plan_of(paths: &[&str]) -> Plan {
        let actions = paths
            .iter()
            .zip(1..)
            .map(|(path, seq)| Action {
                seq,
                primitive: "copy_file".into(),
                action: ActionKind::Copy,
                pack: Role::New,
                path: (*path).into(),
                status: Status::Planned,
                effect: Some(Effect::Create),
                source: None,
                reason: None,
                before: None,
                after: None,
                diff: None,
                content: Content::None,
            })
            .collect();
        Plan {
            script: ScriptInfo {
                name: "test".to_string(),
                sha256: String::new(),
                path: None,
                source: None,
            },
            packs: Vec::new(),
            params: BTreeMap::new(),
            actions,
            reminders: Vec::new(),
            warnings: Vec::new(),
            skipped_for_profile: Vec::new(),
            findings: Vec::new(),
            marks: Vec::new(),
            stopped_at: None,
            continues: None,
            sources: Vec::new(),
        }
    }

    #[test]
    fn a_batch_ends_before_a_file_it_already_changes_and_at_its_size() {
        let plan = plan_of(&["a", "b", "a", "c", "b"]);
        let changes: Vec<u32> = (0..5).collect();
        assert_eq!(batches(&plan, &changes), vec![0..2, 2..5]);
        // Of the changes given, not of the plan: every other action.
        let every_other: Vec<u32> = vec![0, 2, 3, 4];
        assert_eq!(batches(&plan, &every_other), vec![0..1, 1..4]);
        let many: Vec<String> = (0..BATCH * 2 + 1)
            .map(|index| format!("f{index}"))
            .collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let plan = plan_of(&names);
        let changes: Vec<u32> = (0..names.len() as u32).collect();
        let sizes: Vec<usize> = batches(&plan, &changes)
            .iter()
            .map(|batch| batch.len())
            .collect();
        assert_eq!(sizes, vec![BATCH, BATCH, 1]);
    }
}
