//! `history DIR [--all]`: the runs recorded in a target pack, and where a chain of steps
//! stands.

use super::canonical;
use crate::change::journal;
use crate::change::reports::{self, Kind};
use crate::cli::HistoryArgs;
use crate::error::CommandResult;
use crate::report::history::History;

pub fn history(args: &HistoryArgs) -> CommandResult {
    let home = canonical("DIR", &args.dir)?;
    let runs = journal::read_runs(&home)?;
    for run in &runs {
        run.trusted()?;
    }
    let stored = runs
        .iter()
        .filter(|run| reports::path(&home, &run.run_id, Kind::Run).is_file())
        .map(|run| run.run_id.clone())
        .collect();
    let history = History {
        home: &home,
        runs: &runs,
        all: args.all,
        stored: &stored,
    };
    if args.json {
        crate::report::output::document(&history.json());
    } else {
        crate::out!("{}", history.human());
    }
    Ok(())
}
