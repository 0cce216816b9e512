//! The Rhai layer: builds a sandboxed engine, registers the primitive groups, runs a script
//! and turns what it described into a plan. This layer never sees clap types and never prints.

mod ciphertool;
mod helpers;
mod jdbc;
mod keystores;
mod packs;
mod sequences;
mod steps;
mod synapse;
mod userstores;

pub use packs::PackHandle;

use crate::plan::{Plan, ScriptInfo};
use crate::planner::{PackSlot, Planner};
use crate::scripts::{self, Script};
use crate::stock::Catalogue;
use rhai::{Dynamic, Engine, EvalAltResult, Position, Scope};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Everything the primitives share during one script run.
pub struct Session {
    pub planner: Planner,
    pub catalogue: Catalogue,
    pub params: BTreeMap<String, String>,
    /// What `print` and `debug` wrote, shown with the report.
    pub output: Vec<String>,
    pub options: PlanOptions,
    /// Whether the checkpoint `options.resume` names has been reached.
    pub resumed: bool,
    /// How deep `run_script` calls are nested.
    pub depth: usize,
    /// The steps and modules used so far (shared with the module resolver).
    pub sources: Rc<RefCell<Vec<crate::plan::Source>>>,
    /// When the current evaluation started, for the time and memory limits.
    pub budget: Rc<Budget>,
}

/// The time and memory an evaluation may use, counted from its start: a `run` has one
/// evaluation, the REPL one per statement.
#[derive(Debug)]
pub struct Budget {
    started: std::cell::Cell<Instant>,
    memory_ceiling: std::cell::Cell<usize>,
}

impl Budget {
    fn new() -> Budget {
        let budget = Budget {
            started: std::cell::Cell::new(Instant::now()),
            memory_ceiling: std::cell::Cell::new(0),
        };
        budget.restart();
        budget
    }

    /// Starts counting again from now and from what the process holds now.
    pub fn restart(&self) {
        self.started.set(Instant::now());
        self.memory_ceiling
            .set(crate::allocated().saturating_add(MAX_SCRIPT_MEMORY));
    }
}

impl Session {
    /// A new session, shared with the engine's callbacks.
    pub fn shared(
        planner: Planner,
        catalogue: Catalogue,
        params: BTreeMap<String, String>,
        options: PlanOptions,
    ) -> SharedSession {
        Rc::new(RefCell::new(Session {
            planner,
            catalogue,
            params,
            output: Vec::new(),
            options,
            resumed: false,
            depth: 0,
            sources: Rc::default(),
            budget: Rc::new(Budget::new()),
        }))
    }
}

/// How a script's checkpoints behave.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// `run`: stop at the first checkpoint met (after the one resumed from). `plan` goes on
    /// past checkpoints, planning what follows as if the steps before were applied.
    pub stop_at_checkpoint: bool,
    /// `--continue`: the earlier run, the checkpoint it stopped at, and what it found.
    pub resume: Option<Resume>,
    /// The directory of the script given on the command line, for `run_script` paths.
    pub script_dir: Option<std::path::PathBuf>,
    /// `--time-limit`; `None` for the default.
    pub time_limit: Option<Duration>,
    /// `--lib` directories, where `import` looks after the script's own directory.
    pub libs: Vec<std::path::PathBuf>,
    /// Show progress on stderr (a terminal, not `--quiet`).
    pub show_progress: bool,
}

impl PlanOptions {
    pub fn time_limit(&self) -> Duration {
        self.time_limit
            .unwrap_or(Duration::from_secs(DEFAULT_TIME_LIMIT_SECONDS))
    }
}

/// Where a `--continue` run picks up.
#[derive(Debug, Clone)]
pub struct Resume {
    pub run_id: String,
    pub checkpoint: String,
    pub findings: Vec<crate::plan::Finding>,
}

pub type SharedSession = Rc<RefCell<Session>>;

/// The documentation of one primitive: the single source for `docs`, `--help` and README.
#[derive(Debug, Clone, Copy)]
pub struct PrimitiveDoc {
    pub name: &'static str,
    pub signature: &'static str,
    pub summary: &'static str,
    pub example: &'static str,
}

/// A group of primitives: how to register them, and their documentation.
struct Group {
    register: fn(&mut Engine, &SharedSession),
    docs: &'static [PrimitiveDoc],
}

/// Every group the engine registers, in the order the documentation lists them.
const GROUPS: [Group; 9] = [
    Group {
        register: packs::register,
        docs: packs::DOCS,
    },
    Group {
        register: keystores::register,
        docs: keystores::DOCS,
    },
    Group {
        register: userstores::register,
        docs: userstores::DOCS,
    },
    Group {
        register: sequences::register,
        docs: sequences::DOCS,
    },
    Group {
        register: synapse::register,
        docs: synapse::DOCS,
    },
    Group {
        register: jdbc::register,
        docs: jdbc::DOCS,
    },
    Group {
        register: ciphertool::register,
        docs: ciphertool::DOCS,
    },
    Group {
        register: steps::register,
        docs: steps::DOCS,
    },
    Group {
        register: helpers::register,
        docs: helpers::DOCS,
    },
];

/// The documentation of every primitive, in registration order.
pub fn primitive_docs() -> Vec<PrimitiveDoc> {
    GROUPS
        .iter()
        .flat_map(|group| group.docs.iter().copied())
        .collect()
}

/// Registers a primitive with the names of its parameters and its documentation (the `DOCS`
/// entry whose signature shows it), so that the definitions `defs` writes for editors show
/// `copy_file(from: Pack, path: string, to: Pack)` with its summary and example.
pub(crate) fn primitive<
    A: 'static,
    const N: usize,
    const X: bool,
    R: rhai::Variant + Clone,
    const F: bool,
    FUNC: rhai::RhaiNativeFunc<A, N, X, R, F> + 'static,
>(
    engine: &mut Engine,
    name: &str,
    params: [&str; N],
    func: FUNC,
) {
    let mut info: Vec<String> = params
        .iter()
        .zip(FUNC::param_names())
        .map(|(param, type_name)| format!("{param}: {type_name}"))
        .collect();
    info.push(std::any::type_name::<R>().to_string());
    rhai::FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments(primitive_comment(name))
        .register_into_engine(engine, func);
}

/// The doc comment of a primitive for definition files: its summary and its example.
fn primitive_comment(name: &str) -> Option<String> {
    let call = format!("{name}(");
    let doc = primitive_docs().into_iter().find(|doc| {
        doc.signature
            .split(" | ")
            .any(|alternative| alternative.starts_with(&call))
    })?;
    let mut comment = crate::report::wrap(doc.summary, "/// ", "/// ");
    comment.push_str("\n///\n/// ```rhai");
    for line in doc.example.lines() {
        comment.push_str("\n/// ");
        comment.push_str(line);
    }
    comment.push_str("\n/// ```");
    Some(comment)
}

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
/// count a map grown by index assignment against `MAX_MAP_SIZE`).
pub const MAX_SCRIPT_MEMORY: usize = 256 * 1024 * 1024;
/// The default of `--time-limit`.
pub const DEFAULT_TIME_LIMIT_SECONDS: u64 = 10;

/// Builds an engine with the sandbox limits and every primitive registered.
pub fn build_engine(session: &SharedSession) -> Engine {
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
        engine.set_module_resolver(scripts::ScriptModules::new(dirs, session.sources.clone()));
    }
    let time_limit = session.borrow().options.time_limit();
    let budget = session.borrow().budget.clone();
    budget.restart();
    engine.on_progress(move |_| {
        if crate::allocated() > budget.memory_ceiling.get() {
            return Some(Dynamic::from(format!(
                "the script used more than {} MiB of memory and was stopped (data growing without end?)",
                MAX_SCRIPT_MEMORY / (1024 * 1024)
            )));
        }
        (budget.started.get().elapsed() > time_limit).then(|| {
            Dynamic::from(format!(
                "the script ran for more than {} seconds and was stopped (an endless loop? for very large packs, raise --time-limit)",
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
    for group in &GROUPS {
        (group.register)(&mut engine, session);
    }
    engine
}

/// An engine built as a run builds it, with no packs and nothing planned: for what can be
/// known of scripts without running them (`check`, `defs`).
pub fn engine_without_packs() -> Engine {
    let session = Session::shared(
        Planner::new(Vec::new()),
        Catalogue::builtin(),
        BTreeMap::new(),
        PlanOptions::default(),
    );
    build_engine(&session)
}

/// A script error located in its source, rendered with the line and a caret.
#[derive(Debug)]
pub struct ScriptError {
    pub message: String,
    pub source_name: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub line_text: Option<String>,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "\n  --> {}:{line}:{column}", self.source_name)?;
            if let Some(text) = &self.line_text {
                let gutter = " ".repeat(line.to_string().len());
                write!(
                    f,
                    "\n{gutter} |\n{line} | {text}\n{gutter} | {}^",
                    " ".repeat(column.saturating_sub(1))
                )?;
            }
        } else {
            write!(f, "\n  --> {}", self.source_name)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

impl ScriptError {
    pub fn new(script: &Script, error: &EvalAltResult) -> ScriptError {
        // The outermost position is in the script the user wrote; the innermost error says
        // what actually went wrong (inside a function or a stdlib module).
        let position = error.position();
        let mut innermost = error;
        let mut trail = Vec::new();
        loop {
            match innermost {
                EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => {
                    if !name.starts_with("anon$") {
                        trail.push(format!("in `{name}`"));
                    }
                    innermost = inner;
                }
                EvalAltResult::ErrorInModule(name, inner, _) => {
                    trail.push(format!("in module `{name}`"));
                    innermost = inner;
                }
                _ => break,
            }
        }
        let mut message = match innermost {
            EvalAltResult::ErrorTooManyOperations(_) => format!(
                "the script ran more than {MAX_OPERATIONS} operations and was stopped (an endless loop?)"
            ),
            EvalAltResult::ErrorStackOverflow(_) => format!(
                "the script nested calls more than {MAX_CALL_LEVELS} deep and was stopped (runaway recursion?)"
            ),
            EvalAltResult::ErrorDataTooLarge(what, _) => format!(
                "{what} too large: the script was stopped (limits: strings {} MiB, arrays {} items, maps {} items)",
                MAX_STRING_SIZE / (1024 * 1024),
                MAX_ARRAY_SIZE,
                MAX_MAP_SIZE
            ),
            EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
            EvalAltResult::ErrorTerminated(value, _) => value.to_string(),
            other => {
                // Rhai appends ` (line N, position M)`; the location is rendered separately.
                let text = other.to_string();
                match text.rsplit_once(" (line ") {
                    Some((head, _)) => head.to_string(),
                    None => text,
                }
            }
        };
        if !trail.is_empty() {
            message = format!("{message} ({})", trail.join(", "));
        }
        ScriptError::at(script, message, position)
    }

    pub fn at(script: &Script, message: String, position: Position) -> ScriptError {
        let line = position.line();
        let column = position.position();
        ScriptError {
            message,
            source_name: script.name.clone(),
            line,
            column: line.map(|_| column.unwrap_or(1)),
            // An error at the end of the file (an unclosed block) is on the empty line after it.
            line_text: line.and_then(|line| {
                script
                    .source
                    .lines()
                    .nth(line - 1)
                    .map(str::to_string)
                    .or_else(|| (line == script.source.lines().count() + 1).then(String::new))
            }),
        }
    }
}

/// Runs `script` against the packs and returns what it described.
pub fn plan(
    script: &Script,
    slots: Vec<PackSlot>,
    params: BTreeMap<String, String>,
    catalogue: Catalogue,
    options: PlanOptions,
) -> Result<(Plan, Vec<String>), ScriptError> {
    let packs: Vec<(String, Dynamic)> = ["old", "new", "km", "via"]
        .iter()
        .map(|role| {
            let value = slots
                .iter()
                .find(|slot| slot.role == *role)
                .map(|slot| Dynamic::from(PackHandle::new(slot)))
                .unwrap_or(Dynamic::UNIT);
            (role.to_string(), value)
        })
        .collect();
    let resume = options.resume.clone();
    let mut planner = Planner::new(slots);
    let progress = crate::progress::Progress::planning(options.show_progress);
    planner.set_progress(progress.clone());
    if let Some(resume) = &resume {
        // Everything before the checkpoint resumed from was done by the earlier run.
        planner.set_discarding(true);
        planner.set_continues(crate::plan::Continues {
            run_id: resume.run_id.clone(),
            checkpoint: resume.checkpoint.clone(),
        });
    }
    let session = Session::shared(planner, catalogue, params.clone(), options);
    let engine = build_engine(&session);
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
            return Err(ScriptError {
                message: format!(
                    "run {} stopped at checkpoint `{}`, but this script has no such checkpoint (was the script changed?); nothing was planned",
                    resume.run_id, resume.checkpoint
                ),
                source_name: script.name.clone(),
                line: None,
                column: None,
                line_text: None,
            });
        }
    }
    let session = Rc::try_unwrap(session)
        .map_err(|_| ScriptError {
            message: "internal: the script session is still in use".to_string(),
            source_name: script.name.clone(),
            line: None,
            column: None,
            line_text: None,
        })?
        .into_inner();
    let info = ScriptInfo {
        name: script.name.clone(),
        sha256: crate::fsx::sha256_bytes(script.source.as_bytes()),
        source: None,
    };
    let mut plan = session.planner.into_plan(info, params);
    plan.sources = session.sources.take();
    Ok((plan, session.output))
}

/// The scope a script starts with: the packs by role (`()` when not given) and `params`.
pub(crate) fn script_scope(
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

/// Turns an error of the host into a script error at the call site.
pub(crate) fn script_error(error: anyhow::Error) -> Box<EvalAltResult> {
    format!("{error:#}").into()
}

/// Shorthand for primitives' results.
pub(crate) type ScriptResult<T> = Result<T, Box<EvalAltResult>>;

/// One primitive's documentation as text: signature, summary, example (`docs NAME`, `:help`).
pub fn render_doc(doc: &PrimitiveDoc) -> String {
    let mut out = format!("{}\n", doc.signature);
    out.push_str(&crate::report::wrap(doc.summary, "    ", "    "));
    out.push_str("\n    example:\n");
    for line in doc.example.lines() {
        out.push_str(&format!("        {line}\n"));
    }
    out
}

/// The primitive reference as Markdown, for README.md (kept fresh by a test).
pub fn primitive_reference_markdown() -> String {
    let mut out = String::new();
    for doc in primitive_docs() {
        out.push_str(&format!("#### `{}`\n\n", doc.signature));
        out.push_str(doc.summary);
        out.push_str("\n\n```rhai\n");
        out.push_str(doc.example);
        out.push_str("\n```\n\n");
    }
    out
}
