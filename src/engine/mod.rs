//! The Rhai sandbox: an engine with limits on operations, depth, sizes, modules, memory and
//! time, no `eval`, `new` usable as a name, and `print`/`debug` routed into the report. It
//! runs a script to a plan. The primitives are registered by whoever builds the engine (see
//! `Registrar`): this layer knows none of them, never sees clap types and never prints.

mod error;
mod handle;
mod session;

pub use error::{script_error, ScriptError, ScriptResult};
pub use handle::PackHandle;
pub use session::{Budget, PlanOptions, Resume, Session, SharedSession};

use crate::change::plan::{Plan, ScriptInfo};
use crate::change::planner::{PackSlot, Planner};
use crate::pack::stock::Catalogue;
use crate::pack::Role;
use crate::script::{self, Script};
use rhai::{Dynamic, Engine, Scope};
use std::collections::BTreeMap;
use std::rc::Rc;

/// Registers the primitives into an engine (`primitives::register_all`).
pub type Registrar = fn(&mut Engine, &SharedSession);

/// Limits that keep a buggy or hostile script from running away. An endless loop of plain
/// statements reaches `MAX_OPERATIONS` in well under a second (release build); one that
/// calls slow primitives meets the time limit; data that grows without bound meets the size
/// limits or `MAX_SCRIPT_MEMORY`.
pub const MAX_OPERATIONS: u64 = 10_000_000;
pub const MAX_CALL_LEVELS: usize = 64;
pub const MAX_EXPR_DEPTH: usize = 64;
pub const MAX_FUNCTION_EXPR_DEPTH: usize = 32;
pub const MAX_STRING_SIZE: usize = 4 * 1024 * 1024;
/// Rhai re-measures an array at each change, so a growing array costs the square of its
/// size: 50,000 keeps a runaway `push` loop under a second.
pub const MAX_ARRAY_SIZE: usize = 50_000;
pub const MAX_MAP_SIZE: usize = 50_000;
pub const MAX_MODULES: usize = 32;
pub const MAX_FUNCTIONS: usize = 512;
/// Heap the script may use beyond what the process held when it started (Rhai does not
/// count a map grown by index assignment against `MAX_MAP_SIZE`). The plan the primitives
/// build is the tool's, not the script's: it grows with the packs, and is left out (see
/// `Budget::progress`); `MAX_ACTIONS` bounds it instead.
pub const MAX_SCRIPT_MEMORY: usize = 256 * 1024 * 1024;
/// How many actions a script may plan: a pack of a million tenants needs about 1.3 million.
pub const MAX_ACTIONS: usize = 2_000_000;
/// How many times a script may make the tool look at files (a `stat`, an open, a directory
/// entry): a script that calls a primitive over and over ends here. The standard script
/// makes about 12 per file it copies (1.5 million at 100,000 tenants).
pub const MAX_FILE_OPERATIONS: u64 = 50_000_000;
/// The stack scripts run on (see `commands::main`): reserved, and used only as deep as a
/// script's values nest. Rhai drops and compares nested values (a chain of closures each
/// holding the one before, arrays in arrays) recursively, about 180 bytes of stack a level
/// in a release build and 280 in a debug build; the operation limit keeps nesting under
/// about 3.3 million levels (each level costs at least three operations), which this stack
/// holds, so that no script can overflow it.
pub const SCRIPT_STACK: usize = 1024 * 1024 * 1024;
/// The default of `--time-limit`.
pub const DEFAULT_TIME_LIMIT_SECONDS: u64 = 10;

/// Builds an engine with the sandbox limits and every primitive registered.
pub fn build_engine(session: &SharedSession, register: Registrar) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(MAX_CALL_LEVELS);
    engine.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FUNCTION_EXPR_DEPTH);
    engine.set_max_string_size(MAX_STRING_SIZE);
    engine.set_max_array_size(MAX_ARRAY_SIZE);
    engine.set_max_map_size(MAX_MAP_SIZE);
    engine.set_max_modules(MAX_MODULES);
    engine.set_max_functions(MAX_FUNCTIONS);
    engine.disable_symbol("eval");
    // Rhai reserves `new` as a keyword; here it is the name of the target pack, which the
    // migration guides call "new" too, so the token is handed to the parser as a name.
    // `on_parse_token` is marked volatile by rhai (shown as deprecated), not going away.
    #[allow(deprecated)]
    engine.on_parse_token(|token, _, _| match token {
        rhai::Token::Reserved(name) if name.as_str() == "new" => rhai::Token::Identifier(name),
        other => other,
    });
    {
        let session = session.borrow();
        let dirs = session
            .options
            .script_dir
            .iter()
            .chain(session.options.libs.iter())
            .filter_map(|dir| dir.canonicalize().ok())
            .collect();
        engine.set_module_resolver(script::ScriptModules::new(dirs, session.sources.clone()));
    }
    let time_limit = session.borrow().options.time_limit();
    let budget = session.borrow().budget.clone();
    budget.restart();
    let planner = session.clone();
    engine.on_progress(move |_| {
        if crate::interrupt::requested() {
            return Some(Dynamic::from(format!(
                "{} while the script was planned; nothing was changed",
                crate::interrupt::Interrupted
            )));
        }
        let actions = planner
            .try_borrow()
            .ok()
            .map(|session| session.planner.recorded());
        let progress = budget.progress(actions);
        if actions.is_some_and(|actions| actions > MAX_ACTIONS) {
            return Some(Dynamic::from(format!(
                "the script planned more than {MAX_ACTIONS} actions and was stopped (a loop planning without end?)"
            )));
        }
        if crate::allocated() > progress.heap_ceiling {
            return Some(Dynamic::from(format!(
                "the script used more than {} MiB of memory and was stopped (data growing without end?)",
                MAX_SCRIPT_MEMORY / (1024 * 1024)
            )));
        }
        let (spent, looked) = (progress.own_time, progress.file_operations);
        if looked > MAX_FILE_OPERATIONS {
            return Some(Dynamic::from(format!(
                "the script made the tool look at files more than {MAX_FILE_OPERATIONS} times and was stopped (a loop calling a primitive without end?)"
            )));
        }
        (spent > time_limit).then(|| {
            Dynamic::from(format!(
                "the script ran for more than {} seconds and was stopped (an endless loop? the time spent looking at the packs does not count; raise --time-limit if the script needs longer)",
                time_limit.as_secs()
            ))
        })
    });
    let printed = session.clone();
    engine.on_print(move |text| printed.borrow_mut().output.push(text.to_string()));
    let debugged = session.clone();
    engine.on_debug(move |text, _, position| {
        debugged
            .borrow_mut()
            .output
            .push(format!("[debug {position}] {text}"))
    });
    register(&mut engine, session);
    engine
}

/// Whether `source` is cut short: Rhai's parser reached its end while expecting more
/// (`x = 1 +`, `let y =`), so that a REPL statement goes on on the next line. A statement
/// that is complete, or wrong in another way, is not.
pub fn ends_early(source: &str) -> bool {
    thread_local! {
        static SYNTAX: Engine = {
            let mut engine = Engine::new_raw();
            engine.disable_symbol("eval");
            #[allow(deprecated)]
            engine.on_parse_token(|token, _, _| match token {
                rhai::Token::Reserved(name) if name.as_str() == "new" => {
                    rhai::Token::Identifier(name)
                }
                other => other,
            });
            engine
        };
    }
    SYNTAX.with(|engine| {
        matches!(engine.compile(source), Err(error) if matches!(*error.0, rhai::ParseErrorType::UnexpectedEOF))
    })
}

/// An engine built as a run builds it, with no packs and nothing planned: for what can be
/// known of scripts without running them (`check`, `defs`).
pub fn engine_without_packs(register: Registrar) -> Engine {
    let session = Session::shared(
        Planner::new(Vec::new()),
        Catalogue::builtin(),
        BTreeMap::new(),
        PlanOptions::default(),
    );
    build_engine(&session, register)
}

/// Runs `script` against the packs and returns what it described.
pub fn plan(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    options: PlanOptions,
    register: Registrar,
) -> Result<(Plan, Vec<String>), ScriptError> {
    error::clear_input_error();
    let packs = pack_values(&slots);
    let resume = options.resume.clone();
    let mut planner = Planner::new(slots);
    let progress = options.progress.planning();
    planner.set_progress(progress.clone());
    if let Some(resume) = &resume {
        // Everything before the checkpoint resumed from was done by the earlier run.
        planner.set_discarding(true);
        planner.set_continues(crate::change::plan::Continues {
            run_id: resume.run_id.clone(),
            checkpoint: resume.checkpoint.clone(),
        });
    }
    let session = Session::shared(planner, catalogue, params.clone(), options);
    let engine = build_engine(&session, register);
    let mut scope = script_scope(packs, &params);

    let mut ast = engine
        .compile(&script.source)
        .map_err(|error| ScriptError::at(script, error.0.to_string(), error.1))?;
    ast.set_source(script.name.as_str());
    let result = engine.run_ast_with_scope(&mut scope, &ast);
    progress.finish();
    if let Err(error) = result {
        // A checkpoint ends a `run` by terminating the script; anything else is an error.
        if session.borrow().planner.stopped_at().is_none() {
            return Err(ScriptError::new(script, &error));
        }
    }
    drop(engine);
    if let Some(resume) = &resume {
        if !session.borrow().resumed {
            return Err(ScriptError::whole(
                script,
                format!(
                    "run {} stopped at checkpoint `{}`, but this script has no such checkpoint (was the script changed?); nothing was planned",
                    resume.run_id, resume.checkpoint
                ),
            ));
        }
    }
    let session = Rc::try_unwrap(session)
        .map_err(|_| {
            ScriptError::whole(
                script,
                "internal: the script session is still in use".to_string(),
            )
        })?
        .into_inner();
    let info = ScriptInfo {
        name: script.name.clone(),
        sha256: crate::pack::files::sha256_bytes(script.source.as_bytes()),
        path: script
            .path
            .as_ref()
            .and_then(|path| path.canonicalize().ok()),
        source: None,
    };
    let mut plan = session.planner.into_plan(info, params);
    plan.sources = session.sources.take();
    Ok((plan, session.output))
}

/// The packs of a run as scripts see them, by role: a `Pack`, or `()` when not given.
pub fn pack_values(slots: &[PackSlot]) -> Vec<(String, Dynamic)> {
    Role::DECLARED
        .iter()
        .map(|role| {
            let value = slots
                .iter()
                .find(|slot| slot.role == *role)
                .map(|slot| Dynamic::from(PackHandle::new(slot)))
                .unwrap_or(Dynamic::UNIT);
            (role.to_string(), value)
        })
        .collect()
}

/// The scope a script starts with: the packs by role (`()` when not given) and `params`.
pub fn script_scope(
    packs: Vec<(String, Dynamic)>,
    params: &BTreeMap<String, String>,
) -> Scope<'static> {
    let mut scope = Scope::new();
    for (role, value) in packs {
        scope.push_constant(role, value);
    }
    let params_map: rhai::Map = params
        .iter()
        .map(|(key, value)| (key.as_str().into(), Dynamic::from(value.clone())))
        .collect();
    scope.push_constant("params", params_map);
    scope
}
