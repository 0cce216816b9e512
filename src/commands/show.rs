//! `show DIR [RUN_ID]`: a recorded run again, with the report it stored.

use super::canonical;
use crate::change::journal;
use crate::change::reports::{self, Kind};
use crate::cli::ShowArgs;
use crate::error::CommandResult;
use crate::report::show::Shown;

pub fn show(args: &ShowArgs, verbose: bool) -> CommandResult {
    let home = canonical("DIR", &args.dir)?;
    let runs = journal::read_runs(&home)?;
    let run = reports::find_run(&runs, args.run_id.as_deref(), &home)?;
    let shown = Shown {
        home: &home,
        run,
        report: reports::read(&home, &run.run_id, Kind::Run)?,
        rollback: reports::read(&home, &run.run_id, Kind::Rollback)?,
    };
    if args.json {
        crate::report::output::document(&shown.json());
    } else {
        crate::out!("{}", shown.human(verbose));
    }
    Ok(())
}
