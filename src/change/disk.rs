//! Writing files, relative to open directory handles (see `pack::root`): a new file written
//! unnamed (`O_TMPFILE`) and linked in, or through a temporary file put in place only where
//! nothing is; a replaced file written to a temporary file in its directory and renamed over
//! it; directories made and removed one name at a time; never through a link. The flushes
//! that make them durable, and the message of a full disk. Every write the tool makes goes
//! through this layer.

use crate::pack::files::{human_size, ContentHash, TEMP_PREFIX, TEMP_SUFFIX};
use crate::pack::name;
use crate::pack::Stat;
use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::SystemTime;

/// What a write wrote.
#[derive(Debug)]
pub struct Written {
    /// The SHA-256 of the content.
    pub sha256: ContentHash,
    /// With a modification time to set: the file's `fstat` once in place.
    pub placed: Option<Stat>,
}

/// How a written file is put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Where nothing is: a file that appeared meanwhile is an error, never replaced.
    New,
    /// Over what is there, by a rename; with `durable`, the file and its directory are
    /// flushed before this returns (else the caller flushes the filesystem).
    Replace { durable: bool },
}

/// A file's content and what to make of it.
pub struct Content<'a> {
    pub reader: &'a mut dyn Read,
    /// The written bytes must hash to this, or nothing is put in place.
    pub expected: Option<&'a ContentHash>,
    /// Permission bits.
    pub mode: u32,
    /// A modification time to set (a copy keeps its source's).
    pub modified: Option<SystemTime>,
    /// The size expected, for the message of a full disk.
    pub size: u64,
}

/// Writes `content` as `entry` of `dir` (`shown` names it in messages), never half-visible:
/// a reader sees the old file or the new one.
pub fn write_at(
    dir: &OwnedFd,
    entry: &str,
    shown: &str,
    place: Place,
    content: Content<'_>,
) -> Result<Written> {
    #[cfg(target_os = "linux")]
    if place == Place::New {
        if let Some((file, moded)) = unnamed_file(dir, shown, content.mode)? {
            return write_unnamed(dir, entry, shown, file, moded, content);
        }
    }
    write_through_temp(dir, entry, shown, place, content)
}

/// The process's umask, as `/proc/self/status` says it (reading it with `umask(2)` would set
/// it for a moment, under the other threads' feet); `None` where it does not say.
#[cfg(target_os = "linux")]
fn umask() -> Option<u32> {
    static UMASK: std::sync::OnceLock<Option<u32>> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let value = status
            .lines()
            .find_map(|line| line.strip_prefix("Umask:"))?;
        u32::from_str_radix(value.trim(), 8).ok()
    })
}

/// An unnamed file in `dir` (`O_TMPFILE`), or `None` where the kernel or the filesystem
/// cannot make one, or cannot name it afterwards (no `/proc`); with whether it was made
/// with `mode` already. Nobody can open an unnamed file, so it is made with its final mode
/// when the umask leaves that whole (0644 under the usual 022), which spares a `chmod` per
/// file; otherwise it is made private and given its mode once written.
#[cfg(target_os = "linux")]
fn unnamed_file(dir: &OwnedFd, shown: &str, mode: u32) -> Result<Option<(File, bool)>> {
    static PROC_FD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*PROC_FD.get_or_init(|| Path::new("/proc/self/fd").is_dir()) {
        return Ok(None);
    }
    let moded = mode & !0o777 == 0 && umask().is_some_and(|umask| mode & umask == 0);
    match nix::fcntl::openat(
        dir.as_fd(),
        ".",
        OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(if moded { mode } else { 0o600 }),
    ) {
        Ok(fd) => Ok(Some((File::from(fd), moded))),
        Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => Ok(None),
        Err(error) => Err(written_error(io::Error::from(error), dir, shown, 0)),
    }
}

/// An unnamed file in `dir` to read and write scratch data (`O_TMPFILE`, private): nobody
/// else can open it, and it is gone once closed, however the process ends. `None` where the
/// kernel or the filesystem cannot make one. The hash cache keeps in them the entries a run
/// or a plan loaded and what a run learns (`pack::hashes`).
#[cfg(target_os = "linux")]
pub fn scratch_file(dir: &OwnedFd) -> Option<File> {
    nix::fcntl::openat(
        dir.as_fd(),
        ".",
        OFlag::O_TMPFILE | OFlag::O_RDWR | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    )
    .ok()
    .map(File::from)
}

#[cfg(not(target_os = "linux"))]
pub fn scratch_file(_dir: &OwnedFd) -> Option<File> {
    None
}

#[cfg(target_os = "linux")]
fn write_unnamed(
    dir: &OwnedFd,
    entry: &str,
    shown: &str,
    mut file: File,
    moded: bool,
    mut content: Content<'_>,
) -> Result<Written> {
    use std::os::fd::AsRawFd;
    let sha256 = fill(&mut file, dir, shown, &mut content, moded)?;
    let name = format!("/proc/self/fd/{}", file.as_raw_fd());
    match nix::unistd::linkat(
        nix::fcntl::AT_FDCWD,
        name.as_str(),
        dir.as_fd(),
        &*name::to_os(entry),
        nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
    ) {
        Ok(()) => Ok(Written {
            placed: placed(&file, content.modified, shown)?,
            sha256,
        }),
        Err(Errno::EEXIST) => {
            anyhow::bail!("`{shown}` appeared after it was planned; plan again")
        }
        Err(error) => Err(written_error(io::Error::from(error), dir, shown, 0)),
    }
}

/// Writes the content into `file`, checks its hash, sets its mode (unless it was made with
/// it: `moded`) and time.
fn fill(
    file: &mut File,
    dir: &OwnedFd,
    shown: &str,
    content: &mut Content<'_>,
    moded: bool,
) -> Result<ContentHash> {
    let sha256 = copy_hashing(content.reader, file, dir, shown, content.size)?;
    if let Some(expected) = content.expected {
        if sha256 != *expected {
            anyhow::bail!(
                "the content for `{shown}` changed while the run was planned (sha256 {sha256}, expected {expected}); plan again"
            );
        }
    }
    if !moded {
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(content.mode))
            .with_context(|| format!("cannot set the mode of `{shown}`"))?;
    }
    if let Some(modified) = content.modified {
        file.set_modified(modified)
            .with_context(|| format!("cannot set the time of `{shown}`"))?;
    }
    Ok(sha256)
}

/// The `fstat` of a file just put in place, when its modification time was set.
fn placed(file: &File, modified: Option<SystemTime>, shown: &str) -> Result<Option<Stat>> {
    match modified {
        Some(_) => file
            .metadata()
            .map(|metadata| Some(Stat::of(&metadata)))
            .with_context(|| format!("cannot stat `{shown}`")),
        None => Ok(None),
    }
}

/// A name for a temporary file beside a target, which a rollback after a crash finds by its
/// prefix and suffix and removes.
fn temp_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{TEMP_PREFIX}{:x}-{:x}{:x}{TEMP_SUFFIX}",
        std::process::id(),
        count,
        nanos
    )
}

/// Creates a new empty file `entry` in `dir` for writing, never through a link and never
/// over anything (`O_EXCL`).
pub fn create_at(dir: &OwnedFd, entry: &str, mode: u32) -> io::Result<File> {
    nix::fcntl::openat(
        dir.as_fd(),
        &*name::to_os(entry),
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(mode),
    )
    .map(File::from)
    .map_err(io::Error::from)
}

/// A temporary file in `dir`, created; its name.
fn create_temp(dir: &OwnedFd, shown: &str) -> Result<(File, String)> {
    for _ in 0..16 {
        let name = temp_name();
        match create_at(dir, &name, 0o600) {
            Ok(file) => return Ok((file, name)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(written_error(error, dir, shown, 0)),
        }
    }
    anyhow::bail!("cannot create a temporary file beside `{shown}`")
}

fn write_through_temp(
    dir: &OwnedFd,
    entry: &str,
    shown: &str,
    place: Place,
    mut content: Content<'_>,
) -> Result<Written> {
    let (mut file, temp) = create_temp(dir, shown)?;
    let result = (|| -> Result<Written> {
        let sha256 = fill(&mut file, dir, shown, &mut content, false)?;
        if place == (Place::Replace { durable: true }) {
            file.sync_all()
                .map_err(|error| written_error(error, dir, shown, content.size))?;
        }
        let target = name::to_os(entry);
        match place {
            Place::New => rename_no_replace(dir, &temp, &target, shown)?,
            Place::Replace { .. } => {
                nix::fcntl::renameat(dir.as_fd(), temp.as_str(), dir.as_fd(), &*target)
                    .map_err(|error| written_error(io::Error::from(error), dir, shown, 0))?
            }
        }
        if place == (Place::Replace { durable: true }) {
            fsync_dir(dir, shown)?;
        }
        Ok(Written {
            placed: placed(&file, content.modified, shown)?,
            sha256,
        })
    })();
    if result.is_err() {
        let _ = nix::unistd::unlinkat(
            dir.as_fd(),
            temp.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
    }
    result
}

/// Writes what `produce` writes as `entry` of `dir` (`shown` names it in messages), through
/// a temporary file flushed and renamed over any file there, the directory flushed after: a
/// reader sees the old file or the new one. For documents too large to build in memory
/// first (a run's report at 100,000 tenants is some 80 MB): they go to the file as they are
/// serialised, through a 64 KiB buffer.
pub fn write_streamed_at(
    dir: &OwnedFd,
    entry: &str,
    shown: &str,
    mode: u32,
    produce: &dyn Fn(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let (file, temp) = create_temp(dir, shown)?;
    let result = (|| -> Result<()> {
        let mut writer = io::BufWriter::with_capacity(64 * 1024, &file);
        produce(&mut writer)
            .and_then(|()| writer.flush())
            .map_err(|error| written_error(error, dir, shown, 0))?;
        drop(writer);
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
            .with_context(|| format!("cannot set the mode of `{shown}`"))?;
        file.sync_all()
            .map_err(|error| written_error(error, dir, shown, 0))?;
        let target = name::to_os(entry);
        nix::fcntl::renameat(dir.as_fd(), temp.as_str(), dir.as_fd(), &*target)
            .map_err(|error| written_error(io::Error::from(error), dir, shown, 0))?;
        fsync_dir(dir, shown)
    })();
    if result.is_err() {
        let _ = nix::unistd::unlinkat(
            dir.as_fd(),
            temp.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
    }
    result
}

/// Renames `temp` to `target` in `dir` only where nothing is there.
fn rename_no_replace(
    dir: &OwnedFd,
    temp: &str,
    target: &std::ffi::OsStr,
    shown: &str,
) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        match nix::fcntl::renameat2(
            dir.as_fd(),
            temp,
            dir.as_fd(),
            target,
            nix::fcntl::RenameFlags::RENAME_NOREPLACE,
        ) {
            Ok(()) => return Ok(()),
            Err(Errno::EEXIST) => {
                anyhow::bail!("`{shown}` appeared after it was planned; plan again")
            }
            Err(Errno::EINVAL | Errno::ENOSYS) => {}
            Err(error) => return Err(written_error(io::Error::from(error), dir, shown, 0)),
        }
    }
    // A hard link fails where something is; then the temporary name goes.
    match nix::unistd::linkat(
        dir.as_fd(),
        temp,
        dir.as_fd(),
        target,
        nix::fcntl::AtFlags::empty(),
    ) {
        Ok(()) => {}
        Err(Errno::EEXIST) => anyhow::bail!("`{shown}` appeared after it was planned; plan again"),
        Err(error) => return Err(written_error(io::Error::from(error), dir, shown, 0)),
    }
    nix::unistd::unlinkat(dir.as_fd(), temp, nix::unistd::UnlinkatFlags::NoRemoveDir)
        .map_err(|error| written_error(io::Error::from(error), dir, shown, 0))
}

/// Copies `content` into `out`, returning the SHA-256 of what went through.
fn copy_hashing(
    content: &mut dyn Read,
    out: &mut dyn Write,
    dir: &OwnedFd,
    shown: &str,
    size: u64,
) -> Result<ContentHash> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = content
            .read(&mut buffer)
            .context("cannot read the source")?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        out.write_all(&buffer[..read])
            .map_err(|error| written_error(error, dir, shown, size))?;
    }
    Ok(ContentHash(hasher.finalize().into()))
}

/// Whether an error says that the disk (or the quota, or the file size limit) is full.
pub fn is_no_space(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error().map(Errno::from_raw),
        Some(Errno::ENOSPC | Errno::EDQUOT | Errno::EFBIG)
    )
}

/// The bytes free for this process on the filesystem of `dir`.
pub fn free_space(dir: &OwnedFd) -> Option<u64> {
    let stats = nix::sys::statvfs::fstatvfs(dir.as_fd()).ok()?;
    // Both are 64 bits on Linux; not on every system.
    #[allow(clippy::useless_conversion)]
    let free = u64::from(stats.blocks_available()).saturating_mul(u64::from(stats.fragment_size()));
    Some(free)
}

/// The error of writing `shown` (in `dir`): for a full disk, what is free and what the file
/// needs (`needed`, when known), and what to do.
pub fn written_error(error: io::Error, dir: &OwnedFd, shown: &str, needed: u64) -> anyhow::Error {
    if !is_no_space(&error) {
        return anyhow::Error::new(error).context(format!("cannot write `{shown}`"));
    }
    let needed = if needed > 0 {
        format!(", {} needed", human_size(needed))
    } else {
        String::new()
    };
    if error.raw_os_error() == Some(Errno::EFBIG as i32) {
        return anyhow::anyhow!(
            "cannot write `{shown}`: {error}: larger than this process may write{needed}; raise the limit (`ulimit -f`)"
        );
    }
    let free = free_space(dir).map_or_else(|| "unknown".to_string(), human_size);
    anyhow::anyhow!(
        "cannot write `{shown}`: {error}: {free} free on its filesystem{needed}; free some space"
    )
}

/// Makes directory `entry` in `dir`; `false` when one is there already.
pub fn mkdir_at(dir: &OwnedFd, entry: &str, shown: &str) -> Result<bool> {
    match nix::sys::stat::mkdirat(
        dir.as_fd(),
        &*name::to_os(entry),
        nix::sys::stat::Mode::from_bits_truncate(0o755),
    ) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) => Ok(false),
        Err(error) => Err(written_error(io::Error::from(error), dir, shown, 0)),
    }
}

/// Removes the file (or link) `entry` of `dir`; `false` when nothing was there.
pub fn unlink_at(dir: &OwnedFd, entry: &str, shown: &str) -> Result<bool> {
    match nix::unistd::unlinkat(
        dir.as_fd(),
        &*name::to_os(entry),
        nix::unistd::UnlinkatFlags::NoRemoveDir,
    ) {
        Ok(()) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(error) => {
            Err(anyhow::Error::new(io::Error::from(error))
                .context(format!("cannot remove `{shown}`")))
        }
    }
}

/// Removes the directory `entry` of `dir` if it is empty; whether it did.
pub fn rmdir_at(dir: &OwnedFd, entry: &str) -> bool {
    nix::unistd::unlinkat(
        dir.as_fd(),
        &*name::to_os(entry),
        nix::unistd::UnlinkatFlags::RemoveDir,
    )
    .is_ok()
}

/// Puts a second name of the file `from_entry` (of `from_dir`) in place of `entry` of `dir`,
/// through a temporary name and a rename, so that no data is copied and no space is needed:
/// how a rollback restores a file from its backup on a full disk. `false` (nothing changed)
/// where the two are on different filesystems or the filesystem has no hard links.
pub fn link_over_at(
    from_dir: &OwnedFd,
    from_entry: &str,
    dir: &OwnedFd,
    entry: &str,
    shown: &str,
) -> Result<bool> {
    for _ in 0..16 {
        let temp = temp_name();
        match nix::unistd::linkat(
            from_dir.as_fd(),
            &*name::to_os(from_entry),
            dir.as_fd(),
            temp.as_str(),
            nix::fcntl::AtFlags::empty(),
        ) {
            Ok(()) => {
                let renamed = nix::fcntl::renameat(
                    dir.as_fd(),
                    temp.as_str(),
                    dir.as_fd(),
                    &*name::to_os(entry),
                );
                if let Err(error) = renamed {
                    let _ = nix::unistd::unlinkat(
                        dir.as_fd(),
                        temp.as_str(),
                        nix::unistd::UnlinkatFlags::NoRemoveDir,
                    );
                    return Err(written_error(io::Error::from(error), dir, shown, 0));
                }
                return Ok(true);
            }
            Err(Errno::EEXIST) => continue,
            Err(Errno::EXDEV | Errno::EPERM | Errno::EMLINK | Errno::EOPNOTSUPP) => {
                return Ok(false)
            }
            Err(error) => return Err(written_error(io::Error::from(error), dir, shown, 0)),
        }
    }
    anyhow::bail!("cannot create a temporary name beside `{shown}`")
}

/// Flushes a directory so that the names made or removed in it survive a power loss.
pub fn fsync_dir(dir: &OwnedFd, shown: &str) -> Result<()> {
    nix::unistd::fsync(dir.as_fd()).with_context(|| format!("cannot flush directory `{shown}`"))
}

/// Flushes everything written to the filesystem that holds `dir` (Linux: `syncfs`; other
/// systems: `sync`).
pub fn sync_filesystem(dir: &OwnedFd, shown: &str) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        nix::unistd::syncfs(dir.as_fd())
            .with_context(|| format!("cannot flush the filesystem of `{shown}`"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, shown);
        nix::unistd::sync();
        Ok(())
    }
}

/// Cuts an open file back to `length` bytes (a journal's torn tail).
pub fn truncate(file: &File, length: u64) -> io::Result<()> {
    file.set_len(length)
}

/// Writes a file outside any pack (a site script, a definition file) atomically: a temporary
/// file in the same directory, flushed, given `mode`, renamed over `path`, the directory
/// flushed. A reader sees the old file or the new one, never a half-written one.
pub fn atomic_write(path: &Path, mode: u32, content: &[u8]) -> Result<()> {
    let shown = name::shown_path(path);
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let entry = path
        .file_name()
        .map(name::from_os)
        .with_context(|| format!("`{shown}` names no file"))?;
    let dir = crate::pack::PackRoot::open(parent)
        .and_then(|root| root.dir(""))
        .with_context(|| format!("cannot open `{}`", name::shown_path(parent)))?;
    let mut reader = content;
    write_at(
        &dir,
        &entry,
        &shown,
        Place::Replace { durable: true },
        Content {
            reader: &mut reader,
            expected: None,
            mode,
            modified: None,
            size: content.len() as u64,
        },
    )
    .map(|_| ())
}

/// Creates a new file outside any pack (a site script), flushed; fails if `path` exists.
pub fn create_new(path: &Path, content: &[u8]) -> Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(content)?;
    file.sync_all()?;
    Ok(())
}

/// Creates a directory outside any pack and its missing parents (for definition files, the
/// REPL's history).
pub fn create_dir_all(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir)?;
    Ok(())
}

/// Writes a file outside any pack that the user asked for (a saved plan), replacing it
/// whole: a reader finds the old file or the new one. `mode` applies to a new file.
pub fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<()> {
    // A bare file name is in the current directory, whose name is needed to flush it.
    let in_current = path.parent().is_some_and(|dir| dir.as_os_str().is_empty());
    let path = &if in_current {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    };
    atomic_write(path, mode, content).with_context(|| format!("cannot write `{}`", path.display()))
}

/// Writes files named `(name, content)` into `dir` (created with its parents if missing),
/// each replaced whole (the man pages).
pub fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    for (name, content) in files {
        write_file(&dir.join(name), content, 0o644)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::files::{list_dir, mode_of, ContentHash};
    use crate::pack::PackRoot;

    fn write(
        root: &PackRoot,
        entry: &str,
        place: Place,
        bytes: &[u8],
        expected: Option<&ContentHash>,
    ) -> Result<Written> {
        let dir = root.dir("").expect("home");
        let mut reader: &[u8] = bytes;
        write_at(
            &dir,
            entry,
            entry,
            place,
            Content {
                reader: &mut reader,
                expected,
                mode: 0o640,
                modified: None,
                size: bytes.len() as u64,
            },
        )
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_scratch_file_is_read_and_written_and_leaves_no_name() {
        use std::os::unix::fs::FileExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let root = PackRoot::open(dir.path()).expect("open");
        let scratch = scratch_file(&root.dir("").expect("home")).expect("an unnamed file");
        scratch.write_all_at(b"spooled", 3).expect("write");
        let mut back = [0u8; 7];
        scratch.read_exact_at(&mut back, 3).expect("read");
        assert_eq!(&back, b"spooled");
        assert!(list_dir(dir.path()).expect("list").is_empty());
        // Made private.
        let mode = scratch.metadata().expect("fstat").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn a_new_file_is_written_whole_with_its_mode_and_never_over_an_existing_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = PackRoot::open(dir.path()).expect("open");
        let content = b"<userstore/>".to_vec();
        let expected = ContentHash::of(&content);
        let written =
            write(&root, "new.xml", Place::New, &content, Some(&expected)).expect("written");
        assert_eq!(written.sha256, expected);
        let dest = dir.path().join("new.xml");
        assert_eq!(fs::read(&dest).expect("read"), content);
        assert_eq!(mode_of(&dest).expect("mode"), 0o640);
        // No temporary file is left beside it.
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );

        // A file that appeared at the path is an error, and stays as it is.
        let error = write(&root, "new.xml", Place::New, b"other", None).expect_err("taken");
        assert!(format!("{error:#}").contains("new.xml"), "{error:#}");
        assert_eq!(fs::read(&dest).expect("read"), content);
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );

        // Content that does not hash as planned is never put in place.
        for place in [Place::New, Place::Replace { durable: true }] {
            assert!(write(&root, "other.xml", place, b"x", Some(&expected)).is_err());
            assert!(!dir.path().join("other.xml").exists());
        }
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );

        // A replacement goes over it.
        write(
            &root,
            "new.xml",
            Place::Replace { durable: true },
            b"<v2/>",
            None,
        )
        .expect("replaced");
        assert_eq!(fs::read(&dest).expect("read"), b"<v2/>");
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );
    }

    #[test]
    fn a_new_file_gets_its_mode_whatever_the_umask_takes_away() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = PackRoot::open(dir.path()).expect("open");
        let home = root.dir("").expect("home");
        // Made with their mode (the umask leaves it whole) or given it after (it does not,
        // or the mode has bits beyond the permissions).
        for mode in [0o600, 0o640, 0o644, 0o666, 0o777, 0o2755, 0o1750, 0o000] {
            let entry = format!("m{mode:o}.xml");
            let mut reader: &[u8] = b"<m/>";
            write_at(
                &home,
                &entry,
                &entry,
                Place::New,
                Content {
                    reader: &mut reader,
                    expected: None,
                    mode,
                    modified: None,
                    size: 4,
                },
            )
            .expect("written");
            assert_eq!(
                mode_of(&dir.path().join(&entry)).expect("mode"),
                mode,
                "{entry}"
            );
        }
    }

    #[test]
    fn a_second_name_replaces_a_file_without_copying() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join("backup"), "before").expect("write");
        fs::write(dir.path().join("target"), "after").expect("write");
        let root = PackRoot::open(dir.path()).expect("open");
        let home = root.dir("").expect("home");
        assert!(link_over_at(&home, "backup", &home, "target", "target").expect("linked"));
        assert_eq!(
            fs::read(dir.path().join("target")).expect("read"),
            b"before"
        );
        assert_eq!(
            fs::read(dir.path().join("backup")).expect("read"),
            b"before"
        );
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["backup".to_string(), "target".to_string()]
        );
    }
}
