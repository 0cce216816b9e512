//! The JSON files of a pack's configuration model (`repository/resources/conf/`):
//! `infer.json`, what a value of one key implies for others (above all, what each profile,
//! `server.server_role`, turns on or off), and `default.json` with the features'
//! `*.default.json`, the value of every key deployment.toml leaves out. A setting's effective
//! value for a node is deployment.toml's, else what `infer.json` gives for the node's
//! profile, else the default. Built-in facts stand in for a pack that lacks the files.
//!
//! The built-in facts, from `infer.json` of each release (see `MIGRATION-FACTS.md`,
//! "Profiles"): 4.x control-plane sets `apim.sync_runtime_artifacts.gateway.enable =
//! false`, and so does the API Control Plane distribution of 4.5.0 and later for its
//! `default` role; `org.wso2.carbon.apimgt.core.default.json` sets it to `true`.

use super::templates::Source;
use super::{Distribution, Pack, Product};
use serde_json::Value;
use std::collections::BTreeMap;

/// Where a pack keeps the configuration model's files.
pub const CONF_DIR: &str = "repository/resources/conf";
pub const INFER_JSON: &str = "repository/resources/conf/infer.json";

/// The key that names a node's profile in deployment.toml and infer.json.
pub const SERVER_ROLE: &str = "server.server_role";
/// The key that turns the gateway's runtime artifact sync (and its start-up clean-up of
/// unknown artifacts) on or off.
pub const GATEWAY_SYNC: &str = "apim.sync_runtime_artifacts.gateway.enable";

/// What `infer.json` implies for each value of `server.server_role`.
#[derive(Debug, Clone)]
pub struct Inferred {
    /// Role (`control-plane`, `default`, …) to the settings it implies (dotted key to
    /// value); read from a file, sorted by role.
    roles: Vec<(String, BTreeMap<String, Value>)>,
    pub source: Source,
}

impl Inferred {
    /// What `pack`'s own `infer.json` says, or the built-in facts for its version when it
    /// has none (or it is not JSON of the expected shape).
    pub fn of(pack: &Pack) -> Inferred {
        pack.read(INFER_JSON)
            .ok()
            .and_then(|bytes| Inferred::from_json(&bytes))
            .unwrap_or_else(|| Inferred::builtin(pack.product, pack.distribution, &pack.version))
    }

    /// Reads an `infer.json`; `None` when it is not a JSON object.
    pub fn from_json(bytes: &[u8]) -> Option<Inferred> {
        let document: serde_json::Map<String, Value> = serde_json::from_slice(bytes).ok()?;
        let mut roles = Vec::new();
        if let Some(Value::Object(by_role)) = document.get(SERVER_ROLE) {
            for (role, settings) in by_role {
                let settings = match settings {
                    Value::Object(settings) => settings
                        .iter()
                        .map(|(key, value)| (key.clone(), value.clone()))
                        .collect(),
                    _ => BTreeMap::new(),
                };
                roles.push((role.clone(), settings));
            }
        }
        Some(Inferred {
            roles,
            source: Source::Pack(INFER_JSON.to_string()),
        })
    }

    /// The built-in facts for a product version and distribution.
    pub fn builtin(product: Product, distribution: Distribution, version: &str) -> Inferred {
        let sync_off = || BTreeMap::from([(GATEWAY_SYNC.to_string(), Value::from("false"))]);
        let names: Vec<(&str, BTreeMap<String, Value>)> = match (product, distribution) {
            (Product::IdentityServer, _) => Vec::new(),
            (_, Distribution::ControlPlane) => vec![("default", sync_off())],
            (_, Distribution::UniversalGateway | Distribution::TrafficManager) => {
                vec![("default", BTreeMap::new())]
            }
            (_, Distribution::Full) => {
                let major = version.split('.').next().unwrap_or("0");
                let minor = version.split('.').nth(1).unwrap_or("0");
                match major {
                    "3" => [
                        "gateway-worker",
                        "api-key-manager",
                        "api-publisher",
                        "api-devportal",
                        "traffic-manager",
                        "default",
                    ]
                    .iter()
                    .map(|role| (*role, BTreeMap::new()))
                    .collect(),
                    "4" => {
                        let mut roles = vec![
                            ("gateway-worker", BTreeMap::new()),
                            ("api-key-manager-deprecated", BTreeMap::new()),
                        ];
                        if matches!(minor, "0" | "1") {
                            roles.push(("api-publisher-deprecated", BTreeMap::new()));
                            roles.push(("api-devportal-deprecated", BTreeMap::new()));
                        }
                        roles.push(("traffic-manager", BTreeMap::new()));
                        roles.push(("control-plane", sync_off()));
                        roles.push(("default", BTreeMap::new()));
                        roles
                    }
                    _ => Vec::new(),
                }
            }
        };
        let label = match distribution {
            Distribution::Full => format!("{} {version}", product.short_name()),
            split => format!(
                "{} {version} ({})",
                product.short_name(),
                split.short_name()
            ),
        };
        Inferred {
            roles: names
                .into_iter()
                .map(|(role, settings)| (role.to_string(), settings))
                .collect(),
            source: Source::BuiltIn(format!(
                "built-in facts for {label} (the pack has no `{INFER_JSON}`)"
            )),
        }
    }

    /// The roles it knows.
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.iter().map(|(role, _)| role.as_str())
    }

    /// What `role` implies for `key`.
    pub fn setting(&self, role: &str, key: &str) -> Option<&Value> {
        self.roles
            .iter()
            .find(|(known, _)| known == role)
            .and_then(|(_, settings)| settings.get(key))
    }
}

/// The defaults of the configuration model: `default.json` and every `*.default.json` beside
/// it (the features' own, such as `org.wso2.carbon.apimgt.core.default.json`).
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    values: BTreeMap<String, Value>,
    /// The files read, pack-relative; empty when the pack has none.
    pub files: Vec<String>,
}

impl Defaults {
    pub fn of(pack: &Pack) -> Defaults {
        let mut defaults = Defaults::default();
        let mut names: Vec<String> = pack
            .list_dir(CONF_DIR)
            .unwrap_or_default()
            .into_iter()
            .filter(|name| name == "default.json" || name.ends_with(".default.json"))
            .collect();
        // The base first, so that a feature's value wins, as when WSO2 merges them.
        names.sort_by_key(|name| name != "default.json");
        for name in names {
            let relative = format!("{CONF_DIR}/{name}");
            let Ok(bytes) = pack.read(&relative) else {
                continue;
            };
            let Ok(serde_json::Value::Object(values)) = serde_json::from_slice(&bytes) else {
                continue;
            };
            defaults.values.extend(values);
            defaults.files.push(relative);
        }
        defaults
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// Whether any default key lies below `prefix` (a table the templates test with `is
    /// defined` is defined when one of its keys has a default).
    pub fn defines_below(&self, prefix: &str) -> bool {
        let below = format!("{prefix}.");
        self.values
            .range(below.clone()..)
            .next()
            .is_some_and(|(key, _)| key.starts_with(&below))
    }
}

/// A value of the model as a boolean (`true`, `"false"`); `None` when it is neither.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(value) => Some(*value),
        Value::String(text) => match text.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A setting's effective value for a node, and what decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    pub value: Value,
    /// `repository/conf/deployment.toml`, `server_role "control-plane" in …/infer.json`,
    /// `…/default.json`, or built-in facts.
    pub decided_by: String,
}

/// The effective value of `key` for a node whose deployment.toml is `toml` and whose
/// profile maps to `role` in `inferred`.
pub fn effective(
    key: &str,
    toml: Option<&toml_edit::DocumentMut>,
    role: &str,
    inferred: &Inferred,
    defaults: &Defaults,
) -> Option<Effective> {
    if let Some(value) = toml.and_then(|document| toml_value(document, key)) {
        return Some(Effective {
            value,
            decided_by: super::DEPLOYMENT_TOML.to_string(),
        });
    }
    if let Some(value) = inferred.setting(role, key) {
        return Some(Effective {
            value: value.clone(),
            decided_by: format!(
                "`server_role = \"{role}\"` in {}",
                match &inferred.source {
                    Source::Pack(path) => format!("`{path}`"),
                    Source::BuiltIn(why) => why.clone(),
                }
            ),
        });
    }
    let value = defaults.get(key)?;
    let file = defaults
        .files
        .iter()
        .map(|file| format!("`{file}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Effective {
        value: value.clone(),
        decided_by: format!("the defaults ({file})"),
    })
}

/// A scalar of a deployment.toml at a dotted key, as JSON.
fn toml_value(document: &toml_edit::DocumentMut, key: &str) -> Option<Value> {
    let path: Vec<String> = key.split('.').map(str::to_string).collect();
    let item = super::toml::get(document, &path)?;
    let value = item.as_value()?;
    Some(match value {
        toml_edit::Value::Boolean(flag) => Value::Bool(*flag.value()),
        toml_edit::Value::String(text) => Value::String(text.value().clone()),
        toml_edit::Value::Integer(number) => Value::from(*number.value()),
        toml_edit::Value::Float(number) => Value::from(*number.value()),
        other => Value::String(other.to_string().trim().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infer_json_says_what_each_role_implies() {
        let inferred = Inferred::from_json(
            br#"{"server.server_role": {"gateway-worker": {"indexing.enable": false}, "control-plane": {"apim.sync_runtime_artifacts.gateway.enable": "false"}, "default": {}}, "apim.jwt.encoding": {}}"#,
        )
        .expect("json");
        assert_eq!(
            inferred.roles().collect::<Vec<_>>(),
            ["control-plane", "default", "gateway-worker"]
        );
        assert_eq!(
            inferred
                .setting("control-plane", GATEWAY_SYNC)
                .and_then(as_bool),
            Some(false)
        );
        assert_eq!(inferred.setting("gateway-worker", GATEWAY_SYNC), None);
        assert!(Inferred::from_json(b"[1, 2]").is_none());
        assert!(Inferred::from_json(b"not json").is_none());
    }

    #[test]
    fn built_in_roles_follow_the_versions_and_distributions() {
        let roles = |version: &str, distribution: Distribution| -> Vec<String> {
            Inferred::builtin(Product::ApiManager, distribution, version)
                .roles()
                .map(str::to_string)
                .collect()
        };
        assert!(roles("4.1.0", Distribution::Full).contains(&"api-publisher-deprecated".into()));
        assert!(!roles("4.2.0", Distribution::Full).contains(&"api-publisher-deprecated".into()));
        assert!(roles("3.2.0", Distribution::Full).contains(&"api-devportal".into()));
        assert_eq!(roles("4.5.0", Distribution::ControlPlane), ["default"]);
        let control_plane =
            Inferred::builtin(Product::ApiManager, Distribution::ControlPlane, "4.6.0");
        assert_eq!(
            control_plane
                .setting("default", GATEWAY_SYNC)
                .and_then(as_bool),
            Some(false)
        );
        let all_in_one = Inferred::builtin(Product::ApiManager, Distribution::Full, "4.6.0");
        assert_eq!(
            all_in_one
                .setting("control-plane", GATEWAY_SYNC)
                .and_then(as_bool),
            Some(false)
        );
        assert_eq!(all_in_one.setting("default", GATEWAY_SYNC), None);
    }

    #[test]
    fn deployment_toml_wins_over_infer_json_which_wins_over_the_defaults() {
        let inferred = Inferred::builtin(Product::ApiManager, Distribution::Full, "4.1.0");
        let mut defaults = Defaults::default();
        defaults
            .values
            .insert(GATEWAY_SYNC.to_string(), Value::Bool(true));
        defaults
            .files
            .push("repository/resources/conf/default.json".to_string());
        assert!(defaults.defines_below("apim.sync_runtime_artifacts.gateway"));
        assert!(!defaults.defines_below("apim.sync_runtime_artifacts.gate"));

        let from_defaults =
            effective(GATEWAY_SYNC, None, "gateway-worker", &inferred, &defaults).expect("default");
        assert_eq!(from_defaults.value, Value::Bool(true));
        assert!(from_defaults.decided_by.contains("default.json"));

        let from_infer =
            effective(GATEWAY_SYNC, None, "control-plane", &inferred, &defaults).expect("inferred");
        assert_eq!(as_bool(&from_infer.value), Some(false));
        assert!(from_infer.decided_by.contains("control-plane"));

        let toml: toml_edit::DocumentMut = "[apim.sync_runtime_artifacts.gateway]\nenable = true\n"
            .parse()
            .expect("toml");
        let from_toml = effective(
            GATEWAY_SYNC,
            Some(&toml),
            "control-plane",
            &inferred,
            &defaults,
        )
        .expect("set");
        assert_eq!(from_toml.value, Value::Bool(true));
        assert_eq!(from_toml.decided_by, crate::pack::DEPLOYMENT_TOML);
        assert_eq!(
            effective("apim.unknown", Some(&toml), "default", &inferred, &defaults),
            None
        );
    }
}
