//! Writing inside a target pack, through its directory handles (see `pack::root`): each
//! directory on the way reached without following a link, missing ones made one name at a
//! time, files written and removed relative to their directory. A directory swapped for a
//! link at any moment is refused when it is walked, and a handle once open keeps naming the
//! directory that was checked, so no write of a run or a rollback lands outside the pack.

use crate::change::disk::{self, Content, Place, Written};
use crate::change::plan::FileState;
use crate::pack::files::{TEMP_PREFIX, TEMP_SUFFIX};
use crate::pack::root::{self, DirHandle, Kind, PackRoot, SourceFile};
use anyhow::{Context, Result};
use std::io::Read;
use std::sync::Arc;

/// A target pack, open for writing.
#[derive(Debug, Clone)]
pub struct TargetTree {
    pub root: Arc<PackRoot>,
}

/// What is at a target path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Nothing,
    File(FileState),
    /// A directory, a link, a device: the tool never replaces those.
    Other(Kind),
}

impl TargetTree {
    pub fn new(root: Arc<PackRoot>) -> TargetTree {
        TargetTree { root }
    }

    /// The pack path for people.
    pub fn shown(&self, relative: &str) -> String {
        self.root.shown(relative)
    }

    /// The message of a path that runs through a link or something that is not a directory.
    pub fn refusal(&self, relative: &str, error: &std::io::Error) -> anyhow::Error {
        if root::is_link_error(error) {
            anyhow::anyhow!(
                "`{}` is a symbolic link; the tool does not write through links",
                self.root
                    .link_on_the_way(relative)
                    .unwrap_or_else(|| self.shown(relative))
            )
        } else if root::is_not_dir_error(error) {
            anyhow::anyhow!(
                "`{}`: a directory on the way is not a directory",
                self.shown(relative)
            )
        } else {
            anyhow::anyhow!("cannot open `{}`: {error}", self.shown(relative))
        }
    }

    /// The handle of directory `relative`: `None` when it (or one above it) is missing.
    pub fn dir(&self, relative: &str) -> Result<Option<DirHandle>> {
        match self.root.dir(relative) {
            Ok(handle) => Ok(Some(handle)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.refusal(relative, &error)),
        }
    }

    /// The handle of directory `relative`, made (with the missing ones above it) if needed.
    /// A directory made meanwhile by another thread is fine; a link there is refused.
    pub fn ensure_dir(&self, relative: &str) -> Result<DirHandle> {
        if let Some(handle) = self.dir(relative)? {
            return Ok(handle);
        }
        self.make_dir(relative)
    }

    /// `ensure_dir` of a directory the plan found missing: made first, then opened (looking
    /// for it first would be a lookup that fails, once for each directory a run makes). A
    /// directory made meanwhile by another thread is fine; a link there is refused.
    pub fn make_dir(&self, relative: &str) -> Result<DirHandle> {
        let (parent, entry) = root::split(relative);
        let parent_handle = self.ensure_dir(parent)?;
        disk::mkdir_at(&parent_handle, entry, &self.shown(relative))?;
        self.dir(relative)?
            .with_context(|| format!("`{}` vanished as it was made", self.shown(relative)))
    }

    /// What is at `relative`, hashed when it is a regular file.
    pub fn found(&self, relative: &str) -> Result<Found> {
        let stat = match self.root.stat(relative) {
            Ok(stat) => stat,
            Err(error) => return Err(self.refusal(relative, &error)),
        };
        match stat {
            None => Ok(Found::Nothing),
            Some(stat) if stat.kind == Kind::File => {
                let (file, opened) = self
                    .root
                    .open_file(relative)
                    .map_err(|error| self.refusal(relative, &error))?;
                let sha256 = crate::pack::files::hash_reader(file, &self.root.path(relative))?;
                Ok(Found::File(FileState {
                    sha256,
                    mode: opened.mode,
                }))
            }
            Some(stat) => Ok(Found::Other(stat.kind)),
        }
    }

    /// The state of a regular file at `relative`, `None` when nothing is there; anything
    /// else is an error.
    pub fn file_state(&self, relative: &str) -> Result<Option<FileState>> {
        match self.found(relative)? {
            Found::Nothing => Ok(None),
            Found::File(state) => Ok(Some(state)),
            Found::Other(Kind::Link) => anyhow::bail!(
                "`{}` is a symbolic link; refusing to replace it",
                self.shown(relative)
            ),
            Found::Other(_) => anyhow::bail!(
                "`{}` exists and is not a regular file",
                self.shown(relative)
            ),
        }
    }

    /// Writes a file at `relative`, whose directory exists (`Place::New`: where nothing is).
    pub fn write(&self, relative: &str, place: Place, content: Content<'_>) -> Result<Written> {
        let (parent, entry) = root::split(relative);
        let dir = self.ensure_dir(parent)?;
        disk::write_at(&dir, entry, &self.shown(relative), place, content)
    }

    /// Copies the regular file at `relative` into a new file `backup` of `backup_dir`
    /// (`backup_shown` for messages), flushed, with mode `expected.mode`; its content must be
    /// `expected`, or the backup is removed and this fails (the file changed after it was
    /// planned).
    pub fn back_up(
        &self,
        relative: &str,
        backup_dir: &DirHandle,
        backup: &str,
        backup_shown: &str,
        expected: &FileState,
    ) -> Result<()> {
        let (mut source, stat) = self
            .root
            .open_file(relative)
            .map_err(|error| self.refusal(relative, &error))?;
        let result = (|| -> Result<()> {
            let mut file = disk::create_at(backup_dir, backup, 0o600)
                .map_err(|error| disk::written_error(error, backup_dir, backup_shown, stat.size))?;
            let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let read = source
                    .read(&mut buffer)
                    .with_context(|| format!("cannot read `{}`", self.shown(relative)))?;
                if read == 0 {
                    break;
                }
                sha2::Digest::update(&mut hasher, &buffer[..read]);
                std::io::Write::write_all(&mut file, &buffer[..read]).map_err(|error| {
                    disk::written_error(error, backup_dir, backup_shown, stat.size)
                })?;
            }
            let sha256 = crate::pack::files::ContentHash(sha2::Digest::finalize(hasher).into());
            if sha256 != expected.sha256 || stat.mode != expected.mode {
                anyhow::bail!(
                    "`{}` changed after it was planned; plan again",
                    self.shown(relative)
                );
            }
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(expected.mode))
                .and_then(|()| file.sync_all())
                .map_err(|error| disk::written_error(error, backup_dir, backup_shown, stat.size))
        })();
        if result.is_err() {
            let _ = disk::unlink_at(backup_dir, backup, backup_shown);
        }
        result
    }

    /// Puts the content of backup `backup` (of `backup_dir`) back at `relative`, with mode
    /// `state.mode`: a second name of the backup renamed into place (no data copied, no
    /// space needed), or where the filesystem cannot, a copy renamed into place.
    pub fn restore(
        &self,
        relative: &str,
        backup_dir: &DirHandle,
        backup: &str,
        state: &FileState,
    ) -> Result<()> {
        let (parent, entry) = root::split(relative);
        let dir = self.ensure_dir(parent)?;
        let shown = self.shown(relative);
        if disk::link_over_at(backup_dir, backup, &dir, entry, &shown)? {
            return Ok(());
        }
        let (mut reader, stat) =
            root::open_file_at(backup_dir, backup, std::path::Path::new(backup))
                .with_context(|| format!("cannot read the backup of `{shown}`"))?;
        disk::write_at(
            &dir,
            entry,
            &shown,
            Place::Replace { durable: false },
            Content {
                reader: &mut reader,
                expected: Some(&state.sha256),
                mode: state.mode,
                modified: None,
                size: stat.size,
            },
        )
        .map(|_| ())
    }

    /// Removes the file at `relative`; `false` when nothing was there.
    pub fn remove_file(&self, relative: &str) -> Result<bool> {
        let (parent, entry) = root::split(relative);
        match self.dir(parent)? {
            Some(dir) => disk::unlink_at(&dir, entry, &self.shown(relative)),
            None => Ok(false),
        }
    }

    /// Removes the directory at `relative` if it is empty (but for temporary files a
    /// killed run left); whether it did.
    pub fn remove_dir(&self, relative: &str) -> bool {
        self.remove_temp_files(relative);
        let (parent, entry) = root::split(relative);
        let Ok(Some(dir)) = self.dir(parent) else {
            return false;
        };
        let removed = disk::rmdir_at(&dir, entry);
        if removed {
            self.root.forget(relative);
        }
        removed
    }

    /// Removes temporary files a killed run may have left in directory `relative`.
    pub fn remove_temp_files(&self, relative: &str) {
        let Ok(Some(dir)) = self.dir(relative) else {
            return;
        };
        let Ok(entries) = root::list_dir(&dir) else {
            return;
        };
        for entry in entries {
            if entry.kind == Kind::File
                && entry.name.starts_with(TEMP_PREFIX)
                && entry.name.ends_with(TEMP_SUFFIX)
            {
                let _ = disk::unlink_at(&dir, &entry.name, &entry.name);
            }
        }
    }

    /// Flushes the filesystem of the pack.
    pub fn sync(&self) -> Result<()> {
        let home = self.root.dir("")?;
        disk::sync_filesystem(&home, &self.shown(""))
    }
}

/// A source of content to copy, opened.
pub fn open_source(source: &SourceFile) -> Result<(std::fs::File, crate::pack::Stat)> {
    source
        .open()
        .map_err(|error| crate::pack::read_error(&source.path(), error))
}
