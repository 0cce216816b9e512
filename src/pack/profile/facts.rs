//! `Facts`: what one pack says of its profiles: which of its generation's profiles it has
//! (the `server_role` of each template in `deployment-templates/`, the roles of
//! `infer.json`; a separate distribution has its one), and whether a node of each keeps the
//! gateway's artifact sync on (deployment.toml, else `infer.json` for the node's role, else
//! the defaults), with built-in facts for what the pack lacks.

use super::{server_role_of, Capability, Generation, ALL_IN_ONE, IDENTITY_SERVER, TEMPLATES_DIR};
use crate::pack::config_model::{self, as_bool, Defaults, Inferred, GATEWAY_SYNC};
use crate::pack::templates::Source;
use crate::pack::{Distribution, Pack, Product};

/// What a pack says of the profiles a node of it can run.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `None` for an Identity Server pack.
    pub generation: Option<Generation>,
    pub distribution: Distribution,
    /// The profiles a node of this pack can run, in the order of the generation's list.
    pub profiles: Vec<String>,
    /// Where `profiles` came from, as a phrase.
    pub profiles_from: String,
    inferred: Inferred,
    defaults: Defaults,
    /// The pack's own deployment.toml, when it parses.
    toml: Option<toml_edit::DocumentMut>,
}

impl Facts {
    /// What `pack`'s files say.
    pub fn of(pack: &Pack) -> Facts {
        let inferred = Inferred::of(pack);
        let defaults = Defaults::of(pack);
        let toml = pack.deployment_toml().ok().flatten();
        let generation = Generation::of_pack(pack);
        let mut roles: Vec<String> = Vec::new();
        let mut from = Vec::new();
        if let Ok(names) = pack.list_dir(TEMPLATES_DIR) {
            let mut any = false;
            for name in names.iter().filter(|name| name.ends_with(".toml")) {
                let text = pack.read_to_string(&format!("{TEMPLATES_DIR}/{name}")).ok();
                if let Some(role) = text.as_deref().and_then(server_role_of) {
                    roles.push(role);
                    any = true;
                }
            }
            if any {
                from.push(format!(
                    "the `server_role` of each `{TEMPLATES_DIR}/*.toml`"
                ));
            }
        }
        roles.extend(inferred.roles().map(str::to_string));
        from.push(match &inferred.source {
            Source::Pack(path) => format!("the roles of `{path}`"),
            Source::BuiltIn(why) => why.clone(),
        });
        Facts::assemble(
            pack.product,
            pack.distribution,
            generation,
            &roles,
            from,
            inferred,
            defaults,
            toml,
        )
    }

    /// The built-in facts of a product version, for a pack that is not at hand.
    pub fn builtin(product: Product, distribution: Distribution, version: &str) -> Facts {
        let inferred = Inferred::builtin(product, distribution, version);
        let roles: Vec<String> = inferred.roles().map(str::to_string).collect();
        let from = match &inferred.source {
            Source::BuiltIn(why) => why.clone(),
            Source::Pack(path) => path.clone(),
        };
        Facts::assemble(
            product,
            distribution,
            Generation::of(product, version),
            &roles,
            vec![from],
            inferred,
            Defaults::default(),
            None,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        product: Product,
        distribution: Distribution,
        generation: Option<Generation>,
        roles: &[String],
        from: Vec<String>,
        inferred: Inferred,
        defaults: Defaults,
        toml: Option<toml_edit::DocumentMut>,
    ) -> Facts {
        let (profiles, profiles_from) = match (generation, distribution.profile()) {
            (None, _) => (
                vec![IDENTITY_SERVER.to_string()],
                format!("{} has no API-M profiles", product.name()),
            ),
            (Some(_), Some(profile)) => (
                vec![profile.to_string()],
                format!(
                    "the {} distribution runs that profile only",
                    distribution.short_name()
                ),
            ),
            (Some(generation), None) => {
                let named: Vec<&str> = roles
                    .iter()
                    .filter_map(|role| generation.profile(role))
                    .collect();
                if named.iter().all(|profile| *profile == ALL_IN_ONE) {
                    // Nothing in the pack names a profile (1.x/2.x, or a pack stripped of
                    // its templates): the generation's own list.
                    (
                        generation
                            .profiles()
                            .iter()
                            .map(|profile| profile.to_string())
                            .collect(),
                        format!("the profiles of {}", generation.label()),
                    )
                } else {
                    (
                        generation
                            .profiles()
                            .iter()
                            .filter(|profile| **profile == ALL_IN_ONE || named.contains(profile))
                            .map(|profile| profile.to_string())
                            .collect(),
                        from.join(" and "),
                    )
                }
            }
        };
        Facts {
            generation,
            distribution,
            profiles,
            profiles_from,
            inferred,
            defaults,
            toml,
        }
    }

    /// Whether the pack has `profile`.
    pub fn offers(&self, profile: &str) -> bool {
        self.profiles.iter().any(|known| known == profile)
    }

    /// The `server_role` a node of `profile` has in this pack (`default` for all-in-one and
    /// for a separate distribution's own).
    fn role_of<'a>(&self, profile: &'a str) -> &'a str {
        if profile == ALL_IN_ONE || self.distribution.profile() == Some(profile) {
            "default"
        } else {
            profile
        }
    }

    /// When a node of `profile` keeps the gateway's artifact sync off: what says so.
    pub fn gateway_sync_off(&self, profile: &str) -> Option<String> {
        let effective = config_model::effective(
            GATEWAY_SYNC,
            self.toml.as_ref(),
            self.role_of(profile),
            &self.inferred,
            &self.defaults,
        )?;
        (as_bool(&effective.value) == Some(false))
            .then(|| format!("`{GATEWAY_SYNC} = false` by {}", effective.decided_by))
    }

    /// Whether a node of `profile` has `capability` (its role, then what the pack says).
    pub fn has(&self, profile: &str, capability: Capability) -> bool {
        super::has(self.generation, profile, capability)
            && !(capability == Capability::Gateway && self.gateway_sync_off(profile).is_some())
    }

    /// Whether the pack's defaults define a key below `prefix` (a table the templates test
    /// with `is defined` exists then even when deployment.toml lacks it).
    pub fn defaults_define(&self, prefix: &str) -> bool {
        self.defaults.defines_below(prefix)
    }

    /// The profiles a node of `old_profile` (of `old`) may become in this pack: its
    /// successors that this pack has, the one to assume first.
    pub fn successors(&self, old: Generation, old_profile: &str) -> Vec<String> {
        let Some(generation) = self.generation else {
            return Vec::new();
        };
        old.successors(old_profile, generation)
            .into_iter()
            .filter(|profile| self.offers(profile))
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_facts_name_the_profiles_of_each_release() {
        let facts = Facts::builtin(Product::ApiManager, Distribution::Full, "4.1.0");
        assert!(facts.offers("api-publisher-deprecated"));
        assert!(facts.offers(ALL_IN_ONE));
        let facts = Facts::builtin(Product::ApiManager, Distribution::Full, "4.2.0");
        assert!(!facts.offers("api-publisher-deprecated"));
        assert!(facts.offers("api-key-manager-deprecated"));
        assert_eq!(
            facts.successors(Generation::Three, "api-publisher"),
            ["control-plane"]
        );
        let facts = Facts::builtin(Product::ApiManager, Distribution::Full, "4.1.0");
        assert_eq!(
            facts.successors(Generation::Three, "api-publisher"),
            ["control-plane", "api-publisher-deprecated"]
        );
        let gateway = Facts::builtin(Product::ApiManager, Distribution::UniversalGateway, "4.5.0");
        assert_eq!(gateway.profiles, ["gateway-worker"]);
        assert_eq!(
            gateway.successors(Generation::Three, "gateway-worker"),
            ["gateway-worker"]
        );
        assert!(gateway
            .successors(Generation::Three, "api-publisher")
            .is_empty());
        let two = Facts::builtin(Product::ApiManager, Distribution::Full, "2.0.0");
        assert!(two.offers("api-store") && two.offers("gateway-manager"));
    }

    #[test]
    fn gateway_artifact_sync_is_off_for_a_control_plane_only() {
        let facts = Facts::builtin(Product::ApiManager, Distribution::Full, "4.5.0");
        assert!(facts.gateway_sync_off("control-plane").is_some());
        assert!(facts.gateway_sync_off("gateway-worker").is_none());
        assert!(facts.gateway_sync_off(ALL_IN_ONE).is_none());
        assert!(!facts.has("control-plane", Capability::Gateway));
        assert!(facts.has("control-plane", Capability::MigrationClient));
        assert!(facts.has("gateway-worker", Capability::Gateway));
        assert!(facts.has(ALL_IN_ONE, Capability::Gateway));
        let control_plane =
            Facts::builtin(Product::ApiManager, Distribution::ControlPlane, "4.6.0");
        assert!(!control_plane.has("control-plane", Capability::Gateway));
        let three = Facts::builtin(Product::ApiManager, Distribution::Full, "3.2.0");
        assert!(three.has("gateway-worker", Capability::Gateway));
    }
}
