//! The only code that changes a pack: plans (plain data), the planner that records them,
//! apply and rollback, the journal and its locks. Knows no Rhai and no terminal.

pub mod apply;
pub mod disk;
pub mod hashes;
pub mod journal;
pub mod plan;
pub mod planner;
pub mod progress;
pub mod reports;
pub mod rollback;
pub mod run_state;
