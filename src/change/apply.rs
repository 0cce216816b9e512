//! Applying a plan, and taking runs back. Every change is journaled and flushed before it is
//! made, replaced files are backed up first, and files are written through a temporary file
//! and a rename; a failure takes back everything the run had applied.

use super::progress::Progress;
use crate::change::disk;
use crate::change::journal::{self, JournalWriter, Record, RunLog, TargetLocks};
use crate::change::plan::{Content, Effect, FileState, Plan, Status};
use crate::error::Failure;
use crate::pack::files;
use crate::pack::hashes::HashCache;
use crate::pack::Role;
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Refuses to build on top of a run on `home` (whose history is `runs`) that never finished
/// (killed, power loss), naming the rollback that takes it back.
pub fn refuse_unfinished(role: Role, home: &Path, runs: &[RunLog]) -> Result<(), Failure> {
    if let Some(unfinished) = runs.iter().find(|run| run.unfinished()) {
        return Err(Failure::bad_input(format!(
            "an earlier run ({}) on `{}` did not finish (was it killed?); take it back first with `apim-migrate rollback --{role} {}`, then run again",
            unfinished.run_id,
            home.display(),
            home.display()
        )));
    }
    Ok(())
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
    let targets: Vec<(Role, PathBuf)> = plan
        .packs
        .iter()
        .filter(|pack| pack.target)
        .map(|pack| (pack.role, pack.home.clone()))
        .collect();
    for (role, home) in &targets {
        if !locks.covers(home) {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: the lock of --{role} `{}` is not held",
                home.display()
            )));
        }
    }

    let mut writers: BTreeMap<Role, JournalWriter> = BTreeMap::new();
    for (role, home) in &targets {
        let mut writer = JournalWriter::create(home, run_id).map_err(Failure::BadInput)?;
        writer
            .append(&Record::Run {
                run_id: run_id.to_string(),
                started: journal::now(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                script: plan.script.clone(),
                packs: plan.packs.clone(),
                params: plan.params.clone(),
                continues: plan.continues.clone(),
                sources: plan.sources.clone(),
            })
            .map_err(Failure::BadInput)?;
        writers.insert(*role, writer);
    }

    let homes: BTreeMap<Role, PathBuf> = targets.iter().cloned().collect();
    let inject_failure_at = injected_failure();
    let changes: Vec<usize> = (0..plan.actions.len())
        .filter(|index| plan.actions[*index].is_change())
        .collect();
    let mut attempted = 0;
    let mut failure = None;
    // Changes go in batches. For each: the targets are checked and the replaced files backed
    // up (each backup flushed); the batch's records are written to the journal and flushed
    // once; the files are written (new ones linked in once written, others renamed into
    // place, so never seen half-written); the filesystems are flushed once; only then are
    // the changes recorded as done. So the journal describes every change before it starts,
    // and a change recorded as done is on the disk, as when every file was flushed by
    // itself, at a fraction of the flushes. The flush of a batch runs on its own thread while
    // the next batch is checked and written (the disk works while the CPU does); its changes
    // are recorded as done when it returns, since a flush started after the last write of
    // its batch covers all of them.
    let mut dirs = TargetDirs::default();
    let mut flushing: Option<Flushing> = None;
    for batch in batches(plan, &changes) {
        let batch = batch.as_slice();
        let mut prepared: Vec<(usize, Prepared)> = Vec::new();
        for &index in batch {
            let action = &plan.actions[index];
            let step = match (homes.get(&action.pack), writers.get_mut(&action.pack)) {
                (Some(home), Some(writer)) => prepare(home, writer, action, &mut dirs),
                (None, _) => Err(anyhow::anyhow!("`{}` is not a target pack", action.pack)),
                (_, None) => Err(anyhow::anyhow!("no journal for `{}`", action.pack)),
            };
            match step {
                Ok(ready) => prepared.push((index, ready)),
                Err(error) => {
                    failure = Some((index, error));
                    break;
                }
            }
        }
        for writer in writers.values_mut() {
            if let Err(error) = writer.flush() {
                failure.get_or_insert((batch[0], error));
            }
        }
        if failure.is_some() {
            break;
        }
        // The position in this batch of the change at which to fail, for the tests.
        let injected = inject_failure_at
            .and_then(|at| at.checked_sub(attempted + 1))
            .filter(|position| *position < prepared.len());
        let results = write_batch(
            &plan.actions,
            &homes,
            &prepared,
            injected,
            progress,
            attempted,
            hashes,
        );
        attempted += prepared.len();
        let mut performed = Vec::new();
        for ((index, _), result) in prepared.iter().zip(results) {
            match result {
                Some(Ok(())) => {
                    plan.actions[*index].status = Status::Changed;
                    performed.push(*index);
                }
                Some(Err(error)) => {
                    failure.get_or_insert((*index, error));
                }
                None => {}
            }
        }
        if failure.is_some() {
            break;
        }
        // The directories this batch created are there for the next batch to see.
        dirs.settle();
        if let Some(earlier) = flushing.take() {
            if let Err((index, error)) = earlier.finish(&plan.actions, &mut writers) {
                failure = Some((index, error));
                break;
            }
        }
        flushing = Some(Flushing::start(&homes, performed, batch[batch.len() - 1]));
    }
    // The last batch's flush; after a failure, the flush of the batch before it, which the
    // undo below must not race, and whose changes it takes back whether recorded or not.
    if let Some(last) = flushing.take() {
        if let Err((index, error)) = last.finish(&plan.actions, &mut writers) {
            failure.get_or_insert((index, error));
        }
    }
    progress.finish();
    if failure.is_some() {
        // The undo below reads the journals back: everything queued must be in them.
        for writer in writers.values_mut() {
            let _ = writer.flush();
        }
    }

    match failure {
        None => {
            for writer in writers.values_mut() {
                if let Some(checkpoint) = &plan.stopped_at {
                    writer
                        .append(&Record::Checkpoint {
                            name: checkpoint.name.clone(),
                            message: checkpoint.message.clone(),
                            continue_with: checkpoint.continue_with.clone(),
                            findings: plan.findings.clone(),
                        })
                        .map_err(Failure::RunFailed)?;
                }
                writer
                    .append(&Record::End {
                        status: "complete".to_string(),
                        at: journal::now(),
                    })
                    .map_err(Failure::RunFailed)?;
            }
            Ok(())
        }
        Some((index, error)) => {
            let action = &mut plan.actions[index];
            action.status = Status::Failed;
            action.reason = Some(format!("{error:#}"));
            let failed_path = format!("{}:{}", action.pack, action.path);
            for later in plan.actions.iter_mut().skip(index + 1) {
                if later.is_change() && later.status != Status::Changed {
                    later.status = Status::Skipped;
                    later.reason = Some("not attempted: an earlier change failed".to_string());
                }
            }
            let logs: Vec<RunLog> = homes
                .values()
                .filter_map(|home| journal::read_run(home, run_id).ok())
                .collect();
            let undo = super::rollback::undo_runs(&logs, true);
            for writer in writers.values_mut() {
                let _ = writer.append(&Record::End {
                    status: if undo.is_ok() { "undone" } else { "failed" }.to_string(),
                    at: journal::now(),
                });
            }
            for action in plan.actions.iter_mut() {
                if action.status == Status::Changed {
                    action.status = Status::Skipped;
                    action.reason =
                        Some("applied, then taken back because the run failed".to_string());
                }
            }
            match undo {
                Ok(_) => Err(Failure::RunFailed(anyhow::anyhow!(
                    "the run failed at `{failed_path}`: {error:#}; everything it had applied was taken back"
                ))),
                Err(undo_error) => Err(Failure::RunFailed(anyhow::anyhow!(
                    "the run failed at `{failed_path}`: {error:#}; taking it back also failed: {undo_error:#}; run `apim-migrate rollback` once the cause is fixed"
                ))),
            }
        }
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
/// backs up, what the first one wrote.
fn batches(plan: &Plan, changes: &[usize]) -> Vec<Vec<usize>> {
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut paths: HashSet<(&str, &str)> = HashSet::new();
    for &index in changes {
        let action = &plan.actions[index];
        let key = (action.pack.as_str(), action.path.as_str());
        if current.len() == BATCH || paths.contains(&key) {
            batches.push(std::mem::take(&mut current));
            paths.clear();
        }
        paths.insert(key);
        current.push(index);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// A change checked and journaled, ready to be written.
struct Prepared {
    after: FileState,
    created_dirs: Vec<String>,
}

/// What applying knows of the directories of the targets: those seen to be real (not
/// links), and those that changes already journaled will create. With thousands of new
/// tenant folders, looking each path up component by component was most of the system calls
/// of a run.
#[derive(Default)]
struct TargetDirs {
    real: HashSet<PathBuf>,
    /// To be created by changes of the current batch (real once it is written).
    pending: HashSet<PathBuf>,
}

impl TargetDirs {
    /// Refuses a link on the way to `relative` below `home`; returns the directories that
    /// are missing and not yet claimed (outermost first, now claimed), and whether the
    /// file's directory exists on disk already.
    fn walk(&mut self, home: &Path, relative: &str) -> Result<(Vec<String>, bool)> {
        let parts: Vec<&str> = relative.split('/').collect();
        let mut missing = Vec::new();
        let mut on_disk = true;
        let mut dir = home.to_path_buf();
        for (index, part) in parts[..parts.len().saturating_sub(1)].iter().enumerate() {
            dir.push(part);
            if self.real.contains(&dir) {
                continue;
            }
            if self.pending.contains(&dir) {
                on_disk = false;
                continue;
            }
            if on_disk {
                match fs::symlink_metadata(&dir) {
                    Ok(metadata) if metadata.file_type().is_symlink() => bail!(
                        "`{}` is a symbolic link; the tool does not write through links",
                        dir.display()
                    ),
                    Ok(metadata) if metadata.is_dir() => {
                        self.real.insert(dir.clone());
                        continue;
                    }
                    Ok(_) => bail!("`{}` is not a directory", dir.display()),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        on_disk = false;
                    }
                    Err(error) => {
                        return Err(error)
                            .with_context(|| format!("cannot stat `{}`", dir.display()))
                    }
                }
            }
            self.pending.insert(dir.clone());
            missing.push(parts[..=index].join("/"));
        }
        Ok((missing, on_disk))
    }

    /// The batch is written: the directories it created are real.
    fn settle(&mut self) {
        self.real.extend(self.pending.drain());
    }
}

/// Checks that the target is still as planned, backs up a file about to be replaced (the
/// backup flushed), and queues the change's `Begin` record.
fn prepare(
    home: &Path,
    writer: &mut JournalWriter,
    action: &crate::change::plan::Action,
    dirs: &mut TargetDirs,
) -> Result<Prepared> {
    let Some(after) = action.after.clone() else {
        bail!("internal: change without an after state");
    };
    let Some(effect) = action.effect else {
        bail!("internal: change without an effect");
    };
    let (created_dirs, dir_on_disk) = dirs.walk(home, &action.path)?;
    let dest = files::join(home, &action.path);
    // The plan's view of the target must still hold: someone may have changed the pack
    // between planning and applying.
    let now = if dir_on_disk {
        files::file_state(&dest)?.map(|(sha256, mode)| FileState { sha256, mode })
    } else {
        None
    };
    if now != action.before {
        bail!(
            "`{}` changed after it was planned; plan again",
            dest.display()
        );
    }
    let backup = match effect {
        Effect::Replace => {
            let name = format!("{}/{:06}", journal::BACKUP_DIR, action.seq);
            let backup_path = writer.run_dir.join(&name);
            fs::copy(&dest, &backup_path).with_context(|| {
                format!(
                    "cannot back up `{}` to `{}`",
                    dest.display(),
                    backup_path.display()
                )
            })?;
            File::open(&backup_path)
                .and_then(|file| file.sync_all())
                .with_context(|| format!("cannot flush `{}`", backup_path.display()))?;
            Some(name)
        }
        Effect::Create => None,
    };
    writer.queue(&Record::Begin {
        seq: action.seq,
        primitive: action.primitive.clone(),
        path: action.path.clone(),
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

/// Writes the prepared changes of a batch: on several threads when there are many (the
/// work is the kernel's, creating inodes, and spreads over the cores), the files of one
/// directory on one thread, in order. Returns, for each change, how writing it went, or
/// `None` when it was not attempted (its thread stopped at an earlier failure).
fn write_batch(
    actions: &[crate::change::plan::Action],
    homes: &BTreeMap<Role, PathBuf>,
    prepared: &[(usize, Prepared)],
    injected: Option<usize>,
    progress: &dyn Progress,
    done_before: usize,
    hashes: &HashCache,
) -> Vec<Option<Result<()>>> {
    let threads = if prepared.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |cores| cores.get().min(MAX_THREADS))
    };
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for (position, (index, _)) in prepared.iter().enumerate() {
        let action = &actions[*index];
        let parent = action.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&(action.pack.as_str(), parent), &mut hasher);
        lanes[(std::hash::Hasher::finish(&hasher) % threads as u64) as usize].push(position);
    }
    let done = std::sync::atomic::AtomicUsize::new(done_before);
    let write_lane = |lane: &[usize]| -> Vec<(usize, Result<()>)> {
        let mut results = Vec::new();
        for &position in lane {
            let (index, ready) = &prepared[position];
            let action = &actions[*index];
            let result = if injected == Some(position) {
                Err(anyhow::anyhow!(
                    "injected failure (APIM_MIGRATE_INJECT_FAILURE)"
                ))
            } else {
                perform(&homes[&action.pack], action, ready, hashes)
            };
            let failed = result.is_err();
            results.push((position, result));
            progress.set(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            if failed {
                break;
            }
        }
        results
    };
    let mut outcome: Vec<Option<Result<()>>> = prepared.iter().map(|_| None).collect();
    let finished: Vec<Vec<(usize, Result<()>)>> = if threads == 1 {
        vec![write_lane(&lanes[0])]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = lanes
                .iter()
                .map(|lane| scope.spawn(|| write_lane(lane)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        vec![(
                            usize::MAX,
                            Err(anyhow::anyhow!("internal: a writing thread panicked")),
                        )]
                    })
                })
                .collect()
        })
    };
    for (position, result) in finished.into_iter().flatten() {
        match outcome.get_mut(position) {
            Some(slot) => *slot = Some(result),
            None => {
                // A thread that panicked: count it against the first change not written.
                if let Some(slot) = outcome.iter_mut().find(|slot| slot.is_none()) {
                    *slot = Some(result);
                }
            }
        }
    }
    outcome
}

/// Below this many changes in a batch, one thread writes them.
const PARALLEL_FROM: usize = 64;
/// At most this many writing threads.
const MAX_THREADS: usize = 4;

/// Writes one prepared change: its directories, then the file, linked or renamed into place.
fn perform(
    home: &Path,
    action: &crate::change::plan::Action,
    ready: &Prepared,
    hashes: &HashCache,
) -> Result<()> {
    let dest = files::join(home, &action.path);
    for dir in &ready.created_dirs {
        let path = files::join(home, dir);
        let created = match fs::create_dir(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {
                Ok(())
            }
            // A directory above it is claimed by a change written on another thread.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => fs::create_dir_all(&path),
            other => other,
        };
        created.with_context(|| format!("cannot create `{}`", path.display()))?;
    }
    // The file's own directory may be claimed by a change written on another thread.
    if let Some(parent) = dest.parent() {
        if ready.created_dirs.is_empty() && !parent.is_dir() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
    }
    let after = &ready.after;
    // A new file is linked in once written (nothing to replace); an existing one replaced by
    // a rename.
    let write = match action.effect {
        Some(Effect::Create) => disk::write_new_unsynced,
        _ => disk::atomic_write_unsynced,
    };
    let started = std::time::SystemTime::now();
    let (written, kept) = match &action.content {
        Content::File(source) => {
            let mut reader = File::open(source)
                .with_context(|| format!("cannot read `{}`", source.display()))?;
            // A copy keeps its source's modification time, as `cp -p` does; that is also
            // what lets the hash cache trust it later (see `hashcache`).
            let kept = reader
                .metadata()
                .and_then(|metadata| metadata.modified())
                .with_context(|| format!("cannot stat `{}`", source.display()))?;
            let written = write(
                &dest,
                after.mode,
                &mut reader,
                Some(&after.sha256),
                Some(kept),
            )?;
            (written, Some(kept))
        }
        Content::Bytes(bytes) => {
            let mut reader: &[u8] = bytes;
            let written = write(
                &dest,
                after.mode,
                &mut reader as &mut dyn Read,
                Some(&after.sha256),
                None,
            )?;
            (written, None)
        }
        Content::None => bail!("internal: change without content"),
    };
    debug_assert_eq!(written.sha256, after.sha256);
    if let (Some(placed), Some(kept)) = (&written.placed, kept) {
        hashes.record_written(placed, kept, started, &written.sha256);
    }
    Ok(())
}

/// Flushes the filesystem of each target pack once.
fn sync_filesystems<'a>(homes: impl Iterator<Item = &'a PathBuf>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut devices = HashSet::new();
    for home in homes {
        let device = fs::metadata(home)
            .with_context(|| format!("cannot stat `{}`", home.display()))?
            .dev();
        if devices.insert(device) {
            disk::sync_filesystem(home)?;
        }
    }
    Ok(())
}

/// The flush of the filesystems after a batch, running on its own thread, with the changes
/// of the batch it makes durable.
struct Flushing {
    thread: std::thread::JoinHandle<Result<()>>,
    performed: Vec<usize>,
    /// The change a failed flush is reported against: the batch's last.
    last: usize,
}

impl Flushing {
    /// Starts flushing the filesystems of `homes`; every write of the batch has returned.
    fn start(homes: &BTreeMap<Role, PathBuf>, performed: Vec<usize>, last: usize) -> Flushing {
        let homes: Vec<PathBuf> = homes.values().cloned().collect();
        Flushing {
            thread: std::thread::spawn(move || sync_filesystems(homes.iter())),
            performed,
            last,
        }
    }

    /// Waits for the flush, then queues the `Done` records of the batch's changes.
    fn finish(
        self,
        actions: &[crate::change::plan::Action],
        writers: &mut BTreeMap<Role, JournalWriter>,
    ) -> Result<(), (usize, anyhow::Error)> {
        let flushed = self.thread.join().unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "internal: the thread flushing the filesystems panicked"
            ))
        });
        flushed.map_err(|error| (self.last, error))?;
        for index in self.performed {
            let action = &actions[index];
            if let Some(writer) = writers.get_mut(&action.pack) {
                writer
                    .queue(&Record::Done { seq: action.seq })
                    .map_err(|error| (index, error))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use crate::change::plan::{Action, ActionKind, ScriptInfo};

    fn plan_of(paths: &[&str]) -> Plan {
        let actions = paths
            .iter()
            .enumerate()
            .map(|(seq, path)| Action {
                seq,
                primitive: "copy_file".to_string(),
                action: ActionKind::Copy,
                pack: Role::New,
                path: path.to_string(),
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
        let changes: Vec<usize> = (0..5).collect();
        assert_eq!(batches(&plan, &changes), vec![vec![0, 1], vec![2, 3, 4]]);
        let many: Vec<String> = (0..BATCH * 2 + 1)
            .map(|index| format!("f{index}"))
            .collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let plan = plan_of(&names);
        let changes: Vec<usize> = (0..names.len()).collect();
        let sizes: Vec<usize> = batches(&plan, &changes).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![BATCH, BATCH, 1]);
    }
}
