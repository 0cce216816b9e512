//! `rollback`: takes back the latest run that changed something on the packs, and stores
//! its report beside that run's journal.

use super::canonical;
use crate::change::reports::{self, Kind};
use crate::change::rollback;
use crate::cli::RollbackArgs;
use crate::error::CommandResult;
use crate::report::rollback::RollbackDocument;

pub fn rollback(args: &RollbackArgs) -> CommandResult {
    let mut homes = Vec::new();
    for (flag, dir) in [
        ("--new", &args.new),
        ("--via", &args.via),
        ("--km", &args.km),
    ] {
        if let Some(dir) = dir {
            homes.push(canonical(flag, dir)?);
        }
    }
    let document = match rollback::rollback(&homes, args.force)? {
        rollback::Ended::RolledBack(done) => {
            let document = RollbackDocument::of(&done, args.force);
            store(&done.packs, &done.run_id, &document.json());
            document
        }
        rollback::Ended::NothingToDo(why) => RollbackDocument::nothing(&homes, why),
    };
    if args.json {
        crate::report::output::document(&document.json());
    } else {
        crate::out!("{}", document.human());
    }
    Ok(())
}

/// Stores a rollback's report beside the journal of the run it took back; a failure to store
/// it is a warning, not the rollback's.
pub(super) fn store(packs: &[std::path::PathBuf], run_id: &str, json: &str) {
    if let Err(error) = reports::store(
        packs.iter().map(|home| home.as_path()),
        run_id,
        Kind::Rollback,
        &|writer| writer.write_all(json.as_bytes()),
    ) {
        crate::warnln!("{error:#}; `apim-migrate show` will not have this rollback's report");
    }
}
