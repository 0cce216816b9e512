//! What a pack looked like when a plan was saved (`plan --out`): every file, link and
//! directory below its home (the tool's own `.apim-migrate/` aside) by name, type, mode,
//! size, inode, modification and change time, one digest per directory. `run --plan` takes
//! the fingerprint again and refuses if it differs, naming the directories where something
//! was added, removed or changed. A change of content moves a file's change time (and the
//! kernel sets it, no one can put it back), so no edit goes unseen; a file touched and put
//! back as it was is counted as changed too, which is the safe side.

use crate::pack::STATE_DIR;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// A pack's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// How many files, links and directories it covers.
    pub entries: usize,
    /// The digest of the whole tree.
    pub sha256: String,
    /// A digest of each directory's entries, by its path relative to the home (`.` for the
    /// home itself).
    pub dirs: BTreeMap<String, String>,
}

impl Fingerprint {
    /// The fingerprint of the pack at `home`.
    pub fn of(home: &Path) -> Result<Fingerprint> {
        let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
        lines.insert(".".to_string(), Vec::new());
        let mut entries = 0;
        let walker = walkdir::WalkDir::new(home)
            .follow_links(false)
            .sort_by_file_name()
            .min_depth(1)
            .into_iter()
            .filter_entry(|entry| !(entry.depth() == 1 && entry.file_name() == STATE_DIR));
        for entry in walker {
            let entry =
                entry.with_context(|| format!("cannot read the pack `{}`", home.display()))?;
            let relative = entry
                .path()
                .strip_prefix(home)
                .unwrap_or(entry.path())
                .to_string_lossy()
                .replace('\\', "/");
            let parent = match relative.rsplit_once('/') {
                Some((parent, _)) => parent.to_string(),
                None => ".".to_string(),
            };
            let name = entry.file_name().to_string_lossy();
            let metadata = entry
                .path()
                .symlink_metadata()
                .with_context(|| format!("cannot stat `{}`", entry.path().display()))?;
            let kind = metadata.file_type();
            let line = if kind.is_dir() {
                lines.entry(relative.clone()).or_default();
                format!("d {name} {:o}", metadata.mode())
            } else if kind.is_symlink() {
                let target = std::fs::read_link(entry.path()).with_context(|| {
                    format!("cannot read the link `{}`", entry.path().display())
                })?;
                format!("l {name} {}", target.display())
            } else {
                format!(
                    "f {name} {:o} {} {} {}.{} {}.{}",
                    metadata.mode(),
                    metadata.len(),
                    metadata.ino(),
                    metadata.mtime(),
                    metadata.mtime_nsec(),
                    metadata.ctime(),
                    metadata.ctime_nsec()
                )
            };
            lines.entry(parent).or_default().push(line);
            entries += 1;
        }
        let mut whole = Sha256::new();
        let dirs: BTreeMap<String, String> = lines
            .into_iter()
            .map(|(dir, lines)| {
                let digest = crate::pack::files::sha256_bytes(lines.join("\n").as_bytes());
                whole.update(format!("{dir} {digest}\n").as_bytes());
                (dir, digest)
            })
            .collect();
        Ok(Fingerprint {
            entries,
            sha256: crate::pack::files::to_hex(&whole.finalize()),
            dirs,
        })
    }

    /// The directories (relative to the home) whose entries differ between `self` and
    /// `now`: something in them was added, removed or changed; the directory itself when it
    /// appeared or went.
    pub fn differences(&self, now: &Fingerprint) -> Vec<String> {
        let mut changed: Vec<String> = Vec::new();
        for (dir, digest) in &self.dirs {
            if now.dirs.get(dir) != Some(digest) {
                changed.push(dir.clone());
            }
        }
        for dir in now.dirs.keys() {
            if !self.dirs.contains_key(dir) {
                changed.push(dir.clone());
            }
        }
        changed.sort();
        changed.dedup();
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_added_or_removed_file_changes_the_fingerprint_of_its_directory_only() {
        let pack = tempfile::tempdir().expect("temp dir");
        let conf = pack.path().join("repository/conf");
        std::fs::create_dir_all(&conf).expect("dirs");
        std::fs::create_dir_all(pack.path().join("bin")).expect("dirs");
        std::fs::write(conf.join("deployment.toml"), "a = 1\n").expect("write");
        let before = Fingerprint::of(pack.path()).expect("fingerprint");
        assert_eq!(before, Fingerprint::of(pack.path()).expect("again"));
        assert_eq!(before.entries, 4);

        // The tool's own state is not the pack's.
        std::fs::create_dir_all(pack.path().join(STATE_DIR).join("runs")).expect("state");
        assert_eq!(before, Fingerprint::of(pack.path()).expect("with state"));

        std::fs::write(conf.join("deployment.toml"), "a = 2\n").expect("edit");
        let edited = Fingerprint::of(pack.path()).expect("edited");
        assert_eq!(before.differences(&edited), ["repository/conf"]);

        std::fs::write(pack.path().join("bin/version.txt"), "x").expect("add");
        let added = Fingerprint::of(pack.path()).expect("added");
        assert_eq!(edited.differences(&added), ["bin"]);
        assert_ne!(edited.sha256, added.sha256);
    }
}
