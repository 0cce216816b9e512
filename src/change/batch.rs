//! Writing one batch of prepared changes: on the available cores, the files of one
//! directory on one thread, in order, each through the pack's directory handles; and the
//! run's one flush of the filesystems, after which its changes are recorded as done (see
//! `apply`).

use super::apply::{Prepared, Target};
use super::progress::Progress;
use crate::change::disk::{self, Place};
use crate::change::journal::Record;
use crate::change::plan::{Content, Effect};
use crate::change::target::TargetTree;
use crate::pack::hashes::HashCache;
use crate::pack::Role;
use anyhow::{bail, Result};
use std::collections::{BTreeMap, HashSet};

/// Writes the prepared changes of a batch: on several threads when there are many (the
/// work is the kernel's, creating inodes, and spreads over the cores), the files of one
/// directory on one thread, in order. Returns, for each change, how writing it went, or
/// `None` when it was not attempted (its thread stopped at an earlier failure, or for
/// SIGINT/SIGTERM).
pub(super) fn write_batch(
    actions: &[crate::change::plan::Action],
    trees: &BTreeMap<Role, TargetTree>,
    prepared: &[(usize, Prepared)],
    injected: Option<usize>,
    progress: &dyn Progress,
    done_before: usize,
    hashes: &HashCache,
) -> Vec<Option<Result<()>>> {
    let threads = if prepared.len() < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |cores| cores.get().min(MAX_THREADS))
    };
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for (position, (index, _)) in prepared.iter().enumerate() {
        let action = &actions[*index];
        let parent = action.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&(action.pack.as_str(), parent), &mut hasher);
        lanes[(std::hash::Hasher::finish(&hasher) % threads as u64) as usize].push(position);
    }
    let done = std::sync::atomic::AtomicUsize::new(done_before);
    let write_lane = |lane: &[usize]| -> Vec<(usize, Result<()>)> {
        let mut results = Vec::new();
        for &position in lane {
            // A change boundary: SIGINT or SIGTERM stops the run here.
            if crate::interrupt::requested() {
                break;
            }
            let (index, ready) = &prepared[position];
            let action = &actions[*index];
            let result = if injected == Some(position) {
                Err(anyhow::anyhow!(
                    "injected failure (APIM_MIGRATE_INJECT_FAILURE)"
                ))
            } else {
                match trees.get(&action.pack) {
                    Some(tree) => perform(tree, action, ready, hashes),
                    None => Err(anyhow::anyhow!("`{}` is not a target pack", action.pack)),
                }
            };
            let failed = result.is_err();
            results.push((position, result));
            progress.set(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            if failed {
                break;
            }
        }
        results
    };
    let mut outcome: Vec<Option<Result<()>>> = prepared.iter().map(|_| None).collect();
    let finished: Vec<Vec<(usize, Result<()>)>> = if threads == 1 {
        vec![write_lane(&lanes[0])]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = lanes
                .iter()
                .map(|lane| scope.spawn(|| write_lane(lane)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        vec![(
                            usize::MAX,
                            Err(anyhow::anyhow!("internal: a writing thread panicked")),
                        )]
                    })
                })
                .collect()
        })
    };
    for (position, result) in finished.into_iter().flatten() {
        match outcome.get_mut(position) {
            Some(slot) => *slot = Some(result),
            None => {
                // A thread that panicked: count it against the first change not written.
                if let Some(slot) = outcome.iter_mut().find(|slot| slot.is_none()) {
                    *slot = Some(result);
                }
            }
        }
    }
    outcome
}

/// Below this many changes in a batch, one thread writes them.
const PARALLEL_FROM: usize = 64;
/// At most this many writing threads.
const MAX_THREADS: usize = 4;

/// Writes one prepared change: its directories, then the file, linked or renamed into place,
/// all through the pack's directory handles.
fn perform(
    tree: &TargetTree,
    action: &crate::change::plan::Action,
    ready: &Prepared,
    hashes: &HashCache,
) -> Result<()> {
    // A directory above may be claimed by a change written on another thread: `make_dir`
    // makes what is missing, and takes what another thread made.
    for dir in &ready.created_dirs {
        tree.make_dir(dir)?;
    }
    let after = &ready.after;
    // A new file is linked in once written (nothing to replace); an existing one replaced by
    // a rename.
    let place = match action.effect {
        Some(Effect::Create) => Place::New,
        _ => Place::Replace { durable: false },
    };
    let started = std::time::SystemTime::now();
    match &action.content {
        Content::File(source) => {
            let (reader, stat) = crate::change::target::open_source(source)?;
            // Up to the size the descriptor's `fstat` gave, without a last `read` to see the
            // end (one system call in eleven of a copy), as planning hashes it: what is
            // copied must hash as planned whatever the file does meanwhile, and a file that
            // grew before it was opened does not.
            let mut reader = std::io::Read::take(reader, stat.size);
            // A copy keeps its source's modification time, as `cp -p` does; that is also
            // what lets the hash cache trust it later (see `hashcache`).
            let kept = stat.modified();
            let written = tree.write(
                &action.path,
                place,
                disk::Content {
                    reader: &mut reader,
                    expected: Some(&after.sha256),
                    mode: after.mode,
                    modified: Some(kept),
                    size: stat.size,
                },
            )?;
            if let Some(placed) = &written.placed {
                hashes.record_written(placed, kept, started, &written.sha256);
            }
        }
        Content::Bytes(bytes) => {
            let mut reader: &[u8] = bytes;
            tree.write(
                &action.path,
                place,
                disk::Content {
                    reader: &mut reader,
                    expected: Some(&after.sha256),
                    mode: after.mode,
                    modified: None,
                    size: bytes.len() as u64,
                },
            )?;
        }
        Content::None => bail!("internal: change without content"),
    }
    Ok(())
}

/// Flushes the filesystem of each target pack once.
fn sync_filesystems(trees: &[TargetTree]) -> Result<()> {
    let mut devices = HashSet::new();
    for tree in trees {
        let device = tree
            .root
            .dir("")
            .ok()
            .and_then(|home| {
                use std::os::fd::AsFd;
                nix::sys::stat::fstat(home.as_fd()).ok()
            })
            .map(|stat| stat.st_dev);
        if device.is_none_or(|device| devices.insert(device)) {
            tree.sync()?;
        }
    }
    Ok(())
}

/// Flushes the filesystems of the targets once every change of the run is written, then
/// queues the `Done` records of the changes it made durable. A failed flush is reported
/// against the last change written.
pub(super) fn flush_and_record(
    trees: &BTreeMap<Role, TargetTree>,
    actions: &[crate::change::plan::Action],
    performed: Vec<u32>,
    targets: &mut BTreeMap<Role, Target>,
) -> Result<(), (usize, anyhow::Error)> {
    let Some(&last) = performed.last() else {
        return Ok(());
    };
    let last = last as usize;
    let trees: Vec<TargetTree> = trees.values().cloned().collect();
    sync_filesystems(&trees).map_err(|error| (last, error))?;
    for index in performed.into_iter().map(|index| index as usize) {
        let action = &actions[index];
        if let Some(target) = targets.get_mut(&action.pack) {
            target
                .writer
                .queue(&Record::Done {
                    seq: action.seq as usize,
                })
                .map_err(|error| (index, error))?;
        }
    }
    Ok(())
}
