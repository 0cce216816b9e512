//! The journal each target pack keeps in `.apim-migrate/runs/<run id>/`: an append-only
//! `journal.jsonl` (each record written and flushed before the change it describes), the
//! backups of replaced files, and, once the run ended, `sealed`, which says how long the
//! journal was then and what it held.
//!
//! Every line carries a checksum of its record (`{"sum":"…","record":{…}}`), so that a line
//! torn by a crash or a full disk is told from a complete one, and a journal damaged later
//! is refused with the line named. A torn last line of a run that did not finish is what a
//! crash leaves: it is ignored and cut off before anything is appended. A journal that ends
//! before the length its seal records, or differs from it, was cut or edited after the run,
//! and is refused. Every path a record names is checked as a script's paths are (relative,
//! inside the pack, not the tool's own state), before anything acts on it. Journals written
//! before checksums existed (no `sum` on their first line) are read as they were written.

use crate::change::disk;
use crate::change::plan::{Continues, Effect, FileState, Finding, PackEntry, ScriptInfo, Source};
pub use crate::change::runlog::{
    read_run, read_run_as, read_run_at, read_runs, read_runs_as, read_runs_at, Change,
    CheckpointRecord, Read, RunLog,
};
use crate::change::state;
use crate::pack::files;
use crate::pack::root::{DirHandle, Kind, PackRoot};
use crate::pack::STATE_DIR;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const BACKUP_DIR: &str = "backup";
/// Written when a run ends: the journal's length, lines and SHA-256 at that moment.
pub const SEAL_FILE: &str = "sealed";

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
    /// Last line of a run: `complete`, `undone` when a failure (or an interrupt, `cause`)
    /// was taken back, `failed` when taking it back failed too.
    End {
        status: String,
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// A rollback of the run starts (nothing has been changed yet).
    RollbackBegin { at: String, forced: bool },
    /// A rollback took back the change with this `seq` (the file is as before it).
    Undone { seq: usize },
    /// Appended when the run is rolled back, completely.
    Rollback { at: String, forced: bool },
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

/// `.apim-migrate/runs/<run id>`, pack-relative.
pub fn run_relative(run_id: &str) -> String {
    format!("{}/{run_id}", state::runs_relative())
}

pub fn run_dir(pack_home: &Path, run_id: &str) -> PathBuf {
    files::join(pack_home, &run_relative(run_id))
}

/// The line of a record: with its checksum, or as journals without checksums wrote it.
pub(super) fn encode(record: &Record, checksums: bool) -> Result<String> {
    let text = serde_json::to_string(record).context("cannot encode a journal record")?;
    if !checksums {
        return Ok(format!("{text}\n"));
    }
    Ok(format!(
        "{{\"sum\":\"{}\",\"record\":{text}}}\n",
        checksum(&text)
    ))
}

/// The checksum of a record's text: the first 64 bits of its SHA-256, in hex.
pub(super) fn checksum(text: &str) -> String {
    files::to_hex(&Sha256::digest(text.as_bytes())[..8])
}

pub(super) const SUM_PREFIX: &str = "{\"sum\":\"";
const SUM_INFIX: &str = "\",\"record\":";

/// A change begun or done, told by a line's first bytes alone (written with a checksum):
/// what reading a sealed journal for how it stands needs of those lines, which are nearly
/// all of it. `None` for any other line.
pub(super) fn begun_or_done(line: &[u8]) -> Option<BegunOrDone> {
    let rest = line.strip_prefix(SUM_PREFIX.as_bytes())?;
    let record = rest.get(16..)?.strip_prefix(SUM_INFIX.as_bytes())?;
    if record.starts_with(br#"{"kind":"begin","#) {
        Some(BegunOrDone::Begun)
    } else if record.starts_with(br#"{"kind":"done","#) {
        Some(BegunOrDone::Done)
    } else {
        None
    }
}

/// What `begun_or_done` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BegunOrDone {
    Begun,
    Done,
}

/// The record of a line written with a checksum; `None` when the line is not whole.
pub(super) fn decode_checked(line: &str) -> Option<Record> {
    let rest = line.strip_prefix(SUM_PREFIX)?;
    let (sum, rest) = rest.split_at_checked(16)?;
    let text = rest.strip_prefix(SUM_INFIX)?.strip_suffix('}')?;
    if checksum(text) != sum {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// Queued records are written out, not yet flushed, once they are this many bytes: the
/// `Done` records of a run are queued all at once after its one flush, and held whole they
/// were 13 MB at 100,000 tenants.
const SPILL: usize = 1 << 20;

/// Appends records to one run's journal: `append` writes and flushes at once; `queue` keeps
/// records until the next `flush` (or `append`), for changes applied in batches, writing them
/// out early past `SPILL` bytes (only `flush` makes them durable). A write or flush that fails
/// (a full disk) cuts the journal back to what the last flush made durable and drops the
/// records since, so that no torn record stays for a later one to be appended onto.
pub struct JournalWriter {
    file: File,
    shown: String,
    pub run_dir: DirHandle,
    pub backup_dir: DirHandle,
    /// The run's directory (pack-relative).
    pub run_relative: String,
    queued: String,
    /// Bytes of the journal flushed, all whole records.
    written: u64,
    /// Bytes of whole records written after those, not yet flushed.
    spilled: u64,
    /// Lines in the journal (flushed and spilled).
    lines: u64,
    /// The SHA-256 of what is written (flushed and spilled), for the seal.
    hasher: Sha256,
    /// `lines` and `hasher` as of the last flush, for a failed write to go back to.
    at_flush: (u64, Sha256),
    checksums: bool,
    root: std::sync::Arc<PackRoot>,
}

impl JournalWriter {
    /// Makes the run's directory and its journal in the state directory of the pack (made
    /// by its lock), never through a link.
    pub fn create(root: &std::sync::Arc<PackRoot>, run_id: &str) -> Result<JournalWriter> {
        let runs = state::runs_relative();
        let runs_dir = state::open_dir(root, &runs, true)?
            .with_context(|| format!("cannot create `{}`", root.shown(&runs)))?;
        let run_relative = run_relative(run_id);
        if !disk::mkdir_at(&runs_dir, run_id, &root.shown(&run_relative))? {
            anyhow::bail!("`{}` exists already", root.shown(&run_relative));
        }
        let run_dir = state::open_dir(root, &run_relative, false)?
            .with_context(|| format!("cannot open `{}`", root.shown(&run_relative)))?;
        let backup_relative = format!("{run_relative}/{BACKUP_DIR}");
        let backup_dir = state::open_dir(root, &backup_relative, true)?
            .with_context(|| format!("cannot create `{}`", root.shown(&backup_relative)))?;
        let shown = root.shown(&format!("{run_relative}/{JOURNAL_FILE}"));
        let file = disk::create_at(&run_dir, JOURNAL_FILE, 0o644)
            .map_err(|error| disk::written_error(error, &run_dir, &shown, 0))?;
        disk::fsync_dir(&runs_dir, &root.shown(&runs))?;
        Ok(JournalWriter {
            file,
            shown,
            run_dir,
            backup_dir,
            run_relative,
            queued: String::new(),
            written: 0,
            spilled: 0,
            lines: 0,
            hasher: Sha256::new(),
            at_flush: (0, Sha256::new()),
            checksums: true,
            root: root.clone(),
        })
    }

    /// Opens the journal of a run read back as `log`, to append: a torn last record is cut
    /// off first, never written after.
    pub fn open_existing(root: &std::sync::Arc<PackRoot>, log: &RunLog) -> Result<JournalWriter> {
        use nix::fcntl::OFlag;
        use std::os::fd::AsFd;
        let run_relative = run_relative(&log.run_id);
        let run_dir = state::open_dir(root, &run_relative, false)?
            .with_context(|| format!("cannot open `{}`", root.shown(&run_relative)))?;
        let backup_relative = format!("{run_relative}/{BACKUP_DIR}");
        let backup_dir = state::open_dir(root, &backup_relative, true)?
            .with_context(|| format!("cannot open `{}`", root.shown(&backup_relative)))?;
        let shown = root.shown(&format!("{run_relative}/{JOURNAL_FILE}"));
        let fd = nix::fcntl::openat(
            run_dir.as_fd(),
            JOURNAL_FILE,
            OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(std::io::Error::from)
        .with_context(|| format!("cannot open the journal `{shown}`"))?;
        let mut file = File::from(fd);
        let stat = crate::pack::Stat::of(&file.metadata()?);
        if stat.kind != Kind::File || stat.nlink > 1 {
            anyhow::bail!(
                "`{shown}` is not a regular file with one name; the tool does not write there"
            );
        }
        if stat.size > log.valid_len {
            disk::truncate(&file, log.valid_len)
                .map_err(|error| disk::written_error(error, &run_dir, &shown, 0))?;
        }
        file.seek(std::io::SeekFrom::End(0))?;
        Ok(JournalWriter {
            file,
            shown,
            run_dir,
            backup_dir,
            run_relative,
            queued: String::new(),
            written: log.valid_len,
            spilled: 0,
            lines: 0,
            hasher: Sha256::new(),
            at_flush: (0, Sha256::new()),
            checksums: log.checksums,
            root: root.clone(),
        })
    }

    /// A file of the run's backup directory, for messages.
    pub fn backup_shown(&self, name: &str) -> String {
        self.root
            .shown(&format!("{}/{BACKUP_DIR}/{name}", self.run_relative))
    }

    /// Writes `record` (after any queued ones) and flushes the journal to disk.
    pub fn append(&mut self, record: &Record) -> Result<()> {
        self.queue(record)?;
        self.flush()
    }

    /// Keeps `record` for the next `flush`, writing out what is queued once it is `SPILL`
    /// bytes (a failure then is a failed flush).
    pub fn queue(&mut self, record: &Record) -> Result<()> {
        let line = encode(record, self.checksums)?;
        self.queued.push_str(&line);
        if self.queued.len() >= SPILL {
            self.write_queued()?;
        }
        Ok(())
    }

    /// Writes the queued records and flushes the journal to disk. On failure the journal is
    /// cut back to what the last flush made durable and the records since are dropped: the
    /// changes they describe are not made (a run stops at a failed flush), and a later record
    /// is appended to whole ones only.
    pub fn flush(&mut self) -> Result<()> {
        if self.queued.is_empty() && self.spilled == 0 {
            return Ok(());
        }
        self.write_queued()?;
        if let Err(error) = self.file.sync_data() {
            return Err(self.cut_back(error));
        }
        self.written += self.spilled;
        self.spilled = 0;
        self.at_flush = (self.lines, self.hasher.clone());
        Ok(())
    }

    /// Writes the queued records, not flushed.
    fn write_queued(&mut self) -> Result<()> {
        if let Err(error) = self.file.write_all(self.queued.as_bytes()) {
            return Err(self.cut_back(error));
        }
        self.spilled += self.queued.len() as u64;
        self.lines += self.queued.matches('\n').count() as u64;
        self.hasher.update(self.queued.as_bytes());
        self.queued.clear();
        Ok(())
    }

    /// After a failed write or flush: the journal cut back to what the last flush made
    /// durable, the records since dropped; the error, naming the bytes they needed.
    fn cut_back(&mut self, error: std::io::Error) -> anyhow::Error {
        let _ = disk::truncate(&self.file, self.written);
        let _ = self.file.seek(std::io::SeekFrom::Start(self.written));
        let needed = self.spilled + self.queued.len() as u64;
        self.queued.clear();
        self.spilled = 0;
        (self.lines, self.hasher) = self.at_flush.clone();
        disk::written_error(error, &self.run_dir, &self.shown, needed)
    }

    /// Records the journal as the run ended (length, lines, SHA-256) in `sealed`, flushed, so
    /// that a journal later cut short or edited is told from a run that never finished.
    /// Only for a journal this writer created.
    pub fn seal(&mut self) -> Result<()> {
        self.flush()?;
        let seal = Seal {
            bytes: self.written,
            lines: self.lines,
            sha256: files::to_hex(&self.hasher.clone().finalize()),
        };
        let text = serde_json::to_string(&seal).context("cannot encode the seal")?;
        let shown = self
            .root
            .shown(&format!("{}/{SEAL_FILE}", self.run_relative));
        let mut file = disk::create_at(&self.run_dir, SEAL_FILE, 0o644)
            .map_err(|error| disk::written_error(error, &self.run_dir, &shown, 0))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|error| {
                disk::written_error(error, &self.run_dir, &shown, text.len() as u64)
            })?;
        disk::fsync_dir(&self.run_dir, &shown)
    }
}

/// What `sealed` holds.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Seal {
    pub(super) bytes: u64,
    pub(super) lines: u64,
    pub(super) sha256: String,
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

    #[test]
    fn records_queued_past_the_spill_are_written_early_and_a_failed_write_goes_back_to_the_last_flush(
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join(STATE_DIR)).expect("state dir");
        let root = std::sync::Arc::new(PackRoot::open(dir.path()).expect("open"));
        let run_id = "20260101T000000000Z-1-0";
        let mut writer = JournalWriter::create(&root, run_id).expect("create");
        let journal = dir.path().join(run_relative(run_id)).join(JOURNAL_FILE);
        let size = || std::fs::metadata(&journal).expect("journal").len();
        writer
            .append(&Record::Begin {
                seq: 1,
                primitive: "copy_file".to_string(),
                path: "a/1.xml".to_string(),
                effect: Effect::Create,
                before: None,
                after: FileState {
                    sha256: files::ContentHash::default(),
                    mode: 0o644,
                },
                created_dirs: vec![],
                backup: None,
            })
            .expect("append");
        let flushed = size();

        // Queued past `SPILL` bytes, records are written before any flush, whole.
        let mut queued = 0;
        while size() == flushed {
            writer.queue(&Record::Done { seq: 1 }).expect("queue");
            queued += 1;
            assert!(queued < 100_000, "never written");
        }
        assert!(size() - flushed >= SPILL as u64);
        let text = std::fs::read_to_string(&journal).expect("read");
        assert!(text.ends_with('\n') && text.lines().all(|line| decode_checked(line).is_some()));
        writer.flush().expect("flush");
        let flushed = size();
        assert_eq!(writer.written, flushed);

        // Written early and then failed (a full disk at a later write or at the flush): the
        // journal is cut back to the last flush, and what the seal counts goes back with it.
        let mut spilled = 0;
        while size() == flushed {
            writer.queue(&Record::Done { seq: 2 }).expect("queue");
            spilled += 1;
            assert!(spilled < 100_000, "never written");
        }
        let failed = writer.cut_back(std::io::Error::from_raw_os_error(28));
        assert!(format!("{failed:#}").contains(JOURNAL_FILE), "{failed:#}");
        assert_eq!(size(), flushed);
        assert!(writer.queued.is_empty() && writer.spilled == 0);

        // A write that fails as it is queued (a full device) drops what was queued.
        let full = File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let journal_file = std::mem::replace(&mut writer.file, full);
        let failed = (0..100_000)
            .map(|_| writer.queue(&Record::Done { seq: 3 }))
            .find_map(Result::err)
            .expect("a failed write");
        assert!(format!("{failed:#}").contains(JOURNAL_FILE), "{failed:#}");
        assert!(writer.queued.is_empty() && writer.spilled == 0);

        // Appended to and sealed afterwards, the journal reads back whole, as sealed.
        writer.file = journal_file;
        writer
            .append(&Record::End {
                status: "complete".to_string(),
                at: "now".to_string(),
                cause: None,
            })
            .expect("append");
        writer.seal().expect("seal");
        let log = crate::change::runlog::read_run_at(&root, run_id).expect("read back");
        assert_eq!(log.damage, None);
        assert_eq!(log.changes.len(), 1);
        assert!(log.changes[0].done);
        let text = std::fs::read_to_string(&journal).expect("read");
        assert_eq!(text.len() as u64, size());
        assert_eq!(text.lines().count(), 1 + queued + 1);
        assert!(!text.contains(r#""seq":2"#) && !text.contains(r#""seq":3"#));
    }

    #[test]
    fn a_record_survives_its_line_and_any_change_to_the_line_is_caught() {
        let record = Record::Done { seq: 42 };
        let line = encode(&record, true).expect("encode");
        let text = line.trim_end();
        assert!(matches!(
            decode_checked(text),
            Some(Record::Done { seq: 42 })
        ));
        for cut in [1, 10, text.len() - 1] {
            assert!(decode_checked(&text[..cut]).is_none(), "cut at {cut}");
        }
        let edited = text.replace("42", "43");
        assert!(decode_checked(&edited).is_none());
    }
}
