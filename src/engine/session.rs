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

/// The time, memory and file operations an evaluation may use, counted from its start: a
/// `run` has one evaluation, the REPL one per statement.
#[derive(Debug)]
pub struct Budget {
    pub(super) started: std::cell::Cell<Instant>,
    pub(super) memory_ceiling: std::cell::Cell<usize>,
    /// When the engine last reported progress: the time, the file operations made, the
    /// heap, and the actions planned then.
    pub(super) last: std::cell::Cell<(Instant, u64, usize, usize)>,
    /// Heap the plan took (growth while the planner recorded actions): the tool's, not the
    /// script's, so it is not counted against `MAX_SCRIPT_MEMORY`.
    pub(super) planned_heap: std::cell::Cell<usize>,
    /// Time spent looking at packs (in primitives), which the time limit leaves out: it is
    /// bounded by `MAX_FILE_OPERATIONS` instead, and grows with the packs, not the script.
    pub(super) looking: std::cell::Cell<Duration>,
    pub(super) file_operations_at_start: std::cell::Cell<u64>,
}

impl Budget {
    fn new() -> Budget {
        let budget = Budget {
            started: std::cell::Cell::new(Instant::now()),
            memory_ceiling: std::cell::Cell::new(0),
            last: std::cell::Cell::new((Instant::now(), 0, 0, 0)),
            planned_heap: std::cell::Cell::new(0),
            looking: std::cell::Cell::new(Duration::ZERO),
            file_operations_at_start: std::cell::Cell::new(0),
        };
        budget.restart();
        budget
    }

    /// Starts counting again from now and from what the process holds now.
    pub fn restart(&self) {
        let now = Instant::now();
        let operations = crate::pack::root::file_operations();
        self.started.set(now);
        self.memory_ceiling
            .set(crate::allocated().saturating_add(MAX_SCRIPT_MEMORY));
        self.last.set((now, operations, crate::allocated(), 0));
        self.planned_heap.set(0);
        self.looking.set(Duration::ZERO);
        self.file_operations_at_start.set(operations);
    }

    /// Notes the engine's progress now, with the count of actions planned so far (when the
    /// planner can be asked): the time since the last note counts as time spent looking at
    /// packs when files were looked at meanwhile, and the heap taken meanwhile as the plan's
    /// when actions were recorded (at most `HEAP_PER_ACTION` each). Returns the script's own
    /// time so far, the file operations it caused, and the heap it may hold.
    pub(super) fn progress(&self, actions: Option<usize>) -> Progress {
        let now = Instant::now();
        let operations = crate::pack::root::file_operations();
        let heap = crate::allocated();
        let (last, last_operations, last_heap, last_actions) = self.last.get();
        if operations != last_operations {
            self.looking
                .set(self.looking.get() + now.duration_since(last));
        }
        let actions = actions.unwrap_or(last_actions);
        if actions > last_actions {
            let grown = heap.saturating_sub(last_heap);
            let allowed = (actions - last_actions).saturating_mul(HEAP_PER_ACTION);
            self.planned_heap
                .set(self.planned_heap.get().saturating_add(grown.min(allowed)));
        }
        self.last.set((now, operations, heap, actions));
        Progress {
            own_time: now
                .duration_since(self.started.get())
                .saturating_sub(self.looking.get()),
            file_operations: operations.saturating_sub(self.file_operations_at_start.get()),
            heap_ceiling: self
                .memory_ceiling
                .get()
                .saturating_add(self.planned_heap.get()),
        }
    }
}

/// What `Budget::progress` found.
pub(super) struct Progress {
    pub(super) own_time: Duration,
    pub(super) file_operations: u64,
    pub(super) heap_ceiling: usize,
}

/// The most heap a planned action (with its place in the overlay and the hash cache) is
/// taken to hold: what a primitive allocates beyond that while planning counts as the
/// script's.
const HEAP_PER_ACTION: usize = 16 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_taken_while_actions_were_planned_is_the_plans_not_the_scripts() {
        let budget = Budget::new();
        let start = budget.progress(Some(0)).heap_ceiling;
        // Grown while a primitive recorded 100 actions: the plan's.
        let plan: Vec<u8> = vec![1; 1 << 20];
        let planned = budget.progress(Some(100)).heap_ceiling;
        assert!(planned >= start + (1 << 19), "{start} -> {planned}");
        // Grown with no action recorded: the script's, the ceiling stays.
        let data: Vec<u8> = vec![2; 1 << 20];
        assert_eq!(budget.progress(Some(100)).heap_ceiling, planned);
        // At most `HEAP_PER_ACTION` an action.
        let more: Vec<u8> = vec![3; 4 << 20];
        let one = budget.progress(Some(101)).heap_ceiling;
        assert!(one <= planned + HEAP_PER_ACTION, "{planned} -> {one}");
        drop((plan, data, more));
    }
}
