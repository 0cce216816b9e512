//! Writing files: atomic replacement, new files written unnamed and linked in, and the
//! flushes that make them durable. Every write the tool makes goes through this layer.

use crate::pack::files::{to_hex, TEMP_PREFIX, TEMP_SUFFIX};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Writes `content` to `dest` atomically: a temporary file in the same directory, flushed,
/// given `mode`, then renamed over `dest`, and the directory flushed. A reader sees the old
/// file or the new one, never a half-written one.
/// When `expected` is given, the written bytes must hash to it, or nothing is renamed.
pub fn atomic_write(
    dest: &Path,
    mode: u32,
    content: &mut dyn Read,
    expected: Option<&str>,
) -> Result<String> {
    write_through_temp(dest, mode, content, expected, Through::Durable, None)
        .map(|written| written.sha256)
}

/// `atomic_write` without the flushes: the file is renamed into place, so a reader still sees
/// the old file or the new one, but the new one reaches the disk when the caller flushes the
/// filesystem (`sync_filesystem`). For many files in a row, one flush of the filesystem costs
/// far less than two for each file.
pub fn atomic_write_unsynced(
    dest: &Path,
    mode: u32,
    content: &mut dyn Read,
    expected: Option<&str>,
    modified: Option<std::time::SystemTime>,
) -> Result<Written> {
    write_through_temp(dest, mode, content, expected, Through::Unsynced, modified)
}

/// What an unsynced write wrote.
#[derive(Debug)]
pub struct Written {
    /// The SHA-256 of the content.
    pub sha256: String,
    /// With a modification time to set: the file's `fstat` once in place.
    pub placed: Option<fs::Metadata>,
}

/// Writes a new file at `dest`, which must not exist, as `atomic_write_unsynced` does: the
/// new file reaches the disk when the caller flushes the filesystem. On Linux the file is
/// written unnamed (`O_TMPFILE`) and then linked at `dest`, so nothing is ever seen under a
/// temporary name, and no rename is needed; a `dest` that appeared in the meantime is an
/// error, never replaced. Elsewhere, or where the filesystem cannot make unnamed files, a
/// temporary file is put in place, again only where nothing is.
pub fn write_new_unsynced(
    dest: &Path,
    mode: u32,
    content: &mut dyn Read,
    expected: Option<&str>,
    modified: Option<std::time::SystemTime>,
) -> Result<Written> {
    #[cfg(target_os = "linux")]
    {
        if let Some(written) = write_unnamed(dest, mode, content, expected, modified)? {
            return Ok(written);
        }
    }
    write_through_temp(dest, mode, content, expected, Through::New, modified)
}

/// `write_new_unsynced` through `O_TMPFILE` and `linkat`; `None`, with nothing read from
/// `content`, when the filesystem or the system cannot.
#[cfg(target_os = "linux")]
fn write_unnamed(
    dest: &Path,
    mode: u32,
    content: &mut dyn Read,
    expected: Option<&str>,
    modified: Option<std::time::SystemTime>,
) -> Result<Option<Written>> {
    use nix::errno::Errno;
    use nix::fcntl::{OFlag, AT_FDCWD};
    use std::os::fd::AsRawFd;
    // `linkat` names an unnamed file through `/proc/self/fd` (linking by descriptor alone
    // needs a privilege).
    static PROC_FD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if !*PROC_FD.get_or_init(|| Path::new("/proc/self/fd").is_dir()) {
        return Ok(None);
    }
    let dir = dest
        .parent()
        .with_context(|| format!("`{}` has no parent directory", dest.display()))?;
    let fd = match nix::fcntl::open(
        dir,
        OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
    ) {
        Ok(fd) => fd,
        // Kernels or filesystems without unnamed files.
        Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => return Ok(None),
        Err(error) => {
            return Err(io::Error::from(error))
                .with_context(|| format!("cannot create a new file in `{}`", dir.display()))
        }
    };
    let mut file = File::from(fd);
    let sha256 = copy_hashing(content, &mut file, dest)?;
    if let Some(expected) = expected {
        if sha256 != expected {
            anyhow::bail!(
                "the content for `{}` changed while the run was planned (sha256 {sha256}, expected {expected}); plan again",
                dest.display()
            );
        }
    }
    file.set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of `{}`", dest.display()))?;
    if let Some(modified) = modified {
        file.set_modified(modified)
            .with_context(|| format!("cannot set the time of `{}`", dest.display()))?;
    }
    let name = format!("/proc/self/fd/{}", file.as_raw_fd());
    match nix::unistd::linkat(
        AT_FDCWD,
        name.as_str(),
        AT_FDCWD,
        dest,
        nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
    ) {
        Ok(()) => Ok(Some(Written {
            placed: placed(&file, modified, dest)?,
            sha256,
        })),
        Err(Errno::EEXIST) => anyhow::bail!(
            "`{}` appeared after it was planned; plan again",
            dest.display()
        ),
        Err(error) => Err(io::Error::from(error))
            .with_context(|| format!("cannot create `{}`", dest.display())),
    }
}

/// Copies `content` into `out`, returning the SHA-256 of what went through.
fn copy_hashing(content: &mut dyn Read, out: &mut dyn Write, dest: &Path) -> Result<String> {
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
            .with_context(|| format!("cannot write `{}`", dest.display()))?;
    }
    Ok(to_hex(&hasher.finalize()))
}

/// Flushes everything written to the filesystem that holds `path` (Linux: `syncfs`; other
/// systems: `sync`).
pub fn sync_filesystem(path: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        let handle = File::open(path)
            .with_context(|| format!("cannot open `{}` to flush it", path.display()))?;
        nix::unistd::syncfs(&handle)
            .with_context(|| format!("cannot flush the filesystem of `{}`", path.display()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        nix::unistd::sync();
        Ok(())
    }
}

/// How `write_through_temp` puts its temporary file in place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Through {
    /// Renamed over the target, with the file and the directory flushed.
    Durable,
    /// Renamed over the target, flushed by the caller.
    Unsynced,
    /// Put in place only where nothing is, flushed by the caller.
    New,
}

fn write_through_temp(
    dest: &Path,
    mode: u32,
    content: &mut dyn Read,
    expected: Option<&str>,
    how: Through,
    modified: Option<std::time::SystemTime>,
) -> Result<Written> {
    let dir = dest
        .parent()
        .with_context(|| format!("`{}` has no parent directory", dest.display()))?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in `{}`", dir.display()))?;
    let sha256 = copy_hashing(content, temp.as_file_mut(), dest)?;
    if let Some(expected) = expected {
        if sha256 != expected {
            anyhow::bail!(
                "the content for `{}` changed while the run was planned (sha256 {sha256}, expected {expected}); plan again",
                dest.display()
            );
        }
    }
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of `{}`", dest.display()))?;
    if let Some(modified) = modified {
        temp.as_file()
            .set_modified(modified)
            .with_context(|| format!("cannot set the time of `{}`", dest.display()))?;
    }
    if how == Through::Durable {
        temp.as_file()
            .sync_all()
            .with_context(|| format!("cannot flush `{}`", dest.display()))?;
    }
    let placed_file = if how == Through::New {
        temp.persist_noclobber(dest)
    } else {
        temp.persist(dest)
    };
    let file = placed_file
        .map_err(|error| error.error)
        .with_context(|| format!("cannot rename into `{}`", dest.display()))?;
    if how == Through::Durable {
        sync_dir(dir)?;
    }
    Ok(Written {
        placed: placed(&file, modified, dest)?,
        sha256,
    })
}

/// The `fstat` of a file just put in place, when its modification time was set.
fn placed(
    file: &File,
    modified: Option<std::time::SystemTime>,
    dest: &Path,
) -> Result<Option<fs::Metadata>> {
    match modified {
        Some(_) => file
            .metadata()
            .map(Some)
            .with_context(|| format!("cannot stat `{}`", dest.display())),
        None => Ok(None),
    }
}

/// Flushes a directory so that a rename or unlink in it survives a power loss.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .with_context(|| format!("cannot flush directory `{}`", dir.display()))
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
    atomic_write(path, mode, &mut &content[..], None)
        .map(|_| ())
        .with_context(|| format!("cannot write `{}`", path.display()))
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
    use crate::pack::files::{list_dir, mode_of, sha256_bytes};

    #[test]
    fn a_new_file_is_written_whole_with_its_mode_and_never_over_an_existing_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let dest = dir.path().join("new.xml");
        let content = b"<userstore/>".to_vec();
        let expected = sha256_bytes(&content);
        let written =
            write_new_unsynced(&dest, 0o640, &mut content.as_slice(), Some(&expected), None)
                .expect("written");
        assert_eq!(written.sha256, expected);
        assert_eq!(fs::read(&dest).expect("read"), content);
        assert_eq!(mode_of(&dest).expect("mode"), 0o640);
        // No temporary file is left beside it.
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );

        // A file that appeared at the path is an error, and stays as it is.
        let error = write_new_unsynced(&dest, 0o644, &mut &b"other"[..], None, None)
            .expect_err("the path is taken");
        assert!(format!("{error:#}").contains("new.xml"), "{error:#}");
        assert_eq!(fs::read(&dest).expect("read"), content);
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );

        // Content that does not hash as planned is never linked in.
        let other = dir.path().join("other.xml");
        assert!(write_new_unsynced(&other, 0o644, &mut &b"x"[..], Some(&expected), None).is_err());
        assert!(!other.exists());
        assert_eq!(
            list_dir(dir.path()).expect("list"),
            vec!["new.xml".to_string()]
        );
    }
}
