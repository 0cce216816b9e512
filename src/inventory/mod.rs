//! `run SCRIPT --inventory FILE`: the nodes of one distributed deployment, each with its old
//! and new profile and packs, checked as a whole (every node's new profile follows from its
//! old one; the new deployment has what it needs, nothing twice that must be once), then
//! planned, then run node by node in the guides' order, with one combined report.
//!
//! Nodes whose packs are not on this machine are listed as elsewhere: an inventory describes
//! the whole deployment, and each machine runs its own nodes (`contrib/ansible` does that).

mod run;

pub use run::{run, DeploymentRun, NodeRun};

use crate::error::{CommandResult, Failure};
use crate::pack::profile::{self, Capability, Generation, ALL_IN_ONE};
use crate::pack::{Product, Role};
use crate::script::Script;
use serde::{Deserialize, Serialize};
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
    fn paths(&self) -> Vec<(Role, &Path)> {
        let mut paths = vec![
            (Role::Old, self.old.as_path()),
            (Role::New, self.new.as_path()),
        ];
        if let Some(via) = &self.via {
            paths.push((Role::Via, via));
        }
        if let Some(km) = &self.km {
            paths.push((Role::Km, km));
        }
        paths
    }

    /// `api-key-manager -> control-plane`
    pub fn change(&self) -> String {
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
    let text = crate::pack::files::read_regular(path)
        .and_then(|bytes| crate::pack::files::utf8_text(bytes, &shown.to_string()))
        .map_err(|error| {
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

/// The generations of the API-M packs a script takes as `role`, from its `@accepts` lines
/// (oldest first; a family script may take several as `old`).
fn generations_of(script: &Script, role: Role) -> CommandResult<Vec<Generation>> {
    let header = script.header()?;
    let Some(accepts) = header.accepts.iter().find(|accepts| accepts.role == role) else {
        return Ok(Vec::new());
    };
    let Some(product) = Product::from_key(&accepts.product) else {
        return Ok(Vec::new());
    };
    let mut generations: Vec<Generation> = accepts
        .versions
        .iter()
        .filter_map(|version| Generation::of(product, version))
        .collect();
    generations.sort();
    generations.dedup();
    Ok(generations)
}

impl Inventory {
    /// Checks the deployment as a whole against the script's packs, puts the nodes in the
    /// order they run, and decides where the migration client runs.
    pub fn check(&mut self, script: &Script) -> CommandResult {
        let shown = self.path.display().to_string();
        let old_generations = generations_of(script, Role::Old)?;
        let new_generations = generations_of(script, Role::New)?;
        let (false, [new_generation]) = (old_generations.is_empty(), new_generations.as_slice())
        else {
            return Err(Failure::bad_input(format!(
                "--inventory: the script `{}` does not say which API-M versions it takes (`@accepts old …` and `@accepts new …` of one generation in its header), so the profiles of `{shown}` cannot be checked",
                script.name
            )));
        };
        let new_generation = *new_generation;
        let old_label = old_generations
            .iter()
            .map(|generation| generation.label())
            .collect::<Vec<_>>()
            .join(" or ");
        for node in &mut self.nodes {
            // The generations whose profile the old node's name is: with a family script,
            // the name tells (an api-store is 1.x/2.x, an api-devportal 3.x).
            let olds: Vec<(Generation, &'static str)> = old_generations
                .iter()
                .filter_map(|generation| {
                    generation
                        .profile(&node.old_profile)
                        .map(|profile| (*generation, profile))
                })
                .collect();
            let Some((_, old)) = olds.first().copied() else {
                let mut unique: Vec<&str> = Vec::new();
                for profile in old_generations
                    .iter()
                    .flat_map(|generation| generation.profiles().iter().copied())
                {
                    if !unique.contains(&profile) {
                        unique.push(profile);
                    }
                }
                return Err(Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: old_profile `{}` is no profile of {old_label}: give one of {}",
                    node.name,
                    node.old_profile,
                    unique.join(", ")
                )));
            };
            let new = new_generation.profile(&node.new_profile).ok_or_else(|| {
                Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: new_profile `{}` is no profile of {}: give one of {}",
                    node.name,
                    node.new_profile,
                    new_generation.label(),
                    new_generation.profiles().join(", ")
                ))
            })?;
            let fits = olds
                .iter()
                .any(|(generation, old)| generation.successors(old, new_generation).contains(&new));
            if !fits {
                let (generation, _) = olds[0];
                return Err(Failure::bad_input(format!(
                    "--inventory `{shown}`: node `{}`: {} node of {} becomes {} in {}, not {new}",
                    node.name,
                    crate::pack::profile::with_article(old),
                    generation.label(),
                    generation.successors(old, new_generation).join(" or "),
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
                for (role, path) in node
                    .paths()
                    .into_iter()
                    .filter(|(role, _)| role.is_target())
                {
                    if let Some((other_role, _)) = other
                        .paths()
                        .into_iter()
                        .filter(|(other_role, _)| other_role.is_target())
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
                    "--inventory `{shown}`: node `{}` is to be all-in-one beside `{}`, {} node: both would run the publisher, key manager and migration client; make `{}` {} node too, or list only all-in-one nodes",
                    all_in_one.name,
                    other.name,
                    crate::pack::profile::with_article(&other.new_profile),
                    all_in_one.name,
                    crate::pack::profile::with_article(&other.new_profile)
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
