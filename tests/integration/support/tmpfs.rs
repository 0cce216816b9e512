//! A tmpfs mounted for a test (as root), unmounted when the test ends, also when it fails:
//! a small disk to fill, or a filesystem of the test's own.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted at a directory for the life of the value; unmounted when dropped, also
/// when the test fails.
pub struct Tmpfs {
    pub dir: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `kib` KiB at `dir`, or says why it cannot.
    pub fn mount(dir: &Path, kib: u64) -> Result<Tmpfs, String> {
        if !nix::unistd::geteuid().is_root() {
            return Err("mounting a tmpfs needs root (CI runs as root)".to_string());
        }
        std::fs::create_dir_all(dir).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(dir)
            .status();
        match status {
            Ok(status) if status.success() => Ok(Tmpfs {
                dir: dir.to_path_buf(),
            }),
            other => Err(format!(
                "cannot mount a tmpfs at {} ({other:?})",
                dir.display()
            )),
        }
    }

    pub fn resize(&self, kib: u64) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={kib}k")])
            .arg(&self.dir)
            .status()
            .expect("remount");
        assert!(status.success(), "remount {}", self.dir.display());
    }

    /// KiB in use.
    pub fn used(&self) -> u64 {
        let stats = nix::sys::statvfs::statvfs(&self.dir).expect("statvfs");
        (stats.blocks() - stats.blocks_free()) * stats.fragment_size() / 1024
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
