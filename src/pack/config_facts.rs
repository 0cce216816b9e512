//! What configuration migration needs to know about two packs: the old version's stock
//! settings (the built-in table `stock/settings.txt`, or a stock pack given with
//! `--old-stock`), the keys the new pack reads (its templates, `default.json`, `infer.json`
//! and `key-mappings.json`; built-in facts only for a pack without templates) and the keys
//! renamed between the two (the new pack's `key-mappings.json`, plus built-in renames it
//! lacks).
//!
//! The built-in renames and dropped keys, from `UPGRADE-PATHS.md` section D: 3.2.0 renamed
//! `apim.oauth_config.white_listed_scopes` to `allowed_scopes`; 4.4.0 moved
//! `[integration.transaction_counter]` to `[apim.transaction_counter]`; 4.5.0 renamed
//! `apim.ai.token` to `apim.ai.key`. 4.0.0's `api-manager.xml.j2` no longer reads the 3.x
//! analytics keys (`url_group`, `store_api_*`, `receiver_*`, …), `apim.alertStakeholderInfo`,
//! `apim.monetization.{granularity, publish_duration}`, the 3.0.0 key manager pool and client
//! keys, `apim.sdk.supported_languages`, `apim.throttling.enable_advanced_throttling`; 4.1.0
//! not `apim.auth_manager.service_url`.

use super::config_model::{CONF_DIR, INFER_JSON};
use super::templates::{keys_read, Source};
use super::toml::{parse_setting_path, set_setting};
use super::{compare_versions, Distribution, Pack, Product, DEPLOYMENT_TOML};
use anyhow::{bail, Context, Result};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use toml_edit::DocumentMut;

/// Where a pack keeps its configuration templates.
pub const TEMPLATES_DIR: &str = "repository/resources/conf/templates";
/// The old key → new key table of a pack's configuration engine.
pub const KEY_MAPPINGS: &str = "repository/resources/conf/key-mappings.json";

const STOCK_SETTINGS: &str = include_str!("stock/settings.txt");

/// The name of a release in the stock table: `4.6.0`, `4.6.0-acp`.
fn stock_name(distribution: Distribution, version: &str) -> String {
    match distribution {
        Distribution::Full => version.to_string(),
        Distribution::ControlPlane => format!("{version}-acp"),
        Distribution::UniversalGateway => format!("{version}-gw"),
        Distribution::TrafficManager => format!("{version}-tm"),
    }
}

/// The stock settings of one release, as a document, and where they came from.
#[derive(Debug, Clone)]
pub struct Stock {
    pub document: DocumentMut,
    pub source: Source,
}

impl Stock {
    /// The built-in stock settings of an API-M release, `None` for one the table lacks.
    pub fn builtin(product: Product, distribution: Distribution, version: &str) -> Option<Stock> {
        if product != Product::ApiManager {
            return None;
        }
        let name = stock_name(distribution, version);
        let lines = section(STOCK_SETTINGS, &name)?;
        let document = document_of(&lines).ok()?;
        Some(Stock {
            document,
            source: Source::BuiltIn(format!("the built-in stock settings of API-M {name}")),
        })
    }

    /// The stock settings of the pack at `dir`, an extracted stock pack (`--old-stock`): its
    /// deployment.toml, or for an XML release the settings its XML files amount to.
    pub fn of_pack(pack: &Pack) -> Result<Stock> {
        let document = match pack.deployment_toml()? {
            Some(document) => document,
            None => super::xml_config::settings_of(pack)?.document,
        };
        Ok(Stock {
            document,
            source: Source::Pack(format!("{}", pack.home.display())),
        })
    }

    /// The stock settings for `pack`'s release: `old_stock` when given, else the built-in
    /// table.
    pub fn for_pack(pack: &Pack, old_stock: Option<&Pack>) -> Result<Option<Stock>> {
        if let Some(stock) = old_stock {
            if stock.version != pack.version || stock.product != pack.product {
                bail!(
                    "the stock pack `{}` is {} {}, not {} {} like `{}`: give an extracted stock pack of the same release",
                    stock.home.display(),
                    stock.product.short_name(),
                    stock.version,
                    pack.product.short_name(),
                    pack.version,
                    pack.home.display()
                );
            }
            return Stock::of_pack(stock).map(Some);
        }
        Ok(Stock::builtin(
            pack.product,
            pack.distribution,
            &pack.version,
        ))
    }
}

/// The `path = value` lines of the table's section `@ name`.
fn section(table: &str, name: &str) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    let mut inside = false;
    let mut found = false;
    for line in table.lines() {
        let line = line.trim();
        if let Some(header) = line.strip_prefix("@ ") {
            inside = header.split_whitespace().any(|release| release == name);
            found |= inside;
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            lines.push(line.to_string());
        }
    }
    found.then_some(lines)
}

/// A document holding the settings of `path = value` lines.
fn document_of(lines: &[String]) -> Result<DocumentMut> {
    let mut document = DocumentMut::new();
    for line in lines {
        let (path, value) = line
            .split_once(" = ")
            .with_context(|| format!("the stock table line `{line}` has no ` = `"))?;
        let path = parse_setting_path(path)?;
        let value: toml_edit::Value = value
            .parse()
            .with_context(|| format!("the stock table line `{line}` has no TOML value"))?;
        set_setting(&mut document, &path, value)?;
    }
    Ok(document)
}

/// A rename of a key between two releases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    pub to: Vec<String>,
    pub source: String,
}

/// Old key (dotted, as written in key-mappings.json) → the keys the new release reads.
#[derive(Debug, Clone, Default)]
pub struct Renames {
    map: BTreeMap<String, Rename>,
}

impl Renames {
    /// The new pack's `key-mappings.json`, and the built-in renames between the two releases
    /// that it lacks.
    pub fn between(old_version: &str, new: &Pack) -> Renames {
        let mut renames = Renames::default();
        if let Ok(bytes) = new.read(KEY_MAPPINGS) {
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&bytes) {
                for (from, to) in map {
                    let to: Vec<String> = match to {
                        serde_json::Value::String(one) => vec![one],
                        serde_json::Value::Array(many) => many
                            .into_iter()
                            .filter_map(|item| item.as_str().map(str::to_string))
                            .collect(),
                        _ => continue,
                    };
                    if to.iter().any(|key| key == &from) || to.is_empty() {
                        continue;
                    }
                    renames.map.insert(
                        normal_key(&from),
                        Rename {
                            to,
                            source: format!("`{KEY_MAPPINGS}` of the new pack"),
                        },
                    );
                }
            }
        }
        let before = |version: &str| compare_versions(old_version, version) == Ordering::Less;
        let reaches = |version: &str| compare_versions(&new.version, version) != Ordering::Less;
        for (from, to, since) in [
            (
                "apim.oauth_config.white_listed_scopes",
                "apim.oauth_config.allowed_scopes",
                "3.2.0",
            ),
            (
                "integration.transaction_counter.enable",
                "apim.transaction_counter.enable",
                "4.4.0",
            ),
            ("apim.ai.token", "apim.ai.key", "4.5.0"),
        ] {
            if before(since) && reaches(since) {
                renames.map.entry(from.to_string()).or_insert(Rename {
                    to: vec![to.to_string()],
                    source: format!("built-in facts: renamed in API-M {since}"),
                });
            }
        }
        renames
    }

    /// The rename of a dotted key, if any.
    pub fn of(&self, key: &str) -> Option<&Rename> {
        self.map.get(key)
    }
}

/// A key-mappings key in the form settings are compared in: quotes left out.
fn normal_key(key: &str) -> String {
    super::toml::parse_key_path(key)
        .map(|segments| segments.join("."))
        .unwrap_or_else(|_| key.to_string())
}

/// The keys a pack's configuration engine reads.
#[derive(Debug, Clone)]
pub struct ReadKeys {
    exact: BTreeSet<String>,
    /// Tables read whole: the sources of `for` loops and `.items()`.
    prefixes: BTreeSet<String>,
    /// For a pack without templates: the keys known to be no longer read.
    dropped: Option<Vec<&'static str>>,
    pub source: Source,
}

impl ReadKeys {
    /// What `pack`'s templates, `default.json`s, `infer.json` and `key-mappings.json` read; the
    /// built-in facts for its release when it has no templates.
    pub fn of(pack: &Pack) -> ReadKeys {
        let templates: Vec<String> = pack
            .files_under(TEMPLATES_DIR)
            .unwrap_or_default()
            .into_iter()
            .filter(|path| path.ends_with(".j2"))
            .collect();
        if templates.is_empty() {
            return ReadKeys::builtin(pack.product, &pack.version);
        }
        let mut exact = BTreeSet::new();
        let mut prefixes = BTreeSet::new();
        for path in &templates {
            let Ok(text) = pack.read_to_string(path) else {
                continue;
            };
            for key in keys_read(&text) {
                if let Some(table) = key.strip_suffix(".items") {
                    prefixes.insert(table.to_string());
                }
                exact.insert(key);
            }
            prefixes.extend(loop_sources(&text));
        }
        for name in pack.list_dir(CONF_DIR).unwrap_or_default() {
            if name == "default.json"
                || name.ends_with(".default.json")
                || name == "key-mappings.json"
            {
                let relative = format!("{CONF_DIR}/{name}");
                if let Ok(bytes) = pack.read(&relative) {
                    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&bytes) {
                        exact.extend(map.keys().map(|key| normal_key(key)));
                        if name == "key-mappings.json" {
                            // The keys the old ones map to are read by definition.
                            for target in map.values() {
                                match target {
                                    serde_json::Value::String(key) => {
                                        exact.insert(normal_key(key));
                                    }
                                    serde_json::Value::Array(keys) => exact.extend(
                                        keys.iter().filter_map(|key| key.as_str()).map(normal_key),
                                    ),
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Ok(bytes) = pack.read(INFER_JSON) {
            if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(&bytes) {
                for (key, by_value) in map {
                    exact.insert(key);
                    if let serde_json::Value::Object(by_value) = by_value {
                        for implied in by_value.values() {
                            if let serde_json::Value::Object(settings) = implied {
                                exact.extend(settings.keys().map(|key| normal_key(key)));
                            }
                        }
                    }
                }
            }
        }
        ReadKeys {
            exact,
            prefixes,
            dropped: None,
            source: Source::Pack(TEMPLATES_DIR.to_string()),
        }
    }

    /// For a pack without templates: every key is taken as read but those known to be gone.
    pub fn builtin(product: Product, version: &str) -> ReadKeys {
        let at_least = |known: &str| compare_versions(version, known) != Ordering::Less;
        let mut dropped = Vec::new();
        if product == Product::ApiManager && at_least("4.0.0") {
            dropped.extend([
                "apim.analytics.event_publisher_impl",
                "apim.analytics.provider_impl",
                "apim.analytics.publish_response_size",
                "apim.analytics.receiver_auth_urls",
                "apim.analytics.receiver_password",
                "apim.analytics.receiver_urls",
                "apim.analytics.receiver_username",
                "apim.analytics.store_api_password",
                "apim.analytics.store_api_url",
                "apim.analytics.store_api_username",
                "apim.analytics.url_group",
                "apim.alertStakeholderInfo",
                "apim.monetization.granularity",
                "apim.monetization.publish_duration",
                "apim.key_manager.configuration.items",
                "apim.key_manager.key_manager_client_impl",
                "apim.key_manager.pool.init_idle_capacity",
                "apim.key_manager.pool.max_idle",
                "apim.sdk.supported_languages",
                "apim.throttling.enable_advanced_throttling",
            ]);
        }
        if product == Product::ApiManager && at_least("4.1.0") {
            dropped.push("apim.auth_manager.service_url");
        }
        ReadKeys {
            exact: BTreeSet::new(),
            prefixes: BTreeSet::new(),
            dropped: Some(dropped),
            source: Source::BuiltIn(format!(
                "built-in facts for {} {version} (the pack has no `{TEMPLATES_DIR}`)",
                product.short_name()
            )),
        }
    }

    /// Whether a setting at the dotted `key` (indices left out) is read. `[secrets]` is read by
    /// the cipher tool, always.
    pub fn reads(&self, key: &str) -> bool {
        if key == "secrets" || key.starts_with("secrets.") {
            return true;
        }
        let under = |table: &str| key == table || key.starts_with(&format!("{table}."));
        if let Some(dropped) = &self.dropped {
            return !dropped.iter().any(|gone| under(gone));
        }
        self.exact.contains(key) || self.prefixes.iter().any(|table| under(table))
    }

    /// Whether the facts are the pack's own.
    pub fn from_pack(&self) -> bool {
        matches!(self.source, Source::Pack(_))
    }
}

/// The tables a template loops over: `{% for x in a.b %}`, `{% for k, v in a.b.items() %}`.
fn loop_sources(template: &str) -> BTreeSet<String> {
    let mut sources = BTreeSet::new();
    let mut rest = template;
    while let Some(start) = rest.find("{%") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("%}") else {
            break;
        };
        let statement = after[..end].trim_matches(|c: char| c == '-' || c.is_whitespace());
        if let Some(body) = statement.strip_prefix("for ") {
            if let Some((_, source)) = body.split_once(" in ") {
                let source = source
                    .trim()
                    .split(|c: char| c.is_whitespace() || c == '(' || c == '|')
                    .next()
                    .unwrap_or("");
                let source = source.strip_suffix(".items").unwrap_or(source);
                if source.contains('.') || !source.is_empty() {
                    sources.insert(source.to_string());
                }
            }
        }
        rest = &after[end + 2..];
    }
    sources
}

/// The deployment.toml file name, for messages.
pub fn deployment_toml_label(pack: &Pack) -> String {
    format!("{}/{DEPLOYMENT_TOML}", pack.home.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::toml::{get_setting, parse_setting_path, settings};

    #[test]
    fn every_release_of_the_table_parses_and_sets_its_stock_values() {
        for name in [
            "2.0.0",
            "2.6.0",
            "3.0.0",
            "3.1.0",
            "3.2.0",
            "4.0.0",
            "4.1.0",
            "4.2.0",
            "4.3.0",
            "4.4.0",
            "4.5.0",
            "4.5.0-acp",
            "4.6.0-gw",
            "4.7.0",
            "4.7.0-tm",
        ] {
            let lines = section(STOCK_SETTINGS, name).expect(name);
            let document = document_of(&lines).expect(name);
            assert_eq!(settings(&document).len(), lines.len(), "{name}");
        }
        let three =
            Stock::builtin(Product::ApiManager, Distribution::Full, "3.2.0").expect("3.2.0");
        let name = parse_setting_path("apim.gateway.environment[0].name").expect("path");
        assert_eq!(
            get_setting(&three.document, &name).and_then(|value| value.as_str()),
            Some("Production and Sandbox")
        );
        let four = Stock::builtin(Product::ApiManager, Distribution::Full, "4.1.0").expect("4.1.0");
        assert_eq!(
            get_setting(&four.document, &name).and_then(|value| value.as_str()),
            Some("Default")
        );
        assert!(Stock::builtin(Product::ApiManager, Distribution::Full, "1.9.0").is_none());
        assert!(Stock::builtin(Product::IdentityServer, Distribution::Full, "5.11.0").is_none());
    }

    #[test]
    fn loops_and_items_read_whole_tables() {
        let sources = loop_sources(
            "{% for env in apim.gateway.environment %}{{env.name}}{% endfor %}\n{%- for k, v in apim.analytics.properties.items() -%}{{k}}{% endfor %}",
        );
        assert!(sources.contains("apim.gateway.environment"), "{sources:?}");
        assert!(sources.contains("apim.analytics.properties"), "{sources:?}");
    }

    #[test]
    fn without_templates_the_built_in_facts_say_what_4_x_no_longer_reads() {
        let keys = ReadKeys::builtin(Product::ApiManager, "4.1.0");
        assert!(!keys.reads("apim.analytics.url_group"));
        assert!(!keys.reads("apim.auth_manager.service_url"));
        assert!(keys.reads("server.hostname"));
        assert!(keys.reads("secrets.admin_password"));
        let three = ReadKeys::builtin(Product::ApiManager, "3.2.0");
        assert!(three.reads("apim.analytics.url_group"));
    }
}
