//! The only code that changes a pack: plans (plain data), the planner that records them,
//! apply and rollback, the journal, the tool's state in a pack and its locks. Knows no Rhai
//! and no terminal.

pub mod apply;
mod batch;
pub mod disk;
pub mod hashes;
pub mod journal;
mod lookup;
pub mod plan;
pub mod planner;
pub mod progress;
pub mod reports;
pub mod rollback;
pub mod run_state;
mod runlog;
pub mod state;
pub mod target;
