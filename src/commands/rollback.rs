//! `rollback`: takes back the latest run that changed something on the packs.

use super::canonical;
use crate::change::rollback;
use crate::cli::RollbackArgs;
use crate::error::CommandResult;

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
    let done = rollback::rollback(&homes, args.force)?;
    if args.json {
        let document = serde_json::json!({
            "run_id": done.run_id,
            "script": done.script,
            "packs": done.packs,
            "restored": done.report.restored,
            "removed": done.report.removed,
            "removed_dirs": done.report.removed_dirs,
        });
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&document).unwrap_or_default()
        );
    } else {
        let packs: Vec<String> = done
            .packs
            .iter()
            .map(|home| format!("`{}`", home.display()))
            .collect();
        crate::outln!(
            "rolled back run {} ({}) on {}: {} restored, {} removed, {} directories removed",
            done.run_id,
            done.script,
            packs.join(", "),
            done.report.restored.len(),
            done.report.removed.len(),
            done.report.removed_dirs.len()
        );
    }
    Ok(())
}
