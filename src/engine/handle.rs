//! `PackHandle`: a pack as scripts see it (`old`, `new`, `km`, `via`).

use crate::change::planner::PackSlot;
use crate::pack::profile::{Facts, Generation, NodeProfile};
use crate::pack::Role;

/// A pack as scripts see it: a role and what detection found. Changes go through the
/// primitives, which look the role up in the session; a handle itself grants nothing.
#[derive(Debug, Clone)]
pub struct PackHandle {
    pub role: Role,
    pub home: String,
    pub product: String,
    pub product_name: String,
    pub version: String,
    pub marker: String,
    pub target: bool,
    pub profile: NodeProfile,
    /// `None` for an Identity Server pack.
    pub generation: Option<Generation>,
    /// What the pack says of its profiles.
    pub facts: std::sync::Arc<Facts>,
}

impl PackHandle {
    pub fn new(slot: &PackSlot) -> PackHandle {
        PackHandle {
            role: slot.role,
            home: slot.pack.home.display().to_string(),
            product: slot.pack.product.key().to_string(),
            product_name: slot.pack.distribution.name(slot.pack.product).to_string(),
            version: slot.pack.version.clone(),
            marker: slot.pack.marker.to_string(),
            target: slot.target,
            profile: slot.profile.clone(),
            generation: Generation::of_pack(&slot.pack),
            facts: slot.facts.clone(),
        }
    }

    /// The command-line flag that named this pack.
    pub fn flag(&self) -> String {
        self.role.flag()
    }
}
