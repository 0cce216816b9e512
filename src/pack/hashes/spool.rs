//! What a run learns for the hash cache, kept in the order learnt until the cache is saved:
//! in memory up to `SPILL_AT` bytes at a time, the rest appended to an unnamed file in a
//! target's state directory (`change::disk::scratch_file`, which the run hands over: nobody
//! else can open it, and it is gone when the run ends, however it ends), read back once as
//! the cache is saved. A first run at 100,000
//! tenants learns 270,000 hashes, which held in memory until the end were 19 MB of its peak
//! beside the whole plan. Records are kept as the cache file holds them, so saving copies
//! them as they are.
//!
//! Losing what is learnt costs only time, and a full disk must not fail a run for it: a
//! spool whose file cannot be made or written keeps everything from then on in memory.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// How many bytes of records are held in memory before they are written out.
const SPILL_AT: usize = 256 * 1024;

/// Records of one size (`RECORD` bytes), in the order given.
#[derive(Debug, Default)]
pub(super) struct Spool<const RECORD: usize> {
    /// Those not written out, in order, after those written.
    held: Vec<u8>,
    /// The unnamed file, once given (`spill_into`), and how many bytes of records it holds.
    file: Option<File>,
    written: u64,
    /// The file could not be made or written: everything stays in memory from then on.
    in_memory: bool,
    count: usize,
}

impl<const RECORD: usize> Spool<RECORD> {
    /// Writes what is held past `SPILL_AT` at the end of `file`, an unnamed file of this
    /// process's alone, from now on.
    pub(super) fn spill_into(&mut self, file: File) {
        if self.file.is_none() && self.written == 0 {
            self.file = Some(file);
        }
    }

    /// Adds `record`.
    pub(super) fn push(&mut self, record: &[u8; RECORD]) {
        if self.held.capacity() == 0 {
            self.held.reserve_exact(SPILL_AT + RECORD);
        }
        self.held.extend_from_slice(record);
        self.count += 1;
        if self.held.len() >= SPILL_AT && !self.in_memory {
            self.spill();
        }
    }

    /// Writes what is held at the end of the file; without one, or on failure, keeps it and
    /// all that follows in memory. A write that failed half way is read by nothing: only
    /// the bytes counted in `written` are read back.
    fn spill(&mut self) {
        let written = match &self.file {
            Some(file) => file.write_all_at(&self.held, self.written).is_ok(),
            None => false,
        };
        if written {
            self.written += self.held.len() as u64;
            self.held.clear();
        } else {
            self.in_memory = true;
        }
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    pub(super) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every record, in order, given to `each` a batch of whole records at a time.
    pub(super) fn each_batch(
        &self,
        each: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if let Some(file) = &self.file {
            let mut buffer = vec![0u8; (64 * 1024 / RECORD).max(1) * RECORD];
            let mut at = 0u64;
            while at < self.written {
                let left = usize::try_from(self.written - at).unwrap_or(usize::MAX);
                let size = left.min(buffer.len());
                let batch = &mut buffer[..size];
                file.read_exact_at(batch, at)?;
                each(batch)?;
                at += batch.len() as u64;
            }
        }
        if self.held.is_empty() {
            return Ok(());
        }
        each(&self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(spool: &Spool<8>) -> Vec<u64> {
        let mut found = Vec::new();
        spool
            .each_batch(&mut |batch| {
                assert_eq!(batch.len() % 8, 0, "whole records");
                for record in batch.chunks(8) {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(record);
                    found.push(u64::from_le_bytes(bytes));
                }
                Ok(())
            })
            .expect("read back");
        found
    }

    /// An unnamed file, as `change::disk::scratch_file` makes (its own test is there).
    fn scratch(dir: &std::path::Path) -> File {
        tempfile::tempfile_in(dir).expect("an unnamed file")
    }

    #[test]
    fn records_past_the_limit_go_to_an_unnamed_file_and_come_back_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::<8>::default();
        spool.spill_into(scratch(dir.path()));
        let count = 3 * SPILL_AT / 8 + 5;
        for number in 0..count as u64 {
            spool.push(&number.to_le_bytes());
        }
        assert_eq!(spool.len(), count);
        assert!(spool.written >= 3 * SPILL_AT as u64, "{}", spool.written);
        assert!(spool.held.len() < SPILL_AT && !spool.in_memory);
        assert_eq!(records(&spool), (0..count as u64).collect::<Vec<_>>());
        // Unnamed: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn a_spool_that_cannot_write_keeps_everything_in_memory() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("read-only");
        std::fs::write(&path, b"").expect("write");
        let mut spool = Spool::<8>::default();
        spool.spill_into(File::open(&path).expect("open for reading only"));
        let count = 2 * SPILL_AT / 8;
        for number in 0..count as u64 {
            spool.push(&number.to_le_bytes());
        }
        assert!(spool.in_memory && spool.written == 0);
        assert_eq!(records(&spool), (0..count as u64).collect::<Vec<_>>());
        // With no file at all, the same.
        let mut alone = Spool::<8>::default();
        for number in 0..count as u64 {
            alone.push(&number.to_le_bytes());
        }
        assert_eq!(records(&alone), (0..count as u64).collect::<Vec<_>>());
    }
}
