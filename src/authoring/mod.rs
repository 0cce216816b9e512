//! Tools for those who write site scripts: `scripts new` (scaffold), `check`, `defs`.

pub mod check;
pub mod defs;
pub mod scaffold;
