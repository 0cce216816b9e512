//! The combined report of an inventory run: the deployment, each node's report, the outcome.

use super::Outcome;
use crate::inventory::{DeploymentRun, Inventory, NodeRun};
use crate::run::Executed;
use crate::script::Script;
use std::fmt::Write as _;

/// The combined report of an inventory run.
pub struct Combined<'a> {
    inventory: &'a Inventory,
    script: &'a Script,
    command: &'static str,
    runs: &'a [NodeRun],
    failed: Option<&'a str>,
}

impl<'a> Combined<'a> {
    pub fn of(run: &'a DeploymentRun) -> Combined<'a> {
        Combined {
            inventory: &run.inventory,
            script: &run.script,
            command: run.command,
            runs: &run.nodes,
            failed: run.failed.as_deref(),
        }
    }

    /// A node's outcome: its run's, or `elsewhere`, or `not run` (after a failure).
    fn node_outcome(&self, run: &NodeRun) -> &'static str {
        match run {
            NodeRun::Elsewhere => "elsewhere",
            NodeRun::NothingToContinue => "nothing to continue",
            NodeRun::Here { executed, applied } => {
                if self.command == "run" && !applied {
                    "not run"
                } else {
                    outcome_word(executed)
                }
            }
        }
    }

    fn outcome(&self) -> &'static str {
        let outcomes: Vec<&str> = self.runs.iter().map(|run| self.node_outcome(run)).collect();
        for wanted in ["failed", "checkpoint", "planned", "done"] {
            if outcomes.contains(&wanted) {
                return wanted;
            }
        }
        "nothing to do"
    }

    pub fn json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .inventory
            .nodes
            .iter()
            .zip(self.runs)
            .map(|(node, run)| {
                let report = match run {
                    NodeRun::Here { executed, .. } => {
                        serde_json::from_str(&Outcome::of(executed).json())
                            .unwrap_or(serde_json::Value::Null)
                    }
                    NodeRun::Elsewhere | NodeRun::NothingToContinue => serde_json::Value::Null,
                };
                serde_json::json!({
                    "name": node.name,
                    "host": node.host,
                    "old_profile": node.old_profile,
                    "new_profile": node.new_profile,
                    "old": node.old,
                    "new": node.new,
                    "km": node.km,
                    "via": node.via,
                    "outcome": self.node_outcome(run),
                    "report": report,
                })
            })
            .collect();
        let body = serde_json::json!({
            "inventory": self.inventory.path,
            "deployment": self.inventory.deployment,
            "script": self.script.name,
            "migration_client": self.inventory.migration_client,
            "notes": self.inventory.notes,
            "nodes": nodes,
            "failed": self.failed,
        });
        let error = self.failed.map(|node| {
            super::document::ErrorInfo::message(
                &format!(
                    "node `{node}`: the run failed and was taken back; the nodes after it were not run"
                ),
                crate::error::EXIT_RUN_FAILED,
                None,
            )
        });
        super::document::render(self.command, self.outcome(), &body, error.as_ref())
    }

    pub fn human(&self, verbose: bool) -> String {
        let mut out = String::new();
        let deployment = self
            .inventory
            .deployment
            .as_deref()
            .map(|name| format!(" (deployment {name})"))
            .unwrap_or_default();
        let here = self
            .runs
            .iter()
            .filter(|run| matches!(run, NodeRun::Here { .. }))
            .count();
        let _ = writeln!(
            out,
            "{} {} on {}{deployment}: {} node{}, {here} on this machine",
            self.command,
            self.script.name,
            self.inventory.path.display(),
            self.inventory.nodes.len(),
            if self.inventory.nodes.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        let width = self
            .inventory
            .nodes
            .iter()
            .map(|node| node.name.len())
            .max()
            .unwrap_or(0);
        for (node, run) in self.inventory.nodes.iter().zip(self.runs) {
            let _ = writeln!(
                out,
                "  {:<width$}  {:<44} {}",
                node.name,
                node.change(),
                match run {
                    NodeRun::Elsewhere =>
                        "elsewhere (not this host, or its packs are not on this machine)",
                    NodeRun::NothingToContinue => "here (no run waits at a checkpoint)",
                    NodeRun::Here { .. } => "here",
                }
            );
        }
        if let Some(node) = &self.inventory.migration_client {
            let _ = writeln!(out, "  the API-M migration client runs on `{node}`");
        }
        for note in &self.inventory.notes {
            let _ = writeln!(out, "{}", crate::text::wrap(note, "  ! ", "    "));
        }
        for (node, run) in self.inventory.nodes.iter().zip(self.runs) {
            let NodeRun::Here { executed, .. } = run else {
                continue;
            };
            let _ = writeln!(out, "\n== node {}: {}", node.name, node.change());
            out.push_str(&Outcome::of(executed).human(verbose));
        }
        let _ = writeln!(out, "\n== deployment");
        for (node, run) in self.inventory.nodes.iter().zip(self.runs) {
            let detail = match run {
                NodeRun::Here { executed, .. } => {
                    format!(" ({})", crate::report::Summary::of(&executed.plan).line())
                }
                NodeRun::Elsewhere | NodeRun::NothingToContinue => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<width$}  {}{detail}",
                node.name,
                self.node_outcome(run)
            );
        }
        if let Some(failed) = self.failed {
            let earlier: Vec<String> = self
                .inventory
                .nodes
                .iter()
                .zip(self.runs)
                .take_while(|(node, _)| node.name != failed)
                .filter(|(_, run)| matches!(run, NodeRun::Here { executed, .. } if executed.run_id.is_some() && outcome_word(executed) == "done"))
                .map(|(node, _)| {
                    format!(
                        "`apim-migrate rollback --new {}`",
                        crate::text::shell_word(&node.new.display().to_string())
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "\nnode `{failed}` failed and was taken back; the nodes after it were not run."
            );
            if !earlier.is_empty() {
                let _ = writeln!(
                    out,
                    "{}",
                    crate::text::wrap(
                        &format!(
                            "The nodes before it stay migrated; to take them back too: {}",
                            earlier.join(", ")
                        ),
                        "",
                        ""
                    )
                );
            }
        }
        out
    }
}

fn outcome_word(executed: &Executed) -> &'static str {
    Outcome::of(executed).outcome()
}
