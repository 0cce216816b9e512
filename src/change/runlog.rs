//! A run as read back from one pack's journal (`RunLog`): its records checked line by line
//! (checksums, a torn last line, the seal, the paths each record names), and what they say
//! of the run: its changes, how it ended, whether it was rolled back.

use crate::change::journal::{
    begun_or_done, decode_checked, run_relative, BegunOrDone, Record, Seal, BACKUP_DIR,
    JOURNAL_FILE, SEAL_FILE, SUM_PREFIX,
};
use crate::change::plan::{Continues, Effect, FileState, Finding, PackEntry};
use crate::change::state;
use crate::pack::files;
use crate::pack::root::{Kind, PackRoot};
use crate::pack::{name, STATE_DIR};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The largest journal read (a run of a million files writes about 600 MiB).
const MAX_JOURNAL: u64 = 4 * 1024 * 1024 * 1024;

/// A run as read back from one pack's journal.
#[derive(Debug, Clone)]
pub struct RunLog {
    pub pack_home: PathBuf,
    pub run_id: String,
    /// The run's directory, for messages.
    pub dir: PathBuf,
    pub header: Option<Record>,
    /// The changes begun, in order; left empty when only how the run stands was read
    /// (`Read::Standing`).
    pub changes: Vec<Change>,
    /// How many changes were begun (the length of `changes` when they are kept).
    pub begun: usize,
    pub end: Option<String>,
    /// What stopped the run, when it was taken back for something other than a failure.
    pub end_cause: Option<String>,
    pub rolled_back: bool,
    /// A rollback began and did not finish.
    pub rollback_begun: bool,
    /// Changes a rollback took back so far.
    pub undone: BTreeSet<usize>,
    pub checkpoint: Option<CheckpointRecord>,
    /// The length of the journal up to its last whole record (what is appended goes there).
    pub valid_len: u64,
    /// Whether the journal was written with checksums.
    pub checksums: bool,
    /// Why the journal cannot be trusted, with the line: the run is then refused.
    pub damage: Option<String>,
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
        self.begun > 0
    }

    /// Whether the run ended without finishing (killed, power loss).
    pub fn unfinished(&self) -> bool {
        self.end.is_none() && !self.rolled_back
    }

    /// Whether the run failed and taking it back failed too: its changes may be in place.
    pub fn failed_in_place(&self) -> bool {
        self.end.as_deref() == Some("failed") && !self.rolled_back
    }

    /// Whether a rollback of the run began and did not finish.
    pub fn rollback_incomplete(&self) -> bool {
        self.rollback_begun && !self.rolled_back
    }

    /// Whether the changes of this run are still in place (all or some of them).
    pub fn in_effect(&self) -> bool {
        self.changed_something() && !self.rolled_back && self.end.as_deref() != Some("undone")
    }

    /// The refusal of a journal that cannot be trusted.
    pub fn trusted(&self) -> Result<()> {
        match &self.damage {
            Some(damage) => anyhow::bail!(
                "{damage}; nothing was changed. Restore the journal from a backup of the pack; or, once the run's changes are checked by hand, move `{}` out of `.apim-migrate/runs` so that the history no longer counts it",
                name::shown_path(&self.dir)
            ),
            None => Ok(()),
        }
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

/// How much of a journal is kept in its `RunLog`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Everything, each change with it (`history`, `show`, `rollback`).
    Whole,
    /// How the run stands (how it ended, its checkpoint, rollback, damage) and how many
    /// changes it began, not the changes: what a new run checks of the runs before it. At
    /// 100,000 tenants the changes of one run are some 40 MB. Within the seal, the lines of
    /// changes begun and done are counted unparsed (see `read_run_as`).
    Standing,
}

/// Reads every run recorded in a pack, oldest first. A journal that cannot be trusted is
/// returned with its `damage`; a state directory (or `runs/`) that is a link is refused.
pub fn read_runs(pack_home: &Path) -> Result<Vec<RunLog>> {
    read_runs_as(pack_home, Read::Whole)
}

/// `read_runs`, keeping what `read` says.
pub fn read_runs_as(pack_home: &Path, read: Read) -> Result<Vec<RunLog>> {
    let root = PackRoot::open(pack_home)
        .with_context(|| format!("cannot open `{}`", name::shown_path(pack_home)))?;
    read_runs_at(&root, read)
}

/// `read_runs_as` through an open pack.
pub fn read_runs_at(root: &PackRoot, read: Read) -> Result<Vec<RunLog>> {
    let runs = state::runs_relative();
    if state::open_dir(root, STATE_DIR, false)?.is_none() {
        return Ok(Vec::new());
    }
    let mut entries = match root.list(&runs) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(state::refuse_state(root, &runs, &error)),
    };
    entries.sort_by(|left, right| left.name.cmp(&right.name));
    let mut logs = Vec::new();
    for entry in entries {
        let journal = format!("{runs}/{}/{JOURNAL_FILE}", entry.name);
        match entry.kind {
            Kind::Dir => {}
            Kind::Link => anyhow::bail!(
                "`{}` is a symbolic link: the tool reads its runs only from real directories of the pack; remove the link",
                root.shown(&format!("{runs}/{}", entry.name))
            ),
            _ => continue,
        }
        match root.stat(&journal) {
            Ok(Some(stat)) if stat.kind == Kind::File => {}
            Ok(_) => continue,
            Err(error) => return Err(state::refuse_state(root, &journal, &error)),
        }
        logs.push(read_run_as(root, &entry.name, read)?);
    }
    Ok(logs)
}

/// Reads one run's journal (see `read_run_at`).
pub fn read_run(pack_home: &Path, run_id: &str) -> Result<RunLog> {
    let root = PackRoot::open(pack_home)
        .with_context(|| format!("cannot open `{}`", name::shown_path(pack_home)))?;
    read_run_at(&root, run_id)
}

/// Reads one run's journal, through the pack's handles. A torn last line (the process died
/// or the disk filled while writing it) is left out: the record it would have written was
/// not yet acted upon. Anything else wrong is the log's `damage`.
pub fn read_run_at(root: &PackRoot, run_id: &str) -> Result<RunLog> {
    read_run_as(root, run_id, Read::Whole)
}

/// `read_run_at`, keeping what `read` says. The journal is read a line at a time (a run of
/// 100,000 tenants writes some 60 MB of it), its seal's hash taken on the way.
pub fn read_run_as(root: &PackRoot, run_id: &str, read: Read) -> Result<RunLog> {
    let run_relative = run_relative(run_id);
    let relative = format!("{run_relative}/{JOURNAL_FILE}");
    let shown = root.shown(&relative);
    let (file, stat) = root
        .open_file(&relative)
        .map_err(|error| state::refuse_state(root, &relative, &error))?;
    let path = root.path(&relative);
    let cannot_read = || format!("cannot read `{shown}`");
    files::within_limit(stat.size, &path, MAX_JOURNAL, "a journal").with_context(cannot_read)?;
    let mut reader = std::io::BufReader::with_capacity(256 * 1024, file);
    let mut log = RunLog {
        pack_home: root.home().to_path_buf(),
        run_id: run_id.to_string(),
        dir: root.path(&run_relative),
        header: None,
        changes: Vec::new(),
        begun: 0,
        end: None,
        end_cause: None,
        rolled_back: false,
        rollback_begun: false,
        undone: BTreeSet::new(),
        checkpoint: None,
        valid_len: 0,
        checksums: false,
        damage: None,
    };
    let seal = read_seal(root, &run_relative, &mut log);
    let mut sealed_part = Sha256::new();
    // Where each change is in `changes`, by seq (the latest, should one be begun twice): a
    // `Done` record comes a batch or two after its `Begin`, thousands of changes later.
    let mut positions: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut line = Vec::new();
    // How far the journal was read (all of it, unless a damaged line stopped the reading).
    let mut offset = 0u64;
    let mut number = 0u64;
    loop {
        line.clear();
        let read_now = reader
            .read_until(b'\n', &mut line)
            .with_context(cannot_read)? as u64;
        if read_now == 0 {
            break;
        }
        let next = offset + read_now;
        files::within_limit(next, &path, MAX_JOURNAL, "a journal").with_context(cannot_read)?;
        if let Some(seal) = &seal {
            let in_seal = seal.bytes.saturating_sub(offset).min(read_now) as usize;
            sealed_part.update(&line[..in_seal]);
        }
        if number == 0 {
            log.checksums = line.starts_with(SUM_PREFIX.as_bytes());
        }
        number += 1;
        let whole = line.last() == Some(&b'\n');
        let text = if whole {
            &line[..line.len() - 1]
        } else {
            &line[..]
        };
        let last = reader.fill_buf().with_context(cannot_read)?.is_empty();
        let sealed = seal.as_ref().is_some_and(|seal| next <= seal.bytes);
        // How a run stands needs only the count of changes begun. Within the seal, whose
        // hash is checked over every byte at the end, a line that starts as a change begun
        // or done is counted without being parsed or its own checksum taken (at 100,000
        // tenants, some 270,000 lines a run). Its paths are checked when the changes are
        // read whole, the only reading that acts on them.
        if read == Read::Standing && whole && sealed && log.checksums {
            if let Some(kind) = begun_or_done(text) {
                if kind == BegunOrDone::Begun {
                    log.begun += 1;
                }
                offset = next;
                log.valid_len = next;
                continue;
            }
        }
        let record = std::str::from_utf8(text).ok().and_then(|text| {
            if text.trim().is_empty() {
                None
            } else if log.checksums {
                decode_checked(text)
            } else {
                serde_json::from_str(text).ok()
            }
        });
        offset = next;
        let record = match record {
            Some(record) if whole => record,
            // A torn last record: what a crash (or a full disk) leaves; the change it would
            // have described never started. Within what the seal covers, it is damage.
            _ if last && !sealed => break,
            _ if text.iter().all(u8::is_ascii_whitespace) && whole => {
                log.valid_len = next;
                continue;
            }
            // Cut in the middle of a record the seal says was whole.
            _ if last && seal.as_ref().is_some_and(|seal| next < seal.bytes) => break,
            _ => {
                log.damage.get_or_insert(format!(
                    "the journal `{shown}` is damaged at line {number} (its checksum does not match or it is not a record)"
                ));
                break;
            }
        };
        if let Err(problem) = check_record(&record) {
            log.damage.get_or_insert(format!(
                "the journal `{shown}` is damaged at line {number}: {problem}"
            ));
            break;
        }
        log.valid_len = next;
        apply_record(&mut log, record, &mut positions, read);
    }
    if let Some(seal) = seal {
        if log.damage.is_none() {
            if offset < seal.bytes || log.valid_len < seal.bytes {
                log.damage = Some(format!(
                    "the journal `{shown}` ends early: it has {number} lines, but held {} when the run ended (`{SEAL_FILE}`); it was cut short",
                    seal.lines
                ));
            } else if files::to_hex(&sealed_part.finalize()) != seal.sha256 {
                log.damage = Some(format!(
                    "the journal `{shown}` was changed after the run ended: its first {} lines no longer match `{SEAL_FILE}`",
                    seal.lines
                ));
            }
        }
    }
    Ok(log)
}

/// The seal of a run, if it has one; a seal that cannot be read damages the log.
fn read_seal(root: &PackRoot, run_relative: &str, log: &mut RunLog) -> Option<Seal> {
    let relative = format!("{run_relative}/{SEAL_FILE}");
    let (file, stat) = match root.open_file(&relative) {
        Ok(opened) => opened,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            log.damage = Some(format!(
                "the seal `{}` cannot be read: {error}",
                root.shown(&relative)
            ));
            return None;
        }
    };
    let seal = files::read_at_most(file, stat.size, &root.path(&relative), 4096, "a seal")
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Seal>(&bytes).ok());
    if seal.is_none() {
        log.damage = Some(format!("the seal `{}` is damaged", root.shown(&relative)));
    }
    seal
}

/// Checks the paths a record names, as a script's paths are checked: relative, inside the
/// pack, not the tool's own state; created directories above the path; backups in the
/// run's backup directory.
fn check_record(record: &Record) -> std::result::Result<(), String> {
    let Record::Begin {
        path,
        created_dirs,
        backup,
        ..
    } = record
    else {
        return Ok(());
    };
    let confined = |path: &str| -> std::result::Result<(), String> {
        match files::confined_relative(path) {
            Ok(clean) if clean == path && !crate::change::planner::is_state_path(path) => Ok(()),
            Ok(_) => Err(format!(
                "path `{}` is not a plain path inside the pack",
                name::shown(path)
            )),
            Err(error) => Err(format!("{error:#}")),
        }
    };
    confined(path)?;
    for dir in created_dirs {
        confined(dir)?;
        if !path.starts_with(&format!("{dir}/")) {
            return Err(format!(
                "directory `{}` is not above `{}`",
                name::shown(dir),
                name::shown(path)
            ));
        }
    }
    if let Some(backup) = backup {
        let digits = backup.strip_prefix(&format!("{BACKUP_DIR}/"));
        if !digits
            .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!(
                "backup `{}` is not a file of the run's backup directory",
                name::shown(backup)
            ));
        }
    }
    Ok(())
}

fn apply_record(
    log: &mut RunLog,
    record: Record,
    positions: &mut std::collections::HashMap<usize, usize>,
    read: Read,
) {
    match record {
        Record::Run { .. } => log.header = Some(record),
        Record::Begin { .. } if read == Read::Standing => log.begun += 1,
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
            log.begun += 1;
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
        Record::End { status, cause, .. } => {
            log.end = Some(status);
            log.end_cause = cause;
        }
        Record::RollbackBegin { .. } => log.rollback_begun = true,
        Record::Undone { seq } => {
            log.undone.insert(seq);
        }
        Record::Rollback { .. } => log.rolled_back = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_out_of_the_pack_and_into_the_state_are_refused() {
        let begin = |path: &str, dirs: Vec<&str>, backup_path: Option<&str>| {
            let mut record = created(1, path);
            if let Record::Begin {
                created_dirs,
                backup,
                ..
            } = &mut record
            {
                *created_dirs = dirs.into_iter().map(str::to_string).collect();
                *backup = backup_path.map(str::to_string);
            }
            record
        };
        assert!(check_record(&begin("a/b.xml", vec!["a"], Some("backup/000001"))).is_ok());
        for bad in [
            begin("../../etc/passwd", vec![], None),
            begin("/etc/passwd", vec![], None),
            begin("a/./b.xml", vec![], None),
            begin(".apim-migrate/lock", vec![], None),
            begin("a/b.xml", vec!["c"], None),
            begin("a/b.xml", vec!["../a"], None),
            begin("a/b.xml", vec![], Some("../../../etc/shadow")),
            begin("a/b.xml", vec![], Some("backup/../x")),
        ] {
            assert!(check_record(&bad).is_err(), "{bad:?}");
        }
    }

    /// The `Begin` record of a file created by `copy_file`.
    fn created(seq: usize, path: &str) -> Record {
        Record::Begin {
            seq,
            primitive: "copy_file".to_string(),
            path: path.to_string(),
            effect: Effect::Create,
            before: None,
            after: FileState {
                sha256: crate::pack::files::ContentHash::default(),
                mode: 0o644,
            },
            created_dirs: vec![],
            backup: None,
        }
    }

    #[test]
    fn a_sealed_journal_read_for_how_it_stands_counts_its_changes_and_still_sees_a_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_id = "20260101T000000000Z-1-0";
        let run_dir = dir.path().join(run_relative(run_id));
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        let line = |record: Record| crate::change::journal::encode(&record, true).expect("line");
        let begin = |seq: usize, path: &str| line(created(seq, path));
        let end = line(Record::End {
            status: "complete".to_string(),
            at: "now".to_string(),
            cause: None,
        });
        let write = |records: &str, sealed: &str| {
            std::fs::write(run_dir.join(JOURNAL_FILE), records).expect("write");
            let seal = Seal {
                bytes: sealed.len() as u64,
                lines: sealed.lines().count() as u64,
                sha256: files::to_hex(&Sha256::digest(sealed.as_bytes())),
            };
            std::fs::write(
                run_dir.join(SEAL_FILE),
                serde_json::to_vec(&seal).expect("json"),
            )
            .expect("write");
        };
        let records = [
            begin(1, "a/1.xml"),
            line(Record::Done { seq: 1 }),
            begin(2, "a/2.xml"),
            begin(3, "a/3.xml"),
            line(Record::Done { seq: 3 }),
            end.clone(),
        ]
        .concat();
        assert_eq!(
            begun_or_done(records.lines().next().expect("line").as_bytes()),
            Some(BegunOrDone::Begun)
        );
        assert_eq!(begun_or_done(end.as_bytes()), None);
        write(&records, &records);
        let root = PackRoot::open(dir.path()).expect("open");
        let whole = read_run_at(&root, run_id).expect("read");
        let standing = read_run_as(&root, run_id, Read::Standing).expect("read");
        assert_eq!((whole.damage.as_deref(), whole.begun), (None, 3));
        assert_eq!((standing.damage.as_deref(), standing.begun), (None, 3));
        assert_eq!(standing.end.as_deref(), Some("complete"));
        assert_eq!(standing.valid_len, records.len() as u64);

        // A path out of the pack, its line's checksum made to match, the seal too: reading
        // whole refuses it; reading how the run stands, which acts on no path, counts it.
        let hostile = records.replacen(&begin(2, "a/2.xml"), &begin(2, "../../etc/passwd"), 1);
        write(&hostile, &hostile);
        let whole = read_run_at(&root, run_id).expect("read");
        assert!(whole.damage.expect("damage").contains("line 3"));
        let standing = read_run_as(&root, run_id, Read::Standing).expect("read");
        assert_eq!((standing.damage, standing.begun), (None, 3));

        // One byte changed within the seal: damage, read whole or not.
        let changed = records.replacen("a/2.xml", "a/9.xml", 1);
        write(&changed, &records);
        for read in [Read::Whole, Read::Standing] {
            let damage = read_run_as(&root, run_id, read).expect("read").damage;
            assert!(damage.is_some(), "{read:?}");
        }
        let standing = read_run_as(&root, run_id, Read::Standing).expect("read");
        assert!(
            standing
                .damage
                .expect("damage")
                .contains("was changed after the run ended"),
            "a line counted unparsed is still covered by the seal's hash"
        );

        // After the seal (a rollback's records), every line is parsed and checked.
        let after = begin(4, "a/4.xml").replacen("a/4.xml", "a/5.xml", 1);
        write(&format!("{records}{after}{end}"), &records);
        let damage = read_run_as(&root, run_id, Read::Standing)
            .expect("read")
            .damage
            .expect("damage");
        assert!(damage.contains("line 7"), "{damage}");
    }

    #[test]
    fn a_journal_read_a_line_at_a_time_says_what_it_says_whole_or_standing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let run_id = "20260101T000000000Z-1-0";
        let run_dir = dir.path().join(run_relative(run_id));
        std::fs::create_dir_all(&run_dir).expect("mkdir");
        let record = |record: Record| serde_json::to_string(&record).expect("json") + "\n";
        let begin = |seq: usize| record(created(seq, &format!("a/{seq}.xml")));
        let records = [
            begin(1),
            record(Record::Done { seq: 1 }),
            "\n".to_string(),
            begin(2),
            begin(3),
            record(Record::Done { seq: 3 }),
            record(Record::End {
                status: "complete".to_string(),
                at: "now".to_string(),
                cause: None,
            }),
        ]
        .concat();
        let torn = "{\"Done\": {\"se";
        std::fs::write(run_dir.join(JOURNAL_FILE), format!("{records}{torn}")).expect("write");
        let root = PackRoot::open(dir.path()).expect("open");

        let whole = read_run_at(&root, run_id).expect("read");
        assert_eq!(whole.damage, None);
        assert_eq!(whole.begun, 3);
        let done: Vec<(usize, bool)> = whole.changes.iter().map(|c| (c.seq, c.done)).collect();
        assert_eq!(done, vec![(1, true), (2, false), (3, true)]);
        assert_eq!(whole.end.as_deref(), Some("complete"));
        assert_eq!(
            whole.valid_len,
            records.len() as u64,
            "the torn line left out"
        );

        let standing = read_run_as(&root, run_id, Read::Standing).expect("read");
        assert!(standing.changes.is_empty());
        assert_eq!(standing.begun, 3);
        assert!(standing.changed_something());
        assert_eq!(standing.end, whole.end);
        assert_eq!(standing.valid_len, whole.valid_len);

        // A seal over the records: whole, it holds; one byte changed within it, it does not.
        let seal = |sha256: String| {
            let seal = Seal {
                bytes: records.len() as u64,
                lines: 7,
                sha256,
            };
            std::fs::write(
                run_dir.join(SEAL_FILE),
                serde_json::to_vec(&seal).expect("json"),
            )
            .expect("write");
        };
        seal(files::to_hex(&Sha256::digest(records.as_bytes())));
        let sealed = read_run_as(&root, run_id, Read::Standing).expect("read");
        assert_eq!(sealed.damage, None);
        let changed = records.replacen("a/2.xml", "a/9.xml", 1);
        std::fs::write(run_dir.join(JOURNAL_FILE), &changed).expect("write");
        let damage = read_run_as(&root, run_id, Read::Standing)
            .expect("read")
            .damage
            .expect("damage");
        assert!(
            damage.contains("was changed after the run ended"),
            "{damage}"
        );
        // Cut within what the seal covers.
        std::fs::write(run_dir.join(JOURNAL_FILE), &records[..records.len() - 5]).expect("write");
        let damage = read_run_at(&root, run_id)
            .expect("read")
            .damage
            .expect("damage");
        assert!(damage.contains("ends early"), "{damage}");
    }
}
