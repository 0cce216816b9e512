//! The reports a run keeps beside its journal, in its directory of each target pack's
//! `.apim-migrate/runs/`: `report.json`, the document `run --json` printed (actions with
//! their statuses, reminders, warnings, findings with their diffs), and `rollback.json`, that
//! of the `rollback` that took the run back. `apim-migrate show` reads them again. They are
//! a record for people: the journal alone decides what `rollback` does.

use crate::change::journal::RunLog;
use crate::change::{disk, journal, state};
use crate::pack::{name, PackRoot};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The most `show` reads of a stored report: about 6.4 MB at 10,000 tenants, so this holds a
/// pack of some 400,000 tenants.
const MAX_REPORT: u64 = 256 * 1024 * 1024;

/// Which of a run's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The run's own report.
    Run,
    /// The report of the rollback that took the run back.
    Rollback,
}

impl Kind {
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Run => "report.json",
            Kind::Rollback => "rollback.json",
        }
    }
}

/// Where run `run_id` of the pack at `pack_home` keeps its report of `kind`.
pub fn path(pack_home: &Path, run_id: &str, kind: Kind) -> PathBuf {
    journal::run_dir(pack_home, run_id).join(kind.file_name())
}

/// Stores the document `write` writes as the report of `kind` of run `run_id` in each of
/// `pack_homes` that recorded the run (written whole and flushed: a reader finds the old one
/// or the new one), through the pack's directory handles, as the journal is: a link swapped
/// into the state directory never redirects it. The document goes to the file as it is
/// serialised, never held whole in memory.
pub fn store<'a>(
    pack_homes: impl IntoIterator<Item = &'a Path>,
    run_id: &str,
    kind: Kind,
    write: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    for home in pack_homes {
        let root = PackRoot::open(home)
            .with_context(|| format!("cannot open `{}`", name::shown_path(home)))?;
        let relative = format!("{}/{run_id}", state::runs_relative());
        let Some(dir) = state::open_dir(&root, &relative, false)? else {
            continue;
        };
        if crate::pack::root::stat_at(&dir, journal::JOURNAL_FILE)?
            .is_none_or(|stat| !stat.is_file())
        {
            continue;
        }
        let shown = root.shown(&format!("{relative}/{}", kind.file_name()));
        disk::write_streamed_at(&dir, kind.file_name(), &shown, 0o644, write)
            .with_context(|| format!("cannot store the report `{shown}`"))?;
    }
    Ok(())
}

/// The stored report of `kind` of run `run_id`, if there is one (runs of earlier versions,
/// and a run killed before its end, have none). Read through the pack's directory handles.
pub fn read(pack_home: &Path, run_id: &str, kind: Kind) -> Result<Option<String>> {
    let root = PackRoot::open(pack_home)
        .with_context(|| format!("cannot open `{}`", name::shown_path(pack_home)))?;
    let relative = format!("{}/{run_id}/{}", state::runs_relative(), kind.file_name());
    let shown = root.shown(&relative);
    let bytes = match root.stat(&relative) {
        Ok(None) => return Ok(None),
        Ok(Some(stat)) if !stat.is_file() => {
            bail!("cannot read the stored report `{shown}`: not a regular file")
        }
        Ok(Some(_)) => {
            let (file, stat) = root
                .open_file(&relative)
                .with_context(|| format!("cannot read the stored report `{shown}`"))?;
            crate::pack::files::read_at_most(
                file,
                stat.size,
                &root.path(&relative),
                MAX_REPORT,
                "a stored report",
            )
            .with_context(|| format!("cannot read the stored report `{shown}`"))?
        }
        Err(error) => {
            return Err(state::refuse_state(&root, &relative, &error))
                .with_context(|| format!("cannot read the stored report `{shown}`"))
        }
    };
    crate::pack::files::utf8_text(bytes, &shown)
        .map(Some)
        .with_context(|| format!("cannot read the stored report `{shown}`"))
}

/// The run `wanted` names among `runs` (a run id, or a prefix of one that no other run
/// shares); without `wanted`, the latest run that changed something or stopped at a
/// checkpoint, else the latest run.
pub fn find_run<'a>(runs: &'a [RunLog], wanted: Option<&str>, home: &Path) -> Result<&'a RunLog> {
    let Some(wanted) = wanted else {
        return runs
            .iter()
            .rev()
            .find(|run| !crate::change::run_state::is_no_op(run))
            .or_else(|| runs.last())
            .ok_or_else(|| {
                anyhow::anyhow!("no runs recorded in `{}`: nothing to show", home.display())
            });
    };
    let matching: Vec<&RunLog> = runs
        .iter()
        .filter(|run| run.run_id.starts_with(wanted))
        .collect();
    match matching.as_slice() {
        [run] => Ok(run),
        [] => bail!(
            "no run `{wanted}` recorded in `{}` (`apim-migrate history {}` lists them)",
            home.display(),
            home.display()
        ),
        several => bail!(
            "`{wanted}` is the start of {} run ids in `{}`: give more of it",
            several.len(),
            home.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_stored_only_where_the_run_was_recorded_and_read_back() {
        let pack = tempfile::tempdir().expect("temp dir");
        let other = tempfile::tempdir().expect("temp dir");
        let run_dir = journal::run_dir(pack.path(), "r1");
        std::fs::create_dir_all(&run_dir).expect("run dir");
        std::fs::write(run_dir.join(journal::JOURNAL_FILE), "").expect("journal");
        store([pack.path(), other.path()], "r1", Kind::Run, &|writer| {
            writer.write_all(b"{\"a\": 1}")
        })
        .expect("stored");
        assert_eq!(
            read(pack.path(), "r1", Kind::Run).expect("read").as_deref(),
            Some("{\"a\": 1}")
        );
        assert_eq!(read(pack.path(), "r1", Kind::Rollback).expect("read"), None);
        assert!(!journal::run_dir(other.path(), "r1").exists());
    }
}
