//! What the primitives share during one evaluation: the planner, the catalogue, the params,
//! what the script printed, the options of the run, and the budget of time and memory.

use super::{DEFAULT_TIME_LIMIT_SECONDS, MAX_SCRIPT_MEMORY};
use crate::change::planner::Planner;
use crate::pack::stock::Catalogue;
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
    pub sources: Rc<RefCell<Vec<crate::change::plan::Source>>>,
    /// When the current evaluation started, for the time and memory limits.
    pub budget: Rc<Budget>,
}

/// The time and memory an evaluation may use, counted from its start: a `run` has one
/// evaluation, the REPL one per statement.
#[derive(Debug)]
pub struct Budget {
    pub(super) started: std::cell::Cell<Instant>,
    pub(super) memory_ceiling: std::cell::Cell<usize>,
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
#[derive(Debug, Clone)]
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
    /// How progress is shown (`change::progress::silent()` for no one watching).
    pub progress: std::sync::Arc<dyn crate::change::progress::Meter>,
    /// `--old-stock`: a stock pack of the old release, for `migrate_config`.
    pub old_stock: Option<std::path::PathBuf>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            stop_at_checkpoint: false,
            resume: None,
            script_dir: None,
            time_limit: None,
            libs: Vec::new(),
            progress: crate::change::progress::silent(),
            old_stock: None,
        }
    }
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
    pub findings: Vec<crate::change::plan::Finding>,
}

pub type SharedSession = Rc<RefCell<Session>>;
