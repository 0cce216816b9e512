//! What planning many copies looks up before anything is recorded: where each source
//! leads, its hash and mode, the target's state on disk. None of it depends on the plan so
//! far, so it runs on all cores (see `Planner::copy_all_from_pack`).

use super::planner::target_path;
use crate::change::plan::FileState;
use crate::pack::files;
use crate::pack::{Pack, SourceFile};
use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use std::sync::Arc;

/// What `copy_all_from_pack` looks up for one copy, without the plan so far.
pub(super) struct LookedUp {
    pub(super) source_relative: Arc<str>,
    pub(super) source_path: SourceFile,
    /// Mode and hash; `None` when a link takes the source out of its pack.
    pub(super) source: Option<(u32, files::ContentHash)>,
    pub(super) dest_relative: Arc<str>,
    /// The target file on disk.
    pub(super) dest_state: Option<FileState>,
}

impl LookedUp {
    /// The same, its paths made again on this thread (one path, shared, where they were
    /// one): the plan keeps them, and what a thread of `parallel::in_order` made goes back
    /// to it to be freed (see there).
    pub(super) fn made_here(&self) -> LookedUp {
        let here = Arc::<str>::from(&*self.source_relative);
        let made = |path: &Arc<str>| {
            if Arc::ptr_eq(path, &self.source_relative) {
                here.clone()
            } else {
                Arc::from(&**path)
            }
        };
        let source_path = match &self.source_path {
            SourceFile::InPack(root, path) => SourceFile::InPack(root.clone(), made(path)),
            SourceFile::Outside(path) => SourceFile::Outside(Arc::from(&**path)),
        };
        LookedUp {
            source_relative: here.clone(),
            source_path,
            source: self.source,
            dest_relative: made(&self.dest_relative),
            dest_state: self.dest_state.clone(),
        }
    }
}

/// The target directory a thread last found missing: the next files planned into it need no
/// lookup (a run into a fresh pack has thousands of such directories, a few files each).
#[derive(Default)]
pub(super) struct Missing(Option<String>);

/// `given` as `made` from it (by `files::confined`): `given` itself, shared, when it was
/// already so. One path is then held once for the source, the target, the plan and the view.
pub(super) fn shared(given: &Arc<str>, made: Cow<'_, str>) -> Arc<str> {
    match made {
        Cow::Borrowed(_) => given.clone(),
        Cow::Owned(made) => Arc::from(made),
    }
}

pub(super) fn look_up_copy(
    from: &Pack,
    to: &Pack,
    source: &Arc<str>,
    dest: &Arc<str>,
    missing: &mut Missing,
) -> Result<LookedUp> {
    if crate::interrupt::requested() {
        bail!("interrupted");
    }
    let source_relative = shared(source, files::confined(source)?);
    let shown = || from.root.shown(&source_relative);
    let (source_path, source_state) = match from
        .reach(&source_relative)
        .with_context(|| format!("cannot read `{}`", shown()))?
    {
        crate::pack::Reach::Outside(_) => (
            SourceFile::InPack(from.root.clone(), source_relative.clone()),
            None,
        ),
        crate::pack::Reach::Inside { stat, real } => {
            if !stat.is_file() {
                bail!("`{}` is not a regular file", shown());
            }
            let source = SourceFile::InPack(from.root.clone(), shared(&source_relative, real));
            let sha256 = from.hashes.sha256_file(&source, &stat)?;
            (source, Some((stat.mode, sha256)))
        }
    };
    let dest_relative = shared(dest, target_path(dest)?);
    let (dir, _) = crate::pack::root::split(&dest_relative);
    let stat = if missing.0.as_deref() == Some(dir) {
        None
    } else {
        match to.root.dir(dir) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                missing.0 = Some(dir.to_string());
                None
            }
            // Its handle is kept: the file's own `stat` below costs no lookup; a link or a
            // file on the way is refused there, with its message.
            _ => to.target_metadata(&dest_relative)?,
        }
    };
    // `target_metadata` has looked at the file already (and refused a link).
    let dest_state = match stat {
        None => None,
        Some(stat) if stat.is_file() => Some(FileState {
            sha256: to.hashes.sha256_file(
                &SourceFile::InPack(to.root.clone(), dest_relative.clone()),
                &stat,
            )?,
            mode: stat.mode,
        }),
        Some(_) => bail!(
            "`{}` exists and is not a regular file",
            to.root.shown(&dest_relative)
        ),
    };
    Ok(LookedUp {
        source_relative,
        source_path,
        source: source_state,
        dest_relative,
        dest_state,
    })
}
