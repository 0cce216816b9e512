//! `show PACK [RUN_ID]`: a recorded run and its state, with the report it stored beside its
//! journal (the same one `run` printed: actions, reminders, warnings, findings with their
//! diffs) and that of the rollback that took it back.

use super::document::{self, ErrorInfo};
use super::history::{script_path, state_style};
use super::rollback::RollbackDocument;
use super::style::{self, paint};
use super::{Outcome, RunDocument};
use crate::change::journal::RunLog;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A run report as stored: the `--json` document of the run.
#[derive(Debug, Deserialize)]
struct StoredRun {
    schema: u32,
    command: String,
    #[serde(flatten)]
    body: RunDocument<'static>,
    error: Option<ErrorInfo>,
}

/// A rollback report as stored.
#[derive(Debug, Deserialize)]
struct StoredRollback {
    #[serde(flatten)]
    body: RollbackDocument,
}

/// One run and its stored reports, to show.
pub struct Shown<'a> {
    pub home: &'a Path,
    pub run: &'a RunLog,
    /// `report.json`, as stored.
    pub report: Option<String>,
    /// `rollback.json`, as stored.
    pub rollback: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    pack: &'a Path,
    run_id: &'a str,
    script: String,
    script_path: Option<PathBuf>,
    started: String,
    state: crate::change::run_state::RunState,
    changes: usize,
    /// The run's report as it was stored (its `--json` document); null when none was.
    report: Option<serde_json::Value>,
    /// The report of the rollback that took the run back; null when none did.
    rollback: Option<serde_json::Value>,
}

impl Shown<'_> {
    fn parse<T: serde::de::DeserializeOwned>(
        &self,
        text: Option<&String>,
        kind: crate::change::reports::Kind,
    ) -> Result<Option<T>, String> {
        let Some(text) = text else {
            return Ok(None);
        };
        serde_json::from_str(text).map(Some).map_err(|error| {
            format!(
                "the stored report `{}` cannot be read: {error}",
                crate::change::reports::path(self.home, &self.run.run_id, kind).display()
            )
        })
    }

    pub fn json(&self) -> String {
        let value = |text: &Option<String>| {
            text.as_deref()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        };
        document::render(
            "show",
            document::OK,
            &Body {
                pack: self.home,
                run_id: &self.run.run_id,
                script: self.run.script_name(),
                script_path: script_path(self.run),
                started: self.run.started(),
                state: self.run.state(),
                changes: self.run.changes.len(),
                report: value(&self.report),
                rollback: value(&self.rollback),
            },
            None,
        )
    }

    pub fn human(&self, verbose: bool) -> String {
        let run = self.run;
        let state = run.state();
        let mut out = String::new();
        let script = script_path(run)
            .map(|path| path.display().to_string())
            .unwrap_or_else(|| run.script_name());
        let _ = writeln!(
            out,
            "{} {} of {script} in `{}`: {}",
            paint(style::HEADING, "run"),
            run.run_id,
            self.home.display(),
            paint(state_style(state), state.as_str())
        );
        let _ = writeln!(
            out,
            "{}",
            crate::text::wrap(
                &format!(
                    "started {}; {} change{} recorded; {}",
                    run.started(),
                    run.changes.len(),
                    if run.changes.len() == 1 { "" } else { "s" },
                    state.meaning()
                ),
                "  ",
                "  "
            )
        );
        if let Some(statement) = run.statement() {
            for line in statement.lines() {
                let _ = writeln!(out, "  > {line}");
            }
        }
        match self.parse::<StoredRun>(self.report.as_ref(), crate::change::reports::Kind::Run) {
            Ok(Some(stored)) => {
                if stored.schema > document::SCHEMA {
                    let _ = writeln!(
                        out,
                        "  (stored by a newer apim-migrate, schema {}: some of it may not be shown)",
                        stored.schema
                    );
                }
                let plan = stored.body.plan();
                let outcome = Outcome {
                    command: &stored.command,
                    run_id: stored.body.run_id.as_deref(),
                    plan: &plan,
                    output: &stored.body.output,
                    error: stored.error.map(|error| error.message),
                    message: stored.body.message.as_deref(),
                };
                out.push('\n');
                out.push_str(&outcome.human(verbose));
            }
            Ok(None) => {
                let _ = writeln!(
                    out,
                    "\nno report was stored for this run (it was made by an earlier version, or did not end); its journal records:"
                );
                for change in &run.changes {
                    let _ = writeln!(
                        out,
                        "  {:<8} {}{}",
                        match change.effect {
                            crate::change::plan::Effect::Create => "create",
                            crate::change::plan::Effect::Replace => "replace",
                        },
                        change.path,
                        if change.done { "" } else { "  (not done)" }
                    );
                }
            }
            Err(message) => {
                let _ = writeln!(out, "\n{}: {message}", paint(style::WARNING, "warning"));
            }
        }
        match self.parse::<StoredRollback>(
            self.rollback.as_ref(),
            crate::change::reports::Kind::Rollback,
        ) {
            Ok(Some(stored)) => {
                let rollback = stored.body;
                let _ = writeln!(
                    out,
                    "\n{} {}{}: {} restored, {} removed, {} directories removed",
                    paint(style::HEADING, "rolled back"),
                    rollback.at.as_deref().unwrap_or_default(),
                    if rollback.forced { " (forced)" } else { "" },
                    rollback.restored.len(),
                    rollback.removed.len(),
                    rollback.removed_dirs.len()
                );
                for path in &rollback.restored {
                    let _ = writeln!(out, "  restored {}", path.display());
                }
                for path in &rollback.removed {
                    let _ = writeln!(out, "  removed  {}", path.display());
                }
            }
            Ok(None) => {}
            Err(message) => {
                let _ = writeln!(out, "\n{}: {message}", paint(style::WARNING, "warning"));
            }
        }
        out
    }
}
