//! The journal each target pack keeps in `.apim-migrate/`: one directory a run, holding an
//! append-only `journal.jsonl` (written and flushed before each change it describes) and the
//! backups of replaced files; plus the lock that keeps two runs off one pack.

use crate::change::disk;
use crate::change::plan::{Continues, Effect, FileState, Finding, PackEntry, ScriptInfo, Source};
use crate::pack::files;
use crate::pack::STATE_DIR;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const BACKUP_DIR: &str = "backup";
const RUNS_DIR: &str = "runs";
const LOCK_FILE: &str = "lock";

/// One line of a journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// First line: what ran, on which packs.
    Run {
        run_id: String,
        started: String,
        tool_version: String,
        script: ScriptInfo,
        packs: Vec<PackEntry>,
        params: BTreeMap<String, String>,
        /// Set when the run went on (`--continue`) from an earlier run's checkpoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continues: Option<Continues>,
        /// The steps and modules the script used, each with its hash.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        sources: Vec<Source>,
    },
    /// The run stopped at a checkpoint (written just before `End`): what to do, how to go
    /// on, and the findings that the run that goes on will report again.
    Checkpoint {
        name: String,
        message: String,
        continue_with: String,
        findings: Vec<Finding>,
    },
    /// Written and flushed before the change it describes.
    Begin {
        seq: usize,
        primitive: String,
        path: String,
        effect: Effect,
        before: Option<FileState>,
        after: FileState,
        /// Directories this change creates, outermost first.
        created_dirs: Vec<String>,
        /// Backup of the replaced file, relative to the run directory.
        backup: Option<String>,
    },
    /// The change with this `seq` is complete on disk.
    Done { seq: usize },
    /// Last line of a run: `complete`, or `undone` when a failure was taken back.
    End { status: String, at: String },
    /// Appended when the run is rolled back.
    Rollback { at: String, forced: bool },
}

/// A run as read back from one pack's journal.
#[derive(Debug, Clone)]
pub struct RunLog {
    pub pack_home: PathBuf,
    pub run_id: String,
    pub dir: PathBuf,
    pub header: Option<Record>,
    pub changes: Vec<Change>,
    pub end: Option<String>,
    pub rolled_back: bool,
    /// The checkpoint the run stopped at.
    pub checkpoint: Option<CheckpointRecord>,
}

/// A checkpoint as the journal recorded it.
#[derive(Debug, Clone)]
pub struct CheckpointRecord {
    pub name: String,
    pub message: String,
    pub continue_with: String,
    pub findings: Vec<Finding>,
}

/// A change of a run, with whether it completed.
#[derive(Debug, Clone)]
pub struct Change {
    pub seq: usize,
    pub primitive: String,
    pub path: String,
    pub effect: Effect,
    pub before: Option<FileState>,
    pub after: FileState,
    pub created_dirs: Vec<String>,
    pub backup: Option<String>,
    pub done: bool,
}

impl RunLog {
    /// Whether the run changed anything (or may have: a change begun but not done).
    pub fn changed_something(&self) -> bool {
        !self.changes.is_empty()
    }

    /// Whether the run ended without finishing (killed, power loss).
    pub fn unfinished(&self) -> bool {
        self.end.is_none() && !self.rolled_back
    }

    /// Whether the changes of this run are still in place.
    pub fn in_effect(&self) -> bool {
        self.changed_something() && !self.rolled_back && self.end.as_deref() != Some("undone")
    }

    pub fn script_name(&self) -> String {
        match &self.header {
            Some(Record::Run { script, .. }) => script.name.clone(),
            _ => "?".to_string(),
        }
    }

    /// The statement, for a run of a statement entered in the REPL.
    pub fn statement(&self) -> Option<String> {
        match &self.header {
            Some(Record::Run { script, .. }) => script.source.clone(),
            _ => None,
        }
    }

    pub fn started(&self) -> String {
        match &self.header {
            Some(Record::Run { started, .. }) => started.clone(),
            _ => String::new(),
        }
    }

    /// The earlier run this one continued, if any.
    pub fn continues(&self) -> Option<Continues> {
        match &self.header {
            Some(Record::Run { continues, .. }) => continues.clone(),
            _ => None,
        }
    }

    pub fn script_sha256(&self) -> Option<String> {
        match &self.header {
            Some(Record::Run { script, .. }) => Some(script.sha256.clone()),
            _ => None,
        }
    }

    /// Whether the run completed and stopped at a checkpoint, and was not rolled back.
    pub fn stopped_at_checkpoint(&self) -> bool {
        self.checkpoint.is_some() && !self.rolled_back && self.end.as_deref() == Some("complete")
    }

    /// Whether this run went on (`--continue`) from the checkpoint of run `run_id`, completed,
    /// and still stands (not rolled back).
    pub fn goes_on_from(&self, run_id: &str) -> bool {
        self.continues().is_some_and(|from| from.run_id == run_id)
            && !self.rolled_back
            && self.end.as_deref() == Some("complete")
    }

    pub fn packs(&self) -> Vec<PackEntry> {
        match &self.header {
            Some(Record::Run { packs, .. }) => packs.clone(),
            _ => Vec::new(),
        }
    }

    /// Where the run stands (see `RunState`).
    pub fn state(&self) -> crate::change::run_state::RunState {
        crate::change::run_state::RunState::of(self)
    }
}

/// A sortable, unique run id: UTC time to the millisecond, the process id, and a counter
/// for runs started by one process within the same millisecond (the demo runs twice).
pub fn new_run_id() -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let now = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    let compact: String = now.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{compact}-{:05}-{count}", std::process::id() % 100_000)
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

pub fn state_dir(pack_home: &Path) -> PathBuf {
    pack_home.join(STATE_DIR)
}

pub fn run_dir(pack_home: &Path, run_id: &str) -> PathBuf {
    state_dir(pack_home).join(RUNS_DIR).join(run_id)
}

/// Appends records to one run's journal: `append` writes and flushes at once; `queue` keeps
/// records until the next `flush` (or `append`), for changes applied in batches.
pub struct JournalWriter {
    file: File,
    path: PathBuf,
    pub run_dir: PathBuf,
    queued: String,
}

impl JournalWriter {
    pub fn create(pack_home: &Path, run_id: &str) -> Result<JournalWriter> {
        let run_dir = run_dir(pack_home, run_id);
        fs::create_dir_all(run_dir.join(BACKUP_DIR))
            .with_context(|| format!("cannot create `{}`", run_dir.display()))?;
        let path = run_dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot create the journal `{}`", path.display()))?;
        if let Some(runs) = run_dir.parent() {
            disk::sync_dir(runs)?;
        }
        Ok(JournalWriter {
            file,
            path,
            run_dir,
            queued: String::new(),
        })
    }

    pub fn open_existing(run_dir: &Path) -> Result<JournalWriter> {
        let path = run_dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open the journal `{}`", path.display()))?;
        Ok(JournalWriter {
            file,
            path,
            run_dir: run_dir.to_path_buf(),
            queued: String::new(),
        })
    }

    /// Writes `record` (after any queued ones) and flushes the journal to disk.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.queue(record)?;
        self.flush()
    }

    /// Keeps `record` for the next `flush`.
    pub fn queue(&mut self, record: &Record) -> Result<()> {
        let line = serde_json::to_string(record).context("cannot encode a journal record")?;
        self.queued.push_str(&line);
        self.queued.push('\n');
        Ok(())
    }

    /// Writes the queued records and flushes the journal to disk.
    pub fn flush(&mut self) -> Result<()> {
        let queued = std::mem::take(&mut self.queued);
        self.file
            .write_all(queued.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot write the journal `{}`", self.path.display()))
    }
}

/// Reads every run recorded in a pack, oldest first.
pub fn read_runs(pack_home: &Path) -> Result<Vec<RunLog>> {
    let runs_dir = state_dir(pack_home).join(RUNS_DIR);
    let mut runs = Vec::new();
    for run_id in files::list_dir(&runs_dir)? {
        let dir = runs_dir.join(&run_id);
        if dir.join(JOURNAL_FILE).is_file() {
            runs.push(read_run(pack_home, &run_id)?);
        }
    }
    Ok(runs)
}

/// Reads one run's journal. A torn last line (the process died while writing it) is
/// ignored: the record it would have written was not yet acted upon.
pub fn read_run(pack_home: &Path, run_id: &str) -> Result<RunLog> {
    let dir = run_dir(pack_home, run_id);
    let path = dir.join(JOURNAL_FILE);
    let file = File::open(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let mut log = RunLog {
        pack_home: pack_home.to_path_buf(),
        run_id: run_id.to_string(),
        dir: dir.clone(),
        header: None,
        changes: Vec::new(),
        end: None,
        rolled_back: false,
        checkpoint: None,
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let count = lines.len();
    // Where each change is in `changes`, by seq (the latest, should one be begun twice): a
    // `Done` record comes a batch or two after its `Begin`, thousands of changes later.
    let mut positions: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (index, line) in lines.into_iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = match serde_json::from_str(&line) {
            Ok(record) => record,
            Err(_) if index + 1 == count => break,
            Err(error) => bail!(
                "the journal `{}` is damaged at line {}: {error}; nothing was changed. Restore it from a backup of the pack, or, once the run's changes are checked by hand, move its directory out of `.apim-migrate/runs` so that the history no longer counts it",
                path.display(),
                index + 1
            ),
        };
        match record {
            Record::Run { .. } => log.header = Some(record),
            Record::Begin {
                seq,
                primitive,
                path,
                effect,
                before,
                after,
                created_dirs,
                backup,
            } => {
                positions.insert(seq, log.changes.len());
                log.changes.push(Change {
                    seq,
                    primitive,
                    path,
                    effect,
                    before,
                    after,
                    created_dirs,
                    backup,
                    done: false,
                })
            }
            Record::Done { seq } => {
                if let Some(change) = positions
                    .get(&seq)
                    .and_then(|position| log.changes.get_mut(*position))
                {
                    change.done = true;
                }
            }
            Record::Checkpoint {
                name,
                message,
                continue_with,
                findings,
            } => {
                log.checkpoint = Some(CheckpointRecord {
                    name,
                    message,
                    continue_with,
                    findings,
                })
            }
            Record::End { status, .. } => log.end = Some(status),
            Record::Rollback { .. } => log.rolled_back = true,
        }
    }
    Ok(log)
}

/// An exclusive lock on a pack for the duration of a run or rollback: an advisory lock
/// (`flock`) on `.apim-migrate/lock`, which the kernel releases when the process ends, however
/// it ends. The file also names the holder (process, purpose, time); a clean exit removes it,
/// so a file found with a holder in it but not locked was left by a killed run.
pub struct PackLock {
    path: PathBuf,
    file: Option<File>,
    /// `.apim-migrate`, when this lock created it: removed again if nothing else was put there,
    /// so that a run refused before any change leaves the pack as it was.
    created_dir: Option<PathBuf>,
    /// The holder of a stale lock this lock replaced.
    pub cleared: Option<String>,
}

impl PackLock {
    /// Takes the lock, or fails naming the process that holds it. A stale lock (its holder
    /// no longer runs) is cleared and named in `cleared`.
    pub fn acquire(pack_home: &Path, purpose: &str) -> Result<PackLock> {
        let dir = state_dir(pack_home);
        let created_dir = match fs::create_dir(&dir) {
            Ok(()) => Some(dir.clone()),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => None,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot create `{}`", dir.display()))
            }
        };
        let mut lock = PackLock {
            path: dir.join(LOCK_FILE),
            file: None,
            created_dir,
            cleared: None,
        };
        // A holder that is just finishing removes the file it locked; then the lock taken
        // on it is worthless and the file is opened again.
        for _ in 0..8 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock.path)
                .with_context(|| format!("cannot open the lock `{}`", lock.path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = fs::read_to_string(&lock.path).unwrap_or_default();
                    bail!(
                        "`{}` is in use by another apim-migrate ({}); wait for it to finish",
                        pack_home.display(),
                        describe_holder(&holder).unwrap_or_else(|| "starting".to_string())
                    );
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(error)
                        .with_context(|| format!("cannot lock `{}`", lock.path.display()))
                }
            }
            if !same_file(&file, &lock.path) {
                continue;
            }
            let mut previous = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut previous);
            lock.cleared = describe_holder(&previous);
            if let Some(stale) = &lock.cleared {
                tracing::warn!(
                    "cleared a stale lock on `{}` left by a process that no longer runs ({stale})",
                    pack_home.display()
                );
            }
            let text = format!("{}\n{}\n{}\n", std::process::id(), purpose, now());
            file.set_len(0)
                .and_then(|()| std::io::Seek::rewind(&mut file))
                .and_then(|_| file.write_all(text.as_bytes()))
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write the lock `{}`", lock.path.display()))?;
            lock.file = Some(file);
            return Ok(lock);
        }
        bail!("cannot take the lock `{}`", lock.path.display())
    }
}

/// "process N, PURPOSE, since TIME" from the text of a lock file; `None` when empty.
fn describe_holder(text: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim);
    let pid = lines.next().filter(|line| !line.is_empty())?;
    let mut parts = vec![format!("process {pid}")];
    if let Some(purpose) = lines.next().filter(|line| !line.is_empty()) {
        parts.push(purpose.to_string());
    }
    if let Some(since) = lines.next().filter(|line| !line.is_empty()) {
        parts.push(format!("since {since}"));
    }
    Some(parts.join(", "))
}

fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

impl Drop for PackLock {
    fn drop(&mut self) {
        // Removed while still locked, then unlocked by closing.
        if let Some(file) = self.file.take() {
            let _ = fs::remove_file(&self.path);
            drop(file);
        }
        if let Some(dir) = &self.created_dir {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// The locks of every target pack of a run or rollback, taken in path order.
pub struct TargetLocks {
    locks: Vec<(PathBuf, PackLock)>,
}

impl TargetLocks {
    pub fn acquire<'a>(
        homes: impl IntoIterator<Item = &'a Path>,
        purpose: &str,
    ) -> Result<TargetLocks> {
        let mut homes: Vec<&Path> = homes.into_iter().collect();
        homes.sort();
        homes.dedup();
        let mut locks = TargetLocks { locks: Vec::new() };
        for home in homes {
            locks.add(home, purpose)?;
        }
        Ok(locks)
    }

    /// Takes the lock of one more pack (unless it is held already).
    pub fn add(&mut self, home: &Path, purpose: &str) -> Result<()> {
        if !self.covers(home) {
            let lock = PackLock::acquire(home, purpose)?;
            self.locks.push((home.to_path_buf(), lock));
        }
        Ok(())
    }

    pub fn covers(&self, home: &Path) -> bool {
        self.locks.iter().any(|(held, _)| held == home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_started_in_the_same_millisecond_differ_and_sort_in_order() {
        let first = new_run_id();
        let second = new_run_id();
        assert_ne!(first, second);
        assert!(
            first < second || first[..18] != second[..18],
            "{first} {second}"
        );
    }
}
