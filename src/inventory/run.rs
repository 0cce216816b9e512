//! Planning and running the nodes of an inventory that are on this machine: every node
//! prepared (a run locks them all) and planned before any is applied; then node by node,
//! the first failure (taken back on its node) stopping the rest.

use super::{load, Inventory, Node};
use crate::error::{CommandResult, Failure};
use crate::pack::Role;
use crate::run::{self, Executed, Options, Packs, Prepared, Request};
use crate::script::Script;
use std::path::{Path, PathBuf};

/// What an inventory run did, node by node, for the report.
pub struct DeploymentRun {
    pub inventory: Inventory,
    pub script: Script,
    pub command: &'static str,
    /// In the order of `inventory.nodes`.
    pub nodes: Vec<NodeRun>,
    /// The node whose run failed (and was taken back), if one did.
    pub failed: Option<String>,
}

/// Where a node stands in the combined report.
pub enum NodeRun {
    /// Its packs are not on this machine.
    Elsewhere,
    /// Under `--continue`: no run of the script waits at a checkpoint on its packs (it went
    /// through in one go, or was continued already).
    NothingToContinue,
    /// Planned (and, for a run, applied when `applied`).
    Here {
        executed: Box<Executed>,
        applied: bool,
    },
}

/// Plans (and for a run, applies) `script` on every node of the inventory at `path` that is
/// here, with `options` for each: what happened to each node, for the report.
pub fn run(script: Script, path: &Path, options: &Options) -> CommandResult<DeploymentRun> {
    let apply = options.apply;
    let mut inventory = load(path).map_err(|failure| failure.in_file(path))?;
    inventory
        .check(&script)
        .map_err(|failure| failure.in_file(path))?;

    // Which nodes are here: a node with a `host` is here on that host only; then all of its
    // packs must be, or (without `host`) all or none of them.
    let this_host = this_host();
    let mut here = Vec::new();
    for node in &inventory.nodes {
        if let Some(host) = &node.host {
            if !same_host(host, &this_host) {
                here.push(false);
                continue;
            }
            if let Some((role, missing)) = node.paths().into_iter().find(|(_, path)| !path.exists())
            {
                return Err(Failure::bad_input(format!(
                    "--inventory `{}`: node `{}` is on this host (`{host}`), but its {role} pack `{}` does not exist: fix the path",
                    path.display(),
                    node.name,
                    missing.display()
                )));
            }
            here.push(true);
            continue;
        }
        let present: Vec<bool> = node.paths().iter().map(|(_, path)| path.exists()).collect();
        if present.iter().all(|present| *present) {
            here.push(true);
        } else if present.iter().any(|present| *present) {
            let (role, missing) = node
                .paths()
                .into_iter()
                .zip(&present)
                .find(|(_, present)| !**present)
                .map(|(found, _)| found)
                .unwrap_or((Role::New, node.new.as_path()));
            return Err(Failure::bad_input(format!(
                "--inventory `{}`: node `{}`: its {role} pack `{}` does not exist, though its other packs are on this machine: fix the path",
                path.display(),
                node.name,
                missing.display()
            )));
        } else {
            here.push(false);
        }
    }
    // Two nodes here cannot write the same pack (nodes on different hosts may share paths).
    let here_nodes: Vec<&Node> = inventory
        .nodes
        .iter()
        .zip(&here)
        .filter(|(_, here)| **here)
        .map(|(node, _)| node)
        .collect();
    for (index, node) in here_nodes.iter().enumerate() {
        for other in &here_nodes[index + 1..] {
            let targets = |node: &Node| -> Vec<PathBuf> {
                node.paths()
                    .into_iter()
                    .filter(|(role, _)| role.is_target())
                    .map(|(_, path)| path.canonicalize().unwrap_or_else(|_| path.to_path_buf()))
                    .collect()
            };
            let theirs = targets(other);
            if let Some(shared) = targets(node).into_iter().find(|path| theirs.contains(path)) {
                return Err(Failure::bad_input(format!(
                    "--inventory `{}`: nodes `{}` and `{}` are both on this machine and both migrate into `{}`: give each node its own packs, or each its `host`",
                    path.display(),
                    node.name,
                    other.name,
                    shared.display()
                )));
            }
        }
    }
    if !here.iter().any(|here| *here) {
        return Err(Failure::bad_input(format!(
            "--inventory `{}`: none of its {} nodes has its packs on this machine: run it where the packs are (or fix the paths)",
            path.display(),
            inventory.nodes.len()
        )));
    }

    // Prepare every node here (packs, profiles, history; a run locks them all), then plan
    // them all: a problem with any node stops everything before anything changes.
    // A node not to plan is already where the report will show it.
    let mut prepared: Vec<Result<Prepared, NodeRun>> = Vec::new();
    for (node, here) in inventory.nodes.iter().zip(&here) {
        if !here {
            prepared.push(Err(NodeRun::Elsewhere));
            continue;
        }
        let request = Request {
            script: script.clone(),
            packs: Packs {
                old: node.old.clone(),
                new: node.new.clone(),
                km: node.km.clone(),
                via: node.via.clone(),
                profile: Some(node.new_profile.clone()),
                old_profile: Some(node.old_profile.clone()),
            },
            options: options.clone(),
        };
        let Some(mut node_prepared) =
            run::prepare(&request, true).map_err(|failure| in_node(&node.name, failure))?
        else {
            prepared.push(Err(NodeRun::NothingToContinue));
            continue;
        };
        // Going on from a checkpoint goes through the inventory too.
        node_prepared.continue_with = run::chain::continue_command(
            &node_prepared.script,
            &[
                "--inventory".to_string(),
                path.canonicalize()
                    .unwrap_or_else(|_| path.to_path_buf())
                    .display()
                    .to_string(),
            ],
            &options.set,
            &options.stock,
            options.old_stock.as_deref(),
        );
        if let Some(runs_it) = &inventory.migration_client {
            if runs_it != &node.name {
                for slot in node_prepared.slots.iter_mut().filter(|slot| slot.target) {
                    slot.profile.migration_client_on = Some(runs_it.clone());
                }
            }
        }
        prepared.push(Ok(node_prepared));
    }
    let mut runs = Vec::new();
    let mut locks = Vec::new();
    for (node, node_prepared) in inventory.nodes.iter().zip(prepared) {
        let node_prepared = match node_prepared {
            Ok(node_prepared) => node_prepared,
            Err(run) => {
                runs.push(run);
                continue;
            }
        };
        let mut node_prepared = node_prepared;
        let node_locks = node_prepared.locks.take();
        locks.push(node_locks.zip(node_prepared.run_id.take()));
        let executed =
            run::plan_prepared(node_prepared).map_err(|failure| in_node(&node.name, failure))?;
        runs.push(NodeRun::Here {
            executed: Box::new(executed),
            applied: false,
        });
    }

    // Everything is planned: on a terminal, the operator says whether to go on.
    if apply {
        if let Some(confirm) = &options.confirm {
            let planned: Vec<&Executed> = runs
                .iter()
                .filter_map(|run| match run {
                    NodeRun::Here { executed, .. } => Some(executed.as_ref()),
                    _ => None,
                })
                .collect();
            if planned.iter().any(|executed| executed.has_changes()) && !confirm.confirm(&planned) {
                return Err(run::not_confirmed());
            }
        }
    }

    // Apply node by node; the first failure (taken back on its node) stops the rest.
    let mut failed = None;
    if apply {
        let mut node_locks = locks.into_iter();
        for (node, run) in inventory.nodes.iter().zip(runs.iter_mut()) {
            let NodeRun::Here { executed, applied } = run else {
                continue;
            };
            let lock = node_locks.next();
            if executed.message.is_some() {
                // Complete already: nothing to apply.
                *applied = true;
                continue;
            }
            let Some(Some((lock, run_id))) = lock else {
                return Err(Failure::RunFailed(anyhow::anyhow!(
                    "internal: node `{}` has no locks",
                    node.name
                )));
            };
            // The id its locks were taken under (they name it).
            executed.run_id = Some(run_id);
            run::apply_planned(executed, &lock, options.progress.as_ref())
                .map_err(|failure| in_node(&node.name, failure))?;
            *applied = true;
            if executed.error.is_some() {
                failed = Some(node.name.clone());
                break;
            }
        }
    }

    Ok(DeploymentRun {
        inventory,
        script,
        command: if apply { "run" } else { "plan" },
        nodes: runs,
        failed,
    })
}

/// This machine's name: `APIM_MIGRATE_HOSTNAME` when set, else the system's.
fn this_host() -> String {
    std::env::var("APIM_MIGRATE_HOSTNAME")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| {
            nix::unistd::gethostname()
                .ok()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

/// Whether an inventory `host` names this machine: the same name ignoring case, or one the
/// short form (first label) of the other; `localhost` always.
fn same_host(host: &str, this: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let this = this.trim().to_ascii_lowercase();
    if host == "localhost" || host == "127.0.0.1" || host == this {
        return true;
    }
    let short = |name: &str| name.split('.').next().unwrap_or_default().to_string();
    (!host.contains('.') && host == short(&this)) || (!this.contains('.') && this == short(&host))
}

fn in_node(name: &str, failure: Failure) -> Failure {
    match failure {
        Failure::BadInput(error) => Failure::BadInput(error.context(format!("node `{name}`"))),
        Failure::RunFailed(error) => Failure::RunFailed(error.context(format!("node `{name}`"))),
        Failure::Interrupted(error) => {
            Failure::Interrupted(error.context(format!("node `{name}`")))
        }
        Failure::NotConfirmed(error) => Failure::NotConfirmed(error),
    }
}

#[cfg(test)]
mod tests {
    use super::same_host;

    #[test]
    fn a_host_matches_its_short_and_full_names() {
        assert!(same_host("gw1.example.com", "gw1.example.com"));
        assert!(same_host("GW1.example.com", "gw1"));
        assert!(same_host("gw1", "gw1.example.com"));
        assert!(same_host("localhost", "anything"));
        assert!(!same_host("gw1.example.com", "gw1.other.com"));
        assert!(!same_host("gw2", "gw1.example.com"));
    }
}
