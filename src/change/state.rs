//! The tool's own state in a target pack, `.apim-migrate/`, reached only through the pack's
//! directory handles: the state directory and its `runs/` must be real directories of the
//! pack and the lock a regular file with one name, never links, so that the journal, the
//! backups (keystores, deployment.toml) and the hash cache stay in the pack and no file
//! elsewhere is ever written in their place. Also the lock that keeps two runs off one pack.

use crate::change::disk;
use crate::pack::root::{self, DirHandle, Kind, PackRoot};
use crate::pack::{name, STATE_DIR};
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const RUNS_DIR: &str = "runs";
const LOCK_FILE: &str = "lock";

/// `.apim-migrate/runs`, pack-relative.
pub fn runs_relative() -> String {
    format!("{STATE_DIR}/{RUNS_DIR}")
}

/// What to say of a part of the state that is not what it must be.
pub fn refuse_state(root: &PackRoot, relative: &str, error: &std::io::Error) -> anyhow::Error {
    let shown = root.shown(relative);
    if root::is_link_error(error) {
        let at = root.link_on_the_way(relative).unwrap_or(shown);
        anyhow::anyhow!(
            "`{at}` is a symbolic link: the tool keeps its journal, backups and lock only in a real directory of the pack, never through a link; remove the link (and look at where it led) before running again"
        )
    } else if root::is_not_dir_error(error) {
        anyhow::anyhow!(
            "`{shown}`: a part of the tool's state directory is not a directory; move it away before running again"
        )
    } else {
        anyhow::anyhow!("cannot open `{shown}`: {error}")
    }
}

/// Opens (and with `create`, makes) a directory of the state, `relative` to the pack,
/// refusing a link or anything but a directory there. `None` when it is missing and not
/// made.
pub fn open_dir(root: &PackRoot, relative: &str, create: bool) -> Result<Option<DirHandle>> {
    match root.dir(relative) {
        Ok(handle) => return Ok(Some(handle)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && create => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(refuse_state(root, relative, &error)),
    }
    let (parent, entry) = root::split(relative);
    let parent_handle = match open_dir(root, parent, true)? {
        Some(handle) => handle,
        None => return Ok(None),
    };
    disk::mkdir_at(&parent_handle, entry, &root.shown(relative))?;
    match root.dir(relative) {
        Ok(handle) => Ok(Some(handle)),
        Err(error) => Err(refuse_state(root, relative, &error)),
    }
}

/// An exclusive lock on a pack for the duration of a run or rollback: an advisory lock
/// (`flock`) on `.apim-migrate/lock`, which the kernel releases when the process ends, however
/// it ends. The file also names the holder (process, purpose, time); a clean exit removes it,
/// so a file found with a holder in it but not locked was left by a killed run.
pub struct PackLock {
    root: Arc<PackRoot>,
    state: DirHandle,
    file: Option<File>,
    /// Whether this lock made `.apim-migrate`: removed again if nothing else was put there,
    /// so that a run refused before any change leaves the pack as it was.
    created_dir: bool,
    /// The holder of a stale lock this lock replaced.
    pub cleared: Option<String>,
}

/// The most read of a lock file (a process id, a purpose, a time).
const MAX_LOCK_TEXT: u64 = 4096;

impl PackLock {
    /// Takes the lock, or fails naming the process that holds it. A stale lock (its holder
    /// no longer runs) is cleared and named in `cleared`.
    pub fn acquire(pack_home: &Path, purpose: &str) -> Result<PackLock> {
        let root = Arc::new(
            PackRoot::open(pack_home)
                .with_context(|| format!("cannot open `{}`", name::shown_path(pack_home)))?,
        );
        let home = root.dir("")?;
        let created_dir = disk::mkdir_at(&home, STATE_DIR, &root.shown(STATE_DIR))?;
        let state = match root.dir(STATE_DIR) {
            Ok(handle) => handle,
            Err(error) => return Err(refuse_state(&root, STATE_DIR, &error)),
        };
        let mut lock = PackLock {
            root,
            state,
            file: None,
            created_dir,
            cleared: None,
        };
        let relative = format!("{STATE_DIR}/{LOCK_FILE}");
        let shown = lock.root.shown(&relative);
        // A holder that is just finishing removes the file it locked; then the lock taken
        // on it is worthless and the file is opened again.
        for _ in 0..8 {
            let mut file = open_lock_file(&lock.state, &shown)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = read_holder(&mut file);
                    bail!(
                        "`{}` is in use by another apim-migrate ({}); wait for it to finish",
                        name::shown_path(pack_home),
                        describe_holder(&holder).unwrap_or_else(|| "starting".to_string())
                    );
                }
                Err(std::fs::TryLockError::Error(error)) => {
                    return Err(error).with_context(|| format!("cannot lock `{shown}`"))
                }
            }
            if !same_file(&file, &lock.state) {
                continue;
            }
            let previous = read_holder(&mut file);
            lock.cleared = describe_holder(&previous);
            if let Some(stale) = &lock.cleared {
                tracing::warn!(
                    "cleared a stale lock on `{}` left by a process that no longer runs ({stale})",
                    name::shown_path(pack_home)
                );
            }
            let text = format!(
                "{}\n{}\n{}\n",
                std::process::id(),
                purpose,
                crate::change::journal::now()
            );
            let written = disk::truncate(&file, 0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(text.as_bytes()))
                .and_then(|()| file.sync_all());
            // The holder's name is for the message of a refused run; on a full disk the lock
            // (the kernel's) holds without it, and a rollback can still free space.
            if let Err(error) = written {
                if !disk::is_no_space(&error) {
                    return Err(disk::written_error(error, &lock.state, &shown, 0));
                }
                let _ = disk::truncate(&file, 0);
            }
            lock.file = Some(file);
            return Ok(lock);
        }
        bail!("cannot take the lock `{shown}`")
    }

    /// Whether `.apim-migrate` was not there before this lock made it: the pack has no
    /// history at all.
    pub fn found_no_state(&self) -> bool {
        self.created_dir
    }
}

/// Opens (creating) the lock file: a regular file with one name, never a link, and never
/// waited on (a FIFO put there is refused, not opened for ever).
fn open_lock_file(state: &DirHandle, shown: &str) -> Result<File> {
    use nix::fcntl::OFlag;
    let opened = nix::fcntl::openat(
        state.as_fd(),
        LOCK_FILE,
        OFlag::O_RDWR
            | OFlag::O_CREAT
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_NOCTTY
            | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    );
    let file = match opened {
        Ok(fd) => File::from(fd),
        Err(nix::errno::Errno::ELOOP) => bail!(
            "`{shown}` is a symbolic link: the tool's lock must be a regular file of the pack; remove the link (the tool never writes through it)"
        ),
        Err(error) => {
            return Err(std::io::Error::from(error)).with_context(|| format!("cannot open the lock `{shown}`"))
        }
    };
    let stat = crate::pack::Stat::of(
        &file
            .metadata()
            .with_context(|| format!("cannot stat `{shown}`"))?,
    );
    if stat.kind != Kind::File {
        bail!(
            "`{shown}` is not a regular file (a FIFO, a device?): the tool's lock must be a regular file of the pack; remove it"
        );
    }
    if stat.nlink > 1 {
        bail!(
            "`{shown}` has other names (a hard link to a file elsewhere?): the tool would overwrite that file; remove it"
        );
    }
    Ok(file)
}

fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.rewind();
    let _ = file.take(MAX_LOCK_TEXT).read_to_string(&mut text);
    text
}

/// "process N, PURPOSE, since TIME" from the text of a lock file; `None` when empty.
fn describe_holder(text: &str) -> Option<String> {
    let mut lines = text.lines().map(str::trim);
    let pid = lines.next().filter(|line| !line.is_empty())?;
    let mut parts = vec![format!("process {}", name::shown_text(pid))];
    if let Some(purpose) = lines.next().filter(|line| !line.is_empty()) {
        parts.push(name::shown_text(purpose).into_owned());
    }
    if let Some(since) = lines.next().filter(|line| !line.is_empty()) {
        parts.push(format!("since {}", name::shown_text(since)));
    }
    Some(parts.join(", "))
}

/// Whether `file` is still what `lock` names in the state directory.
fn same_file(file: &File, state: &DirHandle) -> bool {
    match (file.metadata(), root::stat_at(state, LOCK_FILE)) {
        (Ok(open), Ok(Some(named))) => {
            use std::os::unix::fs::MetadataExt;
            open.dev() == named.dev && open.ino() == named.ino
        }
        _ => false,
    }
}

impl Drop for PackLock {
    fn drop(&mut self) {
        // Removed while still locked, then unlocked by closing.
        if let Some(file) = self.file.take() {
            let _ = disk::unlink_at(&self.state, LOCK_FILE, LOCK_FILE);
            drop(file);
        }
        if self.created_dir {
            if let Ok(home) = self.root.dir("") {
                disk::rmdir_at(&home, STATE_DIR);
            }
        }
    }
}

/// The locks of every target pack of a run or rollback, taken in path order.
pub struct TargetLocks {
    locks: Vec<(PathBuf, PackLock)>,
}

impl TargetLocks {
    pub fn acquire<'a>(
        homes: impl IntoIterator<Item = &'a Path>,
        purpose: &str,
    ) -> Result<TargetLocks> {
        let mut homes: Vec<&Path> = homes.into_iter().collect();
        homes.sort();
        homes.dedup();
        let mut locks = TargetLocks { locks: Vec::new() };
        for home in homes {
            locks.add(home, purpose)?;
        }
        Ok(locks)
    }

    /// Takes the lock of one more pack (unless it is held already).
    pub fn add(&mut self, home: &Path, purpose: &str) -> Result<()> {
        if !self.covers(home) {
            let lock = PackLock::acquire(home, purpose)?;
            self.locks.push((home.to_path_buf(), lock));
        }
        Ok(())
    }

    pub fn covers(&self, home: &Path) -> bool {
        self.locks.iter().any(|(held, _)| held == home)
    }

    /// The packs whose lock found no `.apim-migrate` there (see `PackLock::found_no_state`).
    pub fn without_state(&self) -> Vec<&Path> {
        self.locks
            .iter()
            .filter(|(_, lock)| lock.found_no_state())
            .map(|(home, _)| home.as_path())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_lock_refuses_a_link_a_fifo_and_a_second_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("pack");
        let outside = dir.path().join("precious.txt");
        fs::write(&outside, "precious").expect("write");
        fs::create_dir_all(home.join(STATE_DIR)).expect("dirs");
        let lock = home.join(STATE_DIR).join(LOCK_FILE);

        std::os::unix::fs::symlink(&outside, &lock).expect("link");
        let error = PackLock::acquire(&home, "test")
            .err()
            .expect("link refused");
        assert!(format!("{error:#}").contains("symbolic link"), "{error:#}");
        fs::remove_file(&lock).expect("remove");

        fs::hard_link(&outside, &lock).expect("hard link");
        let error = PackLock::acquire(&home, "test")
            .err()
            .expect("second name refused");
        assert!(format!("{error:#}").contains("other names"), "{error:#}");
        fs::remove_file(&lock).expect("remove");

        nix::unistd::mkfifo(&lock, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("fifo");
        let error = PackLock::acquire(&home, "test")
            .err()
            .expect("fifo refused");
        assert!(
            format!("{error:#}").contains("not a regular file"),
            "{error:#}"
        );
        fs::remove_file(&lock).expect("remove");

        assert_eq!(fs::read_to_string(&outside).expect("read"), "precious");
        let held = PackLock::acquire(&home, "test").expect("lock");
        assert!(!held.found_no_state());
        drop(held);
        assert!(!lock.exists());
    }

    #[test]
    fn a_state_directory_that_is_a_link_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("pack");
        fs::create_dir_all(&home).expect("dirs");
        fs::create_dir_all(dir.path().join("elsewhere")).expect("dirs");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), home.join(STATE_DIR))
            .expect("link");
        let error = PackLock::acquire(&home, "test").err().expect("refused");
        assert!(format!("{error:#}").contains("symbolic link"), "{error:#}");
        assert!(fs::read_dir(dir.path().join("elsewhere"))
            .expect("list")
            .next()
            .is_none());
    }
}
