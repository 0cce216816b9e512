//! A cache of file hashes, kept by `run` in each target pack's `.apim-migrate/hashes`, so that
//! a run that finds everything already in place (a no-op) mostly `stat`s files instead of
//! reading them. An entry says: the file with this device and inode, of this size and with
//! these modification and change times (to the nanosecond), has this SHA-256. It is trusted
//! only when all of them match what `stat` says now, and it is recorded only when any later
//! change of the content is sure to change one of them. ARCHITECTURE.md ("The hash cache")
//! gives the reasoning; in short:
//!
//! - an entry made from a file the tool read is recorded only when the file's change time
//!   (`ctime`, which no program can set, and which every write, truncation, rename, link or
//!   `utimensat` moves to "now") is more than `SETTLED` older than a moment taken before the
//!   file was `stat`ed: a later change then stamps a later time, whatever the timestamp
//!   granularity or clock tick;
//! - an entry made from a file the tool wrote is recorded only when the tool set its
//!   modification time to its source's, more than `SETTLED` in the past, and `fstat` after
//!   the file was put in place still shows that time: a later write of the content stamps
//!   "now".
//!
//! The same file keeps what the tenants' gateway folders held (`Listed`, see
//! `artifacts::scan`): how many stock-named files and files of published APIs a tenant's
//! folders had, believed only while the `stat` of the tenant's synapse root and of each
//! folder listed in it still shows the device, inode, modification and change times
//! recorded. A directory's times move whenever an entry is added, removed or renamed in it,
//! and the same `SETTLED` rule keeps a directory changed in the same clock tick as its
//! listing out: so a no-op `run` looks at a tenant's gateway with a `stat` per folder
//! instead of opening and listing each.
//!
//! The cache file ends with the SHA-256 of the rest; a file that is torn, truncated or
//! corrupted is ignored as a whole. Nothing in it is believed without the `stat` of the file
//! agreeing, so a stale file (an older copy, another pack's) can only miss.

mod file;
mod known;
mod listed;
mod sorted;
mod spool;

use crate::pack::files::ContentHash;
use crate::pack::root::{Kind, PackRoot, SourceFile, Stat};
use anyhow::{Context, Result};
#[cfg(test)]
use file::decode;
use file::{entry_bytes, listed_bytes, Writer, ENTRY, LISTED};
use known::Known;
use listed::keep_last_of_each_listed;
pub use listed::Listed;
use sha2::{Digest, Sha256};
use sorted::keep_last_of_each;
use spool::Spool;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// The cache's file in a pack's state directory.
pub const CACHE_FILE: &str = "hashes";

/// How much older than the moment a file was looked at (or written) its recorded time must
/// be: more than a clock tick and than the coarsest timestamps (two seconds on FAT).
pub const SETTLED: Duration = Duration::from_secs(2);

/// What `stat` says of a file, besides where it is: its size, and its modification and
/// change times in nanoseconds since the epoch, each one number (an entry of 72 bytes, not
/// 88: the 270,000 of a run at 100,000 tenants are held whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: u64,
    mtime: i64,
    ctime: i64,
}

impl Stamp {
    /// `None` for a time 64 bits of nanoseconds cannot hold (before 1678 or after 2262):
    /// such a file is read each time, never cached.
    fn of(stat: &Stat) -> Option<Stamp> {
        Some(Stamp {
            size: stat.size,
            mtime: nanos(stat.mtime)?,
            ctime: nanos(stat.ctime)?,
        })
    }
}

/// Seconds and nanoseconds (`stat`'s, or `split`'s) as nanoseconds, where they fit.
fn nanos((seconds, nanos): (i64, i64)) -> Option<i64> {
    if !(0..1_000_000_000).contains(&nanos) {
        return None;
    }
    seconds.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Nanoseconds as seconds and nanoseconds (the cache file's form).
fn parts(nanos: i64) -> (i64, i64) {
    (
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000),
    )
}

type Key = (u64, u64);

/// What the cache says of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    key: Key,
    stamp: Stamp,
    sha256: [u8; 32],
}

/// Entries sorted by key, one per key: looked up by binary search. (A hash map of them took
/// twice the memory, as its table grows by doubling: 47 MB for a first run's 270,000
/// entries at 100,000 tenants, against 24 MB.)
#[derive(Debug, Default, PartialEq, Eq)]
struct Entries(Vec<Entry>);

impl Entries {
    /// `entries` sorted, the last of those with one key kept.
    fn of(mut entries: Vec<Entry>) -> Entries {
        keep_last_of_each_key(&mut entries);
        Entries(entries)
    }

    fn index_of(&self, key: Key) -> Option<usize> {
        self.0.binary_search_by_key(&key, |entry| entry.key).ok()
    }

    #[cfg(test)]
    fn get(&self, key: Key) -> Option<&Entry> {
        self.index_of(key).map(|index| &self.0[index])
    }

    /// Adds (or replaces) the entry of `key`.
    #[cfg(test)]
    fn insert(&mut self, key: Key, (stamp, sha256): (Stamp, [u8; 32])) {
        let mut entries = std::mem::take(&mut self.0);
        entries.push(Entry { key, stamp, sha256 });
        *self = Entries::of(entries);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Sorts `entries` by key and keeps, of those with the same key, the one given last.
fn keep_last_of_each_key(entries: &mut Vec<Entry>) {
    keep_last_of_each(entries, |entry| entry.key);
}

fn key(stat: &Stat) -> Key {
    (stat.dev, stat.ino)
}

/// The largest cache file read (about six million files); a larger one is not this tool's.
const MAX_CACHE_FILE: u64 = 512 * 1024 * 1024;

/// Seconds and nanoseconds since the epoch, as `stat` gives them (before it: negative).
fn split(time: SystemTime) -> (i64, i64) {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since) => (since.as_secs() as i64, i64::from(since.subsec_nanos())),
        Err(before) => {
            let before = before.duration();
            let nanos = i64::from(before.subsec_nanos());
            if nanos == 0 {
                (-(before.as_secs() as i64), 0)
            } else {
                (-(before.as_secs() as i64) - 1, 1_000_000_000 - nanos)
            }
        }
    }
}

/// What a cache file holds.
#[derive(Debug, Default, PartialEq, Eq)]
struct Contents {
    entries: Entries,
    /// Sorted by key, one per key.
    listed: Vec<Listed>,
}

/// The hashes known from earlier runs, and those confirmed or learnt by this one.
#[derive(Debug)]
pub struct HashCache {
    /// The entries known from earlier runs: held as read, or moved to a file (`move_known_to`).
    known: Known,
    /// The tenants' gateway folders known from earlier runs, sorted by key.
    known_listed: Vec<Listed>,
    /// Those this run found true (indexes in `known_listed`) or learnt: saved.
    confirmed_listed: Mutex<Vec<u32>>,
    /// What this run listed, in the order listed (`Listed` records as the file holds them).
    seen_listed: Mutex<Spool<LISTED>>,
    /// The entries of `known` this run found true, by their index there (at 100,000
    /// tenants a second copy of the entries was some 30 MB): saved with `seen`.
    confirmed: Mutex<Vec<u32>>,
    /// What this run learnt (files it read or wrote), in the order learnt, as the file holds
    /// entries: saved.
    seen: Mutex<Spool<ENTRY>>,
    /// Taken before any file was looked at through this cache.
    since: SystemTime,
    /// Whether what is found is kept, to be saved (not for `plan`, which writes nothing).
    recording: bool,
    /// The `stat` of each cache file read whole (see `is_already_saved_in`).
    loaded: Vec<(Key, Stamp)>,
}

impl Default for HashCache {
    fn default() -> Self {
        HashCache {
            known: Known::default(),
            known_listed: Vec::new(),
            confirmed_listed: Mutex::new(Vec::new()),
            seen_listed: Mutex::new(Spool::default()),
            confirmed: Mutex::new(Vec::new()),
            seen: Mutex::new(Spool::default()),
            since: SystemTime::now(),
            recording: true,
            loaded: Vec::new(),
        }
    }
}

impl HashCache {
    /// The caches of the packs, merged; a missing, foreign, damaged or oversized file (or
    /// one reached through a link) adds nothing.
    pub fn load<'a>(roots: impl IntoIterator<Item = &'a PackRoot>) -> HashCache {
        let mut cache = HashCache::default();
        let mut known = Vec::new();
        let mut listed = Vec::new();
        for root in roots {
            let relative = format!("{}/{CACHE_FILE}", crate::pack::STATE_DIR);
            let Ok((file, stat)) = root.open_file(&relative) else {
                continue;
            };
            if stat.size > MAX_CACHE_FILE {
                continue;
            }
            let mut reader = std::io::BufReader::with_capacity(64 * 1024, file);
            let Some(contents) = file::decode_from(&mut reader, stat.size) else {
                continue;
            };
            cache
                .loaded
                .extend(Stamp::of(&stat).map(|stamp| (key(&stat), stamp)));
            // The one pack's entries kept as decoded, not copied (19 MB at 100,000 tenants).
            if known.is_empty() {
                known = contents.entries.0;
            } else {
                known.extend(contents.entries.0);
            }
            if listed.is_empty() {
                listed = contents.listed;
            } else {
                listed.extend(contents.listed);
            }
        }
        cache.known = Known::Memory(Entries::of(known));
        keep_last_of_each_listed(&mut listed);
        cache.known_listed = listed;
        cache
    }

    /// Whether what is found is kept, to be saved (by `run`, not by `plan`).
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Whether the cache file whose `stat` is `stat` says already what saving would write:
    /// it is the one file this cache was read from, unchanged since, and this run learnt
    /// nothing (entries it holds that this run did not meet can only miss: see above). A
    /// no-op run then leaves it as it is (2.8 MB at 10,000 tenants, 27 MB at 100,000).
    pub fn is_already_saved_in(&self, stat: &Stat) -> bool {
        fn learnt<const RECORD: usize>(spool: &Mutex<Spool<RECORD>>) -> bool {
            spool.lock().map_or(true, |spool| !spool.is_empty())
        }
        self.loaded.len() == 1
            && Stamp::of(stat).map(|stamp| (key(stat), stamp)) == self.loaded.first().copied()
            && !learnt(&self.seen)
            && !learnt(&self.seen_listed)
    }

    /// Whether no entries are known from earlier runs.
    pub fn knows_none(&self) -> bool {
        self.known.len() == 0
    }

    /// Moves the entries known from earlier runs to `file`, an unnamed file (made by
    /// `change::disk::scratch_file`), from which they are looked up a block at a time,
    /// instead of holding them in memory.
    pub fn move_known_to(&mut self, file: std::fs::File) {
        self.known.move_to(file);
    }

    /// Spools the entries and the listings this run learns into two unnamed files (made as
    /// `move_known_to`'s), instead of holding all of them in memory until they are saved.
    pub fn spill_into(&mut self, [entries, listed]: [std::fs::File; 2]) {
        if let Ok(seen) = self.seen.get_mut() {
            seen.spill_into(entries);
        }
        if let Ok(seen) = self.seen_listed.get_mut() {
            seen.spill_into(listed);
        }
    }

    /// What an earlier run recorded of a tenant's gateway folders in `context`, to be
    /// checked against their `stat`s (`Listed::stamps_of`) and then `confirm_listed`.
    pub fn listed(&self, context: u64, tenant: u32) -> Option<(usize, Listed)> {
        self.known_listed
            .binary_search_by_key(&(context, tenant), Listed::key)
            .ok()
            .map(|index| (index, self.known_listed[index]))
    }

    /// The tenants whose gateway folders earlier runs recorded (in any context), sorted.
    pub fn listed_tenants(&self) -> Vec<u32> {
        let mut tenants: Vec<u32> = self
            .known_listed
            .iter()
            .map(|listed| listed.tenant)
            .collect();
        tenants.sort_unstable();
        tenants.dedup();
        tenants
    }

    /// The record `listed` gave at `index` held: kept for the next run.
    pub fn confirm_listed(&self, index: usize) {
        if self.recording {
            if let Ok(mut confirmed) = self.confirmed_listed.lock() {
                confirmed.push(index as u32);
            }
        }
    }

    /// Records what a tenant's gateway folders held, `stats` the `stat`s of its synapse root
    /// and of each folder in it, taken before each was listed: only when every one is a
    /// directory whose modification and change times are settled before this cache was
    /// made, so that a change after the listing stamps a later time.
    pub fn record_listed(&self, mut listed: Listed, stats: &[Stat]) {
        let settled = split(self.since.checked_sub(SETTLED).unwrap_or(self.since));
        if !self.recording
            || !stats
                .iter()
                .all(|stat| stat.is_dir() && stat.mtime < settled && stat.ctime < settled)
        {
            return;
        }
        listed.stamps = Listed::stamps_of(listed.context, listed.tenant, stats);
        if let Ok(mut seen) = self.seen_listed.lock() {
            seen.push(&listed_bytes(&listed));
        }
    }

    /// The same cache, keeping nothing of what it finds (for a command that never saves it).
    pub fn without_recording(self) -> HashCache {
        HashCache {
            recording: false,
            ..self
        }
    }

    /// Whether an entry read matches this `stat` of a file.
    pub fn covers(&self, stat: &Stat) -> bool {
        self.known
            .find(key(stat))
            .is_some_and(|(_, entry)| Some(entry.stamp) == Stamp::of(stat))
    }

    /// The SHA-256 of the regular file `source`, whose `stat` (taken before this call) is
    /// `stat`: from the cache when an entry matches it in every field, else read.
    pub fn sha256_file(&self, source: &SourceFile, stat: &Stat) -> Result<ContentHash> {
        let key = key(stat);
        let stamp = Stamp::of(stat);
        if let Some((index, known)) = self.known.find(key) {
            if Some(known.stamp) == stamp {
                if self.recording {
                    if let Ok(mut confirmed) = self.confirmed.lock() {
                        // Below `MAX_CACHE_FILE`'s six million entries.
                        confirmed.push(index as u32);
                    }
                }
                return Ok(ContentHash(known.sha256));
            }
        }
        let shown = || crate::pack::name::shown_path(&source.path());
        // What is read is what this descriptor holds, whatever the path leads to by now.
        let (mut file, opened) = source
            .open()
            .with_context(|| format!("cannot read `{}`", shown()))?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 64 * 1024];
        // Up to the size the descriptor's `fstat` gave, without a last `read` to see the end
        // (a third of the reads of planning): a file that grew since is another file (its
        // change time moved, so no entry for it can match) and the copy, which hashes what
        // it copies, refuses it as changed since planning.
        let mut left = opened.size;
        while left > 0 {
            let read = file
                .read(&mut buffer)
                .with_context(|| format!("cannot read `{}`", shown()))?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            left = left.saturating_sub(read as u64);
        }
        let digest: [u8; 32] = hasher.finalize().into();
        let settled = nanos(split(self.since.checked_sub(SETTLED).unwrap_or(self.since)));
        match (Stamp::of(&opened), settled) {
            (Some(stamp), Some(settled)) if self.recording && stamp.ctime < settled => {
                let entry = Entry {
                    key: self::key(&opened),
                    stamp,
                    sha256: digest,
                };
                if let Ok(mut seen) = self.seen.lock() {
                    seen.push(&entry_bytes(&entry));
                }
            }
            _ => {}
        }
        Ok(ContentHash(digest))
    }

    /// The state of the file at `relative` in a pack: its hash (through the cache) and mode,
    /// or `None` when nothing is there. Anything that is there but is not a regular file is
    /// an error, because the tool never replaces directories, links or devices with files.
    pub fn file_state(
        &self,
        root: &Arc<PackRoot>,
        relative: &str,
    ) -> Result<Option<(ContentHash, u32)>> {
        let stat = root
            .stat(relative)
            .with_context(|| format!("cannot stat `{}`", root.shown(relative)))?;
        match stat {
            None => Ok(None),
            Some(stat) if stat.kind == Kind::File => Ok(Some((
                self.sha256_file(&SourceFile::in_pack(root, relative), &stat)?,
                stat.mode,
            ))),
            Some(stat) if stat.kind == Kind::Link => anyhow::bail!(
                "`{}` is a symbolic link; refusing to replace it",
                root.shown(relative)
            ),
            Some(_) => anyhow::bail!(
                "`{}` exists and is not a regular file",
                root.shown(relative)
            ),
        }
    }

    /// Records a file the tool wrote with `sha256`, whose modification time it set to `kept`
    /// (its source's) before putting it in place, at `written` or later; `placed` is its
    /// `fstat` once in place. Recorded only when `kept` is settled before `written` and the
    /// file still shows it.
    pub fn record_written(
        &self,
        placed: &Stat,
        kept: SystemTime,
        written: SystemTime,
        sha256: &ContentHash,
    ) {
        let (Some(stamp), Some(kept_nanos), Some(settled)) = (
            Stamp::of(placed),
            nanos(split(kept)),
            written.checked_sub(SETTLED),
        ) else {
            return;
        };
        if !self.recording || stamp.mtime != kept_nanos || kept >= settled || !placed.is_file() {
            return;
        }
        let entry = Entry {
            key: key(placed),
            stamp,
            sha256: sha256.0,
        };
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(&entry_bytes(&entry));
        }
    }

    /// Writes the file `.apim-migrate/hashes` holds, what this run found true, to `out` as
    /// it is encoded; `Ok(false)`, with nothing written, when the cache was poisoned by a
    /// panic (nothing is saved then). `change::hashes::save` writes it.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<bool> {
        let (Ok(mut confirmed), Ok(seen)) = (self.confirmed.lock(), self.seen.lock()) else {
            return Ok(false);
        };
        let (Ok(mut confirmed_listed), Ok(seen_listed)) =
            (self.confirmed_listed.lock(), self.seen_listed.lock())
        else {
            return Ok(false);
        };
        confirmed.sort_unstable();
        confirmed.dedup();
        confirmed_listed.sort_unstable();
        confirmed_listed.dedup();
        // What earlier runs said and this one found true, then what this one learnt, in the
        // order learnt, as it was spooled. Of the records of one key, reading the file keeps
        // the last (`Entries::of`, `keep_last_of_each_listed`): what was learnt wins over what
        // was known, and the latest learnt over an earlier one, with nothing sorted here.
        // (Sorted and merged here, the learnt entries were held whole until the end of the
        // run: 19 MB of its peak at 100,000 tenants.)
        confirmed.retain(|&index| (index as usize) < self.known.len());
        let mut file = Writer::start(out, confirmed.len() + seen.len())?;
        for &index in confirmed.iter() {
            // Read back from the file the entries were moved to: one that cannot be read
            // now fails the save, which leaves the cache as it was.
            let entry = self.known.get(index as usize).ok_or_else(|| {
                std::io::Error::other("the hash cache's entries could not be read back")
            })?;
            file.entry(&entry)?;
        }
        seen.each_batch(&mut |records| file.bytes(records))?;
        for listed in confirmed_listed
            .iter()
            .filter_map(|&index| self.known_listed.get(index as usize))
        {
            file.listed(listed)?;
        }
        seen_listed.each_batch(&mut |records| file.bytes(records))?;
        file.finish()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests;
