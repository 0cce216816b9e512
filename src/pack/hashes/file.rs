//! The cache file's format: its magic, the count of file entries, the entries, the
//! `Listed` records, and the SHA-256 of all of it last. A file of the version before (file
//! entries only) is still read.

use super::{keep_last_of_each_listed, nanos, parts, Contents, Entries, Entry, Listed, Stamp};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};

/// File hashes only (read, never written).
const MAGIC_V1: &[u8; 8] = b"APIMHC01";
/// File hashes, their count first, then `Listed` records.
const MAGIC: &[u8; 8] = b"APIMHC02";
pub(super) const ENTRY: usize = 7 * 8 + 32;
pub(super) const LISTED: usize = 8 + 4 + 4 + 4 + 4 + 16;
const TRAILER: usize = 32;

/// A cache file being written: its magic and count of file entries, then that many entries,
/// then `Listed` records, each given whole or as bytes already encoded (`entry_bytes`,
/// `listed_bytes`); `finish` puts the checksum of all of it last.
pub(super) struct Writer<'o> {
    check: Sha256,
    out: &'o mut dyn Write,
}

impl<'o> Writer<'o> {
    /// Starts a file of `count` file entries.
    pub(super) fn start(out: &'o mut dyn Write, count: usize) -> std::io::Result<Writer<'o>> {
        let mut writer = Writer {
            check: Sha256::new(),
            out,
        };
        writer.bytes(MAGIC)?;
        writer.bytes(&(count as u64).to_le_bytes())?;
        Ok(writer)
    }

    /// Records encoded already, whole ones only.
    pub(super) fn bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.check.update(bytes);
        self.out.write_all(bytes)
    }

    pub(super) fn entry(&mut self, entry: &Entry) -> std::io::Result<()> {
        self.bytes(&entry_bytes(entry))
    }

    pub(super) fn listed(&mut self, listed: &Listed) -> std::io::Result<()> {
        self.bytes(&listed_bytes(listed))
    }

    /// The checksum, last.
    pub(super) fn finish(self) -> std::io::Result<()> {
        let check = self.check.finalize();
        self.out.write_all(&check)
    }
}

/// A file entry as the file holds it.
pub(super) fn entry_bytes(
    Entry {
        key: (dev, ino),
        stamp,
        sha256,
    }: &Entry,
) -> [u8; ENTRY] {
    let mut entry = [0u8; ENTRY];
    let (mtime, ctime) = (parts(stamp.mtime), parts(stamp.ctime));
    let numbers = [*dev, *ino, stamp.size]
        .map(u64::to_le_bytes)
        .into_iter()
        .chain([mtime.0, mtime.1, ctime.0, ctime.1].map(i64::to_le_bytes));
    for (index, number) in numbers.enumerate() {
        entry[index * 8..index * 8 + 8].copy_from_slice(&number);
    }
    entry[7 * 8..].copy_from_slice(sha256);
    entry
}

/// A `Listed` record as the file holds it.
pub(super) fn listed_bytes(listed: &Listed) -> [u8; LISTED] {
    let mut record = [0u8; LISTED];
    record[..8].copy_from_slice(&listed.context.to_le_bytes());
    record[8..12].copy_from_slice(&listed.tenant.to_le_bytes());
    record[12..16].copy_from_slice(&u32::from(listed.folders).to_le_bytes());
    record[16..20].copy_from_slice(&listed.stock.to_le_bytes());
    record[20..24].copy_from_slice(&listed.api_own.to_le_bytes());
    record[24..].copy_from_slice(&listed.stamps);
    record
}

#[cfg(test)]
pub(super) fn encode(contents: &Contents) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut writer = Writer::start(&mut bytes, contents.entries.0.len()).expect("in memory");
    for entry in &contents.entries.0 {
        writer.entry(entry).expect("in memory");
    }
    for listed in &contents.listed {
        writer.listed(listed).expect("in memory");
    }
    writer.finish().expect("in memory");
    bytes
}

/// What a cache file of `bytes` holds (see `decode_from`).
#[cfg(test)]
pub(super) fn decode(bytes: &[u8]) -> Option<Contents> {
    decode_from(&mut &bytes[..], bytes.len() as u64)
}

/// What a cache file of `size` bytes holds, read from `reader` record by record; `None`
/// unless it is whole and of this version or the one before. Decoded as it is read, not read
/// whole first: at 100,000 tenants the file is 27 MB, which was held besides what it decodes
/// to (19 MB) at the start of every run.
pub(super) fn decode_from(reader: &mut dyn Read, size: u64) -> Option<Contents> {
    let body_len = usize::try_from(size).ok()?.checked_sub(TRAILER)?;
    let mut check = Sha256::new();
    let mut take = |bytes: &mut [u8]| -> Option<()> {
        reader.read_exact(bytes).ok()?;
        check.update(&*bytes);
        Some(())
    };
    let mut magic = [0u8; 8];
    take(&mut magic)?;
    let (entries_len, listed_len) = if &magic == MAGIC {
        let mut count = [0u8; 8];
        take(&mut count)?;
        let rest = body_len.checked_sub(MAGIC.len() + count.len())?;
        let entries_len = usize::try_from(u64::from_le_bytes(count))
            .ok()?
            .checked_mul(ENTRY)?;
        if entries_len > rest || !(rest - entries_len).is_multiple_of(LISTED) {
            return None;
        }
        (entries_len, rest - entries_len)
    } else if &magic == MAGIC_V1 {
        (body_len.checked_sub(MAGIC_V1.len())?, 0)
    } else {
        return None;
    };
    if !entries_len.is_multiple_of(ENTRY) {
        return None;
    }
    let mut found = Vec::with_capacity(entries_len / ENTRY);
    let mut chunk = [0u8; ENTRY];
    for _ in 0..entries_len / ENTRY {
        take(&mut chunk)?;
        found.extend(entry_of(&chunk));
    }
    let mut decoded = Vec::with_capacity(listed_len / LISTED);
    let mut chunk = [0u8; LISTED];
    for _ in 0..listed_len / LISTED {
        take(&mut chunk)?;
        decoded.push(listed_of(&chunk)?);
    }
    let mut trailer = [0u8; TRAILER];
    reader.read_exact(&mut trailer).ok()?;
    // Nothing after the checksum: a file that grew while it was read is not this one.
    if check.finalize().as_slice() != trailer || reader.read(&mut [0u8; 1]).ok()? != 0 {
        return None;
    }
    keep_last_of_each_listed(&mut decoded);
    Some(Contents {
        entries: Entries::of(found),
        listed: decoded,
    })
}

/// A `Listed` record; `None` when its count of folders is out of range (a damaged file).
fn listed_of(chunk: &[u8; LISTED]) -> Option<Listed> {
    let word = |at: usize| -> u32 {
        let mut out = [0u8; 4];
        out.copy_from_slice(&chunk[at..at + 4]);
        u32::from_le_bytes(out)
    };
    let mut context = [0u8; 8];
    context.copy_from_slice(&chunk[..8]);
    let mut stamps = [0u8; 16];
    stamps.copy_from_slice(&chunk[24..]);
    Some(Listed {
        context: u64::from_le_bytes(context),
        tenant: word(8),
        folders: u8::try_from(word(12)).ok()?,
        stock: word(16),
        api_own: word(20),
        stamps,
    })
}

/// A file entry; `None` for times no `stat` gives (nanoseconds out of range) or that 64 bits
/// of nanoseconds cannot hold: such an entry matches no file and is left out.
pub(super) fn entry_of(chunk: &[u8; ENTRY]) -> Option<Entry> {
    let word = |index: usize| -> [u8; 8] {
        let mut out = [0u8; 8];
        out.copy_from_slice(&chunk[index * 8..index * 8 + 8]);
        out
    };
    let signed = |index: usize| i64::from_le_bytes(word(index));
    let mtime = nanos((signed(3), signed(4)))?;
    let ctime = nanos((signed(5), signed(6)))?;
    let mut sha256 = [0u8; 32];
    sha256.copy_from_slice(&chunk[56..]);
    Some(Entry {
        key: (u64::from_le_bytes(word(0)), u64::from_le_bytes(word(1))),
        stamp: Stamp {
            size: u64::from_le_bytes(word(2)),
            mtime,
            ctime,
        },
        sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_save_and_anything_damaged_is_dropped_whole() {
        let mut entries = Entries::default();
        let stamp = Stamp {
            size: 7,
            mtime: -4_000_000_001,
            ctime: 1_700_000_000_000_000_001,
        };
        entries.insert((1, 2), (stamp, [7; 32]));
        entries.insert((3, u64::MAX), (stamp, [9; 32]));
        let listed = |tenant| Listed {
            context: 0x0102_0304_0506_0708,
            tenant,
            folders: 0b1010,
            stock: 2,
            api_own: u32::MAX,
            stamps: [5; 16],
        };
        let contents = Contents {
            entries,
            listed: vec![listed(1), listed(u32::MAX)],
        };
        let bytes = encode(&contents);
        assert_eq!(bytes.len(), 8 + 8 + 2 * ENTRY + 2 * LISTED + TRAILER);
        assert_eq!(decode(&bytes), Some(contents));
        for cut in [
            0,
            1,
            MAGIC.len(),
            MAGIC.len() + 8,
            bytes.len() - LISTED,
            bytes.len() - 1,
        ] {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        for flipped in [
            0,
            MAGIC.len() + 3,
            MAGIC.len() + 8 + 2 * ENTRY + 9,
            bytes.len() - 1,
        ] {
            let mut damaged = bytes.clone();
            damaged[flipped] ^= 1;
            assert_eq!(decode(&damaged), None, "flipped at {flipped}");
        }
        // Read against the size its `stat` gave: a file longer than that (it grew while it
        // was read) is not taken either, nor one shorter.
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_from(&mut &longer[..], bytes.len() as u64), None);
        assert_eq!(decode_from(&mut &bytes[..], bytes.len() as u64 + 1), None);
        let whole = decode_from(&mut &bytes[..], bytes.len() as u64);
        assert!(whole.is_some() && whole == decode(&bytes));
    }

    #[test]
    fn a_cache_file_of_the_version_before_is_read() {
        let stamp = Stamp {
            size: 1,
            mtime: 1_000_000_002,
            ctime: 3_000_000_004,
        };
        let entry = Entry {
            key: (5, 6),
            stamp,
            sha256: [8; 32],
        };
        let mut bytes = MAGIC_V1.to_vec();
        let current = encode(&Contents {
            entries: Entries(vec![entry]),
            listed: Vec::new(),
        });
        // The version before: its magic, the entries without their count, its checksum.
        bytes.extend_from_slice(&current[16..16 + ENTRY]);
        let check = Sha256::digest(&bytes);
        bytes.extend_from_slice(&check);
        let contents = decode(&bytes).expect("read");
        assert_eq!(contents.entries.0, vec![entry]);
        assert!(contents.listed.is_empty());
    }
}
