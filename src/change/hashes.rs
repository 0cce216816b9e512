//! Saving the cache of file hashes (`pack::hashes`) into each target pack's state directory
//! after a successful run.

use crate::pack::hashes::{HashCache, CACHE_FILE};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes what this run found true to the state directory of each pack at `homes`
/// (replacing the file whole, unflushed: a cache lost or torn by a crash is ignored).
pub fn save<'a>(cache: &HashCache, homes: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    let Some(bytes) = cache.encoded() else {
        return Ok(());
    };
    for home in homes {
        let dir = home.join(crate::pack::STATE_DIR);
        let mut temp = tempfile::Builder::new()
            .prefix(".hashes-")
            .tempfile_in(&dir)
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
        temp.write_all(&bytes)
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
        temp.persist(dir.join(CACHE_FILE))
            .map_err(|error| error.error)
            .with_context(|| format!("cannot write in `{}`", dir.display()))?;
    }
    Ok(())
}
