//! A pack read through open directory handles. The home directory is opened once; every other
//! directory is opened relative to it (or to a directory already opened below it) with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, or, where the kernel has no `openat2`,
//! one component at a time with `O_NOFOLLOW`; files are opened and `stat`ed relative to
//! their directory's handle, never through a link. So a link swapped into a pack at any
//! moment cannot redirect a read: the kernel refuses it while resolving, and a handle once
//! open keeps naming the directory that was checked. The handles of directories already
//! walked are kept (a bounded number), so that the files of one directory cost one system
//! call each.
//!
//! Nothing here writes; `change::target` writes through the same handles.

use crate::pack::descriptors::HandleCache;
use crate::pack::name;
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

/// An open directory.
pub type DirHandle = Arc<OwnedFd>;

/// What a directory entry is, not following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    /// A FIFO, a socket, a device.
    Other,
}

/// What `stat` says of an entry, not following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    /// Seconds and nanoseconds since the epoch.
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stat {
    fn kind_of(mode: u32) -> Kind {
        match mode & (libc_mode::S_IFMT) {
            libc_mode::S_IFREG => Kind::File,
            libc_mode::S_IFDIR => Kind::Dir,
            libc_mode::S_IFLNK => Kind::Link,
            _ => Kind::Other,
        }
    }

    /// From the `stat` of the system.
    pub fn of_file_stat(stat: &nix::sys::stat::FileStat) -> Stat {
        let mode = stat.st_mode;
        Stat {
            kind: Stat::kind_of(mode),
            mode: mode & 0o7777,
            size: stat.st_size as u64,
            dev: stat.st_dev,
            ino: stat.st_ino,
            nlink: stat.st_nlink,
            mtime: (stat.st_mtime, stat.st_mtime_nsec),
            ctime: (stat.st_ctime, stat.st_ctime_nsec),
        }
    }

    /// From the standard library's metadata (of an open file, say).
    pub fn of(metadata: &fs::Metadata) -> Stat {
        Stat {
            kind: Stat::kind_of(metadata.mode()),
            mode: metadata.mode() & 0o7777,
            size: metadata.size(),
            dev: metadata.dev(),
            ino: metadata.ino(),
            nlink: metadata.nlink(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    pub fn is_file(&self) -> bool {
        self.kind == Kind::File
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// The modification time.
    pub fn modified(&self) -> std::time::SystemTime {
        let (seconds, nanos) = self.mtime;
        let nanos = std::time::Duration::from_nanos(nanos.clamp(0, 999_999_999) as u64);
        if seconds >= 0 {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64) + nanos
        } else {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(seconds.unsigned_abs()) + nanos
        }
    }
}

/// The file-type bits of `st_mode` (POSIX values, the same on every Unix the tool runs on).
mod libc_mode {
    pub const S_IFMT: u32 = 0o170_000;
    pub const S_IFREG: u32 = 0o100_000;
    pub const S_IFDIR: u32 = 0o040_000;
    pub const S_IFLNK: u32 = 0o120_000;
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name, carried as text (see `pack::name`).
    pub name: String,
    pub kind: Kind,
}

/// A directory handle from the cache (shared), or just opened (this caller's alone).
enum Handle {
    Cached(DirHandle),
    Opened(OwnedFd),
}

/// A pack's home, open, with the handles of the directories walked below it.
#[derive(Debug)]
pub struct PackRoot {
    home: PathBuf,
    fd: DirHandle,
    cache: Mutex<HandleCache>,
}

/// The error of a path that runs through a link (`ELOOP`, as the kernel reports it).
pub fn is_link_error(error: &io::Error) -> bool {
    error.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32)
}

/// The error of a path that runs through something that is not a directory.
pub fn is_not_dir_error(error: &io::Error) -> bool {
    error.raw_os_error() == Some(nix::errno::Errno::ENOTDIR as i32)
}

/// How many times packs were looked at (a `stat`, an open, an entry listed) since the process
/// started: the engine limits how many a script may cause (`engine::MAX_FILE_OPERATIONS`).
static FILE_OPERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn counted(operations: u64) {
    FILE_OPERATIONS.fetch_add(operations, Ordering::Relaxed);
}

/// See `FILE_OPERATIONS`.
pub fn file_operations() -> u64 {
    FILE_OPERATIONS.load(Ordering::Relaxed)
}

fn nix_error(error: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(error as i32)
}

impl PackRoot {
    /// Opens the pack at `home` (a link to it is followed: the operator named it).
    pub fn open(home: &Path) -> io::Result<PackRoot> {
        let fd = nix::fcntl::openat(
            nix::fcntl::AT_FDCWD,
            home,
            nix::fcntl::OFlag::O_RDONLY
                | nix::fcntl::OFlag::O_DIRECTORY
                | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(nix_error)?;
        Ok(PackRoot {
            home: home.to_path_buf(),
            fd: Arc::new(fd),
            cache: Mutex::default(),
        })
    }

    /// The same pack with no directory remembered (for a plan after the pack was changed).
    pub fn fresh(&self) -> PackRoot {
        PackRoot {
            home: self.home.clone(),
            fd: self.fd.clone(),
            cache: Mutex::default(),
        }
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The absolute path of a pack-relative path, for messages and for what is not read
    /// through handles.
    pub fn path(&self, relative: &str) -> PathBuf {
        crate::pack::files::join(&self.home, relative)
    }

    /// `path`, for people.
    pub fn shown(&self, relative: &str) -> String {
        name::shown_path(&self.path(relative))
    }

    /// The handle of the directory at `relative` (`""` for the home), reached without
    /// following a link. Errors: `NotFound`, a link on the way (`is_link_error`), something
    /// that is not a directory (`is_not_dir_error`).
    pub fn dir(&self, relative: &str) -> io::Result<DirHandle> {
        match self.cached_or_opened(relative)? {
            Handle::Cached(handle) => Ok(handle),
            Handle::Opened(fd) => {
                let handle = Arc::new(fd);
                self.remember(relative, handle.clone());
                Ok(handle)
            }
        }
    }

    /// The handle of the directory at `relative` from the cache, or else opened (relative to
    /// the nearest directory above it that is cached) and not yet shared.
    fn cached_or_opened(&self, relative: &str) -> io::Result<Handle> {
        if relative.is_empty() {
            return Ok(Handle::Cached(self.fd.clone()));
        }
        let (base, rest) = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(handle) = cache.get(relative) {
                return Ok(Handle::Cached(handle));
            }
            let mut base = (self.fd.clone(), relative);
            let mut end = relative.len();
            while let Some(slash) = relative[..end].rfind('/') {
                if let Some(handle) = cache.get(&relative[..slash]) {
                    base = (handle, &relative[slash + 1..]);
                    break;
                }
                end = slash;
            }
            base
        };
        Ok(Handle::Opened(open_beneath(&base, rest, DIRECTORY)?))
    }

    /// Keeps the handle of a directory (one the change layer just created).
    pub fn remember(&self, relative: &str, handle: DirHandle) {
        let evicted = {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            cache.insert(relative, handle)
        };
        drop(evicted);
    }

    /// Forgets a directory and everything below it (it was removed).
    pub fn forget(&self, relative: &str) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.forget(relative);
    }

    /// The handle of the directory holding `relative`, and the entry's name there.
    pub fn parent<'a>(&self, relative: &'a str) -> io::Result<(DirHandle, &'a str)> {
        let (dir, name) = split(relative);
        Ok((self.dir(dir)?, name))
    }

    /// What is at `relative`, not following a link there: `None` when it or a directory
    /// above it does not exist.
    pub fn stat(&self, relative: &str) -> io::Result<Option<Stat>> {
        let (dir, entry) = match self.parent(relative) {
            Ok(found) => found,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        stat_at(&dir, entry)
    }

    /// What is at `relative` by one `fstatat` from the home, which follows links on the way
    /// (not the last): for comparing with what was recorded of the same directory (its
    /// device and inode included: see `hashes::Listed`), never to decide what to read.
    /// `None` when nothing is there.
    pub fn glance(&self, relative: &str) -> io::Result<Option<Stat>> {
        match stat_at(&self.fd, relative) {
            Err(error) if is_not_dir_error(&error) => Ok(None),
            other => other,
        }
    }

    /// Opens the regular file at `relative`, never through a link, and says what it is.
    /// Anything else there (a FIFO, a device, a directory) is refused before it is read,
    /// and opening does not wait on a FIFO.
    pub fn open_file(&self, relative: &str) -> io::Result<(File, Stat)> {
        let (dir, entry) = self.parent(relative)?;
        open_file_at(&dir, entry, &self.path(relative))
    }

    /// The entries of the directory at `relative`, in no order. A directory not opened
    /// before is listed through the handle just opened, which is then kept: most directories
    /// are listed once, and a second handle for the listing was a quarter of a no-op run's
    /// system calls.
    pub fn list(&self, relative: &str) -> io::Result<Vec<Entry>> {
        gathered(|each| self.list_each(relative, each))
    }

    /// `list` without the list: each entry's name and kind given to `each` as it is read (a
    /// directory of 100,000 tenants listed costs no 100,000 strings).
    pub fn list_each(&self, relative: &str, each: &mut dyn FnMut(&str, Kind)) -> io::Result<()> {
        match self.cached_or_opened(relative)? {
            Handle::Cached(handle) => {
                // A handle of its own: the cached one's reading position is shared by
                // whoever uses it.
                let own = open_beneath(&handle, ".", DIRECTORY)?;
                read_entries(&own, &handle, each)
            }
            Handle::Opened(fd) => {
                read_entries(&fd, &fd, each)?;
                self.remember(relative, Arc::new(fd));
                Ok(())
            }
        }
    }

    /// The first directory or entry on the way to `relative` that is a symbolic link, as a
    /// path for people (for the message of a refused path).
    pub fn link_on_the_way(&self, relative: &str) -> Option<String> {
        let mut dir = self.fd.clone();
        let mut walked = String::new();
        for part in relative.split('/') {
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(part);
            match stat_at(&dir, part) {
                Ok(Some(stat)) if stat.kind == Kind::Link => return Some(self.shown(&walked)),
                Ok(Some(stat)) if stat.kind == Kind::Dir => {
                    dir = Arc::new(open_beneath(&dir, part, DIRECTORY).ok()?);
                }
                _ => return None,
            }
        }
        None
    }
}

/// A file whose bytes a plan copies: a file of a pack, opened through the pack's handles by
/// its path without links, or a file outside any pack given by path (a JDBC driver jar).
/// Small (a plan holds one per copy): the absolute path of a pack file is made only for a
/// message.
#[derive(Debug, Clone)]
pub enum SourceFile {
    /// Pack-relative, without links.
    InPack(Arc<PackRoot>, Arc<str>),
    /// Absolute.
    Outside(Arc<Path>),
}

impl SourceFile {
    /// The file at `real` (a path without links, as `Pack::reach` gives it) in a pack.
    pub fn in_pack(root: &Arc<PackRoot>, real: &str) -> SourceFile {
        SourceFile::InPack(root.clone(), Arc::from(real))
    }

    /// A file outside any pack, by its path.
    pub fn outside(path: PathBuf) -> SourceFile {
        SourceFile::Outside(Arc::from(path))
    }

    /// Its absolute path, for messages (and for opening a file outside any pack).
    pub fn path(&self) -> std::borrow::Cow<'_, Path> {
        match self {
            SourceFile::InPack(root, relative) => std::borrow::Cow::Owned(root.path(relative)),
            SourceFile::Outside(path) => std::borrow::Cow::Borrowed(path),
        }
    }

    /// Opens it for reading: a regular file only, and in a pack never through a link.
    pub fn open(&self) -> io::Result<(File, Stat)> {
        match self {
            SourceFile::InPack(root, relative) => root.open_file(relative),
            SourceFile::Outside(path) => {
                use nix::fcntl::OFlag;
                let fd = nix::fcntl::openat(
                    nix::fcntl::AT_FDCWD,
                    &**path,
                    OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
                    nix::sys::stat::Mode::empty(),
                )
                .map_err(nix_error)?;
                let file = File::from(fd);
                let stat = Stat::of(&file.metadata()?);
                if !stat.is_file() {
                    return Err(crate::pack::files::not_regular(path));
                }
                Ok((file, stat))
            }
        }
    }

    /// The whole file, which the tool is about to parse: at most `files::MAX_PARSED` bytes.
    pub fn read_parsed(&self) -> io::Result<Vec<u8>> {
        let (file, stat) = self.open()?;
        crate::pack::files::read_parsed(file, stat.size, &self.path())
    }
}

/// `relative` cut at its last `/`: the directory (`""` for the top) and the name.
pub fn split(relative: &str) -> (&str, &str) {
    relative.rsplit_once('/').unwrap_or(("", relative))
}

/// `stat` of `entry` in `dir`, not following a link; `None` when nothing is there.
pub fn stat_at(dir: &OwnedFd, entry: &str) -> io::Result<Option<Stat>> {
    counted(1);
    match nix::sys::stat::fstatat(
        dir.as_fd(),
        &*name::to_os(entry),
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(stat) => Ok(Some(Stat::of_file_stat(&stat))),
        Err(nix::errno::Errno::ENOENT) => Ok(None),
        Err(error) => Err(nix_error(error)),
    }
}

/// Opens the regular file `entry` in `dir` for reading (see `PackRoot::open_file`); `shown`
/// names it in errors.
pub fn open_file_at(dir: &OwnedFd, entry: &str, shown: &Path) -> io::Result<(File, Stat)> {
    use nix::fcntl::OFlag;
    counted(1);
    let fd = nix::fcntl::openat(
        dir.as_fd(),
        &*name::to_os(entry),
        OFlag::O_RDONLY
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_NOCTTY
            | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(nix_error)?;
    let file = File::from(fd);
    let stat = Stat::of(&file.metadata()?);
    if !stat.is_file() {
        return Err(crate::pack::files::not_regular(shown));
    }
    Ok((file, stat))
}

/// The entries of an open directory (`.` and `..` left out), with their kinds as the
/// directory says them (a `stat` only where it does not).
pub fn list_dir(dir: &OwnedFd) -> io::Result<Vec<Entry>> {
    // A handle of its own: the cached one's reading position is shared by whoever uses it.
    let own = open_beneath(dir, ".", DIRECTORY)?;
    gathered(|each| read_entries(&own, dir, each))
}

/// The entries a listing gives `each` one by one, gathered.
pub fn gathered<E>(
    list: impl FnOnce(&mut dyn FnMut(&str, Kind)) -> Result<(), E>,
) -> Result<Vec<Entry>, E> {
    let mut entries = Vec::new();
    list(&mut |name, kind| {
        entries.push(Entry {
            name: name.to_owned(),
            kind,
        })
    })?;
    Ok(entries)
}

/// The entries read through `own`, a handle of `dir` that nobody else reads from (its
/// position moves to the end), given to `each` one by one.
fn read_entries(own: &OwnedFd, dir: &OwnedFd, each: &mut dyn FnMut(&str, Kind)) -> io::Result<()> {
    use rustix::fs::FileType;
    // `getdents64` straight into a buffer: a listing is one `open`, its reads and one
    // `close` (through `opendir`, each of the 3.7 listings per tenant also cost two `fcntl`
    // and a rewind). 32 KiB holds a hundred entries of the longest name, so no entry is ever
    // too large for it.
    let mut buffer: Vec<u8> = Vec::with_capacity(32 * 1024);
    let mut listing = rustix::fs::RawDir::new(own, buffer.spare_capacity_mut());
    let mut count = 0;
    while let Some(entry) = listing.next() {
        let entry = entry.map_err(io::Error::from)?;
        let bytes = entry.file_name().to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let name = name::from_bytes(bytes);
        let kind = match entry.file_type() {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Link,
            FileType::Unknown => match stat_at(dir, &name)? {
                Some(stat) => stat.kind,
                None => continue,
            },
            _ => Kind::Other,
        };
        each(&name, kind);
        count += 1;
    }
    counted(count);
    Ok(())
}

/// The entries of a directory outside any pack, by path (one a link in a pack leads to: the
/// finders report what is there, and never read it).
pub fn list_path(path: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let kind = entry.file_type().map_or(Kind::Other, |kind| {
            if kind.is_symlink() {
                Kind::Link
            } else if kind.is_dir() {
                Kind::Dir
            } else if kind.is_file() {
                Kind::File
            } else {
                Kind::Other
            }
        });
        entries.push(Entry {
            name: name::from_os(&entry.file_name()).into_owned(),
            kind,
        });
    }
    Ok(entries)
}

pub const DIRECTORY: nix::fcntl::OFlag = nix::fcntl::OFlag::O_RDONLY
    .union(nix::fcntl::OFlag::O_DIRECTORY)
    .union(nix::fcntl::OFlag::O_CLOEXEC);

/// Whether `openat2` works here: unknown, yes, or no (an old kernel, or a sandbox that
/// refuses it).
static OPENAT2: AtomicU8 = AtomicU8::new(0);
const YES: u8 = 1;
const NO: u8 = 2;

/// Opens `relative` below `base` with `flags`, refusing any link on the way and any way out
/// of `base`: `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, or where the kernel lacks it,
/// `open_component_by_component`. `.` opens `base` again.
pub fn open_beneath(
    base: &OwnedFd,
    relative: &str,
    flags: nix::fcntl::OFlag,
) -> io::Result<OwnedFd> {
    counted(1);
    #[cfg(target_os = "linux")]
    {
        use nix::fcntl::{OpenHow, ResolveFlag};
        if OPENAT2.load(Ordering::Relaxed) != NO && !relative.split('/').any(|part| part == "..") {
            let how = OpenHow::new()
                .flags(flags | nix::fcntl::OFlag::O_NOFOLLOW)
                .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_SYMLINKS);
            let path = name::to_os(relative);
            // A rename anywhere on the system while resolving makes the kernel ask for a
            // retry (`EAGAIN`).
            for _ in 0..16 {
                match nix::fcntl::openat2(base.as_fd(), &*path, how) {
                    Ok(fd) => {
                        OPENAT2.store(YES, Ordering::Relaxed);
                        return Ok(fd);
                    }
                    Err(nix::errno::Errno::EAGAIN) => continue,
                    Err(
                        nix::errno::Errno::ENOSYS
                        | nix::errno::Errno::EPERM
                        | nix::errno::Errno::E2BIG,
                    ) if OPENAT2.load(Ordering::Relaxed) != YES => {
                        OPENAT2.store(NO, Ordering::Relaxed);
                        break;
                    }
                    // A link on the way (`ELOOP`) or a way out (`EXDEV`, through `..`).
                    Err(nix::errno::Errno::EXDEV) => {
                        return Err(nix_error(nix::errno::Errno::ELOOP))
                    }
                    // A file on the way, or a link where a directory is wanted (the kernel
                    // says `ENOTDIR` for both): the walk below tells which.
                    Err(nix::errno::Errno::ENOTDIR) => break,
                    Err(error) => return Err(nix_error(error)),
                }
            }
        }
    }
    open_component_by_component(base, relative, flags)
}

/// `open_beneath` without `openat2`: each directory on the way opened with `O_NOFOLLOW`
/// relative to the one before, so that no link is followed and `..` is refused.
pub fn open_component_by_component(
    base: &OwnedFd,
    relative: &str,
    flags: nix::fcntl::OFlag,
) -> io::Result<OwnedFd> {
    use nix::fcntl::OFlag;
    let parts: Vec<&str> = relative.split('/').collect();
    let mut current: Option<OwnedFd> = None;
    for (index, part) in parts.iter().enumerate() {
        if *part == ".." || part.is_empty() {
            return Err(nix_error(nix::errno::Errno::ELOOP));
        }
        let last = index + 1 == parts.len();
        let how = if last {
            flags | OFlag::O_NOFOLLOW
        } else {
            DIRECTORY | OFlag::O_NOFOLLOW
        };
        let from = current.as_ref().unwrap_or(base);
        let opened = nix::fcntl::openat(
            from.as_fd(),
            &*name::to_os(part),
            how,
            nix::sys::stat::Mode::empty(),
        )
        .map_err(|error| match error {
            // `O_NOFOLLOW | O_DIRECTORY` on a link may say either.
            nix::errno::Errno::ENOTDIR if is_link(from, part) => {
                nix_error(nix::errno::Errno::ELOOP)
            }
            other => nix_error(other),
        })?;
        current = Some(opened);
    }
    current.ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
}

fn is_link(dir: &OwnedFd, entry: &str) -> bool {
    matches!(stat_at(dir, entry), Ok(Some(stat)) if stat.kind == Kind::Link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("pack");
        fs::create_dir_all(home.join("a/b/c")).expect("dirs");
        fs::write(home.join("a/b/c/file.xml"), "inside").expect("file");
        fs::create_dir_all(dir.path().join("outside")).expect("dirs");
        fs::write(dir.path().join("outside/file.xml"), "outside").expect("file");
        symlink(dir.path().join("outside"), home.join("a/out")).expect("link");
        symlink("b", home.join("a/in")).expect("link");
        symlink("c/file.xml", home.join("a/b/linked.xml")).expect("link");
        dir
    }

    #[test]
    fn openat2_and_the_walk_by_components_agree_on_links_and_escapes() {
        let dir = tree();
        let root = PackRoot::open(&dir.path().join("pack")).expect("open");
        for open in [open_beneath, open_component_by_component] {
            assert!(open(&root.fd, "a/b/c", DIRECTORY).is_ok());
            for linked in ["a/out", "a/in/c", "a/out/file.xml"] {
                let error = open(&root.fd, linked, DIRECTORY).expect_err(linked);
                assert!(is_link_error(&error), "{linked}: {error}");
            }
            let error = open(&root.fd, "a/../a", DIRECTORY).expect_err("dot dot");
            assert!(is_link_error(&error), "{error}");
            let error = open(&root.fd, "a/missing/c", DIRECTORY).expect_err("missing");
            assert_eq!(error.kind(), io::ErrorKind::NotFound);
        }
    }

    #[test]
    fn files_are_read_only_without_links_and_directories_listed_with_their_kinds() {
        let dir = tree();
        let root = PackRoot::open(&dir.path().join("pack")).expect("open");
        let (mut file, stat) = root.open_file("a/b/c/file.xml").expect("open");
        assert!(stat.is_file() && stat.size == 6);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).expect("read");
        assert_eq!(text, "inside");
        assert!(is_link_error(
            &root.open_file("a/b/linked.xml").expect_err("link")
        ));
        assert!(is_link_error(
            &root.open_file("a/out/file.xml").expect_err("link")
        ));
        assert_eq!(
            root.stat("a/b/linked.xml").expect("stat").map(|s| s.kind),
            Some(Kind::Link)
        );
        assert_eq!(root.stat("a/nothing/x").expect("stat"), None);
        assert_eq!(
            root.link_on_the_way("a/out/file.xml").as_deref(),
            Some(root.shown("a/out").as_str())
        );
        let mut listed = root.list("a").expect("list");
        listed.sort_by(|x, y| x.name.cmp(&y.name));
        let kinds: Vec<(&str, Kind)> = listed.iter().map(|e| (e.name.as_str(), e.kind)).collect();
        assert_eq!(
            kinds,
            vec![("b", Kind::Dir), ("in", Kind::Link), ("out", Kind::Link)]
        );
        // The same directory listed twice through its cached handle.
        assert_eq!(root.list("a").expect("list").len(), 3);
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tree();
        let home = dir.path().join("pack");
        nix::unistd::mkfifo(
            &home.join("a/fifo"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .expect("mkfifo");
        let root = PackRoot::open(&home).expect("open");
        let error = root.open_file("a/fifo").expect_err("not regular");
        assert!(error.to_string().contains("not a regular file"), "{error}");
    }

    #[test]
    fn a_handle_keeps_naming_the_directory_it_opened() {
        let dir = tree();
        let home = dir.path().join("pack");
        let root = PackRoot::open(&home).expect("open");
        let handle = root.dir("a/b/c").expect("dir");
        // The directory swapped for a link to somewhere else after it was opened.
        fs::rename(home.join("a/b/c"), home.join("a/b/moved")).expect("rename");
        symlink(dir.path().join("outside"), home.join("a/b/c")).expect("link");
        let (_, stat) = open_file_at(&handle, "file.xml", Path::new("file.xml")).expect("open");
        assert_eq!(stat.size, "inside".len() as u64);
        // A new walk refuses the link.
        assert!(is_link_error(&root.fresh().dir("a/b/c").expect_err("link")));
    }
}
