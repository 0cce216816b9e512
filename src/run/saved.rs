//! Saved plans: `plan --out FILE` writes what a run would apply (planned as `run` plans it,
//! stopping at a checkpoint), the request that made it (script and its hash, packs,
//! profiles, `--set`, catalogues and their hashes, `--lib`) and a fingerprint of every pack;
//! `run --plan FILE` rebuilds the request, and under the locks of the targets refuses (exit
//! 2, nothing changed) if a pack's fingerprint, the script, a catalogue or the plan itself
//! differs from what was saved, then applies exactly that plan.

use super::{apply_planned, plan_prepared, prepare, Executed, Options, Packs, Request};
use crate::change::plan::Plan;
use crate::error::{CommandResult, Failure};
use crate::pack::fingerprint::Fingerprint;
use crate::pack::Role;
use crate::script::Script;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a plan file says it is.
const FORMAT: &str = "apim-migrate plan";
/// The version of the plan file's layout.
const FORMAT_VERSION: u32 = 1;

/// A plan file.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format: String,
    pub format_version: u32,
    /// The apim-migrate that saved it: only the same version applies it.
    pub tool_version: String,
    pub saved: String,
    pub request: SavedRequest,
    /// Each pack as the plan saw it.
    pub fingerprints: BTreeMap<Role, Fingerprint>,
    pub plan: Plan,
}

/// The request a saved plan came from, with absolute paths.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedRequest {
    /// A bundled name, or the script's absolute path.
    pub script: String,
    pub script_sha256: String,
    pub packs: BTreeMap<Role, PathBuf>,
    pub profile: Option<String>,
    pub old_profile: Option<String>,
    pub set: Vec<String>,
    /// The `--stock` catalogues, each with its SHA-256.
    pub stock: Vec<(PathBuf, String)>,
    pub libs: Vec<PathBuf>,
    /// `--old-stock`, absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_stock: Option<PathBuf>,
    pub time_limit_seconds: u64,
    pub resume: bool,
}

/// Plans `request` as `run` would apply it and returns the plan with the file to save.
/// The fingerprints are taken before planning: a pack changed while it was planned no longer
/// matches them, so such a plan is refused when applied, never applied over the change.
pub fn plan_to_save(request: &Request) -> CommandResult<(Executed, SavedPlan)> {
    let mut request = request.clone();
    request.options.apply = false;
    request.options.as_run = true;
    let Some(prepared) = prepare(&request, false)? else {
        return Err(Failure::bad_input(
            "--continue: no run is waiting at a checkpoint",
        ));
    };
    let mut fingerprints = BTreeMap::new();
    let mut packs = BTreeMap::new();
    for slot in &prepared.slots {
        fingerprints.insert(slot.role, fingerprint(slot.role, &slot.pack.home)?);
        packs.insert(slot.role, slot.pack.home.clone());
    }
    let script = match &request.script.path {
        Some(path) => absolute(path).display().to_string(),
        None => request.script.name.clone(),
    };
    let mut stock = Vec::new();
    for file in &request.options.stock {
        stock.push((absolute(file), file_sha256(file)?));
    }
    let saved_request = SavedRequest {
        script,
        script_sha256: crate::pack::files::sha256_bytes(request.script.source.as_bytes()),
        packs,
        profile: request.packs.profile.clone(),
        old_profile: request.packs.old_profile.clone(),
        set: request.options.set.clone(),
        stock,
        old_stock: request.options.old_stock.as_deref().map(absolute),
        libs: request
            .options
            .libs
            .iter()
            .map(|dir| absolute(dir))
            .collect(),
        time_limit_seconds: request.options.time_limit.as_secs(),
        resume: request.options.resume,
    };
    let executed = plan_prepared(prepared)?;
    let saved = SavedPlan {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        saved: crate::change::journal::now(),
        request: saved_request,
        fingerprints,
        plan: executed.plan.clone(),
    };
    Ok((executed, saved))
}

impl SavedPlan {
    /// Writes the plan file (readable by its owner only: diffs of configuration files may
    /// hold secrets).
    pub fn write(&self, path: &Path) -> CommandResult {
        let text = serde_json::to_string_pretty(self).map_err(|error| {
            Failure::bad_input_in(path, format!("cannot encode the plan: {error}"))
        })?;
        crate::change::disk::write_file(path, text.as_bytes(), 0o600)
            .map_err(|error| Failure::bad_input_in(path, format!("--out: {error:#}")))
    }

    /// Reads and checks a plan file.
    pub fn read(path: &Path) -> CommandResult<SavedPlan> {
        let refuse = |message: String| Failure::bad_input_in(path, message);
        let bytes = crate::pack::files::read_regular(path).map_err(|error| {
            refuse(format!(
                "--plan: cannot read `{}`: {error:#} (give a file written by `apim-migrate plan --out FILE`)",
                path.display()
            ))
        })?;
        let head: serde_json::Value = serde_json::from_slice(&bytes).map_err(|error| {
            refuse(format!(
                "--plan: `{}` is not a plan file ({error}); give a file written by `apim-migrate plan --out FILE`",
                path.display()
            ))
        })?;
        if head["format"] != FORMAT {
            return Err(refuse(format!(
                "--plan: `{}` is not a plan file; give a file written by `apim-migrate plan --out FILE`",
                path.display()
            )));
        }
        let version = head["tool_version"].as_str().unwrap_or("?");
        if version != env!("CARGO_PKG_VERSION") || head["format_version"] != FORMAT_VERSION {
            return Err(refuse(format!(
                "--plan: `{}` was saved by apim-migrate {version}, and this is {}: plan again with this version",
                path.display(),
                env!("CARGO_PKG_VERSION")
            )));
        }
        serde_json::from_slice(&bytes).map_err(|error| {
            refuse(format!(
                "--plan: `{}` is damaged ({error}): plan again",
                path.display()
            ))
        })
    }

    /// The request to plan again, checked against what was saved: the script and the
    /// catalogues must be the same bytes.
    pub fn request(&self, path: &Path, base: Options) -> CommandResult<Request> {
        let saved = &self.request;
        let refuse = |message: String| Failure::bad_input_in(path, message);
        let script = Script::load(&saved.script).map_err(|error| {
            refuse(format!(
                "--plan `{}`: its script is gone: {error:#}",
                path.display()
            ))
        })?;
        if crate::pack::files::sha256_bytes(script.source.as_bytes()) != saved.script_sha256 {
            return Err(refuse(format!(
                "--plan `{}`: the script `{}` changed since the plan was saved: plan again",
                path.display(),
                saved.script
            )));
        }
        for (file, sha256) in &saved.stock {
            if file_sha256(file).ok().as_ref() != Some(sha256) {
                return Err(refuse(format!(
                    "--plan `{}`: the stock catalogue `{}` changed since the plan was saved: plan again",
                    path.display(),
                    file.display()
                )));
            }
        }
        let pack = |role: Role| saved.packs.get(&role).cloned();
        let (Some(old), Some(new)) = (pack(Role::Old), pack(Role::New)) else {
            return Err(refuse(format!(
                "--plan `{}`: the plan names no old and new pack: plan again",
                path.display()
            )));
        };
        Ok(Request {
            script,
            packs: Packs {
                old,
                new,
                km: pack(Role::Km),
                via: pack(Role::Via),
                profile: saved.profile.clone(),
                old_profile: saved.old_profile.clone(),
            },
            options: Options {
                set: saved.set.clone(),
                stock: saved.stock.iter().map(|(file, _)| file.clone()).collect(),
                libs: saved.libs.clone(),
                old_stock: saved.old_stock.clone(),
                time_limit: Duration::from_secs(saved.time_limit_seconds),
                resume: saved.resume,
                apply: true,
                as_run: true,
                confirm: None,
                ..base
            },
        })
    }
}

/// Applies the plan saved at `path`: plans it again under the locks of the targets and
/// refuses, before anything changes, if a pack differs from its fingerprint or the plan from
/// the saved one; then applies it. `options` gives how progress is shown.
pub fn apply_saved(path: &Path, options: Options) -> CommandResult<Executed> {
    let saved = SavedPlan::read(path)?;
    let request = saved.request(path, options)?;
    let Some(mut prepared) = prepare(&request, false)? else {
        return Err(Failure::bad_input_in(
            path,
            format!(
                "--plan `{}`: no run is waiting at the checkpoint the plan goes on from: plan again",
                path.display()
            ),
        ));
    };
    for slot in &prepared.slots {
        let Some(then) = saved.fingerprints.get(&slot.role) else {
            continue;
        };
        let now = fingerprint(slot.role, &slot.pack.home)?;
        if &now != then {
            let changed = then.differences(&now);
            let shown: Vec<String> = changed
                .iter()
                .take(3)
                .map(|dir| format!("`{dir}`"))
                .collect();
            let more = match changed.len() {
                0..=3 => String::new(),
                count => format!(" and {} more", count - 3),
            };
            return Err(Failure::bad_input_in(
                path,
                format!(
                    "--plan `{}`: --{} `{}` changed since the plan was saved (in {}{more}): nothing was applied; plan again",
                    path.display(),
                    slot.role,
                    slot.pack.home.display(),
                    shown.join(", ")
                ),
            ));
        }
    }
    let locks = prepared.locks.take();
    let mut executed = plan_prepared(prepared)?;
    if let Some(difference) = first_difference(&saved.plan, &executed.plan) {
        return Err(Failure::bad_input_in(
            path,
            format!(
                "--plan `{}`: planned again, the plan differs from the one saved ({difference}): nothing was applied; plan again",
                path.display()
            ),
        ));
    }
    if executed.message.is_none() {
        let Some(locks) = locks else {
            return Err(Failure::RunFailed(anyhow::anyhow!(
                "internal: a run without the locks of its packs"
            )));
        };
        apply_planned(&mut executed, &locks, request.options.progress.as_ref())?;
    }
    Ok(executed)
}

/// What first differs between the saved plan and the plan made again, in words; `None` when
/// they are the same.
fn first_difference(saved: &Plan, now: &Plan) -> Option<String> {
    let value = |plan: &Plan| serde_json::to_value(plan).unwrap_or_default();
    if value(saved) == value(now) {
        return None;
    }
    for (index, (then, again)) in saved.actions.iter().zip(&now.actions).enumerate() {
        let action = |action| serde_json::to_value(action).unwrap_or_default();
        if action(then) != action(again) {
            return Some(format!(
                "action {} on `{}:{}`",
                index + 1,
                again.pack,
                again.path
            ));
        }
    }
    if saved.actions.len() != now.actions.len() {
        return Some(format!(
            "{} actions saved, {} now",
            saved.actions.len(),
            now.actions.len()
        ));
    }
    Some("its reminders, warnings or findings".to_string())
}

fn fingerprint(role: Role, home: &Path) -> CommandResult<Fingerprint> {
    Fingerprint::of(home)
        .map_err(|error| Failure::bad_input_in(home, format!("--{role}: {error:#}")))
}

fn file_sha256(file: &Path) -> CommandResult<String> {
    crate::pack::files::read_regular(file)
        .map(|bytes| crate::pack::files::sha256_bytes(&bytes))
        .map_err(|error| {
            Failure::bad_input_in(
                file,
                format!("--stock: cannot read `{}`: {error:#}", file.display()),
            )
        })
}

fn absolute(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
