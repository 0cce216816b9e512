//! Profiles: which part of a distributed API-M deployment a node runs, how to tell it from a
//! pack, which profiles of one generation become which of the next, and what each needs
//! migrated.
//!
//! The facts, by generation:
//! - 1.x/2.x: gateway-manager, gateway-worker, api-store, api-publisher, api-key-manager,
//!   traffic-manager (none in 1.x); chosen at start-up (`-Dprofile`), nothing in the pack says.
//! - 3.x: api-publisher, api-devportal, gateway-worker, api-key-manager, traffic-manager; a
//!   node's deployment.toml is the profile's template from
//!   `repository/resources/conf/deployment-templates/` (`profileSetup.sh`), whose
//!   `[server] server_role` names it.
//! - 4.x: control-plane (the Default profile: Publisher, Developer Portal and Key Manager fold
//!   into it), gateway-worker, traffic-manager; the 3.x names survive as `*-deprecated`.
//!
//! Every generation also runs all-in-one (`server_role = "default"`, the stock
//! deployment.toml). From 4.5.0 the control plane, gateway and traffic manager also ship as
//! separate distributions, whose node runs that one profile.
//!
//! Which of these profiles a given pack has, and what each turns on or off, is the pack's
//! own to say (`Facts`: its `deployment-templates/` and `infer.json`), with these facts as
//! the fallback.

mod facts;

pub use facts::Facts;

use crate::pack::{Distribution, Pack, Product, DEPLOYMENT_TOML};
use serde::{Deserialize, Serialize};

/// The profile of a pack that runs everything (the stock configuration).
pub const ALL_IN_ONE: &str = "all-in-one";
/// The "profile" of a WSO2 Identity Server pack used as Key Manager.
pub const IDENTITY_SERVER: &str = "identity-server";
/// Where 3.x and 4.x packs keep a template deployment.toml per profile.
pub const TEMPLATES_DIR: &str = "repository/resources/conf/deployment-templates";

/// A family of API-M versions that share profile names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Generation {
    /// 1.x and 2.x.
    Two,
    /// 3.x.
    Three,
    /// 4.x and later.
    Four,
}

impl Generation {
    /// The generation of an API-M version; `None` for other products.
    pub fn of(product: Product, version: &str) -> Option<Generation> {
        if product != Product::ApiManager {
            return None;
        }
        let major: u32 = version
            .split('.')
            .next()
            .and_then(|major| major.parse().ok())
            .unwrap_or(0);
        Some(match major {
            0..=2 => Generation::Two,
            3 => Generation::Three,
            _ => Generation::Four,
        })
    }

    pub fn of_pack(pack: &Pack) -> Option<Generation> {
        Generation::of(pack.product, &pack.version)
    }

    /// The profiles a node of this generation can run, all-in-one first.
    pub fn profiles(self) -> &'static [&'static str] {
        match self {
            Generation::Two => &[
                ALL_IN_ONE,
                "api-publisher",
                "api-store",
                "api-key-manager",
                "gateway-manager",
                "gateway-worker",
                "traffic-manager",
            ],
            Generation::Three => &[
                ALL_IN_ONE,
                "api-publisher",
                "api-devportal",
                "api-key-manager",
                "gateway-worker",
                "traffic-manager",
            ],
            Generation::Four => &[
                ALL_IN_ONE,
                "control-plane",
                "gateway-worker",
                "traffic-manager",
                "api-publisher-deprecated",
                "api-devportal-deprecated",
                "api-key-manager-deprecated",
            ],
        }
    }

    /// `API-M 3.x`
    pub fn label(self) -> &'static str {
        match self {
            Generation::Two => "API-M 1.x/2.x",
            Generation::Three => "API-M 3.x",
            Generation::Four => "API-M 4.x",
        }
    }

    /// The profile a name means in this generation (`default` is all-in-one), if any.
    pub fn profile(self, name: &str) -> Option<&'static str> {
        let name = name.trim();
        if name == "default" {
            return Some(ALL_IN_ONE);
        }
        self.profiles()
            .iter()
            .copied()
            .find(|profile| *profile == name)
    }

    /// The profiles a node of `old_profile` (this generation) may become in `new`: its
    /// successors. The first is the one to assume when nothing else says.
    pub fn successors(self, old_profile: &str, new: Generation) -> Vec<&'static str> {
        if old_profile == ALL_IN_ONE {
            // An all-in-one node may stay one, or be split into any profile.
            return new.profiles().to_vec();
        }
        let same = new.profile(old_profile);
        // The control plane takes over the publisher, developer portal and key manager; the
        // 4.0.0 and 4.1.0 packs also keep each as a `*-deprecated` profile of its own (4.2.0
        // and later keep only the key manager's), for a node that stays apart.
        let wanted: &[&str] = match (new, old_profile) {
            (Generation::Four, "api-publisher" | "api-publisher-deprecated") => {
                &["control-plane", "api-publisher-deprecated"]
            }
            (Generation::Four, "api-store" | "api-devportal" | "api-devportal-deprecated") => {
                &["control-plane", "api-devportal-deprecated"]
            }
            (Generation::Four, "api-key-manager" | "api-key-manager-deprecated") => {
                &["control-plane", "api-key-manager-deprecated"]
            }
            (Generation::Four, "gateway-manager" | "gateway-worker") => &["gateway-worker"],
            // 4.x control planes carry a traffic manager unless one runs apart.
            (Generation::Four, "traffic-manager") => &["traffic-manager", "control-plane"],
            (Generation::Three, "api-store") => &["api-devportal"],
            (Generation::Three, "gateway-manager") => &["gateway-worker"],
            (Generation::Two, "api-devportal") => &["api-store"],
            _ => &[],
        };
        let mut successors: Vec<&'static str> = Vec::new();
        for profile in wanted.iter().filter_map(|name| new.profile(name)) {
            if !successors.contains(&profile) {
                successors.push(profile);
            }
        }
        if successors.is_empty() {
            successors.extend(same);
        }
        successors
    }
}

/// What a script may ask of a node's profile (`profile_has`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Runs an API gateway: global sequences and the skip list belong here.
    Gateway,
    /// Authenticates users: secondary user stores belong here.
    Users,
    /// Where the API-M migration client (data migration, re-indexing) runs.
    MigrationClient,
}

impl Capability {
    pub const ALL: [Capability; 3] = [
        Capability::Gateway,
        Capability::Users,
        Capability::MigrationClient,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Capability::Gateway => "gateway",
            Capability::Users => "users",
            Capability::MigrationClient => "migration-client",
        }
    }

    pub fn parse(key: &str) -> Option<Capability> {
        Capability::ALL
            .into_iter()
            .find(|capability| capability.key() == key.trim())
    }

    /// What a node without it does not do: `runs no gateway`.
    fn lacking(self) -> &'static str {
        match self {
            Capability::Gateway => "runs no gateway",
            Capability::Users => "does not manage users",
            Capability::MigrationClient => "does not run the API-M migration client",
        }
    }
}

/// Whether a node of `profile` in `generation` (`None`: an IS pack) has `capability` by its
/// role alone. For a gateway that is where one can run: whether its gateway artifact sync is
/// on (a 4.x control plane has it off) is the pack's to say, `Facts::has`.
pub fn has(generation: Option<Generation>, profile: &str, capability: Capability) -> bool {
    let Some(generation) = generation else {
        // An Identity Server used as Key Manager manages users, and nothing else here.
        return capability == Capability::Users;
    };
    match capability {
        Capability::Gateway => matches!(
            profile,
            ALL_IN_ONE | "control-plane" | "gateway-worker" | "gateway-manager"
        ),
        Capability::Users => matches!(
            profile,
            ALL_IN_ONE
                | "control-plane"
                | "api-publisher"
                | "api-store"
                | "api-devportal"
                | "api-key-manager"
                | "api-publisher-deprecated"
                | "api-devportal-deprecated"
                | "api-key-manager-deprecated"
        ),
        // 4.x: the Default profile, that is control-plane. Before, the client migrates the
        // registry's API artifacts, which the publisher node owns.
        Capability::MigrationClient => match generation {
            Generation::Four => matches!(profile, ALL_IN_ONE | "control-plane"),
            _ => matches!(profile, ALL_IN_ONE | "api-publisher"),
        },
    }
}

/// A node's profile and how it was decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeProfile {
    pub name: String,
    /// Where the name came from, as a phrase: `--profile`, `server_role = "gateway-worker" in
    /// repository/conf/deployment.toml`, …
    pub decided_by: String,
    /// Set when the deployment's migration client runs on another node (the inventory runs
    /// it once): that node's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_client_on: Option<String>,
}

impl NodeProfile {
    pub fn new(name: &str, decided_by: impl Into<String>) -> NodeProfile {
        NodeProfile {
            name: name.to_string(),
            decided_by: decided_by.into(),
            migration_client_on: None,
        }
    }

    /// Whether the node of a pack with `facts` has `capability`; if not, why not (a phrase
    /// about `who`).
    pub fn lacks(&self, facts: &Facts, capability: Capability, who: &str) -> Option<String> {
        if !has(facts.generation, &self.name, capability) {
            return Some(format!(
                "{who} is {} node, which {}",
                with_article(&self.name),
                capability.lacking()
            ));
        }
        if capability == Capability::Gateway {
            if let Some(why) = facts.gateway_sync_off(&self.name) {
                return Some(format!(
                    "{who} is {} node, whose gateway artifact sync is off ({why}): it deploys no synapse artifacts and needs no skip list",
                    with_article(&self.name)
                ));
            }
        }
        if capability == Capability::MigrationClient {
            if let Some(node) = &self.migration_client_on {
                return Some(format!(
                    "the deployment runs the API-M migration client once, on node `{node}`"
                ));
            }
        }
        None
    }
}

/// `a gateway-worker`, `an api-publisher`: a profile name with its article.
pub fn with_article(name: &str) -> String {
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}

/// A template of `deployment-templates/`: its profile name, `server_role` and bytes.
struct Template {
    file: String,
    server_role: Option<String>,
    bytes: Vec<u8>,
}

fn templates(pack: &Pack) -> Vec<Template> {
    let Ok(names) = pack.list_dir(TEMPLATES_DIR) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for name in names.into_iter().filter(|name| name.ends_with(".toml")) {
        let relative = format!("{TEMPLATES_DIR}/{name}");
        let Ok(bytes) = pack.read(&relative) else {
            continue;
        };
        let server_role = std::str::from_utf8(&bytes).ok().and_then(server_role_of);
        found.push(Template {
            file: name,
            server_role,
            bytes,
        });
    }
    found
}

/// `[server] server_role` of a deployment.toml text, when it parses.
fn server_role_of(text: &str) -> Option<String> {
    let document: toml_edit::DocumentMut = text.parse().ok()?;
    document
        .get("server")?
        .get("server_role")?
        .as_str()
        .map(|role| role.trim().to_string())
}

/// What a pack's files say of its profile (never fails: a pack that says nothing clear is
/// all-in-one, and `decided_by` says why).
pub fn detect(pack: &Pack) -> NodeProfile {
    let Some(generation) = Generation::of_pack(pack) else {
        return NodeProfile::new(IDENTITY_SERVER, "WSO2 Identity Server (a Key Manager)");
    };
    if let Some(profile) = pack.distribution.profile() {
        return NodeProfile::new(
            profile,
            format!(
                "the {} distribution, by `{}`",
                pack.distribution.short_name(),
                pack.marker
            ),
        );
    }
    if !pack.is_file(DEPLOYMENT_TOML) {
        return NodeProfile::new(
            ALL_IN_ONE,
            "no deployment.toml: API-M before 3.0.0 chooses its profile at start-up (-Dprofile)",
        );
    }
    let Ok(bytes) = pack.read(DEPLOYMENT_TOML) else {
        return NodeProfile::new(ALL_IN_ONE, "deployment.toml could not be read");
    };
    let templates = templates(pack);
    // `profileSetup.sh` copies the template over deployment.toml.
    for template in &templates {
        if template.bytes == bytes {
            let stem = template.file.trim_end_matches(".toml");
            if let Some(profile) = generation.profile(stem) {
                return NodeProfile::new(
                    profile,
                    format!(
                        "{DEPLOYMENT_TOML} is deployment-templates/{}",
                        template.file
                    ),
                );
            }
            // A template named for something else (4.3.0's `api-key-manager-node.toml` is a
            // control plane): its `server_role` says.
            if let Some(profile) = template
                .server_role
                .as_deref()
                .and_then(|role| generation.profile(role))
            {
                return NodeProfile::new(
                    profile,
                    format!(
                        "{DEPLOYMENT_TOML} is deployment-templates/{}, whose server_role is {profile}",
                        template.file
                    ),
                );
            }
        }
    }
    let Some(role) = std::str::from_utf8(&bytes).ok().and_then(server_role_of) else {
        return NodeProfile::new(
            ALL_IN_ONE,
            format!("no [server] server_role in {DEPLOYMENT_TOML}"),
        );
    };
    let said = format!("server_role = \"{role}\" in {DEPLOYMENT_TOML}");
    if let Some(template) = templates
        .iter()
        .find(|template| template.server_role.as_deref() == Some(role.as_str()))
    {
        let stem = template.file.trim_end_matches(".toml");
        if let Some(profile) = generation.profile(stem) {
            return NodeProfile::new(
                profile,
                format!("{said}, as in deployment-templates/{}", template.file),
            );
        }
    }
    match generation.profile(&role) {
        Some(profile) => NodeProfile::new(profile, said),
        None => NodeProfile::new(
            ALL_IN_ONE,
            format!(
                "{said}, which is no profile of {}: all-in-one assumed",
                generation.label()
            ),
        ),
    }
}

/// The profile `name` given for a pack, checked against the profiles the pack has.
pub fn given(pack: &Pack, facts: &Facts, name: &str, flag: &str) -> Result<NodeProfile, String> {
    let Some(generation) = Generation::of_pack(pack) else {
        return Err(format!(
            "{flag} `{name}`: `{}` is {}, which has no API-M profiles",
            pack.home.display(),
            pack.label()
        ));
    };
    let known = generation.profile(name);
    if let (Some(own), Some(_)) = (pack.distribution.profile(), known) {
        if known != Some(own) {
            let other = known
                .and_then(Distribution::for_profile)
                .map(|distribution| {
                    format!(
                        "; a {name} node runs the {} distribution (`{}-{}`)",
                        distribution.short_name(),
                        distribution.key(pack.product),
                        pack.version
                    )
                })
                .unwrap_or_default();
            return Err(format!(
                "{flag} `{name}`: `{}` is {}, a distribution that runs {own} only{other}",
                pack.home.display(),
                pack.label()
            ));
        }
    }
    match known.filter(|profile| facts.profiles.iter().any(|known| known == profile)) {
        Some(profile) => Ok(NodeProfile::new(profile, flag)),
        None => Err(format!(
            "{flag} `{name}` is no profile of {} (`{}`): give one of {} ({})",
            pack.label(),
            pack.home.display(),
            facts.profiles.join(", "),
            facts.profiles_from
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_x_profiles_fold_into_the_four_x_control_plane() {
        for (old, deprecated) in [
            ("api-publisher", "api-publisher-deprecated"),
            ("api-devportal", "api-devportal-deprecated"),
            ("api-key-manager", "api-key-manager-deprecated"),
        ] {
            assert_eq!(
                Generation::Three.successors(old, Generation::Four),
                ["control-plane", deprecated]
            );
        }
        assert_eq!(
            Generation::Two.successors("api-store", Generation::Four),
            ["control-plane", "api-devportal-deprecated"]
        );
        assert_eq!(
            Generation::Four.successors("api-key-manager-deprecated", Generation::Four),
            ["control-plane", "api-key-manager-deprecated"]
        );
        assert_eq!(
            Generation::Three.successors("gateway-worker", Generation::Four),
            ["gateway-worker"]
        );
        assert_eq!(
            Generation::Three.successors("traffic-manager", Generation::Four),
            ["traffic-manager", "control-plane"]
        );
        assert_eq!(
            Generation::Three.successors(ALL_IN_ONE, Generation::Four),
            Generation::Four.profiles()
        );
        assert_eq!(
            Generation::Two.successors("api-store", Generation::Two),
            ["api-store"]
        );
        assert_eq!(
            Generation::Two.successors("gateway-manager", Generation::Four),
            ["gateway-worker"]
        );
    }

    #[test]
    fn capabilities_follow_the_guides() {
        let four = Some(Generation::Four);
        assert!(has(four, "gateway-worker", Capability::Gateway));
        assert!(has(four, "control-plane", Capability::Gateway));
        assert!(!has(four, "traffic-manager", Capability::Gateway));
        assert!(has(four, "control-plane", Capability::MigrationClient));
        assert!(!has(four, "gateway-worker", Capability::MigrationClient));
        assert!(!has(four, "gateway-worker", Capability::Users));
        assert!(has(None, IDENTITY_SERVER, Capability::Users));
        assert!(!has(None, IDENTITY_SERVER, Capability::Gateway));
        assert!(has(
            Some(Generation::Two),
            "api-publisher",
            Capability::MigrationClient
        ));
    }

    #[test]
    fn a_profile_says_what_it_lacks() {
        let four = Facts::builtin(Product::ApiManager, Distribution::Full, "4.1.0");
        let node = NodeProfile::new("traffic-manager", "--profile");
        assert_eq!(
            node.lacks(&four, Capability::Gateway, "`new`").as_deref(),
            Some("`new` is a traffic-manager node, which runs no gateway")
        );
        let node = NodeProfile::new("api-publisher-deprecated", "--profile");
        assert_eq!(
            node.lacks(&four, Capability::Gateway, "`new`").as_deref(),
            Some("`new` is an api-publisher-deprecated node, which runs no gateway")
        );
        let mut node = NodeProfile::new("control-plane", "--profile");
        assert_eq!(
            node.lacks(&four, Capability::MigrationClient, "`new`"),
            None
        );
        let gateway = node
            .lacks(&four, Capability::Gateway, "`new`")
            .expect("a control plane syncs no gateway artifacts");
        assert!(
            gateway.contains("gateway artifact sync is off")
                && gateway.contains("apim.sync_runtime_artifacts.gateway.enable"),
            "{gateway}"
        );
        node.migration_client_on = Some("cp-1".to_string());
        assert!(node
            .lacks(&four, Capability::MigrationClient, "`new`")
            .unwrap()
            .contains("once, on node `cp-1`"));
        let worker = NodeProfile::new("gateway-worker", "--profile");
        assert_eq!(worker.lacks(&four, Capability::Gateway, "`new`"), None);
    }
}
