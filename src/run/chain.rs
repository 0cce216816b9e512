//! Checkpoints across runs: where the runs of a script with checkpoints stand on a set of
//! packs, the command that goes on from a checkpoint, and the commands that take runs back.

use super::Request;
use crate::change::journal::{self, RunLog};
use crate::change::planner::PackSlot;
use crate::pack::Role;
use crate::script::Script;
use crate::text::shell_word;
use std::path::PathBuf;

/// Where the runs of a script with checkpoints stand on exactly these packs.
pub(crate) enum Chain {
    /// This run stopped at a checkpoint, and no later run has gone on from it.
    Waiting(Box<RunLog>),
    /// `continuing` went on from the checkpoint of `stopped`, and the chain ended there.
    Complete {
        stopped: Box<RunLog>,
        continuing: Box<RunLog>,
    },
}

/// The runs of `script` on exactly these packs that stopped at a checkpoint, if any is still
/// in place: the last one waiting, or the chain it began, complete.
/// `history` holds the runs of every target pack (a run on several packs, once per pack).
pub(crate) fn chain_state(
    script: &Script,
    slots: &[PackSlot],
    history: Vec<RunLog>,
) -> Option<Chain> {
    let mut wanted: Vec<(Role, PathBuf)> = slots
        .iter()
        .map(|slot| (slot.role, slot.pack.home.clone()))
        .collect();
    wanted.sort();
    let mut runs: Vec<RunLog> = Vec::new();
    for run in history {
        if !runs.iter().any(|known| known.run_id == run.run_id) {
            runs.push(run);
        }
    }
    let same_packs = |run: &RunLog| {
        let mut packs: Vec<(Role, PathBuf)> = run
            .packs()
            .into_iter()
            .map(|pack| (pack.role, pack.home))
            .collect();
        packs.sort();
        packs == wanted
    };
    runs.retain(|run| run.script_name() == script.name && same_packs(run));
    runs.sort_by(|left, right| left.run_id.cmp(&right.run_id));
    let continuing = |stopped: &RunLog| {
        runs.iter()
            .find(|later| later.goes_on_from(&stopped.run_id))
            .cloned()
    };
    let last = runs.iter().rev().find(|run| run.stopped_at_checkpoint())?;
    Some(match continuing(last) {
        None => Chain::Waiting(Box::new(last.clone())),
        Some(continuing) => Chain::Complete {
            stopped: Box::new(last.clone()),
            continuing: Box::new(continuing),
        },
    })
}

/// `apim-migrate rollback --ROLE DIR` for each target pack a run changed.
pub(crate) fn rollback_commands(run: &RunLog) -> String {
    let commands: Vec<String> = run
        .packs()
        .iter()
        .filter(|pack| pack.target)
        .filter(|pack| journal::read_run(&pack.home, &run.run_id).is_ok_and(|log| log.in_effect()))
        .map(|pack| {
            format!(
                "`apim-migrate rollback --{} {}`",
                pack.role,
                shell_word(&pack.home.display().to_string())
            )
        })
        .collect();
    match commands.first() {
        Some(command) => command.clone(),
        None => "`apim-migrate rollback`".to_string(),
    }
}

/// The packs and profiles of a run as words of its command line (`--old DIR ...`).
pub fn pack_words(slots: &[PackSlot], request: &Request) -> Vec<String> {
    let mut words = slot_words(slots);
    for (flag, value) in [
        ("--profile", &request.packs.profile),
        ("--old-profile", &request.packs.old_profile),
    ] {
        if let Some(value) = value {
            words.push(flag.to_string());
            words.push(value.clone());
        }
    }
    words
}

/// The packs as words of a command line: `--old DIR --via DIR --new DIR --km DIR`.
pub fn slot_words(slots: &[PackSlot]) -> Vec<String> {
    let mut words = Vec::new();
    for role in Role::COMMAND_LINE {
        if let Some(slot) = slots.iter().find(|slot| slot.role == role) {
            words.push(role.flag());
            words.push(slot.pack.home.display().to_string());
        }
    }
    words
}

/// The command that goes on from a checkpoint: `apim-migrate run SCRIPT`, the words that
/// select the packs (`--old DIR ...`, or `--inventory FILE`), the `--set` values and the
/// stock catalogues, absolute paths, and `--continue`.
pub fn continue_command(
    script: &Script,
    selection: &[String],
    set: &[String],
    stock: &[PathBuf],
    old_stock: Option<&std::path::Path>,
) -> String {
    let script_word = match &script.path {
        Some(path) => path
            .canonicalize()
            .map(|path| path.display().to_string())
            .unwrap_or_else(|_| script.name.clone()),
        None => script.name.clone(),
    };
    let mut words = vec!["apim-migrate".to_string(), "run".to_string(), script_word];
    words.extend(selection.iter().cloned());
    for value in set {
        words.push("--set".to_string());
        words.push(value.clone());
    }
    for file in stock {
        words.push("--stock".to_string());
        words.push(
            file.canonicalize()
                .unwrap_or_else(|_| file.clone())
                .display()
                .to_string(),
        );
    }
    if let Some(dir) = old_stock {
        words.push("--old-stock".to_string());
        words.push(
            dir.canonicalize()
                .unwrap_or_else(|_| dir.to_path_buf())
                .display()
                .to_string(),
        );
    }
    words.push("--continue".to_string());
    words
        .iter()
        .map(|word| shell_word(word))
        .collect::<Vec<_>>()
        .join(" ")
}
