//! The report of `rollback` (and of the REPL's `:undo`): which run was taken back, on which
//! packs, and every file restored or removed; or that there was nothing to take back.

use super::document;
use super::style::{self, paint};
use crate::change::rollback::Rollback;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The fields of `rollback --json` (after `schema`, `command` and `outcome`), which is also
/// the report stored beside the journal of the run taken back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RollbackDocument {
    /// The run taken back; null when there was nothing to take back.
    pub run_id: Option<String>,
    pub script: Option<String>,
    /// The packs it was taken back on (the packs given, when there was nothing to do).
    pub packs: Vec<PathBuf>,
    pub restored: Vec<PathBuf>,
    pub removed: Vec<PathBuf>,
    pub removed_dirs: Vec<PathBuf>,
    /// `--force`: files changed after the run were restored anyway.
    pub forced: bool,
    /// When it was taken back (RFC 3339).
    pub at: Option<String>,
    /// Why there was nothing to do.
    pub message: Option<String>,
}

impl RollbackDocument {
    /// What `rollback` did.
    pub fn of(done: &Rollback, forced: bool) -> RollbackDocument {
        RollbackDocument {
            run_id: Some(done.run_id.clone()),
            script: Some(done.script.clone()),
            packs: done.packs.clone(),
            restored: done.report.restored.clone(),
            removed: done.report.removed.clone(),
            removed_dirs: done.report.removed_dirs.clone(),
            forced,
            at: Some(crate::change::journal::now()),
            message: None,
        }
    }

    /// Nothing to take back on `homes`.
    pub fn nothing(homes: &[PathBuf], why: String) -> RollbackDocument {
        RollbackDocument {
            packs: homes.to_vec(),
            message: Some(why),
            ..RollbackDocument::default()
        }
    }

    pub fn outcome(&self) -> &'static str {
        if self.run_id.is_some() {
            document::DONE
        } else {
            document::NOTHING_TO_DO
        }
    }

    pub fn json(&self) -> String {
        document::render("rollback", self.outcome(), self, None)
    }

    /// One line: what was taken back where, and how much.
    pub fn human(&self) -> String {
        let Some(run_id) = &self.run_id else {
            return format!(
                "{}\n",
                paint(style::GOOD, self.message.as_deref().unwrap_or_default())
            );
        };
        let packs: Vec<String> = self
            .packs
            .iter()
            .map(|home| format!("`{}`", home.display()))
            .collect();
        format!(
            "{} run {run_id} ({}) on {}: {} restored, {} removed, {} directories removed{}\n",
            paint(style::GOOD, "rolled back"),
            self.script.as_deref().unwrap_or("?"),
            packs.join(", "),
            self.restored.len(),
            self.removed.len(),
            self.removed_dirs.len(),
            if self.forced { " (forced)" } else { "" }
        )
    }
}
