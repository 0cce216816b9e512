//! `run SCRIPT --inventory FILE`: the nodes of one distributed deployment, each with its old
//! and new profile and packs, checked as a whole (every node's new profile follows from its
//! old one; the new deployment has what it needs, nothing twice that must be once), then
//! planned, then run node by node in the guides' order, with one combined report.
//!
//! Nodes whose packs are not on this machine are listed as elsewhere: an inventory describes
//! the whole deployment, and each machine runs its own nodes (`contrib/ansible` does that).

use crate::cli::RunArgs;
use crate::commands::{self, Executed, Prepared};
use crate::error::{CommandResult, Failure};
use crate::pack::Product;
use crate::profile::{self, Capability, Generation, ALL_IN_ONE};
use crate::scripts::Script;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    #[serde(default)]
    deployment: Option<DeploymentSection>,
    #[serde(default, rename = "node")]
    nodes: Vec<NodeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeploymentSection {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    name: String,
    host: Option<String>,
    old_profile: String,
    new_profile: String,
    old: PathBuf,
    new: PathBuf,
    km: Option<PathBuf>,
    via: Option<PathBuf>,
}

/// One node of the deployment, its paths resolved against the inventory's directory.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub old_profile: String,
    pub new_profile: String,
    pub old: PathBuf,
    pub new: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub km: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<PathBuf>,
}

impl Node {
    fn paths(&self) -> Vec<(&'static str, &Path)> {
        let mut paths = vec![("old", self.old.as_path()), ("new", self.new.as_path())];
        if let Some(via) = &self.via {
            paths.push(("via", via));
        }
        if let Some(km) = &self.km {
            paths.push(("km", km));
        }
        paths
    }

    /// `api-key-manager -> control-plane`
    fn change(&self) -> String {
        format!("{} -> {}", self.old_profile, self.new_profile)
    }
}

/// A parsed and checked inventory.
#[derive(Debug)]
pub struct Inventory {
    pub path: PathBuf,
    pub deployment: Option<String>,
    /// In the order they are to run.
    pub nodes: Vec<Node>,
    /// The node that runs the deployment's migration client, if any does.
    pub migration_client: Option<String>,
    /// Remarks on the deployment as a whole, for the report.
    pub notes: Vec<String>,
}

/// Reads `path`; every problem is bad input naming the file.
pub fn load(path: &Path) -> CommandResult<Inventory> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|error| {
        Failure::bad_input(format!(
            "--inventory `{shown}`: cannot read it ({error}); give the TOML file that lists the deployment's nodes"
        ))
    })?;
    let file: InventoryFile = toml_edit::de::from_str(&text).map_err(|error| {
        let message = error.to_string();
        Failure::bad_input(format!(
            "--inventory `{shown}`: {}; each node is a `[[node]]` table with name, old_profile, new_profile, old, new (and optionally host, km, via)",
            message.trim().replace('\n', " ")
        ))
    })?;
    if file.nodes.is_empty() {
        return Err(Failure::bad_input(format!(
            "--inventory `{shown}` lists no nodes: add a `[[node]]` table per node"
        )));
    }
    let base = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let resolve = |path: &Path| {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            base.join(path)
        }
    };
    let mut nodes: Vec<Node> = Vec::new();
    for entry in file.nodes {
        let name = entry.name.trim().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Failure::bad_input(format!(
                "--inventory `{shown}`: node name `{}` must be letters, digits, `-`, `_` or `.`",
                entry.name
            )));
        }
        if nodes.iter().any(|node| node.name == name) {
            return Err(Failure::bad_input(format!(
                "--inventory `{shown}`: two nodes are named `{name}`: give each node its own name"
            )));
        }
        nodes.push(Node {
            name,
            host: entry.host,
            old_profile: entry.old_profile.trim().to_string(),
            new_profile: entry.new_profile.trim().to_string(),
            old: resolve(&entry.old),
            new: resolve(&entry.new),
            km: entry.km.as_deref().map(resolve),
            via: entry.via.as_deref().map(resolve),
        });
    }
    Ok(Inventory {
        path: path.to_path_buf(),
        deployment: file.deployment.and_then(|section| section.name),
        nodes,
        migration_client: None,
        notes: Vec::new(),
    })
}

/// The generation of the API-M packs a script takes as `role`, from its `@accepts` lines.
fn generation_of(script: &Script, role: &str) -> CommandResult<Option<Generation>> {
    let header = script.header()?;
    let Some(accepts) = header.accepts.iter().find(|accepts| accepts.role == role) else {
        return Ok(None);
    };
    let Some(product) = Product::from_key(&accepts.product) else {
        return Ok(None);
    };
    let mut generations = accepts
        .versions
        .iter()
        .filter_map(|version| Generation::of(product, version));
    let first = generations.next();
    Ok(first.filter(|first| generations.all(|other| other == *first)))
}

impl Inventory {
    /// Checks the deployment as a whole against the script's packs, puts the nodes in the
    /// order they run, and decides where the migration client runs.
    pub fn check(&mut self, script: &Script) -> CommandResult {
        let shown = self.path.display().to_string();
        let old_generation = generation_of(script, "old")?;
        let new_generation = generation_of(script, "new")?;
        let (Some(old_generation), Some(new_generation)) = (old_generation, new_generation) else {
            return Err(Failure::bad_input(format!(
                "--inventory: the script `{}` does not say which API-M versions it takes (`@accepts old …` and `@accepts new …` in its header), so the profiles of `{shown}` cannot be checked",
                script.name
            )));
        };
        for node in &mut self.nodes {
            let old = old_generation.profile(&node.old_profile).ok_or_else(|| {
                Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: old_profile `{}` is no profile of {}: give one of {}",
                    node.name,
                    node.old_profile,
                    old_generation.label(),
                    old_generation.profiles().join(", ")
                ))
            })?;
            let new = new_generation.profile(&node.new_profile).ok_or_else(|| {
                Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: new_profile `{}` is no profile of {}: give one of {}",
                    node.name,
                    node.new_profile,
                    new_generation.label(),
                    new_generation.profiles().join(", ")
                ))
            })?;
            let successors = old_generation.successors(old, new_generation);
            if !successors.contains(&new) {
                return Err(Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: a {old} node of {} becomes {} in {}, not {new}",
                    node.name,
                    old_generation.label(),
                    successors.join(" or "),
                    new_generation.label()
                )));
            }
            node.old_profile = old.to_string();
            node.new_profile = new.to_string();
        }

        // Nothing twice that must be once: a pack migrated into by two nodes.
        for (index, node) in self.nodes.iter().enumerate() {
            for other in &self.nodes[index + 1..] {
                let same_machine = node.host == other.host;
                for (role, path) in node.paths().into_iter().filter(|(role, _)| *role != "old") {
                    if let Some((other_role, _)) = other
                        .paths()
                        .into_iter()
                        .filter(|(other_role, _)| *other_role != "old")
                        .find(|(_, other_path)| *other_path == path)
                    {
                        if same_machine {
                            return Err(Failure::bad_input(format!(
                                "--inventory `{shown}`: nodes `{}` and `{}` both migrate into `{}` (as {role} and {other_role}): give each node its own packs",
                                node.name,
                                other.name,
                                path.display()
                            )));
                        }
                    }
                }
            }
        }
        let news: Vec<&str> = self
            .nodes
            .iter()
            .map(|node| node.new_profile.as_str())
            .collect();
        let olds: Vec<&str> = self
            .nodes
            .iter()
            .map(|node| node.old_profile.as_str())
            .collect();
        let distributed = news.iter().any(|profile| *profile != ALL_IN_ONE);
        // An all-in-one node beside another node that runs the migration client (a 4.x
        // control plane, a 2.x publisher) would make two of what must be one.
        if let Some(other) = self.nodes.iter().find(|node| {
            node.new_profile != ALL_IN_ONE
                && profile::has(
                    Some(new_generation),
                    &node.new_profile,
                    Capability::MigrationClient,
                )
        }) {
            if let Some(all_in_one) = self
                .nodes
                .iter()
                .find(|node| node.new_profile == ALL_IN_ONE)
            {
                return Err(Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}` is to be all-in-one beside `{}`, a {} node: both would run the publisher, key manager and migration client; make `{}` a {} node too, or list only all-in-one nodes",
                    all_in_one.name, other.name, other.new_profile, all_in_one.name, other.new_profile
                )));
            }
        }

        // Every new profile covered: what the new deployment cannot run without.
        if distributed {
            for needed in required(new_generation) {
                if !needed.iter().any(|profile| news.contains(profile)) {
                    return Err(Failure::bad_input(format!(
                        "--inventory `{shown}`: no node becomes {} in the new deployment: {} needs one; give a node that profile",
                        needed.join(" or "),
                        new_generation.label()
                    )));
                }
            }
            if new_generation == Generation::Four
                && olds.contains(&"traffic-manager")
                && !news.contains(&"traffic-manager")
            {
                self.notes.push(
                    "the old deployment had a traffic-manager node and the new one has none: the 4.x control plane carries the traffic manager"
                        .to_string(),
                );
            }
        }

        // The order of the guides: the node that runs the migration client first (its
        // data migration comes before the other nodes start), then the other nodes that serve
        // users, the traffic managers, and the gateways last.
        let rank = |node: &Node| -> u8 {
            let generation = Some(new_generation);
            if profile::has(generation, &node.new_profile, Capability::MigrationClient) {
                0
            } else if profile::has(generation, &node.new_profile, Capability::Users) {
                1
            } else if node.new_profile == "traffic-manager" {
                2
            } else {
                3
            }
        };
        self.nodes.sort_by_key(|node| rank(node));
        self.migration_client = self
            .nodes
            .iter()
            .find(|node| {
                profile::has(
                    Some(new_generation),
                    &node.new_profile,
                    Capability::MigrationClient,
                )
            })
            .map(|node| node.name.clone());
        Ok(())
    }
}

/// The profiles a distributed deployment of `generation` cannot do without (any of each
/// group).
fn required(generation: Generation) -> Vec<Vec<&'static str>> {
    match generation {
        Generation::Four => vec![vec!["control-plane"]],
        Generation::Three => vec![
            vec!["api-publisher"],
            vec!["api-devportal"],
            vec!["api-key-manager"],
            vec!["gateway-worker"],
        ],
        Generation::Two => vec![
            vec!["api-publisher"],
            vec!["api-store"],
            vec!["api-key-manager"],
            vec!["gateway-worker", "gateway-manager"],
        ],
    }
}

/// Where a node stands in the combined report.
enum NodeRun {
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

/// Plans (and with `apply`, runs) `args.script` on every node of the inventory that is here.
pub fn run(args: &RunArgs, path: &Path, apply: bool, verbose: bool, quiet: bool) -> CommandResult {
    let script = Script::load(&args.script)?;
    let mut inventory = load(path)?;
    inventory.check(&script)?;

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
                .unwrap_or(("new", node.new.as_path()));
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
                    .filter(|(role, _)| *role != "old")
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
        let mut node_args = args.clone();
        node_args.inventory = None;
        node_args.old = Some(node.old.clone());
        node_args.new = Some(node.new.clone());
        node_args.km = node.km.clone();
        node_args.via = node.via.clone();
        node_args.profile = Some(node.new_profile.clone());
        node_args.old_profile = Some(node.old_profile.clone());
        let Some(mut node_prepared) =
            commands::prepare(&node_args, script.clone(), apply, quiet, true)
                .map_err(|failure| in_node(&node.name, failure))?
        else {
            prepared.push(Err(NodeRun::NothingToContinue));
            continue;
        };
        // Going on from a checkpoint goes through the inventory too.
        node_prepared.continue_with = continue_command(args, path, &node_prepared.script);
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
        let mut executed = commands::plan_script(
            &node_prepared.script,
            node_prepared.slots,
            node_prepared.params,
            node_prepared.catalogue,
            node_prepared.options,
            &node_prepared.continue_with,
        )
        .map_err(|failure| in_node(&node.name, failure))?;
        for note in node_prepared.notes {
            executed.plan.warnings.push(crate::plan::Warning {
                message: note,
                primitive: None,
                detail: None,
            });
        }
        locks.push(node_prepared.locks);
        runs.push(NodeRun::Here {
            executed: Box::new(executed),
            applied: false,
        });
    }

    // Apply node by node; the first failure (taken back on its node) stops the rest.
    let mut failed = None;
    if apply {
        let show_progress = crate::progress::Progress::wanted(quiet);
        let mut node_locks = locks.into_iter();
        for (node, run) in inventory.nodes.iter().zip(runs.iter_mut()) {
            let NodeRun::Here { executed, applied } = run else {
                continue;
            };
            let Some(Some(lock)) = node_locks.next() else {
                return Err(Failure::RunFailed(anyhow::anyhow!(
                    "internal: node `{}` has no locks",
                    node.name
                )));
            };
            commands::apply_planned(executed, &lock, show_progress)
                .map_err(|failure| in_node(&node.name, failure))?;
            *applied = true;
            if executed.error.is_some() {
                failed = Some(node.name.clone());
                break;
            }
        }
    }

    let report = Combined {
        inventory: &inventory,
        script: &script,
        command: if apply { "run" } else { "plan" },
        runs: &runs,
        failed: failed.as_deref(),
    };
    if args.json {
        crate::outln!("{}", report.json());
    } else if !quiet || failed.is_some() {
        crate::out!("{}", report.human(verbose));
    }
    match failed {
        Some(node) => Err(Failure::RunFailed(anyhow::anyhow!(
            "node `{node}`: the run failed and was taken back; the nodes after it were not run"
        ))),
        None => Ok(()),
    }
}

/// `apim-migrate run SCRIPT --inventory FILE [--set …] [--stock …] --continue`, with absolute
/// paths.
fn continue_command(args: &RunArgs, inventory: &Path, script: &Script) -> String {
    let absolute = |path: &Path| {
        path.canonicalize()
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    };
    let mut words = vec![
        "apim-migrate".to_string(),
        "run".to_string(),
        script
            .path
            .as_deref()
            .map(absolute)
            .unwrap_or_else(|| script.name.clone()),
        "--inventory".to_string(),
        absolute(inventory),
    ];
    for value in &args.set {
        words.push("--set".to_string());
        words.push(value.clone());
    }
    for file in &args.stock {
        words.push("--stock".to_string());
        words.push(absolute(file));
    }
    words.push("--continue".to_string());
    words
        .iter()
        .map(|word| commands::shell_word(word))
        .collect::<Vec<_>>()
        .join(" ")
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
        Failure::BadInput(error) => Failure::BadInput(anyhow::anyhow!("node `{name}`: {error:#}")),
        Failure::RunFailed(error) => {
            Failure::RunFailed(anyhow::anyhow!("node `{name}`: {error:#}"))
        }
    }
}

/// The combined report of an inventory run.
struct Combined<'a> {
    inventory: &'a Inventory,
    script: &'a Script,
    command: &'static str,
    runs: &'a [NodeRun],
    failed: Option<&'a str>,
}

impl Combined<'_> {
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

    fn json(&self) -> String {
        let nodes: Vec<serde_json::Value> = self
            .inventory
            .nodes
            .iter()
            .zip(self.runs)
            .map(|(node, run)| {
                let report = match run {
                    NodeRun::Here { executed, .. } => {
                        serde_json::from_str(&executed.outcome().json())
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
        let document = serde_json::json!({
            "command": self.command,
            "inventory": self.inventory.path,
            "deployment": self.inventory.deployment,
            "script": self.script.name,
            "outcome": self.outcome(),
            "migration_client": self.inventory.migration_client,
            "notes": self.inventory.notes,
            "nodes": nodes,
            "failed": self.failed,
        });
        serde_json::to_string_pretty(&document)
            .unwrap_or_else(|error| format!("{{\"error\":\"{error}\"}}"))
    }

    fn human(&self, verbose: bool) -> String {
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
            let _ = writeln!(out, "{}", crate::report::wrap(note, "  ! ", "    "));
        }
        for (node, run) in self.inventory.nodes.iter().zip(self.runs) {
            let NodeRun::Here { executed, .. } = run else {
                continue;
            };
            let _ = writeln!(out, "\n== node {}: {}", node.name, node.change());
            out.push_str(&executed.outcome().human(verbose));
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
                        commands::shell_word(&node.new.display().to_string())
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
                    crate::report::wrap(
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
    executed.outcome().outcome()
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
