//! The part a pack plays in a run: the pack migrated from, the one migrated into, an
//! intermediate version on a two-step path, an Identity Server used as Key Manager.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The role of a pack in a run; scripts see the packs by these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The pack migrated from: only ever read.
    Old,
    /// A fresh pack of an intermediate version (1.x → 2.0.0 → 4.x).
    Via,
    /// The fresh pack migrated into.
    New,
    /// A WSO2 Identity Server used as Key Manager, which receives keystores and user stores.
    Km,
}

impl Role {
    /// In the order scripts declare and see them (`@accepts`, the scope, `defs`).
    pub const DECLARED: [Role; 4] = [Role::Old, Role::New, Role::Km, Role::Via];
    /// In the order a command line gives them: along the path, then the Key Manager.
    pub const COMMAND_LINE: [Role; 4] = [Role::Old, Role::Via, Role::New, Role::Km];
    /// The API-M packs of a path, oldest first.
    pub const PATH: [Role; 3] = [Role::Old, Role::Via, Role::New];

    /// The name scripts and journals use: `old`, `via`, `new`, `km`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Old => "old",
            Role::Via => "via",
            Role::New => "new",
            Role::Km => "km",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::DECLARED
            .into_iter()
            .find(|role| role.as_str() == name)
    }

    /// The command-line flag that names a pack of this role: `--old`.
    pub fn flag(self) -> String {
        format!("--{}", self.as_str())
    }

    /// Whether a run may change a pack of this role (all but `old`).
    pub fn is_target(self) -> bool {
        self != Role::Old
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_serialise_as_written() {
        for role in Role::DECLARED {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(
                serde_json::to_string(&role).expect("json"),
                format!("\"{role}\"")
            );
        }
        assert_eq!(Role::parse("gateway"), None);
        assert!(!Role::Old.is_target() && Role::Km.is_target());
    }
}
