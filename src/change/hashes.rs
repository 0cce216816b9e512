//! Saving the cache of file hashes (`pack::hashes`) into each target pack's state directory
//! after a successful run.

use crate::pack::hashes::{HashCache, CACHE_FILE};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes what this run found true to the state directory of each pack at `homes`
/// (replacing the file whole, unflushed: a cache lost or torn by a crash is ignored),
/// except where the file there is the one the cache was read from and the run learnt
/// nothing (`HashCache::is_already_saved_in`).
pub fn save<'a>(cache: &HashCache, homes: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for home in homes {
        let dir = home.join(crate::pack::STATE_DIR);
        if std::fs::symlink_metadata(dir.join(CACHE_FILE))
            .is_ok_and(|file| cache.is_already_saved_in(&crate::pack::Stat::of(&file)))
        {
            continue;
        }
        let mut temp = tempfile::Builder::new()
            .prefix(".hashes-")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
        let mut writer = std::io::BufWriter::with_capacity(64 * 1024, temp.as_file_mut());
        let written = cache
            .write_to(&mut writer)
            .and_then(|written| writer.flush().map(|()| written))
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
        drop(writer);
        if !written {
            return Ok(());
        }
        temp.persist(dir.join(CACHE_FILE))
            .map_err(|error| error.error)
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    }
    Ok(())
}
