//! The floors the tool is measured against: the least a program must do to make the same
//! copies durably, to look at the same files, and to read them. Each runs as a process of its
//! own (this binary, re-run with `APIM_MIGRATE_BENCH_FLOOR`), so that it pays for start-up and
//! is measured exactly as the tool is.
//!
//! All three work from the list of files the tool's plan copies (`source\ttarget` per line,
//! relative to the old and the new pack), split between two threads, with plain path-based
//! system calls and nothing the tool promises beyond the bytes: no plan, journal, backup, link
//! checks, hash cache or report.

use sha2::Digest;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How many threads each floor uses: the tool uses the available cores, two here.
const THREADS: usize = 2;

/// The floor named by `APIM_MIGRATE_BENCH_FLOOR`: `copy`, `stat` or `read`, with the list,
/// the old pack and the new pack as arguments.
pub fn run(kind: &str) {
    let mut args = std::env::args().skip(1);
    let list = PathBuf::from(args.next().expect("a list"));
    let old = PathBuf::from(args.next().expect("the old pack"));
    let new = PathBuf::from(args.next().expect("the new pack"));
    let text = std::fs::read_to_string(&list).expect("the list");
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .map(|line| line.split_once('\t').expect("source\\ttarget"))
        .collect();
    match kind {
        "copy" => copy(&pairs, &old, &new),
        "stat" => walk(&pairs, &old, &new, false, false),
        "read" => walk(&pairs, &old, &new, true, false),
        "scan" => walk(&pairs, &old, &new, false, true),
        other => panic!("no floor `{other}`"),
    }
}

/// The minimal durable copier: for each file, its directory made where missing (`mkdir`),
/// the source opened, `fstat`ed and read, the target created (or truncated, for the few the new pack has) and written, its
/// modification time set (`futimens`); two threads; one `syncfs` at the end.
fn copy(pairs: &[(&str, &str)], old: &Path, new: &Path) {
    let made: Mutex<HashSet<PathBuf>> = Mutex::new(HashSet::new());
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let made = &made;
            scope.spawn(move || {
                let mut buffer = Vec::with_capacity(64 * 1024);
                for (source, target) in pairs.iter().skip(thread).step_by(THREADS) {
                    let target = new.join(target);
                    let parent = target.parent().expect("a parent").to_path_buf();
                    let known = made.lock().expect("lock").contains(&parent);
                    if !known {
                        std::fs::create_dir_all(&parent).expect("mkdir");
                        made.lock().expect("lock").insert(parent);
                    }
                    let mut input = std::fs::File::open(old.join(source)).expect("open source");
                    let meta = input.metadata().expect("fstat");
                    buffer.clear();
                    input.read_to_end(&mut buffer).expect("read");
                    let mut output = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()))
                        .open(&target)
                        .expect("create target");
                    output.write_all(&buffer).expect("write");
                    output
                        .set_modified(meta.modified().expect("mtime"))
                        .expect("futimens");
                }
            });
        }
    });
    let home = std::fs::File::open(new).expect("the new pack");
    nix::unistd::syncfs(&home).expect("syncfs");
}

/// The stat-walk (what a no-op must do at least: list each source directory, one `fstatat`
/// of each source and of each target) and the read-walk (what a plan must do at least: list
/// each source directory, read and hash (SHA-256) each source, one `fstatat` of each target).
/// With `gateway`, the stat-walk also lists what finding the tenants' custom gateway
/// artifacts needs, which neither of the others does: each tenant's synapse root and each
/// folder in it (the scan-walk).
fn walk(pairs: &[(&str, &str)], old: &Path, new: &Path, read: bool, gateway: bool) {
    let mut directories: Vec<&str> = pairs
        .iter()
        .map(|(source, _)| source.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    directories.sort_unstable();
    directories.dedup();
    let roots: Vec<PathBuf> = if gateway {
        let tenants = old.join("repository/tenants");
        std::fs::read_dir(&tenants)
            .expect("list the tenants")
            .map(|entry| {
                entry
                    .expect("an entry")
                    .path()
                    .join("synapse-configs/default")
            })
            .collect()
    } else {
        Vec::new()
    };
    let found = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (directories, found, roots) = (&directories, &found, &roots);
            scope.spawn(move || {
                let mut entries = 0;
                for directory in directories.iter().skip(thread).step_by(THREADS) {
                    entries += std::fs::read_dir(old.join(directory))
                        .expect("list")
                        .count();
                }
                for root in roots.iter().skip(thread).step_by(THREADS) {
                    let Ok(listing) = std::fs::read_dir(root) else {
                        continue;
                    };
                    for entry in listing {
                        let entry = entry.expect("an entry");
                        entries += 1;
                        if entry.file_type().expect("a type").is_dir() {
                            entries += std::fs::read_dir(entry.path()).expect("list").count();
                        }
                    }
                }
                let mut buffer = Vec::with_capacity(64 * 1024);
                for (source, target) in pairs.iter().skip(thread).step_by(THREADS) {
                    let source = old.join(source);
                    if read {
                        let mut input = std::fs::File::open(&source).expect("open source");
                        buffer.clear();
                        input.read_to_end(&mut buffer).expect("read");
                        std::hint::black_box(sha2::Sha256::digest(&buffer));
                    } else {
                        std::hint::black_box(std::fs::symlink_metadata(&source).expect("stat"));
                    }
                    // The target may be missing (a plan before the run): that is an answer too.
                    std::hint::black_box(std::fs::symlink_metadata(new.join(target)).ok());
                }
                found.fetch_add(entries, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    assert!(found.into_inner() > 0, "the walk listed nothing");
}
