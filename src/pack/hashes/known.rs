//! The entries earlier runs recorded, as a run or a plan looks them up: in memory as they
//! were read, or, where a target's state directory can take them, moved to an unnamed file
//! there (`change::disk::scratch_file`: nobody else can open it, and it is gone when the
//! command ends, however it ends), sorted, with only the first key of each block of `BLOCK` entries and
//! the blocks read lately held in memory. A no-op run at 100,000 tenants loads 270,000
//! entries (19 MB), which it needs from the start of planning, where it looks up each
//! source and each copy, to the end, where it saves those it found true: held whole, they
//! were a quarter of its peak beside the plan.
//!
//! The entries are looked up in about the order they were made (a tenant's files, one
//! tenant after another, the sources' and the copies' inodes each rising), so a block read
//! serves the lookups that follow it. Losing them costs only time: a file that cannot be
//! written keeps them in memory, and a block that cannot be read is a miss (the file is
//! hashed again).

use super::file::{entry_bytes, entry_of, ENTRY};
use super::{Entries, Entry, Key};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

/// Entries in a block: what one `pread` brings (5.5 KiB).
const BLOCK: usize = 64;

/// Blocks held, each in the slot its number modulo this picks (at most 1.2 MB).
const SLOTS: usize = 256;

/// The loaded entries, sorted by key, one per key.
#[derive(Debug)]
pub(super) enum Known {
    Memory(Entries),
    Disk(OnDisk),
}

impl Default for Known {
    fn default() -> Self {
        Known::Memory(Entries::default())
    }
}

#[derive(Debug)]
pub(super) struct OnDisk {
    file: File,
    count: usize,
    /// The key of the first entry of each block.
    fences: Vec<Key>,
    /// The blocks read lately: which one each slot holds, and its entries.
    blocks: Mutex<Vec<(usize, Vec<Entry>)>>,
}

impl Known {
    pub(super) fn len(&self) -> usize {
        match self {
            Known::Memory(entries) => entries.0.len(),
            Known::Disk(disk) => disk.count,
        }
    }

    /// The entry of `key` and its position in the sorted entries.
    pub(super) fn find(&self, key: Key) -> Option<(usize, Entry)> {
        match self {
            Known::Memory(entries) => entries.index_of(key).map(|at| (at, entries.0[at])),
            Known::Disk(disk) => {
                let block = disk.fences.partition_point(|fence| *fence <= key);
                let block = block.checked_sub(1)?;
                disk.with_block(block, |entries| {
                    let at = entries.binary_search_by_key(&key, |entry| entry.key).ok()?;
                    Some((block * BLOCK + at, entries[at]))
                })?
            }
        }
    }

    /// The entry at position `at` of the sorted entries.
    pub(super) fn get(&self, at: usize) -> Option<Entry> {
        match self {
            Known::Memory(entries) => entries.0.get(at).copied(),
            Known::Disk(disk) => disk
                .with_block(at / BLOCK, |entries| entries.get(at % BLOCK).copied())
                .flatten(),
        }
    }

    /// Moves entries held in memory to `file`, an unnamed file of this process's alone; when
    /// it cannot be written, they stay in memory.
    pub(super) fn move_to(&mut self, file: File) {
        let Known::Memory(entries) = self else {
            return;
        };
        if entries.0.is_empty() {
            return;
        }
        let count = entries.0.len();
        let mut fences = Vec::with_capacity(count.div_ceil(BLOCK));
        // Written 16 blocks at a time.
        let mut buffer = Vec::with_capacity(16 * BLOCK * ENTRY);
        let mut written = 0u64;
        for chunk in entries.0.chunks(16 * BLOCK) {
            buffer.clear();
            for (at, entry) in chunk.iter().enumerate() {
                if at % BLOCK == 0 {
                    fences.push(entry.key);
                }
                buffer.extend_from_slice(&entry_bytes(entry));
            }
            if file.write_all_at(&buffer, written).is_err() {
                return;
            }
            written += buffer.len() as u64;
        }
        // Shrunk before it is freed. glibc raises its mmap threshold (the size from which it
        // maps a block of its own rather than carving it from the heap) to the size of a
        // mapped block freed, up to 32 MiB: after these 19 MB were freed whole, the plan's
        // vectors grew inside the heap, and the holes they left there were 6 MB of a no-op's
        // peak at 100,000 tenants. Shrunk, the block is remapped to one page, then freed as
        // one, below the threshold.
        entries.0.truncate(1);
        entries.0.shrink_to_fit();
        *self = Known::Disk(OnDisk {
            file,
            count,
            fences,
            blocks: Mutex::new(Vec::new()),
        });
    }

    /// Adds (or replaces) the entry of `key`, in memory.
    #[cfg(test)]
    pub(super) fn insert(&mut self, key: Key, found: (super::Stamp, [u8; 32])) {
        match self {
            Known::Memory(entries) => entries.insert(key, found),
            Known::Disk(_) => panic!("entries moved to a file are not added to"),
        }
    }
}

impl OnDisk {
    /// `each` of the entries of block `block`, read unless held; `None` when it cannot be
    /// read.
    fn with_block<T>(&self, block: usize, each: impl FnOnce(&[Entry]) -> T) -> Option<T> {
        let first = block.checked_mul(BLOCK)?;
        let count = self.count.checked_sub(first)?.min(BLOCK);
        if count == 0 {
            return None;
        }
        let mut blocks = self.blocks.lock().ok()?;
        if blocks.is_empty() {
            blocks.resize_with(SLOTS, || (usize::MAX, Vec::new()));
        }
        let (held, entries) = &mut blocks[block % SLOTS];
        if *held != block {
            *held = usize::MAX;
            entries.clear();
            let mut bytes = [0u8; BLOCK * ENTRY];
            let bytes = &mut bytes[..count * ENTRY];
            self.file
                .read_exact_at(bytes, (first * ENTRY) as u64)
                .ok()?;
            for chunk in bytes.chunks_exact(ENTRY) {
                let mut record = [0u8; ENTRY];
                record.copy_from_slice(chunk);
                entries.push(entry_of(&record)?);
            }
            *held = block;
        }
        Some(each(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Stamp;
    use super::*;

    fn entry(ino: u64) -> Entry {
        Entry {
            key: (3, ino),
            stamp: Stamp {
                size: ino,
                mtime: ino as i64 * 7,
                ctime: -(ino as i64),
            },
            sha256: [(ino % 251) as u8; 32],
        }
    }

    #[test]
    fn entries_moved_to_a_file_are_found_as_in_memory_and_leave_no_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        // More blocks than are held: blocks `SLOTS` apart take one slot in turn.
        let count = (SLOTS + 2) * BLOCK + 5;
        let inodes: Vec<u64> = (0..count as u64).map(|at| 10 + 3 * at).collect();
        let entries = Entries::of(inodes.iter().map(|&ino| entry(ino)).collect());
        let memory = Known::Memory(Entries::of(inodes.iter().map(|&ino| entry(ino)).collect()));
        let mut known = Known::Memory(entries);
        known.move_to(tempfile::tempfile_in(dir.path()).expect("an unnamed file"));
        assert!(matches!(known, Known::Disk(_)), "moved");
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
        assert_eq!(known.len(), count);
        // Looked up out of order, and again: the same as in memory, entry and position.
        let mut looked: Vec<u64> = inodes.iter().rev().copied().collect();
        for at in 0..2 * BLOCK + 5 {
            looked.extend([inodes[at], inodes[at + SLOTS * BLOCK]]);
        }
        for ino in looked {
            assert_eq!(known.find((3, ino)), memory.find((3, ino)), "{ino}");
            assert_eq!(
                known.find((3, ino)).map(|(_, found)| found),
                Some(entry(ino))
            );
        }
        for (at, &ino) in inodes.iter().enumerate() {
            assert_eq!(known.get(at), Some(entry(ino)), "{at}");
        }
        // Keys before, between and after the entries, and positions past them, miss.
        let (first, last) = (inodes[0], inodes[count - 1]);
        for key in [
            (3, 0),
            (3, first + 1),
            (3, inodes[BLOCK] + 1),
            (3, last + 1),
            (4, 10),
            (2, first),
        ] {
            assert_eq!(known.find(key), None, "{key:?}");
            assert_eq!(memory.find(key), None, "{key:?}");
        }
        assert_eq!(known.get(count), None);
        // Nothing is moved twice, nor is an empty set.
        known.move_to(tempfile::tempfile_in(dir.path()).expect("an unnamed file"));
        assert_eq!(known.find((3, last)), memory.find((3, last)));
        let mut empty = Known::default();
        empty.move_to(tempfile::tempfile_in(dir.path()).expect("an unnamed file"));
        assert!(matches!(empty, Known::Memory(_)), "nothing to move");
        assert_eq!(
            (empty.len(), empty.find((3, 10)), empty.get(0)),
            (0, None, None)
        );
    }

    #[test]
    fn entries_that_cannot_be_written_stay_in_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("read-only");
        std::fs::write(&path, b"").expect("write");
        let mut known = Known::Memory(Entries::of(vec![entry(5), entry(9)]));
        known.move_to(File::open(&path).expect("open for reading only"));
        assert!(matches!(known, Known::Memory(_)), "kept");
        assert_eq!(known.find((3, 9)), Some((1, entry(9))));
    }

    #[test]
    fn a_block_that_cannot_be_read_is_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = tempfile::tempfile_in(dir.path()).expect("an unnamed file");
        let mut known = Known::Memory(Entries::of(vec![entry(5), entry(9)]));
        known.move_to(file.try_clone().expect("clone"));
        // The file cut short behind the lookup's back.
        file.set_len(ENTRY as u64).expect("truncate");
        assert_eq!(known.find((3, 9)), None);
        assert_eq!(known.get(0), None);
    }
}
