//! `history DIR`: the runs recorded in a target pack, and where a chain of steps stands.

use super::canonical;
use crate::change::journal::{self, RunLog};
use crate::cli::HistoryArgs;
use crate::error::CommandResult;

pub fn history(args: &HistoryArgs) -> CommandResult {
    let home = canonical("DIR", &args.dir)?;
    let runs = journal::read_runs(&home)?;
    for run in &runs {
        run.trusted()?;
    }
    if args.json {
        let runs: Vec<serde_json::Value> = runs
            .iter()
            .map(|run| {
                serde_json::json!({
                    "run_id": run.run_id,
                    "started": run.started(),
                    "script": run.script_name(),
                    "statement": run.statement(),
                    "state": run.state(),
                    "changes": run.changes.len(),
                    "packs": run.packs(),
                    "checkpoint": run.checkpoint.as_ref().map(|checkpoint| serde_json::json!({
                        "name": checkpoint.name,
                        "message": checkpoint.message,
                        "continue_with": checkpoint.continue_with,
                        "findings": checkpoint.findings.len(),
                        "continued": continued_by(&runs, run),
                    })),
                    "continues": run.continues(),
                })
            })
            .collect();
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&runs).unwrap_or_default()
        );
        return Ok(());
    }
    if runs.is_empty() {
        crate::outln!("no runs recorded in `{}`", home.display());
        return Ok(());
    }
    crate::outln!("runs recorded in `{}` (oldest first)", home.display());
    for run in &runs {
        let others: Vec<String> = run
            .packs()
            .iter()
            .filter(|pack| pack.home != home)
            .map(|pack| format!("{} {}", pack.role, pack.home.display()))
            .collect();
        crate::outln!(
            "  {}  {}  {:<20} {:<16} {} changes{}",
            run.run_id,
            run.started(),
            run.script_name(),
            run.state(),
            run.changes.len(),
            if others.is_empty() {
                String::new()
            } else {
                format!("  ({})", others.join(", "))
            }
        );
        if let Some(statement) = run.statement() {
            for line in statement.lines() {
                crate::outln!("      > {line}");
            }
        }
        if let Some(from) = run.continues() {
            crate::outln!(
                "      continues run {} from checkpoint `{}`",
                from.run_id,
                from.checkpoint
            );
        }
        if let Some(checkpoint) = &run.checkpoint {
            let state = match continued_by(&runs, run) {
                Some(later) => format!("continued by run {later}"),
                None if run.stopped_at_checkpoint() => "waiting".to_string(),
                None => "abandoned".to_string(),
            };
            crate::outln!(
                "      stopped at checkpoint `{}` ({state})",
                checkpoint.name
            );
        }
    }
    // Where a chain of steps stands: the last run that stopped at a checkpoint and has not
    // been gone on from.
    if let Some(run) = runs
        .iter()
        .rev()
        .find(|run| run.stopped_at_checkpoint() && continued_by(&runs, run).is_none())
    {
        if let Some(checkpoint) = &run.checkpoint {
            crate::outln!(
                "\nthe chain stands at checkpoint `{}` (run {}):",
                checkpoint.name,
                run.run_id
            );
            crate::outln!("{}", crate::text::wrap(&checkpoint.message, "  ", "  "));
            crate::outln!("then go on with:\n  {}", checkpoint.continue_with);
        }
    } else if let Some(run) = runs
        .iter()
        .rev()
        .find(|run| !run.rolled_back && run.end.as_deref() == Some("complete"))
    {
        if let Some(from) = run.continues() {
            crate::outln!(
                "\nthe chain is complete: run {} went on from checkpoint `{}` of run {}",
                run.run_id,
                from.checkpoint,
                from.run_id
            );
        }
    }
    Ok(())
}

/// The run (recorded in the same pack) that went on from `run`'s checkpoint, if any.
fn continued_by(runs: &[RunLog], run: &RunLog) -> Option<String> {
    runs.iter()
        .find(|later| later.goes_on_from(&run.run_id))
        .map(|later| later.run_id.clone())
}
