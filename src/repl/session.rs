//! The REPL's evaluator: one engine, one scope and one growing set of functions for the
//! whole session, and for each statement a fresh planner. A statement that describes changes
//! is applied at once through `apply::apply`, with a journal run of its own, so `:undo` (and
//! `apim-migrate rollback`) can take it back. Nothing here reads the terminal or prints.

use crate::change::apply;
use crate::change::journal;
use crate::change::plan::{Plan, ScriptInfo};
use crate::change::planner::{PackSlot, Planner};
use crate::change::rollback::{self, Rollback};
use crate::change::state::TargetLocks;
use crate::engine::{self, PackHandle, PlanOptions, ScriptError, SharedSession};
use crate::error::Failure;
use crate::pack::stock::Catalogue;
use crate::script::{self, Script};
use rhai::{Dynamic, Engine, Scope, AST};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The name statements carry in errors and in the journal.
pub const STATEMENT_NAME: &str = "repl";

/// What became of one statement (or `:load`) of the session.
#[derive(Debug, Clone)]
pub struct Entry {
    pub number: usize,
    pub text: String,
    pub result: EntryResult,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryResult {
    /// Applied as run `run_id`; `undone` once `:undo` took it back.
    Applied {
        run_id: String,
        changes: usize,
        undone: bool,
    },
    /// Shown, not applied (`:plan`, or dry-run mode).
    Planned { changes: usize },
    /// Changed nothing (a query, a definition, or everything already in place).
    NoChange,
    /// The script failed; nothing was applied.
    Failed,
    /// Applying failed and what had been applied was taken back.
    Undone,
}

/// One evaluated statement: its value, the plan it described, what the script printed, and
/// how applying it went.
pub struct Evaluated {
    pub value: Option<String>,
    pub plan: Plan,
    pub output: Vec<String>,
    pub run_id: Option<String>,
    /// Applying failed (and was taken back).
    pub error: Option<String>,
    pub changes: usize,
}

/// How a statement is to be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Apply,
    Show,
}

pub struct Evaluator {
    engine: Engine,
    session: SharedSession,
    scope: Scope<'static>,
    /// Every function defined so far.
    functions: AST,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    locks: Option<TargetLocks>,
    options: PlanOptions,
    pub entries: Vec<Entry>,
    /// Modules imported so far (kept as static modules): alias to functions (name, signature).
    pub modules: BTreeMap<String, Vec<(String, String)>>,
}

impl Evaluator {
    /// A session on `slots`; `locks` must hold every target pack.
    pub fn new(
        slots: Vec<PackSlot>,
        params: BTreeMap<String, String>,
        catalogue: Catalogue,
        options: PlanOptions,
        locks: Option<TargetLocks>,
    ) -> Evaluator {
        let packs = engine::pack_values(&slots);
        let session = engine::Session::shared(
            Planner::new(slots.clone()),
            catalogue,
            params.clone(),
            options.clone(),
        );
        let engine = engine::build_engine(&session, crate::primitives::register_all);
        let scope = engine::script_scope(packs, &params);
        Evaluator {
            engine,
            session,
            scope,
            functions: AST::empty(),
            slots,
            params,
            locks,
            options,
            entries: Vec::new(),
            modules: BTreeMap::new(),
        }
    }

    /// The packs for a new statement's plan: earlier statements may have written to them.
    fn fresh_slots(&self) -> Vec<PackSlot> {
        self.slots
            .iter()
            .map(|slot| PackSlot {
                pack: slot.pack.rechecked(),
                ..slot.clone()
            })
            .collect()
    }

    pub fn slots(&self) -> &[PackSlot] {
        &self.slots
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn catalogue(&self) -> std::cell::Ref<'_, Catalogue> {
        std::cell::Ref::map(self.session.borrow(), |session| &session.catalogue)
    }

    /// The names of the variables and constants in scope.
    pub fn variables(&self) -> Vec<String> {
        self.scope
            .iter_raw()
            .map(|(name, _, _)| name.to_string())
            .collect()
    }

    /// The functions defined so far, as `name(a, b)`.
    pub fn functions(&self) -> Vec<(String, String)> {
        self.functions
            .iter_functions()
            .map(|function| {
                (
                    function.name.to_string(),
                    format!("{}({})", function.name, function.params.join(", ")),
                )
            })
            .collect()
    }

    /// Evaluates a statement typed at the prompt.
    pub fn statement(&mut self, text: &str, mode: Mode) -> Result<Evaluated, ScriptError> {
        let script = Script {
            name: STATEMENT_NAME.to_string(),
            source: text.to_string(),
            path: None,
        };
        let info = ScriptInfo {
            name: STATEMENT_NAME.to_string(),
            sha256: crate::pack::files::sha256_bytes(text.as_bytes()),
            path: None,
            source: Some(text.to_string()),
        };
        let continue_with =
            "(the statement stopped at this checkpoint; what came before it was applied)";
        let outcome = self.evaluate(&script, info, None, mode, continue_with);
        self.record(text, &outcome, mode);
        outcome
    }

    /// Runs a script file (or bundled script) in the session, as one statement: its
    /// functions and variables stay available afterwards. `params` are its `--set` values.
    /// Its header is checked first, as `run` checks it: parameters and accepted packs.
    pub fn load(
        &mut self,
        script: &Script,
        mut params: BTreeMap<String, String>,
        mode: Mode,
        continue_with: &str,
    ) -> Result<Evaluated, ScriptError> {
        let given: Vec<(crate::pack::Role, &crate::pack::Pack)> = self
            .slots
            .iter()
            .map(|slot| (slot.role, &slot.pack))
            .collect();
        let outcome = script
            .header()
            .and_then(|header| {
                header.complete_params(&script.name, &mut params)?;
                header.check_packs(&script.name, &given)
            })
            .map_err(|error| ScriptError {
                message: format!("{error:#}"),
                source_name: script.name.clone(),
                ..ScriptError::default()
            })
            .and_then(|()| {
                let info = ScriptInfo {
                    name: script.name.clone(),
                    sha256: crate::pack::files::sha256_bytes(script.source.as_bytes()),
                    path: script.path.clone(),
                    source: None,
                };
                self.evaluate(script, info, Some(params), mode, continue_with)
            });
        self.record(&format!(":load {}", script.name), &outcome, mode);
        outcome
    }

    fn record(&mut self, text: &str, outcome: &Result<Evaluated, ScriptError>, mode: Mode) {
        let result = match outcome {
            Err(_) => EntryResult::Failed,
            Ok(done) if done.error.is_some() => EntryResult::Undone,
            Ok(done) => match &done.run_id {
                Some(run_id) => EntryResult::Applied {
                    run_id: run_id.clone(),
                    changes: done.changes,
                    undone: false,
                },
                None if done.changes > 0 && mode == Mode::Show => EntryResult::Planned {
                    changes: done.changes,
                },
                None => EntryResult::NoChange,
            },
        };
        let number = self.entries.len() + 1;
        self.entries.push(Entry {
            number,
            text: text.to_string(),
            result,
        });
    }

    fn evaluate(
        &mut self,
        script: &Script,
        info: ScriptInfo,
        params: Option<BTreeMap<String, String>>,
        mode: Mode,
        continue_with: &str,
    ) -> Result<Evaluated, ScriptError> {
        let loading = script.path.is_some() || params.is_some();
        {
            let mut session = self.session.borrow_mut();
            session.planner = Planner::new(self.fresh_slots());
            session.output.clear();
            session.sources.borrow_mut().clear();
            session.depth = 0;
            session.params = params.clone().unwrap_or_else(|| self.params.clone());
            session.options.script_dir = if loading {
                script.dir()
            } else {
                self.options.script_dir.clone()
            };
            session.budget.restart();
        }
        if loading {
            self.set_module_dirs(script.dir());
        }
        if let Some(params) = &params {
            let map: rhai::Map = params
                .iter()
                .map(|(key, value)| (key.as_str().into(), Dynamic::from(value.clone())))
                .collect();
            self.scope.push_constant("params", map);
        }
        let result = self.run(script);
        if loading {
            self.set_module_dirs(self.options.script_dir.clone());
        }
        if params.is_some() {
            let map: rhai::Map = self
                .params
                .iter()
                .map(|(key, value)| (key.as_str().into(), Dynamic::from(value.clone())))
                .collect();
            self.scope.push_constant("params", map);
        }
        let mut session = self.session.borrow_mut();
        let planner = std::mem::replace(&mut session.planner, Planner::new(self.fresh_slots()));
        let value = match result {
            Ok(value) => value,
            // A checkpoint ends the statement; anything else is an error and nothing applies.
            Err(error) if planner.stopped_at().is_some() => {
                drop(error);
                None
            }
            Err(error) => return Err(error),
        };
        let mut plan = planner.into_plan(info, params.unwrap_or_else(|| self.params.clone()));
        plan.sources = session.sources.take();
        if let Some(checkpoint) = &mut plan.stopped_at {
            checkpoint.continue_with = continue_with.to_string();
        }
        let output = std::mem::take(&mut session.output);
        drop(session);
        let changes = plan
            .actions
            .iter()
            .filter(|action| action.is_change())
            .count();
        let mut evaluated = Evaluated {
            value,
            plan,
            output,
            run_id: None,
            error: None,
            changes,
        };
        if changes == 0 || mode == Mode::Show {
            return Ok(evaluated);
        }
        let Some(locks) = &self.locks else {
            return Err(ScriptError {
                message: "no target pack is open (give --new, --km or --via to `repl`)".to_string(),
                source_name: script.name.clone(),
                ..ScriptError::default()
            });
        };
        let run_id = journal::new_run_id();
        let progress = self.options.progress.applying(changes);
        let hashes = crate::pack::hashes::HashCache::default();
        match apply::apply(
            &mut evaluated.plan,
            &run_id,
            locks,
            progress.as_ref(),
            &hashes,
        ) {
            Ok(()) => {}
            Err(Failure::RunFailed(error) | Failure::Interrupted(error)) => {
                evaluated.error = Some(format!("{error:#}"))
            }
            Err(failure @ (Failure::BadInput(_) | Failure::NotConfirmed(_))) => {
                return Err(ScriptError {
                    message: failure.to_string(),
                    source_name: script.name.clone(),
                    ..ScriptError::default()
                })
            }
        }
        evaluated.run_id = Some(run_id);
        Ok(evaluated)
    }

    /// Compiles and evaluates `script` in the session's scope; returns its value, shown
    /// unless it is `()`.
    fn run(&mut self, script: &Script) -> Result<Option<String>, ScriptError> {
        let ast = self
            .engine
            .compile_with_scope(&self.scope, &script.source)
            .map_err(|error| ScriptError::at(script, error.0.to_string(), error.1))?;
        self.functions += ast.clone_functions_only();
        let mut merged = self.functions.merge(&ast);
        merged.set_source(script.name.as_str());
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &merged);
        // Kept even when the script stopped (at a checkpoint, say) after importing.
        self.keep_imports(&ast);
        let value = result.map_err(|error| ScriptError::new(script, &error))?;
        Ok((!value.is_unit()).then(|| show(&value)))
    }

    /// Rhai forgets a statement's imports when it ends; the REPL keeps them as static
    /// modules under their alias, so `apim::path_hint` works on the next line too.
    fn keep_imports(&mut self, ast: &AST) {
        for statement in ast.statements() {
            let rhai::Stmt::Import(import, position) = statement else {
                continue;
            };
            let rhai::Expr::StringConstant(path, _) = &import.0 else {
                continue;
            };
            let alias = import.1.name.to_string();
            if alias.is_empty() {
                continue;
            }
            let resolved =
                self.engine
                    .module_resolver()
                    .resolve(&self.engine, None, path, *position);
            if let Ok(module) = resolved {
                let functions = module
                    .gen_fn_signatures_with_mapper(std::borrow::Cow::Borrowed)
                    .filter_map(|signature| {
                        let name = signature.split('(').next()?.to_string();
                        Some((name, signature))
                    })
                    .collect();
                self.engine.register_static_module(alias.as_str(), module);
                self.modules.insert(alias, functions);
            }
        }
    }

    /// Points `import` at a script's directory (then `--lib`).
    fn set_module_dirs(&mut self, dir: Option<PathBuf>) {
        let dirs = dir
            .iter()
            .chain(self.options.libs.iter())
            .filter_map(|dir| dir.canonicalize().ok())
            .collect();
        let used = self.session.borrow().sources.clone();
        self.engine
            .set_module_resolver(script::ScriptModules::new(dirs, used));
    }

    /// Takes back the last statement applied in this session that is still in effect.
    pub fn undo(&mut self) -> Result<(Entry, Rollback), Failure> {
        let Some(index) = self
            .entries
            .iter()
            .rposition(|entry| matches!(entry.result, EntryResult::Applied { undone: false, .. }))
        else {
            return Err(Failure::bad_input(
                "nothing to undo: no statement of this session changed anything that is still in effect",
            ));
        };
        let EntryResult::Applied { run_id, .. } = &self.entries[index].result else {
            unreachable!("found above")
        };
        let run_id = run_id.clone();
        let Some(locks) = &mut self.locks else {
            return Err(Failure::bad_input("no target pack is open"));
        };
        let homes: Vec<PathBuf> = self
            .slots
            .iter()
            .filter(|slot| slot.target)
            .map(|slot| slot.pack.home.clone())
            .collect();
        let done = rollback::rollback_locked(&homes, false, locks, Some(&run_id))?;
        if let EntryResult::Applied { undone, .. } = &mut self.entries[index].result {
            *undone = true;
        }
        Ok((self.entries[index].clone(), done))
    }
}

/// A value as the REPL shows it: strings quoted, collections in Rhai's notation.
fn show(value: &Dynamic) -> String {
    if let Some(pack) = value.clone().try_cast::<PackHandle>() {
        return format!(
            "Pack {{ role: {}, {} {} at {} }}",
            pack.role, pack.product_name, pack.version, pack.home
        );
    }
    format!("{value:?}")
}
