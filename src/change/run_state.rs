//! Where a recorded run stands, as `history`, `show` and their `--json` say it: one enum, so
//! that a new state (a new way for a run or a rollback to end) is added here once and every
//! command that shows runs knows it.

use crate::change::runlog::RunLog;
use serde::Serialize;

/// The state of a run recorded in a pack's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunState {
    /// Every change was made and the run ended.
    #[serde(rename = "complete")]
    Complete,
    /// The run ended at a checkpoint: work outside the tool comes next, then `--continue`.
    #[serde(rename = "checkpoint")]
    Checkpoint,
    /// A change failed while applying, and everything the run had applied was taken back.
    #[serde(rename = "taken back")]
    TakenBack,
    /// Ctrl-C or SIGTERM stopped the run, and everything it had applied was taken back.
    #[serde(rename = "interrupted, taken back")]
    Interrupted,
    /// A change failed, and taking the run back failed too: `rollback` finishes it.
    #[serde(rename = "failed, not taken back")]
    Failed,
    /// `rollback` took the run back.
    #[serde(rename = "rolled back")]
    RolledBack,
    /// A rollback of the run began and stopped part-way (disk full, a signal): running
    /// `rollback` again finishes it.
    #[serde(rename = "rollback incomplete")]
    RollbackIncomplete,
    /// The run never ended (killed, power loss): `rollback` takes it back.
    #[serde(rename = "unfinished")]
    Unfinished,
    /// Its journal fails its checksums or ends early where it cannot: nothing acts on it.
    #[serde(rename = "damaged")]
    Damaged,
}

impl RunState {
    /// Every state, in the order the documentation lists them.
    pub const ALL: [RunState; 9] = [
        RunState::Complete,
        RunState::Checkpoint,
        RunState::TakenBack,
        RunState::Interrupted,
        RunState::Failed,
        RunState::RolledBack,
        RunState::RollbackIncomplete,
        RunState::Unfinished,
        RunState::Damaged,
    ];

    /// The state of `run`.
    pub fn of(run: &RunLog) -> RunState {
        if run.damage.is_some() {
            return RunState::Damaged;
        }
        if run.rolled_back {
            return RunState::RolledBack;
        }
        if run.rollback_begun {
            return RunState::RollbackIncomplete;
        }
        match run.end.as_deref() {
            Some("complete") if run.checkpoint.is_some() => RunState::Checkpoint,
            Some("complete") => RunState::Complete,
            Some("undone") if run.end_cause.is_some() => RunState::Interrupted,
            Some("undone") => RunState::TakenBack,
            Some(_) => RunState::Failed,
            None => RunState::Unfinished,
        }
    }

    /// The word `history` shows and `--json` gives.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Complete => "complete",
            RunState::Checkpoint => "checkpoint",
            RunState::TakenBack => "taken back",
            RunState::Interrupted => "interrupted, taken back",
            RunState::Failed => "failed, not taken back",
            RunState::RolledBack => "rolled back",
            RunState::RollbackIncomplete => "rollback incomplete",
            RunState::Unfinished => "unfinished",
            RunState::Damaged => "damaged",
        }
    }

    /// What the state means, for the documentation and `show`.
    pub fn meaning(self) -> &'static str {
        match self {
            RunState::Complete => "every change was made and the run ended",
            RunState::Checkpoint => {
                "the run ended at a checkpoint: do the work it names, then go on with `--continue`"
            }
            RunState::TakenBack => {
                "a change failed while applying; everything the run had applied was taken back"
            }
            RunState::Failed => {
                "a change failed and taking the run back failed too: `apim-migrate rollback` finishes it once the cause is fixed"
            }
            RunState::Interrupted => {
                "Ctrl-C or SIGTERM stopped the run; everything it had applied was taken back"
            }
            RunState::RolledBack => "`apim-migrate rollback` took the run back",
            RunState::RollbackIncomplete => {
                "a rollback of the run stopped part-way: `apim-migrate rollback` again finishes it"
            }
            RunState::Unfinished => {
                "the run never ended (killed, power loss): `apim-migrate rollback` takes it back"
            }
            RunState::Damaged => {
                "its journal fails its checksums or ends early: nothing acts on it until it is restored from a backup of the pack"
            }
        }
    }

    /// Whether the run's changes may still be in the pack (so `rollback` has work to do).
    pub fn in_place(self) -> bool {
        matches!(
            self,
            RunState::Complete
                | RunState::Checkpoint
                | RunState::Failed
                | RunState::RollbackIncomplete
                | RunState::Unfinished
                | RunState::Damaged
        )
    }
}

impl std::fmt::Display for RunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `run` changed nothing and leaves nothing to come back to: it ended complete with
/// no change, no checkpoint, and did not go on from one. `history` hides such runs (a second
/// run of a finished migration) unless `--all`.
pub fn is_no_op(run: &RunLog) -> bool {
    RunState::of(run) == RunState::Complete && !run.changed_something() && run.continues().is_none()
}
