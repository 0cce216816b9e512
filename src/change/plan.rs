//! The plan: plain, serialisable records of what a script asked for. Scripts only describe;
//! the host applies a plan's actions, so a plan and a run can never disagree.

use crate::pack::Role;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A change that `run` would make (only in a plan).
    Planned,
    /// A change that was made.
    Changed,
    /// Already as wanted: nothing to do.
    Unchanged,
    /// Deliberately not done; `reason` says why.
    Skipped,
    /// Tried and failed; `reason` says why.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::Changed => "changed",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
            Status::Failed => "failed",
        }
    }
}

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Copy a file into a target pack.
    Copy,
    /// Rewrite a file of a target pack (TOML edits).
    Edit,
    /// Something examined and deliberately left alone.
    Skip,
    /// A check that needs no change (for example: secure vault not in use).
    Check,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Copy => "copy",
            ActionKind::Edit => "edit",
            ActionKind::Skip => "skip",
            ActionKind::Check => "check",
        }
    }
}

/// What a change does to the target path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Create,
    Replace,
}

/// A regular file's identity: content hash and permission bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub sha256: crate::pack::files::ContentHash,
    #[serde(with = "octal_mode")]
    pub mode: u32,
}

/// Where the bytes of a change come from when it is applied.
#[derive(Debug, Clone, Default)]
pub enum Content {
    #[default]
    None,
    /// A file on disk (in a source pack, or given by the script), expected to hash to
    /// the action's `after.sha256` when it is copied.
    File(crate::pack::SourceFile),
    /// Bytes computed while planning (TOML edits), shared with the views of the plan.
    Bytes(std::sync::Arc<Vec<u8>>),
}

/// Where a copy's bytes come from, as the plan shows it: `old:repository/...` for a file of
/// a pack, else the path of a file outside any pack. A file of a pack is held as its role
/// and the path its source already holds, not as one more string per copy (some 9 MB at
/// 100,000 tenants); a plan read back holds the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Pack(Role, std::sync::Arc<str>),
    Shown(Box<str>),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Pack(role, path) => write!(f, "{role}:{path}"),
            Origin::Shown(text) => f.write_str(text),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Origin {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Origin::Shown(
            String::deserialize(deserializer)?.into_boxed_str(),
        ))
    }
}

/// One recorded action.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Action {
    /// Position in the plan, from 1 (a `u32`: the plan is held whole, and at 100,000
    /// tenants each byte of an action is 134 KB).
    pub seq: u32,
    /// The primitive that asked for it (one shared name for all its actions).
    pub primitive: std::sync::Arc<str>,
    pub action: ActionKind,
    /// The role of the pack the path belongs to.
    pub pack: Role,
    /// Path inside that pack, with `/` separators.
    pub path: std::sync::Arc<str>,
    /// Where the content comes from: `old:repository/...` or an absolute path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Origin>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<FileState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<FileState>,
    /// Unified diff of an edit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<Box<str>>,
    #[serde(skip)]
    pub content: Content,
}

// A plan holds one action per file it plans, whole: at 100,000 tenants each byte of an
// action is 134 KB of the peak memory of `plan` and `run` (docs/performance.md).
const _: () = assert!(std::mem::size_of::<Action>() <= 208);

impl Action {
    /// Whether applying this action changes a file.
    pub fn is_change(&self) -> bool {
        matches!(self.status, Status::Planned | Status::Changed) && self.effect.is_some()
    }
}

/// Something the operator must do by hand, or know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    pub id: String,
    pub message: String,
}

/// Something that looks wrong or risky.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primitive: Option<String>,
    /// Longer detail, such as a diff between two versions of a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A step left out because of a node's profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSkip {
    /// The role of the pack whose profile decided.
    pub pack: Role,
    pub profile: String,
    /// `gateway`, `users` or `migration-client`.
    pub capability: String,
    /// What was left out, in the script's words.
    pub what: String,
    pub reason: String,
}

/// Something found in the packs that needs the operator's hand in the new pack (a
/// customisation to port, for example), kept in the journal so a later step can report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id (`customised:<path>`): a later finding with the same id replaces it.
    pub id: String,
    pub primitive: String,
    pub message: String,
    /// The file it is about, as `role:path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A unified diff that shows what to port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// For a finding carried from an earlier step: which run found it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
}

/// Where a checkpoint leaves a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointState {
    /// `run` stops here; `--continue` goes on.
    Stop,
    /// `plan` goes on past it, planning what follows as if the steps before were applied.
    Preview,
    /// `--continue` started here; what came before was done by an earlier run.
    Resumed,
}

/// A point in the list of actions where a step starts or a checkpoint stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mark {
    /// How many actions come before it.
    pub before: usize,
    #[serde(flatten)]
    pub kind: MarkKind,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum MarkKind {
    /// `run_script` started another script, with these packs (its role = our role).
    Step {
        script: ScriptInfo,
        packs: std::collections::BTreeMap<String, String>,
    },
    /// `run_script` under `--continue`, before the checkpoint resumed from: not run again.
    StepDone { script: String, reason: String },
    Checkpoint {
        name: String,
        message: String,
        state: CheckpointState,
    },
}

/// The checkpoint a run stopped at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub name: String,
    pub message: String,
    /// The command that goes on from here.
    #[serde(default)]
    pub continue_with: String,
}

/// The earlier run a `--continue` run goes on from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continues {
    pub run_id: String,
    pub checkpoint: String,
}

/// A pack as the plan saw it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackEntry {
    pub role: Role,
    pub home: PathBuf,
    pub product: String,
    /// For a separate distribution of API-M 4.5.0 and later, its key (`wso2am-acp`,
    /// `wso2am-universal-gw`, `wso2am-tm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    pub version: String,
    /// Whether the run may write it.
    pub target: bool,
    /// The part of the deployment the pack's node runs, as the plan assumed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::pack::profile::NodeProfile>,
}

/// The script a plan came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScriptInfo {
    /// The bundled name, or the path as given on the command line.
    pub name: String,
    pub sha256: String,
    /// Where a script read from a file was read, absolute (so that a run is traced to its
    /// file whatever the directory it was started from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The statement itself, for a statement entered in the REPL (a script has its file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A script or module a run used besides the script it was given: a step (`run_script`) or
/// an imported module, with the hash of the source that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// `step` or `module`.
    pub kind: String,
    /// The name it was called by (`apim`, `site/common`, `1.x-to-2.0.0`, `step.rhai`).
    pub name: String,
    /// Where it was read from; `None` when bundled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<std::path::PathBuf>,
    pub sha256: String,
}

/// Everything a script run described.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub script: ScriptInfo,
    pub packs: Vec<PackEntry>,
    pub params: std::collections::BTreeMap<String, String>,
    pub actions: Vec<Action>,
    pub reminders: Vec<Reminder>,
    pub warnings: Vec<Warning>,
    pub findings: Vec<Finding>,
    /// Steps a script left out because of a node's profile (`profile_has`).
    #[serde(default)]
    pub skipped_for_profile: Vec<ProfileSkip>,
    /// Steps and checkpoints, in order.
    pub marks: Vec<Mark>,
    /// Set when `run` stopped at a checkpoint.
    pub stopped_at: Option<Checkpoint>,
    /// Set under `--continue`.
    pub continues: Option<Continues>,
    /// The steps and modules the script used, in the order they were first used.
    #[serde(default)]
    pub sources: Vec<Source>,
}

impl Plan {
    pub fn pack(&self, role: Role) -> Option<&PackEntry> {
        self.packs.iter().find(|pack| pack.role == role)
    }
}

/// Modes travel as octal strings (`"0644"`), which is how operators read them.
pub mod octal_mode {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &u32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{mode:04o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        let text = String::deserialize(deserializer)?;
        u32::from_str_radix(&text, 8).map_err(serde::de::Error::custom)
    }
}
