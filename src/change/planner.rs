//! The planner: the one type through which every change to a pack is described. It confines
//! paths to the target packs, compares with what is on disk (or already planned), and records
//! actions; nothing here writes to disk.

use super::lookup::{look_up_copy, LookedUp, Missing};
use super::progress::Progress;
use crate::change::plan::{
    Action, ActionKind, Checkpoint, Content, Continues, Effect, FileState, Finding, Mark, MarkKind,
    Origin, PackEntry, Plan, ProfileSkip, Reminder, ScriptInfo, Status, Warning,
};
use crate::pack::files;
use crate::pack::parallel::in_order;
use crate::pack::{Overlaid, Pack, Role, SourceFile, Stat, STATE_DIR};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::path::Path;
use std::sync::Arc;

/// The error a thread of `in_order` found, taken out of its result (which goes back to that
/// thread to be freed).
fn take_error(error: &mut anyhow::Error) -> anyhow::Error {
    std::mem::replace(error, anyhow::anyhow!("taken"))
}

/// A pack opened for a run, with its role.
#[derive(Debug, Clone)]
pub struct PackSlot {
    pub role: Role,
    pub pack: Pack,
    /// Whether this run may change it (every role but `old`).
    pub target: bool,
    /// The part of the deployment the pack's node runs (detected, or given).
    pub profile: crate::pack::profile::NodeProfile,
    /// What the pack says of its profiles (which it has, what each turns off).
    pub facts: std::sync::Arc<crate::pack::profile::Facts>,
}

impl PackSlot {
    /// A slot with the profile the pack's files say.
    pub fn new(role: Role, pack: Pack) -> PackSlot {
        let profile = crate::pack::profile::detect(&pack);
        let facts = std::sync::Arc::new(crate::pack::profile::Facts::of(&pack));
        PackSlot {
            role,
            pack,
            target: role.is_target(),
            profile,
            facts,
        }
    }
}

/// Records what a script asks for; see the module documentation.
pub struct Planner {
    slots: Vec<PackSlot>,
    actions: Vec<Action>,
    reminders: Vec<Reminder>,
    warnings: Vec<Warning>,
    skipped_for_profile: Vec<ProfileSkip>,
    findings: Vec<Finding>,
    marks: Vec<Mark>,
    /// The files planned so far: for each pack and path, the index in `actions` of its
    /// latest change (whose `after` and `content` say what the file will be). Only the
    /// index is kept, hashed by the action's pack and path: at 100,000 tenants a map of
    /// paths and states was a sixth of the planner's memory.
    planned: hashbrown::HashTable<u32>,
    hasher: std::collections::hash_map::RandomState,
    /// The names of the primitives that recorded actions, each held once.
    primitive_names: Vec<Arc<str>>,
    /// The same files by pack, as the finders see them (`view`); shared with the views
    /// handed out, in layers: what is planned while a view is held goes into a new one
    /// (`pack::overlay`), nothing is copied.
    overlays: HashMap<Role, crate::pack::overlay::Overlay>,
    /// While set, nothing is recorded: under `--continue`, the part of a script before the
    /// checkpoint it resumes from was done by an earlier run.
    discarding: bool,
    stopped_at: Option<Checkpoint>,
    continues: Option<Continues>,
    /// The steps (`run_script`) being run, outermost first: reminders made inside a step
    /// are named after it, so that two steps' `data-migration` reminders both stay.
    steps: Vec<String>,
    /// Shows how many actions are planned (hidden unless asked for).
    progress: std::sync::Arc<dyn Progress>,
}

impl std::fmt::Debug for Planner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planner")
            .field("slots", &self.slots)
            .field("actions", &self.actions.len())
            .finish_non_exhaustive()
    }
}

impl Planner {
    pub fn new(slots: Vec<PackSlot>) -> Planner {
        Planner {
            slots,
            actions: Vec::new(),
            reminders: Vec::new(),
            warnings: Vec::new(),
            skipped_for_profile: Vec::new(),
            findings: Vec::new(),
            marks: Vec::new(),
            planned: hashbrown::HashTable::new(),
            hasher: std::collections::hash_map::RandomState::new(),
            primitive_names: Vec::new(),
            overlays: HashMap::new(),
            discarding: false,
            stopped_at: None,
            continues: None,
            steps: Vec::new(),
            progress: std::sync::Arc::new(super::progress::Silent),
        }
    }

    /// How many actions are recorded so far.
    pub fn recorded(&self) -> usize {
        self.actions.len()
    }

    /// Shows the count of planned actions on `progress` as they are recorded.
    pub fn set_progress(&mut self, progress: std::sync::Arc<dyn Progress>) {
        self.progress = progress;
    }

    /// Enters a step (reminder ids get `script/` in front) until `leave_step`.
    pub fn enter_step(&mut self, script: &str) {
        self.steps.push(script.to_string());
    }

    pub fn leave_step(&mut self) {
        self.steps.pop();
    }

    /// The pack in `role` as the finders should see it: with the files planned so far.
    pub fn view(&self, role: Role) -> Result<Pack> {
        let slot = self.slot(role)?;
        match self.overlays.get(&role) {
            Some(overlay) => Ok(slot.pack.with_overlay(overlay.clone())),
            None => Ok(slot.pack.clone()),
        }
    }

    /// Starts or stops discarding (see the field).
    pub fn set_discarding(&mut self, discarding: bool) {
        self.discarding = discarding;
    }

    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Marks where a step starts or a checkpoint stands.
    pub fn mark(&mut self, kind: MarkKind) {
        self.marks.push(Mark {
            before: self.actions.len(),
            kind,
        });
    }

    /// Records that the run stops at this checkpoint.
    pub fn stop_at(&mut self, checkpoint: Checkpoint) {
        self.stopped_at = Some(checkpoint);
    }

    pub fn stopped_at(&self) -> Option<&Checkpoint> {
        self.stopped_at.as_ref()
    }

    /// Records the earlier run this one continues.
    pub fn set_continues(&mut self, continues: Continues) {
        self.continues = Some(continues);
    }

    /// Adds a finding; one with the same id replaces the earlier one, so that a focused
    /// primitive can refine what a general one found.
    pub fn find(&mut self, finding: Finding) {
        if self.discarding {
            return;
        }
        match self
            .findings
            .iter_mut()
            .find(|existing| existing.id == finding.id && existing.carried_from.is_none())
        {
            Some(existing) if finding.carried_from.is_none() => *existing = finding,
            _ => self.findings.push(finding),
        }
    }

    pub fn slot(&self, role: Role) -> Result<&PackSlot> {
        self.slots
            .iter()
            .find(|slot| slot.role == role)
            .with_context(|| format!("no `{role}` pack was given"))
    }

    /// The pack in `role`, which the run may write.
    pub fn target(&self, role: Role) -> Result<&PackSlot> {
        let slot = self.slot(role)?;
        if !slot.target {
            bail!(
                "the `{role}` pack (`{}`) is only read, never written: give a target pack such as `new`",
                slot.pack.home.display()
            );
        }
        Ok(slot)
    }

    /// Checks a target-relative path and returns it as the plan records it.
    fn target_path(&self, role: Role, relative: &str) -> Result<String> {
        let slot = self.target(role)?;
        let (relative, _) = target_file(&slot.pack, relative)?;
        Ok(relative)
    }

    /// The state of a target file as it will be after the actions planned so far.
    fn current_state(&self, role: Role, relative: &str) -> Result<Option<FileState>> {
        if let Some(planned) = self.planned(role, relative) {
            return Ok(planned.after.clone());
        }
        let pack = &self.slot(role)?.pack;
        // Most targets of a large run do not exist yet: one `stat` says so.
        if pack.target_metadata(relative)?.is_none() {
            return Ok(None);
        }
        Ok(pack
            .hashes
            .file_state(&pack.root, relative)?
            .map(|(sha256, mode)| FileState { sha256, mode }))
    }

    /// Reads a file of any pack as it will be after the actions planned so far; `None`
    /// when it does not exist.
    pub fn read(&self, role: Role, relative: &str) -> Result<Option<Vec<u8>>> {
        let relative = files::confined_relative(relative)?;
        if let Some(planned) = self.planned(role, &relative) {
            return match &planned.content {
                Content::Bytes(bytes) => Ok(Some(bytes.to_vec())),
                Content::File(source) => source
                    .read_parsed()
                    .map(Some)
                    .map_err(|error| crate::pack::read_error(&source.path(), error)),
                Content::None => Ok(None),
            };
        }
        let slot = self.slot(role)?;
        match slot.pack.read(&relative) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(crate::pack::read_error(
                &files::join(&slot.pack.home, &relative),
                error,
            )),
        }
    }

    /// Whether a path exists in a pack, counting files planned so far.
    pub fn exists(&self, role: Role, relative: &str) -> Result<bool> {
        let relative = files::confined_relative(relative)?;
        if self.planned(role, &relative).is_some() {
            return Ok(true);
        }
        let pack = &self.slot(role)?.pack;
        Ok(pack.is_link(&relative) || pack.reach(&relative).is_ok())
    }

    /// Plans a copy of a file of a source pack into a target pack, keeping its mode (and,
    /// when applied, its modification time). A source that is a link is followed only while
    /// it stays inside its pack.
    pub fn copy_from_pack(
        &mut self,
        primitive: &str,
        from_role: Role,
        source_relative: &str,
        to_role: Role,
        dest_relative: &str,
    ) -> Result<Status> {
        let source_relative = files::confined_relative(source_relative)?;
        let label = format!("{from_role}:{source_relative}");
        if let Some((state, content)) = self
            .planned(from_role, &source_relative)
            .and_then(|planned| Some((planned.after.clone()?, planned.content.clone())))
        {
            // Planned into the source earlier in this run (a step before, in `plan`):
            // the bytes come from where that plan takes them.
            let relative = self.target_path(to_role, dest_relative)?;
            let before = self.current_state(to_role, &relative)?;
            return Ok(self.record_change(
                primitive,
                ActionKind::Copy,
                to_role,
                relative.into(),
                Some(Origin::Pack(from_role, source_relative.into())),
                before,
                state,
                content,
                None,
            ));
        }
        let from = self.slot(from_role)?.pack.clone();
        let shown = from.root.shown(&source_relative);
        // Links anywhere in the path count, not only in the last component: a link is
        // followed only while it stays inside its pack.
        let (stat, real) = match from
            .reach(&source_relative)
            .with_context(|| format!("cannot read `{shown}`"))?
        {
            crate::pack::Reach::Outside(real) => {
                let reason = format!(
                    "`{}` is reached through a link that points outside the `{from_role}` pack (to `{}`); links are never followed out of a pack: copy its target by hand if it is needed",
                    crate::pack::name::shown(&label),
                    crate::pack::name::shown_path(&real)
                );
                self.warn(primitive, &reason, None);
                self.skip(primitive, to_role, dest_relative, &reason)?;
                return Ok(Status::Skipped);
            }
            crate::pack::Reach::Inside { stat, real } => (stat, real),
        };
        if !stat.is_file() {
            bail!("`{shown}` is not a regular file");
        }
        let source = SourceFile::in_pack(&from.root, &real);
        let origin = Origin::Pack(from_role, source_relative.into());
        self.copy_file(primitive, source, &stat, origin, to_role, dest_relative)
    }

    /// Plans copies of many files of a source pack into a target pack, as `copy_from_pack`
    /// does one by one, and says how many were planned. The files come in groups (a
    /// tenant's user stores): `pairs_of` gives each group's sources and targets. Finding
    /// them and what does not depend on the plan so far (where each source leads, its hash
    /// and mode, the target's state on disk) is done on all cores, a few hundred groups
    /// ahead of the recording here: with thousands of tenants, those lookups were most of
    /// the time of planning.
    pub fn copy_all_from_pack<G: Send>(
        &mut self,
        primitive: &str,
        from_role: Role,
        to_role: Role,
        groups: impl Iterator<Item = G> + Send,
        pairs_of: impl Fn(G) -> Result<Vec<(Arc<str>, Arc<str>)>> + Sync,
    ) -> Result<usize> {
        let from = self.slot(from_role)?.pack.clone();
        let to = self.target(to_role)?.pack.clone();
        let mut planned = 0;
        in_order(
            groups,
            Missing::default,
            |missing, group| {
                let pairs = pairs_of(group)?;
                Ok(pairs
                    .into_iter()
                    .map(|(source, dest)| {
                        let looked = look_up_copy(&from, &to, &source, &dest, missing);
                        (source, dest, looked)
                    })
                    .collect::<Vec<_>>())
            },
            |looked_up: &mut Result<Vec<_>>| {
                let looked_up = looked_up.as_mut().map_err(take_error)?;
                for (source, dest, looked) in looked_up {
                    self.copy_looked_up(primitive, from_role, to_role, source, dest, looked)?;
                    planned += 1;
                }
                Ok(())
            },
        )?;
        // The views' map of what was planned here: its last recent entries settled into the
        // full map (see `pack::overlay`).
        if let Some(overlay) = self.overlays.get_mut(&to_role) {
            overlay.compact();
        }
        Ok(planned)
    }

    /// `copy_all_from_pack` for one copy, looked up.
    fn copy_looked_up(
        &mut self,
        primitive: &str,
        from_role: Role,
        to_role: Role,
        source: &Arc<str>,
        dest: &Arc<str>,
        looked: &mut Result<LookedUp>,
    ) -> Result<()> {
        let from_overlay = files::confined(source)
            .is_ok_and(|relative| self.planned(from_role, &relative).is_some());
        if from_overlay {
            self.copy_from_pack(primitive, from_role, source, to_role, dest)?;
            return Ok(());
        }
        let looked = looked.as_mut().map_err(take_error)?.made_here();
        let Some((mode, sha256)) = looked.source else {
            // Reached through a link that leaves the pack: the one-by-one path warns and
            // skips it.
            self.copy_from_pack(primitive, from_role, source, to_role, dest)?;
            return Ok(());
        };
        let before = match self.planned(to_role, &looked.dest_relative) {
            Some(planned) => planned.after.clone(),
            None => looked.dest_state,
        };
        self.record_change(
            primitive,
            ActionKind::Copy,
            to_role,
            looked.dest_relative,
            Some(Origin::Pack(from_role, looked.source_relative)),
            before,
            FileState { sha256, mode },
            Content::File(looked.source_path),
            None,
        );
        Ok(())
    }

    /// Plans a copy of a file from anywhere (for example a JDBC driver given by path).
    pub fn copy_from_path(
        &mut self,
        primitive: &str,
        source: &Path,
        to_role: Role,
        dest_relative: &str,
    ) -> Result<Status> {
        let shown = crate::pack::name::shown_path(source);
        let source = source
            .canonicalize()
            .with_context(|| format!("cannot read `{shown}`"))?;
        let source = SourceFile::outside(source);
        let (_, stat) = source
            .open()
            .map_err(|error| crate::pack::read_error(&source.path(), error))?;
        let label = crate::pack::name::from_os(source.path().as_os_str()).into_owned();
        let origin = Origin::Shown(label.into_boxed_str());
        self.copy_file(primitive, source, &stat, origin, to_role, dest_relative)
    }

    fn copy_file(
        &mut self,
        primitive: &str,
        source: SourceFile,
        stat: &Stat,
        origin: Origin,
        to_role: Role,
        dest_relative: &str,
    ) -> Result<Status> {
        let relative = self.target_path(to_role, dest_relative)?;
        let after = FileState {
            sha256: self.slot(to_role)?.pack.hashes.sha256_file(&source, stat)?,
            mode: stat.mode,
        };
        let before = self.current_state(to_role, &relative)?;
        let content = Content::File(source);
        Ok(self.record_change(
            primitive,
            ActionKind::Copy,
            to_role,
            relative.into(),
            Some(origin),
            before,
            after,
            content,
            None,
        ))
    }

    /// Plans writing `bytes` to a target file: an edit of an existing file (with a diff when
    /// both sides are text) or a new file with `new_mode`.
    pub fn write(
        &mut self,
        primitive: &str,
        to_role: Role,
        dest_relative: &str,
        bytes: Vec<u8>,
        new_mode: u32,
    ) -> Result<Status> {
        let relative = self.target_path(to_role, dest_relative)?;
        let before = self.current_state(to_role, &relative)?;
        let old_bytes = match &before {
            Some(_) => self.read(to_role, &relative)?,
            None => None,
        };
        let diff = unified_diff(&relative, old_bytes.as_deref().unwrap_or_default(), &bytes);
        let after = FileState {
            sha256: files::ContentHash::of(&bytes),
            mode: before.as_ref().map_or(new_mode, |state| state.mode),
        };
        Ok(self.record_change(
            primitive,
            ActionKind::Edit,
            to_role,
            relative.into(),
            None,
            before,
            after,
            Content::Bytes(Arc::new(bytes)),
            diff,
        ))
    }

    /// The `seq` of the next action. A plan is held in memory, some 200 bytes an action: it
    /// runs out of memory long before it has 4 billion of them.
    fn next_seq(&self) -> u32 {
        u32::try_from(self.actions.len() + 1).expect("fewer than 4 billion actions in a plan")
    }

    #[allow(clippy::too_many_arguments)]
    fn record_change(
        &mut self,
        primitive: &str,
        kind: ActionKind,
        role: Role,
        relative: Arc<str>,
        source: Option<Origin>,
        before: Option<FileState>,
        after: FileState,
        content: Content,
        diff: Option<String>,
    ) -> Status {
        let unchanged = before.as_ref() == Some(&after);
        if self.discarding {
            return if unchanged {
                Status::Unchanged
            } else {
                Status::Planned
            };
        }
        let (status, effect) = match (&before, unchanged) {
            (_, true) => (Status::Unchanged, None),
            (None, false) => (Status::Planned, Some(Effect::Create)),
            (Some(_), false) => (Status::Planned, Some(Effect::Replace)),
        };
        if !unchanged {
            let overlaid = match &content {
                Content::File(source) => Some(Overlaid::File(source.clone())),
                Content::Bytes(bytes) => Some(Overlaid::Bytes(bytes.clone())),
                Content::None => None,
            };
            if let Some(overlaid) = overlaid {
                self.overlays
                    .entry(role)
                    .or_default()
                    .insert(relative.clone(), overlaid);
            }
        }
        self.progress.set(self.actions.len() + 1);
        let primitive = self.primitive_name(primitive);
        self.actions.push(Action {
            seq: self.next_seq(),
            primitive,
            action: kind,
            pack: role,
            path: relative,
            source,
            status,
            effect,
            reason: None,
            before,
            after: Some(after),
            diff: if unchanged {
                None
            } else {
                diff.map(String::into_boxed_str)
            },
            content: if unchanged { Content::None } else { content },
        });
        if !unchanged {
            self.note_planned(self.actions.len() - 1);
        }
        status
    }

    /// `primitive`'s name, shared by all its actions.
    fn primitive_name(&mut self, primitive: &str) -> Arc<str> {
        if let Some(name) = self
            .primitive_names
            .iter()
            .find(|name| &***name == primitive)
        {
            return name.clone();
        }
        let name: Arc<str> = Arc::from(primitive);
        self.primitive_names.push(name.clone());
        name
    }

    /// The latest change planned to `relative` of the pack in `role`.
    fn planned(&self, role: Role, relative: &str) -> Option<&Action> {
        let hash = self.hasher.hash_one((role, relative));
        self.planned
            .find(hash, |&index| {
                let action = &self.actions[index as usize];
                action.pack == role && &*action.path == relative
            })
            .map(|&index| &self.actions[index as usize])
    }

    /// Makes the action at `index` the latest change of its file.
    fn note_planned(&mut self, index: usize) {
        let actions = &self.actions;
        let hasher = &self.hasher;
        let action = &actions[index];
        let hash = hasher.hash_one((action.pack, &*action.path));
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        match self.planned.entry(
            hash,
            |&other| {
                let other = &actions[other as usize];
                other.pack == action.pack && other.path == action.path
            },
            |&other| {
                let other = &actions[other as usize];
                hasher.hash_one((other.pack, &*other.path))
            },
        ) {
            hashbrown::hash_table::Entry::Occupied(mut entry) => *entry.get_mut() = index,
            hashbrown::hash_table::Entry::Vacant(entry) => {
                entry.insert(index);
            }
        }
    }

    /// Records something deliberately not done, with why.
    pub fn skip(&mut self, primitive: &str, role: Role, path: &str, reason: &str) -> Result<()> {
        self.record_note(
            primitive,
            ActionKind::Skip,
            Status::Skipped,
            role,
            path,
            reason,
        )
    }

    /// Records a check that needed no change, with what was found.
    pub fn check(&mut self, primitive: &str, role: Role, path: &str, finding: &str) -> Result<()> {
        self.record_note(
            primitive,
            ActionKind::Check,
            Status::Unchanged,
            role,
            path,
            finding,
        )
    }

    fn record_note(
        &mut self,
        primitive: &str,
        kind: ActionKind,
        status: Status,
        role: Role,
        path: &str,
        reason: &str,
    ) -> Result<()> {
        if self.discarding {
            return Ok(());
        }
        let path = files::confined_relative(path).unwrap_or_else(|_| path.to_string());
        self.progress.set(self.actions.len() + 1);
        let primitive = self.primitive_name(primitive);
        self.actions.push(Action {
            seq: self.next_seq(),
            primitive,
            action: kind,
            pack: role,
            path: path.into(),
            source: None,
            status,
            effect: None,
            reason: Some(reason.into()),
            before: None,
            after: None,
            diff: None,
            content: Content::None,
        });
        Ok(())
    }

    /// Adds a reminder; a second reminder with the same id replaces the first, so a script
    /// can refine a standard reminder.
    pub fn remind(&mut self, id: &str, message: &str) {
        if self.discarding {
            return;
        }
        let id = match self.steps.last() {
            Some(step) => format!("{step}/{id}"),
            None => id.to_string(),
        };
        let id = id.as_str();
        let reminder = Reminder {
            id: id.to_string(),
            message: message.to_string(),
        };
        match self.reminders.iter_mut().find(|existing| existing.id == id) {
            Some(existing) => *existing = reminder,
            None => self.reminders.push(reminder),
        }
    }

    pub fn reminders(&self) -> &[Reminder] {
        &self.reminders
    }

    /// Records a step left out because of a node's profile (an identical one once).
    pub fn skip_for_profile(&mut self, skip: ProfileSkip) {
        if !self.discarding && !self.skipped_for_profile.contains(&skip) {
            self.skipped_for_profile.push(skip);
        }
    }

    /// Adds a warning (an identical one is not repeated).
    pub fn warn(&mut self, primitive: &str, message: &str, detail: Option<String>) {
        if self.discarding {
            return;
        }
        let warning = Warning {
            message: message.to_string(),
            primitive: (!primitive.is_empty()).then(|| primitive.to_string()),
            detail,
        };
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    pub fn into_plan(self, script: ScriptInfo, params: BTreeMap<String, String>) -> Plan {
        Plan {
            script,
            packs: self
                .slots
                .iter()
                .map(|slot| PackEntry {
                    role: slot.role,
                    home: slot.pack.home.clone(),
                    product: slot.pack.product.key().to_string(),
                    distribution: (!slot.pack.distribution.is_full())
                        .then(|| slot.pack.stock_key().to_string()),
                    version: slot.pack.version.clone(),
                    target: slot.target,
                    profile: Some(slot.profile.clone()),
                })
                .collect(),
            params,
            actions: self.actions,
            reminders: self.reminders,
            skipped_for_profile: self.skipped_for_profile,
            warnings: self.warnings,
            findings: self.findings,
            marks: self.marks,
            stopped_at: self.stopped_at,
            continues: self.continues,
            sources: Vec::new(),
        }
    }
}

/// A target path checked (relative, no `..`, not the tool's own history, no link on the way)
/// with what is there on disk.
fn target_file(pack: &Pack, relative: &str) -> Result<(String, Option<Stat>)> {
    let relative = target_path(relative)?.into_owned();
    let stat = pack.target_metadata(&relative)?;
    Ok((relative, stat))
}

/// A target path checked (relative, no `..`, not the tool's own history), as the plan
/// records it.
pub(super) fn target_path(relative: &str) -> Result<std::borrow::Cow<'_, str>> {
    let relative = files::confined(relative)?;
    if is_state_path(&relative) {
        bail!(
            "`{}` is the tool's own history; scripts cannot write there",
            crate::pack::name::shown(&relative)
        );
    }
    Ok(relative)
}

/// Whether a pack-relative path is the tool's state directory or inside it.
pub fn is_state_path(relative: &str) -> bool {
    relative
        .strip_prefix(STATE_DIR)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A unified diff of two texts, or `None` when either is not UTF-8.
pub fn unified_diff(path: &str, old: &[u8], new: &[u8]) -> Option<String> {
    let old = std::str::from_utf8(old).ok()?;
    let new = std::str::from_utf8(new).ok()?;
    let diff = similar::TextDiff::from_lines(old, new);
    let text = diff
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    (!text.is_empty()).then_some(text)
}
