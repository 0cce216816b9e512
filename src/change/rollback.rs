//! Taking runs back: a run's journal replayed backwards (restore what it replaced, remove what
//! it created), with a drift check first; a killed rollback can be run again.

use crate::change::disk;
use crate::change::journal::{self, Change, JournalWriter, Record, RunLog, TargetLocks};
use crate::change::plan::FileState;
use crate::error::Failure;
use crate::pack::files;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// What taking runs back did.
#[derive(Debug, Default)]
pub struct UndoReport {
    pub restored: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub removed_dirs: Vec<PathBuf>,
}

/// Takes back the changes recorded in `logs` (one run, possibly on several packs), newest
/// change first. Unless `force`, refuses without touching anything when a file was changed
/// after the run (drift).
pub fn undo_runs(logs: &[RunLog], force: bool) -> Result<UndoReport> {
    let mut changes: Vec<(&RunLog, &Change)> = logs
        .iter()
        .flat_map(|log| log.changes.iter().map(move |change| (log, change)))
        .collect();
    changes.sort_by_key(|(_, change)| std::cmp::Reverse(change.seq));

    if !force {
        // A file may be at any state of its own changes: a run that was killed, or a
        // rollback that was killed, stops part-way. Anything else is someone's work.
        let mut known: BTreeMap<PathBuf, Vec<Option<FileState>>> = BTreeMap::new();
        for (log, change) in &changes {
            let states = known
                .entry(files::join(&log.pack_home, &change.path))
                .or_default();
            states.push(change.before.clone());
            states.push(Some(change.after.clone()));
        }
        let mut drifted = Vec::new();
        for (dest, states) in &known {
            let now = files::file_state(dest)?.map(|(sha256, mode)| FileState { sha256, mode });
            if !states.contains(&now) {
                drifted.push(dest);
            }
        }
        if !drifted.is_empty() {
            let list: Vec<String> = drifted
                .iter()
                .map(|path| format!("`{}`", path.display()))
                .collect();
            bail!(
                "changed since the run, so rollback would overwrite someone's work: {}; check them, then run again with `--force` to restore anyway",
                list.join(", ")
            );
        }
    }

    let mut report = UndoReport::default();
    for (log, change) in &changes {
        let dest = files::join(&log.pack_home, &change.path);
        remove_temp_files(dest.parent());
        match (&change.before, &change.backup) {
            (Some(before), Some(backup)) => {
                let backup_path = log.dir.join(backup);
                let mut reader = File::open(&backup_path).with_context(|| {
                    format!("cannot read the backup `{}`", backup_path.display())
                })?;
                if let Ok(Some((sha256, mode))) = files::file_state(&dest) {
                    if sha256 == before.sha256 && mode == before.mode {
                        continue;
                    }
                }
                disk::atomic_write(&dest, before.mode, &mut reader, Some(&before.sha256))?;
                report.restored.push(dest.clone());
            }
            (Some(_), None) => {
                // Begun, but the backup was not recorded: the change never started.
            }
            (None, _) => match fs::symlink_metadata(&dest) {
                Ok(_) => {
                    fs::remove_file(&dest)
                        .with_context(|| format!("cannot remove `{}`", dest.display()))?;
                    if let Some(parent) = dest.parent() {
                        disk::sync_dir(parent)?;
                    }
                    report.removed.push(dest.clone());
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    return Err(error).with_context(|| format!("cannot stat `{}`", dest.display()))
                }
            },
        }
        for dir in change.created_dirs.iter().rev() {
            let path = files::join(&log.pack_home, dir);
            remove_temp_files(Some(&path));
            if fs::remove_dir(&path).is_ok() {
                report.removed_dirs.push(path);
            }
        }
    }
    Ok(report)
}

/// Removes temporary files a killed run may have left beside its targets.
fn remove_temp_files(dir: Option<&Path>) {
    let Some(dir) = dir else { return };
    if let Ok(names) = files::list_dir(dir) {
        for name in names {
            if name.starts_with(files::TEMP_PREFIX) && name.ends_with(files::TEMP_SUFFIX) {
                let _ = fs::remove_file(dir.join(name));
            }
        }
    }
}

/// The outcome of `rollback`.
#[derive(Debug)]
pub struct Rollback {
    pub run_id: String,
    pub script: String,
    pub packs: Vec<PathBuf>,
    pub report: UndoReport,
}

/// Takes back the latest run that changed something on any of `homes`, on every pack that
/// run touched; `None` when no run has anything left to take back.
pub fn rollback(homes: &[PathBuf], force: bool) -> Result<Option<Rollback>, Failure> {
    let mut locks = TargetLocks::acquire(homes.iter().map(PathBuf::as_path), "rollback")
        .map_err(Failure::BadInput)?;
    if latest_in_effect(homes)
        .map_err(Failure::BadInput)?
        .is_none()
    {
        return Ok(None);
    }
    rollback_locked(homes, force, &mut locks, None).map(Some)
}

/// The latest run on any of `homes` whose changes are (or may be) still in place.
fn latest_in_effect(homes: &[PathBuf]) -> Result<Option<RunLog>> {
    let mut latest: Option<RunLog> = None;
    for home in homes {
        for log in journal::read_runs(home)? {
            if (log.in_effect() || log.unfinished())
                && latest
                    .as_ref()
                    .is_none_or(|current| log.run_id > current.run_id)
            {
                latest = Some(log);
            }
        }
    }
    Ok(latest)
}

/// `rollback` for a caller that already holds the locks of `homes` (the REPL, for the whole
/// session). With `expected`, refuses unless the latest run is that one.
pub fn rollback_locked(
    homes: &[PathBuf],
    force: bool,
    locks: &mut TargetLocks,
    expected: Option<&str>,
) -> Result<Rollback, Failure> {
    let Some(latest) = latest_in_effect(homes).map_err(Failure::BadInput)? else {
        let shown: Vec<String> = homes
            .iter()
            .map(|home| format!("`{}`", home.display()))
            .collect();
        return Err(Failure::bad_input(format!(
            "nothing to roll back: no run in the history of {} changed anything that is still in effect (see `apim-migrate history`)",
            shown.join(", ")
        )));
    };
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
        for later in journal::read_runs(home).map_err(Failure::BadInput)? {
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
    let mut logs = Vec::new();
    for home in &pack_homes {
        if journal::run_dir(home, &latest.run_id)
            .join(journal::JOURNAL_FILE)
            .is_file()
        {
            locks
                .add(home, &format!("rollback {}", latest.run_id))
                .map_err(Failure::BadInput)?;
            logs.push(journal::read_run(home, &latest.run_id).map_err(Failure::BadInput)?);
        }
    }
    let report = undo_runs(&logs, force).map_err(Failure::BadInput)?;
    for log in &logs {
        let mut writer = JournalWriter::open_existing(&log.dir).map_err(Failure::RunFailed)?;
        writer
            .append(&Record::Rollback {
                at: journal::now(),
                forced: force,
            })
            .map_err(Failure::RunFailed)?;
    }
    Ok(Rollback {
        run_id: latest.run_id.clone(),
        script: latest.script_name(),
        packs: logs.iter().map(|log| log.pack_home.clone()).collect(),
        report,
    })
}
