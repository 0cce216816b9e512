//! `history DIR`: the runs recorded in a target pack, each with its state, and where a chain
//! of steps stands; runs that changed nothing are left out unless `--all`.

use super::document;
use super::style::{self, paint};
use crate::change::journal::{Record, RunLog};
use crate::change::run_state::{is_no_op, RunState};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The runs of one pack, as `history` shows them.
pub struct History<'a> {
    pub home: &'a Path,
    /// Every run recorded in the pack, oldest first.
    pub runs: &'a [RunLog],
    /// `--all`: no-op runs too.
    pub all: bool,
    /// The runs whose report is stored (`show` has it).
    pub stored: &'a std::collections::BTreeSet<String>,
}

#[derive(Serialize)]
struct RunEntry {
    run_id: String,
    started: String,
    script: String,
    /// Where a site script was read from, absolute.
    script_path: Option<PathBuf>,
    statement: Option<String>,
    state: RunState,
    changes: usize,
    /// Changed nothing (shown with `--all` only).
    no_op: bool,
    packs: Vec<crate::change::plan::PackEntry>,
    checkpoint: Option<serde_json::Value>,
    continues: Option<crate::change::plan::Continues>,
    /// Whether `show` has the run's full report.
    report: bool,
}

#[derive(Serialize)]
struct Body<'a> {
    pack: &'a Path,
    runs: Vec<RunEntry>,
    /// Runs that changed nothing, left out (`--all` lists them).
    hidden_no_op_runs: usize,
    chain: Option<serde_json::Value>,
}

/// Where a chain of steps stands in these runs.
enum Standing<'a> {
    Waiting(&'a RunLog),
    Complete {
        stopped: &'a RunLog,
        continuing: &'a RunLog,
    },
}

impl<'a> History<'a> {
    fn shown(&self) -> impl Iterator<Item = &'a RunLog> + '_ {
        self.runs.iter().filter(|run| self.all || !is_no_op(run))
    }

    fn hidden(&self) -> usize {
        if self.all {
            0
        } else {
            self.runs.iter().filter(|run| is_no_op(run)).count()
        }
    }

    /// The run (recorded in the same pack) that went on from `run`'s checkpoint, if any.
    fn continued_by(&self, run: &RunLog) -> Option<&'a RunLog> {
        self.runs
            .iter()
            .find(|later| later.goes_on_from(&run.run_id))
    }

    /// The last run that stopped at a checkpoint and has not been gone on from; else the
    /// last complete run that went on from one.
    fn standing(&self) -> Option<Standing<'a>> {
        if let Some(run) = self
            .runs
            .iter()
            .rev()
            .find(|run| run.stopped_at_checkpoint() && self.continued_by(run).is_none())
        {
            return Some(Standing::Waiting(run));
        }
        let continuing = self
            .runs
            .iter()
            .rev()
            .find(|run| run.state() == RunState::Complete && !is_no_op(run))
            .filter(|run| run.continues().is_some())?;
        let from = continuing.continues()?;
        let stopped = self.runs.iter().find(|run| run.run_id == from.run_id)?;
        Some(Standing::Complete {
            stopped,
            continuing,
        })
    }

    pub fn json(&self) -> String {
        let runs = self
            .shown()
            .map(|run| RunEntry {
                run_id: run.run_id.clone(),
                started: run.started(),
                script: run.script_name(),
                script_path: script_path(run),
                statement: run.statement(),
                state: run.state(),
                changes: run.changes.len(),
                no_op: is_no_op(run),
                packs: run.packs(),
                checkpoint: run.checkpoint.as_ref().map(|checkpoint| {
                    serde_json::json!({
                        "name": checkpoint.name,
                        "message": checkpoint.message,
                        "continue_with": checkpoint.continue_with,
                        "findings": checkpoint.findings.len(),
                        "continued": self.continued_by(run).map(|later| later.run_id.clone()),
                    })
                }),
                continues: run.continues(),
                report: self.stored.contains(&run.run_id),
            })
            .collect();
        let chain = self.standing().map(|standing| match standing {
            Standing::Waiting(run) => serde_json::json!({
                "state": "waiting",
                "run_id": run.run_id,
                "checkpoint": run.checkpoint.as_ref().map(|checkpoint| &checkpoint.name),
                "continue_with": run.checkpoint.as_ref().map(|checkpoint| &checkpoint.continue_with),
            }),
            Standing::Complete {
                stopped,
                continuing,
            } => serde_json::json!({
                "state": "complete",
                "run_id": continuing.run_id,
                "checkpoint": stopped.checkpoint.as_ref().map(|checkpoint| &checkpoint.name),
                "continue_with": null,
            }),
        });
        document::render(
            "history",
            document::OK,
            &Body {
                pack: self.home,
                runs,
                hidden_no_op_runs: self.hidden(),
                chain,
            },
            None,
        )
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        let hidden = self.hidden();
        let hidden_note = match hidden {
            0 => String::new(),
            1 => "1 run that changed nothing is not shown (`--all` lists it)".to_string(),
            count => {
                format!("{count} runs that changed nothing are not shown (`--all` lists them)")
            }
        };
        if self.runs.is_empty() {
            let _ = writeln!(out, "no runs recorded in `{}`", self.home.display());
            return out;
        }
        let _ = writeln!(
            out,
            "runs recorded in `{}` (oldest first)",
            self.home.display()
        );
        for run in self.shown() {
            self.render_run(&mut out, run);
        }
        if !hidden_note.is_empty() {
            let _ = writeln!(out, "  {}", paint(style::QUIET, &hidden_note));
        }
        match self.standing() {
            Some(Standing::Waiting(run)) => {
                if let Some(checkpoint) = &run.checkpoint {
                    out.push_str(&super::checkpoint_text(
                        &format!(
                            "the chain stands at checkpoint `{}` (run {}):",
                            checkpoint.name, run.run_id
                        ),
                        &checkpoint.message,
                        &checkpoint.continue_with,
                    ));
                }
            }
            Some(Standing::Complete {
                stopped,
                continuing,
            }) => {
                let checkpoint = stopped
                    .checkpoint
                    .as_ref()
                    .map(|checkpoint| checkpoint.name.as_str())
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "\n{}",
                    paint(
                        style::GOOD,
                        &format!(
                            "the chain is complete: run {} went on from checkpoint `{checkpoint}` of run {}",
                            continuing.run_id, stopped.run_id
                        )
                    )
                );
            }
            None => {}
        }
        out
    }

    fn render_run(&self, out: &mut String, run: &RunLog) {
        let others: Vec<String> = run
            .packs()
            .iter()
            .filter(|pack| pack.home != self.home)
            .map(|pack| format!("{} {}", pack.role, pack.home.display()))
            .collect();
        let state = run.state();
        let changes = run.changes.len();
        let script = match script_path(run) {
            Some(path) => path.display().to_string(),
            None => run.script_name(),
        };
        let _ = writeln!(
            out,
            "  {}  {}  {:<20} {} {} change{}{}",
            run.run_id,
            run.started(),
            script,
            paint(state_style(state), &format!("{:<12}", state.as_str())),
            changes,
            if changes == 1 { "" } else { "s" },
            if others.is_empty() {
                String::new()
            } else {
                format!("  ({})", others.join(", "))
            }
        );
        if let Some(statement) = run.statement() {
            for line in statement.lines() {
                let _ = writeln!(out, "      > {line}");
            }
        }
        if let Some(from) = run.continues() {
            let _ = writeln!(
                out,
                "      continues run {} from checkpoint `{}`",
                from.run_id, from.checkpoint
            );
        }
        if let Some(checkpoint) = &run.checkpoint {
            let state = match self.continued_by(run) {
                Some(later) => format!("continued by run {}", later.run_id),
                None if run.stopped_at_checkpoint() => "waiting".to_string(),
                None => "abandoned".to_string(),
            };
            let _ = writeln!(
                out,
                "      stopped at checkpoint `{}` ({state})",
                checkpoint.name
            );
        }
    }
}

/// The colour of a state in `history` and `show`.
pub fn state_style(state: RunState) -> anstyle::Style {
    match state {
        RunState::Complete => style::GOOD,
        RunState::Checkpoint => style::TODO,
        RunState::TakenBack | RunState::Interrupted | RunState::RolledBack => style::QUIET,
        RunState::Failed
        | RunState::RollbackIncomplete
        | RunState::Unfinished
        | RunState::Damaged => style::ERROR,
    }
}

/// Where the script of `run` was read from, absolute, for a site script.
pub fn script_path(run: &RunLog) -> Option<PathBuf> {
    match &run.header {
        Some(Record::Run { script, .. }) => script.path.clone(),
        _ => None,
    }
}
