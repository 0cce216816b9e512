//! How many file descriptors the process may use, and the table that holds them: set once at
//! start-up, before any thread is started (`prepare`); and the cache of directory handles
//! each pack keeps within them (`HandleCache`).
//!
//! Each open pack keeps up to `cached_dirs()` directory handles (`PackRoot`), so a command
//! that walks two packs holds a thousand descriptors or more at a time, and an inventory
//! holds the packs of every node it planned. Two things follow:
//!
//! - Most systems start a process with a soft limit of 1,024 open files (systemd, `sshd`,
//!   and so Ansible), under a hard limit many times that: with two packs' handles and the
//!   files being read, a run past a few hundred tenants would fail with "Too many open
//!   files". The soft limit is raised to `WANTED`, as far as the hard limit allows. Half of
//!   the limit is the handles' budget, shared by every pack of the process (`hold`,
//!   `release`): a cache over it keeps fewer handles, and one that cannot make room opens
//!   its directories without keeping them. Each pack keeps at most a quarter of the limit,
//!   so that a run's two packs fit together.
//! - The kernel grows a process's descriptor table by doubling (64, 256, 512, 1,024,
//!   2,048 entries), and a process with more than one thread waits for an RCU grace period
//!   at each growth so that no thread still reads the old table: 5 to 14 ms each on a
//!   virtual machine, half of a no-op `run` of 0.09 s at 1,000 tenants. A process of one
//!   thread does not wait: the table is grown to its final size here, before any thread
//!   exists, by taking (and closing at once) a descriptor at the last place it will need.

use super::root::DirHandle;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many directory handles a pack keeps open when the limit allows (see `PackRoot`): a
/// run over 100,000 tenants walks more directories than a process may hold open, and most
/// are used for one tenant only.
pub const CACHED_DIRS: usize = 512;

/// The soft limit of open files the tool asks for, 4,096: half of it, the handles' budget,
/// holds four packs' full caches (a run's two, an inventory's more); the other half is for
/// everything else (the standard descriptors, the packs' homes, the journals, the hash cache
/// and its scratch files, the locks of an inventory's nodes, the files in hand).
const WANTED: u64 = 8 * CACHED_DIRS as u64;

/// The handles a pack keeps under the limit this process has (`prepare`).
static CACHE_SIZE: AtomicUsize = AtomicUsize::new(CACHED_DIRS);

/// How many handles all packs together may keep (`prepare`: half the limit), and keep now.
static HANDLES: Budget = Budget::new(2 * CACHED_DIRS);

/// A number of places, taken and given back from any thread.
struct Budget {
    places: AtomicUsize,
    taken: AtomicUsize,
}

impl Budget {
    const fn new(places: usize) -> Budget {
        Budget {
            places: AtomicUsize::new(places),
            taken: AtomicUsize::new(0),
        }
    }

    fn take(&self) -> bool {
        let places = self.places.load(Ordering::Relaxed);
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < places).then_some(taken + 1)
            })
            .is_ok()
    }

    fn give_back(&self, count: usize) {
        // Never below zero, whatever a caller gives back.
        let _ = self
            .taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                Some(taken.saturating_sub(count))
            });
    }
}

/// How many directory handles each pack keeps open.
fn cached_dirs() -> usize {
    CACHE_SIZE.load(Ordering::Relaxed)
}

/// Takes a place for one more handle kept, if the packs' budget has one.
fn hold() -> bool {
    HANDLES.take()
}

/// Gives back the places of `count` handles no longer kept.
fn release(count: usize) {
    HANDLES.give_back(count);
}

/// The directory handles a pack keeps (`PackRoot`), by pack-relative path, with when each
/// was last used.
#[derive(Debug, Default)]
pub struct HandleCache {
    dirs: HashMap<String, (DirHandle, u64)>,
    tick: u64,
}

impl HandleCache {
    /// The handle kept for the directory at `relative`, now the most recently used.
    pub fn get(&mut self, relative: &str) -> Option<DirHandle> {
        self.tick += 1;
        let tick = self.tick;
        self.dirs.get_mut(relative).map(|(handle, used)| {
            *used = tick;
            handle.clone()
        })
    }

    /// Keeps `handle`; returns the handles it evicts, to be closed once the lock is let go
    /// (closing 256 directories that were listed takes a millisecond, which the other
    /// threads walking the pack would wait for). A pack keeps at most `cached_dirs()`, and
    /// all packs together no more than their budget: a cache that finds the budget spent
    /// gives up half of its own, and when it has none to give the handle is used and not
    /// kept.
    #[must_use]
    pub fn insert(&mut self, relative: &str, handle: DirHandle) -> Vec<DirHandle> {
        self.tick += 1;
        let tick = self.tick;
        if let Some(kept) = self.dirs.get_mut(relative) {
            *kept = (handle, tick);
            return Vec::new();
        }
        let mut evicted = Vec::new();
        if self.dirs.len() >= cached_dirs() {
            evicted = self.evict_half();
        }
        if !hold() {
            if evicted.is_empty() {
                evicted = self.evict_half();
            }
            if !hold() {
                return evicted;
            }
        }
        self.dirs.insert(relative.to_string(), (handle, tick));
        evicted
    }

    /// Gives up the less recently used half of the handles: a walk goes directory by
    /// directory.
    fn evict_half(&mut self) -> Vec<DirHandle> {
        if self.dirs.is_empty() {
            return Vec::new();
        }
        let mut ticks: Vec<u64> = self.dirs.values().map(|(_, used)| *used).collect();
        ticks.sort_unstable();
        let keep_from = ticks[ticks.len() / 2];
        let mut evicted = Vec::with_capacity(self.dirs.len() / 2 + 1);
        self.dirs.retain(|_, (handle, used)| {
            let keep = *used >= keep_from;
            if !keep {
                evicted.push(handle.clone());
            }
            keep
        });
        release(evicted.len());
        evicted
    }

    /// Forgets a directory and everything below it (it was removed).
    pub fn forget(&mut self, relative: &str) {
        let prefix = format!("{relative}/");
        let before = self.dirs.len();
        self.dirs
            .retain(|key, _| key != relative && !key.starts_with(&prefix));
        release(before - self.dirs.len());
    }
}

impl Drop for HandleCache {
    fn drop(&mut self) {
        release(self.dirs.len());
    }
}

/// What `prepare` found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The soft limit of open files before and after.
    pub limit_before: u64,
    pub limit: u64,
    /// How many directory handles each pack keeps, and all of them together.
    pub cached_dirs: usize,
    pub budget: usize,
    /// How many entries the descriptor table was grown to hold (0: it was not).
    pub table: usize,
}

/// Raises the soft limit of open files towards `WANTED` (never above the hard limit, never
/// lowering it), sizes the packs' caches and their budget to fit under the limit, and grows
/// the descriptor table to its final size. Call it first thing in `main`, while the process
/// has one thread (see the module's documentation); nothing in it can fail the command: a
/// limit that cannot be read or raised leaves the caches fitted to what there is.
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
    let (cached_dirs, budget) = fitted(limit);
    CACHE_SIZE.store(cached_dirs, Ordering::Relaxed);
    HANDLES.places.store(budget, Ordering::Relaxed);
    let table = grow_table(limit.min(WANTED));
    Prepared {
        limit_before,
        limit,
        cached_dirs,
        budget,
        table,
    }
}

/// How many handles each pack, and all packs together, may keep under a limit of `limit`
/// open files: half the limit for all of them, a quarter for one (all `CACHED_DIRS` when the
/// limit allows), and never fewer than 8 for one (a walk keeps the directories it is in).
fn fitted(limit: u64) -> (usize, usize) {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let budget = (limit / 2).max(8);
    ((limit / 4).clamp(8, CACHED_DIRS), budget)
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
        assert_eq!(fitted(1_048_576), (CACHED_DIRS, 524_288));
        assert_eq!(fitted(WANTED), (CACHED_DIRS, 2048));
        // Debian's and systemd's default soft limit, with a hard limit as low.
        assert_eq!(fitted(1024), (256, 512));
        assert_eq!(fitted(128), (32, 64));
        assert_eq!(fitted(16), (8, 8));
        assert_eq!(fitted(0), (8, 8));
    }

    #[test]
    fn a_budget_is_never_passed_from_any_thread_and_never_goes_below_zero() {
        let budget = Budget::new(1000);
        let taken = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    while budget.take() {
                        taken.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(taken.load(Ordering::Relaxed), 1000);
        assert!(!budget.take(), "full");
        budget.give_back(10);
        assert!(budget.take() && budget.take());
        budget.give_back(usize::MAX);
        assert_eq!(budget.taken.load(Ordering::Relaxed), 0);
    }
}
