//! How many file descriptors the process may use, and the table that holds them: set once at
//! start-up, before any thread is started (`prepare`).
//!
//! Each open pack keeps up to `cached_dirs()` directory handles (`PackRoot`), so a command
//! that walks two packs holds a thousand descriptors or more at a time. Two things follow:
//!
//! - Most systems start a process with a soft limit of 1,024 open files (systemd, `sshd`,
//!   and so Ansible), under a hard limit many times that: with two packs' handles and the
//!   files being read, a run past a few hundred tenants would fail with "Too many open
//!   files". The soft limit is raised to what the handles need (`WANTED`), as far as the
//!   hard limit allows, and the cache of each pack is made smaller when it cannot be.
//! - The kernel grows a process's descriptor table by doubling (64, 256, 512, 1,024,
//!   2,048 entries), and a process with more than one thread waits for an RCU grace period
//!   at each growth so that no thread still reads the old table: 5 to 14 ms each on a
//!   virtual machine, some 25 ms of a no-op `run` of 0.09 s. A process of one thread does
//!   not wait: the table is grown to its final size here, before any thread exists, by
//!   taking (and closing at once) a descriptor at the last place it will need.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many directory handles a pack keeps open when the limit allows (see `PackRoot`): a
/// run over 100,000 tenants walks more directories than a process may hold open, and most
/// are used for one tenant only.
pub const CACHED_DIRS: usize = 512;

/// How many packs' caches may be full at once: the old and the new pack of a run, one more
/// opened to apply, one of a chained path's middle pack.
const PACKS: usize = 4;

/// Descriptors for everything else: the standard ones, the packs' homes, the journal, the
/// hash cache and its scratch files, the lock files, the files being read and written.
const OTHERS: usize = 64;

/// The soft limit the handles need: 2,112 descriptors.
const WANTED: u64 = (PACKS * CACHED_DIRS + OTHERS) as u64;

/// The handles a pack keeps under the limit this process has (`prepare`).
static CACHE_SIZE: AtomicUsize = AtomicUsize::new(CACHED_DIRS);

/// How many directory handles each pack keeps open.
pub fn cached_dirs() -> usize {
    CACHE_SIZE.load(Ordering::Relaxed)
}

/// What `prepare` found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The soft limit of open files before and after.
    pub limit_before: u64,
    pub limit: u64,
    /// How many directory handles each pack keeps.
    pub cached_dirs: usize,
    /// How many entries the descriptor table was grown to hold (0: it was not).
    pub table: usize,
}

/// Raises the soft limit of open files towards `WANTED` (never above the hard limit, never
/// lowering it), sizes the packs' caches to fit under the limit, and grows the descriptor
/// table to its final size. Call it first thing in `main`, while the process has one thread
/// (see the module's documentation); nothing in it can fail the command: a limit that
/// cannot be read or raised leaves the caches fitted to what there is.
pub fn prepare() -> Prepared {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (limit_before, limit) = match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < WANTED => {
            let raised = WANTED.min(hard);
            if raised > soft && setrlimit(Resource::RLIMIT_NOFILE, raised, hard).is_ok() {
                (soft, raised)
            } else {
                (soft, soft)
            }
        }
        Ok((soft, _)) => (soft, soft),
        // Unknown: assume the common default.
        Err(_) => (1024, 1024),
    };
    let cached_dirs = fitted(limit);
    CACHE_SIZE.store(cached_dirs, Ordering::Relaxed);
    let table = grow_table(limit.min(WANTED));
    Prepared {
        limit_before,
        limit,
        cached_dirs,
        table,
    }
}

/// How many handles each pack may keep under a limit of `limit` open files: all of them
/// when the limit allows, else a share of what the other descriptors leave, and never fewer
/// than 8 (a walk needs the directories it is in).
fn fitted(limit: u64) -> usize {
    let spare = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(OTHERS);
    (spare / PACKS).clamp(8, CACHED_DIRS)
}

/// Grows the descriptor table to hold `size` descriptors: a descriptor of `/` is copied to
/// the first free number from `size - 1` up (`F_DUPFD_CLOEXEC`), which makes the kernel grow
/// the table to hold it, and both are closed. Returns the size asked for, 0 when it failed.
fn grow_table(size: u64) -> usize {
    let Ok(size) = usize::try_from(size) else {
        return 0;
    };
    let Ok(last) = i32::try_from(size.saturating_sub(1)) else {
        return 0;
    };
    if last < 64 {
        return 0;
    }
    let Ok(root) = rustix::fs::open(
        "/",
        rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) else {
        return 0;
    };
    match rustix::io::fcntl_dupfd_cloexec(&root, last) {
        Ok(_copy) => size,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_fits_the_limit_of_open_files() {
        assert_eq!(fitted(1_048_576), CACHED_DIRS);
        assert_eq!(fitted(WANTED), CACHED_DIRS);
        // Debian's and systemd's default soft limit, with a hard limit as low.
        assert_eq!(fitted(1024), (1024 - OTHERS) / PACKS);
        assert!(PACKS * fitted(1024) + OTHERS <= 1024);
        assert_eq!(fitted(256), 48);
        assert_eq!(fitted(64), 8);
        assert_eq!(fitted(0), 8);
    }
}
