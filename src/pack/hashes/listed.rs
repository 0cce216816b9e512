//! What the hash cache keeps of the tenants' gateway folders: a `Listed` record per tenant
//! and kind of scan (see `pack::hashes` and `artifacts::scan`).

use super::sorted::keep_last_of_each;
use crate::pack::root::Stat;
use sha2::{Digest, Sha256};

/// What the gateway folders of one tenant held, for one kind of scan (`context`: the pack's
/// version and stock names, the folders asked for): see `pack::hashes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listed {
    /// Names the kind of scan (`artifacts::scan` derives it).
    pub context: u64,
    pub tenant: u32,
    /// Bit `i` set: the folder of `SkipKind::ALL[i]` is in the tenant's synapse root.
    pub folders: u8,
    pub stock: u32,
    pub api_own: u32,
    /// Of the `stat`s of the synapse root and of its folders (`Listed::stamps_of`).
    pub stamps: [u8; 16],
}

impl Listed {
    pub(super) fn key(&self) -> (u64, u32) {
        (self.context, self.tenant)
    }

    /// What `stamps` holds for these `stat`s (directories, in order), of a tenant in a
    /// context: their devices, inodes and times.
    pub fn stamps_of(context: u64, tenant: u32, stats: &[Stat]) -> [u8; 16] {
        let mut hasher = Sha256::new();
        hasher.update(context.to_le_bytes());
        hasher.update(tenant.to_le_bytes());
        for stat in stats {
            hasher.update([u8::from(stat.is_dir())]);
            for number in [stat.dev, stat.ino] {
                hasher.update(number.to_le_bytes());
            }
            for number in [stat.mtime.0, stat.mtime.1, stat.ctime.0, stat.ctime.1] {
                hasher.update(number.to_le_bytes());
            }
        }
        let digest = hasher.finalize();
        let mut stamps = [0u8; 16];
        stamps.copy_from_slice(&digest[..16]);
        stamps
    }
}

/// Sorts `listed` by key and keeps, of those with the same key, the one given last.
pub(super) fn keep_last_of_each_listed(listed: &mut Vec<Listed>) {
    keep_last_of_each(listed, Listed::key);
}
