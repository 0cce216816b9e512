//! Taking runs back: a run's journal replayed backwards (restore what it replaced, remove what
//! it created). Everything is checked before anything changes: the journal whole and its
//! paths inside the pack, every file in a state the rollback can restore (and, unless
//! forced, in a state the run left it in), every backup needed present and as recorded;
//! otherwise the rollback is refused with nothing changed. Then `RollbackBegin` is recorded,
//! each change taken back is recorded (`Undone`), and `Rollback` once all are: a rollback
//! that stops part-way (a full disk, an interrupt, a kill) leaves the run "rollback
//! incomplete" in the history, and running it again finishes, since a file may be at any
//! state of its own changes.

use crate::change::journal::{self, Change, JournalWriter, Record, RunLog, BACKUP_DIR};
use crate::change::plan::FileState;
use crate::change::state::TargetLocks;
use crate::change::target::{Found, TargetTree};
use crate::error::Failure;
use crate::pack::root::{self, Kind, PackRoot};
use crate::pack::{name, Role};
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// What taking runs back did.
#[derive(Debug, Default)]
pub struct UndoReport {
    pub restored: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub removed_dirs: Vec<PathBuf>,
    /// The changes (pack home, seq) whose file is now as before them.
    pub undone: BTreeSet<(PathBuf, usize)>,
    /// How many changes there were to take back.
    pub total: usize,
}

/// One pack's share of a run to take back: its journal, the pack, and where to record.
pub struct Share<'a> {
    pub log: RunLog,
    pub tree: TargetTree,
    pub writer: &'a mut JournalWriter,
}

/// What to do for one change, decided before anything changes.
#[derive(Debug, Clone)]
enum Undo {
    /// The file is as before the change already.
    Nothing,
    /// Put the backup back.
    Restore { backup: String, state: FileState },
    /// Remove what the change created.
    Remove,
}

/// One change to take back, in the order of taking back (newest first).
#[derive(Debug, Clone)]
pub struct Step {
    share: usize,
    change: Change,
    undo: Undo,
}

/// Checks that the changes of `shares` can all be taken back, and says how, changing
/// nothing. Refusals (one line, each problem named): a path through a link, a target that
/// became a directory or a device, a backup missing or not as recorded, and unless `force`,
/// a file changed since the run (drift).
pub fn check(shares: &[Share<'_>], force: bool) -> Result<Vec<Step>> {
    let mut changes: Vec<(usize, &Change)> = shares
        .iter()
        .enumerate()
        .flat_map(|(index, share)| share.log.changes.iter().map(move |change| (index, change)))
        .collect();
    changes.sort_by_key(|(_, change)| std::cmp::Reverse(change.seq));

    // Each file's state now, then walked back change by change, newest first.
    let mut current: BTreeMap<(usize, &str), Option<FileState>> = BTreeMap::new();
    let mut known: BTreeMap<(usize, &str), Vec<Option<FileState>>> = BTreeMap::new();
    let mut problems: Vec<String> = Vec::new();
    for (share, change) in &changes {
        let key = (*share, change.path.as_str());
        let states = known.entry(key).or_default();
        states.push(change.before.clone());
        states.push(Some(change.after.clone()));
        if current.contains_key(&key) {
            continue;
        }
        let tree = &shares[*share].tree;
        let now = match tree.found(&change.path) {
            Ok(Found::Nothing) => None,
            Ok(Found::File(state)) => Some(state),
            Ok(Found::Other(Kind::Link)) => {
                problems.push(format!(
                    "`{}` is a symbolic link (rollback does not write through links)",
                    tree.shown(&change.path)
                ));
                continue;
            }
            Ok(Found::Other(kind)) => {
                problems.push(format!(
                    "`{}` is now a {} (rollback never replaces one with a file)",
                    tree.shown(&change.path),
                    if kind == Kind::Dir {
                        "directory"
                    } else {
                        "special file"
                    }
                ));
                continue;
            }
            Err(error) => {
                problems.push(format!("{error:#}"));
                continue;
            }
        };
        current.insert(key, now);
    }
    if !force {
        let drifted: Vec<String> = current
            .iter()
            .filter(|(key, now)| !known.get(key).is_some_and(|states| states.contains(now)))
            .map(|((share, path), _)| format!("`{}`", shares[*share].tree.shown(path)))
            .collect();
        if !drifted.is_empty() {
            anyhow::bail!(
                "changed since the run, so rollback would overwrite someone's work: {}; check them, then run again with `--force` to restore anyway",
                drifted.join(", ")
            );
        }
    }

    let mut steps = Vec::new();
    let mut checked_backups: HashSet<(usize, String)> = HashSet::new();
    for (share, change) in changes {
        let key = (share, change.path.as_str());
        let Some(state) = current.get_mut(&key) else {
            continue;
        };
        let undo = match &change.before {
            Some(before) if state.as_ref() == Some(before) => Undo::Nothing,
            Some(before) => match &change.backup {
                Some(backup) => {
                    if checked_backups.insert((share, backup.clone())) {
                        if let Err(problem) = check_backup(&shares[share], backup, before) {
                            problems.push(problem);
                        }
                    }
                    *state = Some(before.clone());
                    Undo::Restore {
                        backup: backup.clone(),
                        state: before.clone(),
                    }
                }
                // Begun, but the backup was not recorded: the change never started.
                None => Undo::Nothing,
            },
            None if state.is_none() => Undo::Nothing,
            None => {
                *state = None;
                Undo::Remove
            }
        };
        steps.push(Step {
            share,
            change: change.clone(),
            undo,
        });
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "rollback cannot restore every file, so it changed nothing: {}",
            problems.join("; ")
        );
    }
    Ok(steps)
}

/// The backup `backup` of a share's run must be a regular file holding `before`.
fn check_backup(share: &Share<'_>, backup: &str, before: &FileState) -> Result<(), String> {
    let relative = format!("{}/{backup}", journal::run_relative(&share.log.run_id));
    let shown = share.tree.shown(&relative);
    let (file, _) = share.tree.root.open_file(&relative).map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            format!("the backup `{shown}` is missing")
        } else {
            format!("the backup `{shown}` cannot be read: {error}")
        }
    })?;
    let sha256 = crate::pack::files::hash_reader(file, &share.tree.root.path(&relative))
        .map_err(|error| format!("{error:#}"))?;
    if sha256 != before.sha256 {
        return Err(format!(
            "the backup `{shown}` was changed (sha256 {sha256}, the run recorded {})",
            before.sha256
        ));
    }
    Ok(())
}

/// How taking back went.
pub struct Performed {
    pub report: UndoReport,
    /// Why it stopped before the end, if it did.
    pub error: Option<anyhow::Error>,
    /// Whether it stopped for SIGINT or SIGTERM.
    pub interrupted: bool,
}

/// How many `Undone` records are queued before they are written.
const RECORD_EVERY: usize = 256;

/// Takes back the changes `check` planned, newest first, recording each one; stops at the
/// first failure, or (with `stop_on_interrupt`) after the file in hand when SIGINT or
/// SIGTERM came. The filesystems are flushed at the end (a rollback that dies before is run
/// again: a file may be at any state of its own changes).
pub fn perform(shares: &mut [Share<'_>], steps: Vec<Step>, stop_on_interrupt: bool) -> Performed {
    let mut performed = Performed {
        report: UndoReport {
            total: steps.len(),
            ..UndoReport::default()
        },
        error: None,
        interrupted: false,
    };
    let mut cleaned: HashSet<(usize, String)> = HashSet::new();
    let inject_failure_at = injected_failure();
    for (done, step) in steps.into_iter().enumerate() {
        if stop_on_interrupt && crate::interrupt::requested() {
            performed.interrupted = true;
            break;
        }
        if inject_failure_at == Some(done + 1) {
            performed.error = Some(anyhow::anyhow!(
                "injected failure (APIM_MIGRATE_INJECT_UNDO_FAILURE)"
            ));
            break;
        }
        let share = &mut shares[step.share];
        let parent = root::split(&step.change.path).0.to_string();
        if cleaned.insert((step.share, parent.clone())) {
            share.tree.remove_temp_files(&parent);
        }
        if let Err(error) = undo_one(share, &step, &mut performed.report) {
            performed.error = Some(error);
            break;
        }
        let _ = share.writer.queue(&Record::Undone {
            seq: step.change.seq,
        });
        if done % RECORD_EVERY == RECORD_EVERY - 1 {
            let _ = share.writer.flush();
        }
    }
    for share in shares.iter_mut() {
        if let Err(error) = share.tree.sync().and_then(|()| share.writer.flush()) {
            performed.error.get_or_insert(error);
        }
    }
    performed
}

/// The number of the change taken back at which to fail, for testing a rollback (or the undo
/// of a failed run) that stops part-way (`APIM_MIGRATE_INJECT_UNDO_FAILURE=N`).
fn injected_failure() -> Option<usize> {
    std::env::var("APIM_MIGRATE_INJECT_UNDO_FAILURE")
        .ok()
        .and_then(|value| value.parse().ok())
}

fn undo_one(share: &mut Share<'_>, step: &Step, report: &mut UndoReport) -> Result<()> {
    let tree = &share.tree;
    let path = &step.change.path;
    match &step.undo {
        Undo::Nothing => {}
        Undo::Restore { backup, state } => {
            let name = backup
                .strip_prefix(&format!("{BACKUP_DIR}/"))
                .unwrap_or(backup);
            tree.restore(path, &share.writer.backup_dir, name, state)?;
            report.restored.push(tree.root.path(path));
        }
        Undo::Remove => {
            if tree.remove_file(path)? {
                report.removed.push(tree.root.path(path));
            }
        }
    }
    report
        .undone
        .insert((share.log.pack_home.clone(), step.change.seq));
    for dir in step.change.created_dirs.iter().rev() {
        if tree.remove_dir(dir) {
            report.removed_dirs.push(tree.root.path(dir));
        }
    }
    Ok(())
}

/// The outcome of `rollback`.
#[derive(Debug)]
pub struct Rollback {
    pub run_id: String,
    pub script: String,
    pub packs: Vec<PathBuf>,
    pub report: UndoReport,
}

/// How `rollback` ended, when it did not fail.
#[derive(Debug)]
pub enum Ended {
    /// The latest run that changed something was taken back.
    RolledBack(Rollback),
    /// Nothing was left to take back; why, as a sentence.
    NothingToDo(String),
}

/// Takes back the latest run that changed something on any of `homes`, on every pack that
/// run touched; or says why there is nothing to take back.
pub fn rollback(homes: &[PathBuf], force: bool) -> Result<Ended, Failure> {
    let mut locks = TargetLocks::acquire(homes.iter().map(PathBuf::as_path), "rollback")
        .map_err(Failure::BadInput)?;
    let without_state = locks.without_state();
    if !without_state.is_empty() && without_state.len() == homes.len() {
        let shown: Vec<String> = without_state
            .iter()
            .map(|home| format!("`{}`", name::shown_path(home)))
            .collect();
        return Ok(Ended::NothingToDo(format!(
            "nothing to roll back: {} has no `.apim-migrate` directory, so no run is recorded there (`apim-migrate history` lists none); if a run did change the pack and the directory was deleted, the tool cannot take it back without its journal and backups: restore `.apim-migrate` from a backup of the pack, or the files by hand",
            shown.join(", ")
        )));
    }
    let (latest, recorded) = latest_in_effect(homes).map_err(Failure::BadInput)?;
    if latest.is_none() {
        return Ok(Ended::NothingToDo(nothing_message(homes, recorded)));
    }
    rollback_locked(homes, force, &mut locks, None).map(Ended::RolledBack)
}

/// Why there is nothing to take back on `homes`, where `recorded` runs are recorded.
fn nothing_message(homes: &[PathBuf], recorded: usize) -> String {
    let shown: Vec<String> = homes
        .iter()
        .map(|home| format!("`{}`", name::shown_path(home)))
        .collect();
    if recorded == 0 {
        format!(
            "nothing to roll back: no run is recorded in {} (its `.apim-migrate/runs` holds none; if a run did change the pack and its history was emptied, restore `.apim-migrate` from a backup of the pack)",
            shown.join(", ")
        )
    } else {
        format!(
            "nothing to roll back: no run in the history of {} changed anything that is still in effect (see `apim-migrate history`)",
            shown.join(", ")
        )
    }
}

/// The latest run on any of `homes` whose changes are (or may be) still in place, or whose
/// journal cannot be trusted (so that it is refused, not passed over); and how many runs
/// are recorded there at all.
fn latest_in_effect(homes: &[PathBuf]) -> Result<(Option<RunLog>, usize)> {
    let mut latest: Option<RunLog> = None;
    let mut recorded = 0;
    for home in homes {
        for log in journal::read_runs(home)? {
            recorded += 1;
            let candidate = log.in_effect() || log.unfinished() || log.damage.is_some();
            if candidate
                && latest
                    .as_ref()
                    .is_none_or(|current| log.run_id > current.run_id)
            {
                latest = Some(log);
            }
        }
    }
    Ok((latest, recorded))
}

/// The command that takes back the latest run on the packs of `shares`.
fn again_command(logs: &[&RunLog]) -> String {
    let mut words = vec!["apim-migrate rollback".to_string()];
    for log in logs {
        let role = log
            .packs()
            .iter()
            .find(|pack| pack.home == log.pack_home)
            .map_or(Role::New, |pack| pack.role);
        words.push(format!(
            "--{role} {}",
            crate::text::shell_word(&name::shown_path(&log.pack_home))
        ));
    }
    words.join(" ")
}

/// `rollback` for a caller that already holds the locks of `homes` (the REPL, for the whole
/// session). With `expected`, refuses unless the latest run is that one.
pub fn rollback_locked(
    homes: &[PathBuf],
    force: bool,
    locks: &mut TargetLocks,
    expected: Option<&str>,
) -> Result<Rollback, Failure> {
    let (latest, recorded) = latest_in_effect(homes).map_err(Failure::BadInput)?;
    let Some(latest) = latest else {
        return Err(Failure::bad_input(nothing_message(homes, recorded)));
    };
    latest.trusted().map_err(Failure::BadInput)?;
    if let Some(expected) = expected {
        if latest.run_id != expected {
            return Err(Failure::bad_input(format!(
                "the latest run on these packs is {} ({}), not {expected}: take it back first with `apim-migrate rollback`",
                latest.run_id,
                latest.script_name()
            )));
        }
    }
    // Every target pack the run recorded, plus those given.
    let mut pack_homes: Vec<PathBuf> = homes.to_vec();
    for pack in latest.packs() {
        if pack.target && !pack_homes.contains(&pack.home) {
            pack_homes.push(pack.home);
        }
    }
    // A run that went on from this run's checkpoint builds on it: it goes first.
    for home in &pack_homes {
        let Ok(later_runs) = journal::read_runs(home) else {
            continue;
        };
        for later in later_runs {
            if !later.goes_on_from(&latest.run_id) {
                continue;
            }
            let changed: Vec<String> = later
                .packs()
                .iter()
                .filter(|pack| pack.target)
                .filter(|pack| {
                    journal::read_run(&pack.home, &later.run_id).is_ok_and(|log| log.in_effect())
                })
                .map(|pack| {
                    format!(
                        "`apim-migrate rollback --{} {}`",
                        pack.role,
                        pack.home.display()
                    )
                })
                .collect();
            if let Some(command) = changed.first() {
                return Err(Failure::bad_input(format!(
                    "run {} went on from the checkpoint of run {} and is still in place: take it back first ({command}), then this one",
                    later.run_id, latest.run_id
                )));
            }
        }
    }
    let mut parts: Vec<(RunLog, TargetTree)> = Vec::new();
    for home in &pack_homes {
        if !journal::run_dir(home, &latest.run_id)
            .join(journal::JOURNAL_FILE)
            .is_file()
        {
            continue;
        }
        locks
            .add(home, &format!("rollback {}", latest.run_id))
            .map_err(Failure::BadInput)?;
        let root = Arc::new(PackRoot::open(home).map_err(|error| {
            Failure::bad_input(format!("cannot open `{}`: {error}", name::shown_path(home)))
        })?);
        let log = journal::read_run_at(&root, &latest.run_id).map_err(Failure::BadInput)?;
        log.trusted().map_err(Failure::BadInput)?;
        parts.push((log, TargetTree::new(root)));
    }
    let mut writers = Vec::new();
    for (log, tree) in &parts {
        writers.push(JournalWriter::open_existing(&tree.root, log).map_err(Failure::BadInput)?);
    }
    let mut shares: Vec<Share<'_>> = parts
        .into_iter()
        .zip(writers.iter_mut())
        .map(|((log, tree), writer)| Share { log, tree, writer })
        .collect();
    let steps = check(&shares, force).map_err(Failure::BadInput)?;
    if crate::interrupt::requested() {
        return Err(Failure::Interrupted(anyhow::anyhow!(
            "{} before the rollback of run {} began; nothing was changed",
            crate::interrupt::Interrupted,
            latest.run_id
        )));
    }

    // From here on the packs change: the journals say so first.
    for share in shares.iter_mut() {
        share
            .writer
            .append(&Record::RollbackBegin {
                at: journal::now(),
                forced: force,
            })
            .map_err(|error| {
                Failure::RunFailed(anyhow::anyhow!("{error:#}; nothing was changed"))
            })?;
    }
    let performed = perform(&mut shares, steps, true);
    let logs: Vec<&RunLog> = shares.iter().map(|share| &share.log).collect();
    let again = again_command(&logs);
    let taken = performed.report.undone.len();
    let total = performed.report.total;
    if performed.interrupted {
        return Err(Failure::Interrupted(anyhow::anyhow!(
            "interrupted ({}): {taken} of {total} changes of run {} taken back, the rest still in place; run `{again}` again to finish",
            crate::interrupt::signal_name(),
            latest.run_id
        )));
    }
    if let Some(error) = performed.error {
        return Err(Failure::RunFailed(anyhow::anyhow!(
            "the rollback of run {} stopped: {error:#}; {taken} of {total} changes taken back, the rest still in place (the history says \"rollback incomplete\"); once the cause is fixed, run `{again}` again to finish",
            latest.run_id
        )));
    }
    for share in shares.iter_mut() {
        share
            .writer
            .append(&Record::Rollback {
                at: journal::now(),
                forced: force,
            })
            .map_err(|error| {
                Failure::RunFailed(anyhow::anyhow!(
                    "every change of run {} was taken back, but the journal could not record it: {error:#}; run `{again}` again once there is space",
                    latest.run_id
                ))
            })?;
    }
    Ok(Rollback {
        run_id: latest.run_id.clone(),
        script: latest.script_name(),
        packs: shares
            .iter()
            .map(|share| share.log.pack_home.clone())
            .collect(),
        report: performed.report,
    })
}
