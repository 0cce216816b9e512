//! Scripts made of steps: `run_script` runs another script as one step, and `checkpoint`
//! marks where a `run` stops for work done outside the tool (a data migration), to go on
//! later with `--continue`.

use super::Registry;
use crate::change::plan::{Checkpoint, CheckpointState, MarkKind, ScriptInfo};
use crate::engine::{
    script_error, script_scope, PackHandle, ScriptError, ScriptResult, SharedSession,
};
use crate::pack::Role;
use crate::script::Script;
use rhai::{Dynamic, EvalAltResult, Map, NativeCallContext};

/// How deep `run_script` calls may nest (a script running itself ends here).
pub const MAX_STEP_DEPTH: usize = 8;

/// The value a checkpoint terminates a `run` with; never shown to the user.
const STOP: &str = "apim-migrate: stopped at a checkpoint";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "run_script",
            "Runs another script (a bundled name, or a `.rhai` path relative to the calling script's directory) as one step of this one, with `packs` as its `old`, `new`, `km` and `via` (a map; missing ones are `()`), and the same `--set` params. Its actions are part of this run's plan, journal and rollback; the plan and the report show where the step starts. Under `--continue`, a step before the checkpoint resumed from is not run again.",
            r#"run_script("1.x-to-2.0.0", #{ old: old, new: via });
run_script("2.0.0-to-4.0.0", #{ old: via, new: new, km: km });"#,
        )
        .form(["script", "packs"], |shared| move |context: NativeCallContext, script: &str, packs: Map| -> ScriptResult<()> {
            run_script(&shared, &context, script, packs)
        });
    registry
        .primitive(
            "checkpoint",
            "Marks a point where work outside this tool must happen (a data migration, for example). `run` applies what was planned before it and stops there, exit 0, showing `message` and the exact command to go on: the same command with `--continue`, which skips everything before the checkpoint (it was done) and carries the earlier run's findings into its report. `plan` goes on past checkpoints, planning what follows as if the steps before were applied. `name`: letters, digits, `.`, `-`, `_`; unique in the script.",
            r#"checkpoint("2.0.0-data-migration", `run the 2.0.0 migration client on ${via.home}, then continue`);"#,
        )
        .form(["name", "message"], |shared| move |context: NativeCallContext, name: &str, message: &str| -> ScriptResult<()> {
            checkpoint(&shared, &context, name, message)
        });
}

fn checkpoint(
    session: &SharedSession,
    context: &NativeCallContext,
    name: &str,
    message: &str,
) -> ScriptResult<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(script_error(anyhow::anyhow!(
            "checkpoint name `{name}`: use letters, digits, `.`, `-` and `_`"
        )));
    }
    if message.trim().is_empty() {
        return Err(script_error(anyhow::anyhow!(
            "checkpoint `{name}` needs a message that says what to do before continuing"
        )));
    }
    let mut session = session.borrow_mut();
    let session = &mut *session;
    let message = message.trim().to_string();
    if let Some(resume) = &session.options.resume {
        if !session.resumed {
            if resume.checkpoint == name {
                session.resumed = true;
                session.planner.set_discarding(false);
                session.planner.mark(MarkKind::Checkpoint {
                    name: name.to_string(),
                    message,
                    state: CheckpointState::Resumed,
                });
                for finding in &resume.findings {
                    let mut finding = finding.clone();
                    if finding.carried_from.is_none() {
                        finding.carried_from =
                            Some(format!("run {}, before checkpoint `{name}`", resume.run_id));
                    }
                    session.planner.find(finding);
                }
            }
            // An earlier checkpoint, passed by an earlier run.
            return Ok(());
        }
    }
    if session.options.stop_at_checkpoint {
        session.planner.mark(MarkKind::Checkpoint {
            name: name.to_string(),
            message: message.clone(),
            state: CheckpointState::Stop,
        });
        session.planner.stop_at(Checkpoint {
            name: name.to_string(),
            message,
            continue_with: String::new(),
        });
        return Err(Box::new(EvalAltResult::ErrorTerminated(
            Dynamic::from(STOP),
            context.call_position(),
        )));
    }
    session.planner.mark(MarkKind::Checkpoint {
        name: name.to_string(),
        message,
        state: CheckpointState::Preview,
    });
    Ok(())
}

fn run_script(
    session: &SharedSession,
    context: &NativeCallContext,
    name: &str,
    packs: Map,
) -> ScriptResult<()> {
    let mut bound = Vec::new();
    let mut roles = std::collections::BTreeMap::new();
    for (key, value) in &packs {
        if Role::parse(key).is_none() {
            return Err(script_error(anyhow::anyhow!(
                "run_script: `{key}` is not a pack name; use old, new, km and via"
            )));
        }
        if value.is_unit() {
            continue;
        }
        let Some(handle) = value.clone().try_cast::<PackHandle>() else {
            return Err(script_error(anyhow::anyhow!(
                "run_script: `{key}` must be a pack (such as `old` or `via`) or `()`, not {}",
                value.type_name()
            )));
        };
        roles.insert(key.to_string(), handle.role.to_string());
        bound.push((key.to_string(), handle));
    }
    let (script_dir, depth, resuming_at, params) = {
        let session = session.borrow();
        (
            session.options.script_dir.clone(),
            session.depth,
            session
                .options
                .resume
                .as_ref()
                .filter(|_| !session.resumed)
                .map(|resume| resume.checkpoint.clone()),
            session.params.clone(),
        )
    };
    if depth >= MAX_STEP_DEPTH {
        return Err(script_error(anyhow::anyhow!(
            "run_script: steps nest more than {MAX_STEP_DEPTH} deep (does a script run itself?)"
        )));
    }
    let script = Script::load_step(name, script_dir.as_deref()).map_err(script_error)?;
    // Under `--continue`, a step before the checkpoint resumed from was done: it is not run
    // again, unless the checkpoint is inside it (then it runs, recording nothing until the
    // checkpoint).
    if let Some(checkpoint) = resuming_at {
        if !script.source.contains(&format!("\"{checkpoint}\"")) {
            let mut session = session.borrow_mut();
            let run_id = session
                .options
                .resume
                .as_ref()
                .map(|resume| resume.run_id.clone())
                .unwrap_or_default();
            session.planner.mark(MarkKind::StepDone {
                script: script.name.clone(),
                reason: format!(
                    "done by run {run_id}, before the checkpoint this run continues from"
                ),
            });
            return Ok(());
        }
    }
    {
        let mut session = session.borrow_mut();
        session.planner.mark(MarkKind::Step {
            script: ScriptInfo {
                name: script.name.clone(),
                sha256: crate::pack::files::sha256_bytes(script.source.as_bytes()),
                path: script
                    .path
                    .as_ref()
                    .and_then(|path| path.canonicalize().ok()),
                source: None,
            },
            packs: roles,
        });
        session.planner.enter_step(&script.name);
        session.depth += 1;
        let used = crate::change::plan::Source {
            kind: "step".to_string(),
            name: script.name.clone(),
            path: script.path.clone(),
            sha256: crate::pack::files::sha256_bytes(script.source.as_bytes()),
        };
        let mut sources = session.sources.borrow_mut();
        if !sources.contains(&used) {
            sources.push(used);
        }
    }
    let values: Vec<(String, Dynamic)> = Role::DECLARED
        .iter()
        .map(|role| {
            let value = bound
                .iter()
                .find(|(key, _)| role.as_str() == key.as_str())
                .map(|(_, handle)| Dynamic::from(handle.clone()))
                .unwrap_or(Dynamic::UNIT);
            (role.to_string(), value)
        })
        .collect();
    let mut scope = script_scope(values, &params);
    let engine = context.engine();
    let result = engine
        .compile(&script.source)
        .map_err(|error| {
            Box::new(EvalAltResult::ErrorParsing(*error.0, error.1)) as Box<EvalAltResult>
        })
        .and_then(|mut ast| {
            ast.set_source(script.name.as_str());
            engine.run_ast_with_scope(&mut scope, &ast)
        });
    let mut session_ref = session.borrow_mut();
    session_ref.depth -= 1;
    session_ref.planner.leave_step();
    match result {
        Ok(()) => Ok(()),
        // A checkpoint inside the step stops the whole run: pass it on untouched.
        Err(error) if session_ref.planner.stopped_at().is_some() => Err(error),
        Err(error) => {
            let located = match *error {
                EvalAltResult::ErrorParsing(ref parse, position) => {
                    ScriptError::at(&script, parse.to_string(), position)
                }
                ref other => ScriptError::new(&script, other),
            };
            let prefix = format!("in step `{}`: ", script.name);
            if located.message.starts_with(&prefix) {
                // A script that runs itself: one layer says it all.
                return Err(script_error(anyhow::anyhow!("{}", located.message)));
            }
            Err(script_error(anyhow::anyhow!("{prefix}{located}")))
        }
    }
}
