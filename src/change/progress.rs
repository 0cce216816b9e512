//! How far long work got: the planner counts the actions it records, apply the changes it
//! made. This layer only reports numbers; what a person sees (a spinner, a bar) is drawn by
//! `report::progress`, and by nothing at all when no one watches.

use std::sync::Arc;

/// One display of progress.
pub trait Progress: Send + Sync {
    /// `done` items so far.
    fn set(&self, done: usize);
    /// The work is over: the display goes away (the report follows).
    fn finish(&self);
}

/// Makes the displays of the two long phases of a run.
pub trait Meter: Send + Sync + std::fmt::Debug {
    /// While a script is planned (the count of actions is not known in advance).
    fn planning(&self) -> Arc<dyn Progress>;
    /// While `total` changes are applied.
    fn applying(&self, total: usize) -> Arc<dyn Progress>;
}

/// No display: pipes, `--json`, `--quiet`, tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn set(&self, _done: usize) {}
    fn finish(&self) {}
}

impl Meter for Silent {
    fn planning(&self) -> Arc<dyn Progress> {
        Arc::new(Silent)
    }
    fn applying(&self, _total: usize) -> Arc<dyn Progress> {
        Arc::new(Silent)
    }
}

/// The meter of no one watching.
pub fn silent() -> Arc<dyn Meter> {
    Arc::new(Silent)
}
