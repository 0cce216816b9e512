//! Global sequences of a pack, told apart: stock, customised stock, custom, and API-specific.

use super::{Pack, SEQUENCES_DIR};
use crate::pack::stock::{Catalogue, StockStatus};
use anyhow::Result;
use serde::Serialize;

/// The fault sequences that 4.0.0 changed to answer in JSON; customisations of them must be
/// ported by hand.
pub const FAULT_SEQUENCES_CHANGED_IN_4: [&str; 9] = [
    "_auth_failure_handler_",
    "_backend_failure_handler_",
    "_block_api_handler_",
    "_graphql_failure_handler_",
    "_threat_fault_",
    "_throttle_out_handler_",
    "_token_fault_",
    "fault",
    "main",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SequenceKind {
    /// Shipped by the pack's version, unchanged.
    Stock,
    /// Shipped by the pack's version, but changed on site.
    CustomisedStock,
    /// A stock name whose stock bytes are unknown, so changes cannot be told.
    StockUnknown,
    /// A site's own global sequence.
    Custom,
    /// An API's own `provider--Name:vX--In/Out/Fault` sequence.
    ApiSpecific,
    /// A link, which the tool does not follow out of a pack.
    Link,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sequence {
    /// File name, e.g. `main.xml`.
    pub name: String,
    pub path: String,
    pub kind: SequenceKind,
    pub sha256: Option<String>,
}

/// Whether a file name is an API's own sequence: `provider--Name:vVersion--In.xml` (also
/// `--Out`, `--Fault`).
pub fn is_api_sequence(file_name: &str) -> bool {
    let Some(stem) = file_name.strip_suffix(".xml") else {
        return false;
    };
    let parts: Vec<&str> = stem.split("--").collect();
    parts.len() >= 3
        && matches!(parts[parts.len() - 1], "In" | "Out" | "Fault")
        && parts[1..parts.len() - 1].join("--").contains(":v")
}

/// Classifies every `*.xml` in the pack's global sequences directory.
pub fn classify(pack: &Pack, catalogue: &Catalogue) -> Result<Vec<Sequence>> {
    let mut sequences = Vec::new();
    for name in pack.list_dir(SEQUENCES_DIR)? {
        if !name.ends_with(".xml") {
            continue;
        }
        let path = format!("{SEQUENCES_DIR}/{name}");
        if pack.is_link(&path) {
            sequences.push(Sequence {
                name,
                path,
                kind: SequenceKind::Link,
                sha256: None,
            });
            continue;
        }
        if !pack.is_file(&path) {
            continue;
        }
        let sha256 = pack.sha256(&path)?;
        let kind = if is_api_sequence(&name) {
            SequenceKind::ApiSpecific
        } else {
            match catalogue.status(pack.stock_key(), &pack.version, &path, &sha256) {
                StockStatus::NotStock => SequenceKind::Custom,
                StockStatus::Stock => SequenceKind::Stock,
                StockStatus::Customised => SequenceKind::CustomisedStock,
                StockStatus::Unknown => SequenceKind::StockUnknown,
            }
        };
        sequences.push(Sequence {
            name,
            path,
            kind,
            sha256: Some(sha256),
        });
    }
    Ok(sequences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_sequences_are_recognised() {
        assert!(is_api_sequence("admin--PizzaShackAPI:v1.0.0--In.xml"));
        assert!(is_api_sequence("admin-AT-wso2.com--Orders:v2--Fault.xml"));
        assert!(!is_api_sequence("audit_log.xml"));
        assert!(!is_api_sequence("a--b--In.xml"));
        assert!(!is_api_sequence("_auth_failure_handler_.xml"));
    }
}
