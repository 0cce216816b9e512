//! The stock catalogue: which files each WSO2 version ships, with their SHA-256, so that
//! custom and customised files can be told from stock ones.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Built in: derived from the public product sources at each release tag.
const BUILTIN: &str = include_str!("stock/wso2.toml");

/// How a file compares with its version's stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockStatus {
    /// The version does not ship a file of this name.
    NotStock,
    /// A stock file, byte for byte.
    Stock,
    /// A stock name whose bytes differ from every known stock copy.
    Customised,
    /// A stock name whose stock bytes are not recorded, so customisation cannot be told.
    Unknown,
}

/// Stock files by product key and version, each a map of pack-relative path to known hashes.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// By product key, then version (looked up by `&str`, with no key made per lookup: a
    /// scan of 10,000 tenants asks some 40,000 times).
    packs: BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<String>>>>,
}

impl Catalogue {
    /// The built-in catalogue of WSO2's GA releases.
    pub fn builtin() -> Catalogue {
        let mut catalogue = Catalogue::default();
        if let Err(error) = catalogue.add_text(BUILTIN, "built-in stock catalogue") {
            // The built-in text is checked by a unit test, so this cannot happen in a
            // released binary; an empty catalogue would still be safe (all files custom).
            tracing::error!("{error:#}");
        }
        catalogue
    }

    /// The built-in catalogue plus site catalogues (e.g. for packs with WSO2 updates).
    pub fn with_files(files: &[impl AsRef<Path>]) -> Result<Catalogue> {
        let mut catalogue = Catalogue::builtin();
        for file in files {
            let file = file.as_ref();
            let text = crate::pack::files::read_regular(file)
                .and_then(|bytes| crate::pack::files::utf8_text(bytes, &file.display().to_string()))
                .with_context(|| {
                    format!(
                        "cannot read stock catalogue `{}` (give the path of a catalogue TOML file; see docs/site-scripts.md, \"Stock catalogue\")",
                        file.display()
                    )
                })?;
            catalogue.add_text(&text, &file.display().to_string())?;
        }
        Ok(catalogue)
    }

    /// Adds the entries of a catalogue text; hashes of the same path accumulate.
    pub fn add_text(&mut self, text: &str, source: &str) -> Result<()> {
        let document = crate::pack::toml::parse(text, source)?;
        for (product_key, versions) in document.iter() {
            let versions = versions.as_table_like().with_context(|| {
                format!("`{source}`: `{product_key}` must be a table of versions")
            })?;
            for (version, files) in versions.iter() {
                let files = files.as_table_like().with_context(|| {
                    format!("`{source}`: `{product_key}.{version}` must be a table of paths")
                })?;
                let entry = self
                    .packs
                    .entry(product_key.to_string())
                    .or_default()
                    .entry(version.to_string())
                    .or_default();
                for (path, hashes) in files.iter() {
                    let Some(array) = hashes.as_array() else {
                        bail!("`{source}`: `{path}` in `{product_key}.{version}` must be an array of SHA-256 strings");
                    };
                    let known = entry.entry(path.to_string()).or_default();
                    for hash in array.iter() {
                        let Some(hash) = hash.as_str() else {
                            bail!("`{source}`: `{path}` in `{product_key}.{version}` must hold strings");
                        };
                        let hash = hash.to_ascii_lowercase();
                        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                            bail!("`{source}`: `{hash}` for `{path}` is not a SHA-256 in hex; fix the catalogue (64 hex digits, as `sha256sum` prints)");
                        }
                        if !known.contains(&hash) {
                            known.push(hash);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the catalogue knows this product version at all. `key` is a pack's
    /// `stock_key()`: the product, or the separate distribution (`wso2am-acp`).
    pub fn knows(&self, key: &str, version: &str) -> bool {
        self.files(key, version).is_some()
    }

    fn files(&self, key: &str, version: &str) -> Option<&BTreeMap<String, Vec<String>>> {
        self.packs.get(key)?.get(version)
    }

    /// Whether `relative` is a file that this version ships.
    pub fn is_stock_name(&self, key: &str, version: &str, relative: &str) -> bool {
        self.files(key, version)
            .is_some_and(|files| files.contains_key(relative))
    }

    /// Compares a file's hash with its version's stock.
    pub fn status(&self, key: &str, version: &str, relative: &str, sha256: &str) -> StockStatus {
        match self
            .files(key, version)
            .and_then(|files| files.get(relative))
        {
            None => StockStatus::NotStock,
            Some(hashes) if hashes.is_empty() => StockStatus::Unknown,
            Some(hashes) if hashes.iter().any(|hash| hash == sha256) => StockStatus::Stock,
            Some(_) => StockStatus::Customised,
        }
    }

    /// The stock paths of a version under `dir` (at any depth), sorted.
    pub fn stock_paths_under<'a>(
        &'a self,
        key: &str,
        version: &str,
        dir: &str,
    ) -> impl Iterator<Item = &'a str> + 'a {
        let prefix = format!("{dir}/");
        self.files(key, version)
            .into_iter()
            .flat_map(|files| files.keys())
            .filter(move |path| path.starts_with(&prefix))
            .map(String::as_str)
    }

    /// The stock names in one directory of a version (file names, sorted).
    pub fn stock_names_in(&self, key: &str, version: &str, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.files(key, version)
            .map(|files| {
                files
                    .keys()
                    .filter_map(|path| path.strip_prefix(&prefix))
                    .filter(|name| !name.contains('/'))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// When `sha256` is the hash of some version's stock copy of a file named `file_name`
    /// under `dir`, which version: used to recognise WSO2's default keystores.
    pub fn stock_copy_of(&self, dir: &str, file_name: &str, sha256: &str) -> Option<String> {
        let relative = format!("{dir}/{file_name}");
        self.packs.iter().find_map(|(product, versions)| {
            versions.iter().find_map(|(version, files)| {
                files
                    .get(&relative)
                    .filter(|hashes| hashes.iter().any(|hash| hash == sha256))
                    .map(|_| format!("{product}-{version}"))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_parses_and_knows_every_supported_version() {
        let mut catalogue = Catalogue::default();
        catalogue.add_text(BUILTIN, "builtin").unwrap();
        let main = "repository/deployment/server/synapse-configs/default/sequences/main.xml";
        for version in [
            "1.8.0", "1.9.0", "1.9.1", "2.0.0", "2.6.0", "3.0.0", "3.1.0", "3.2.0", "4.0.0",
            "4.1.0", "4.2.0", "4.3.0", "4.4.0", "4.5.0", "4.6.0", "4.7.0",
        ] {
            assert!(catalogue.knows("wso2am", version), "{version}");
            assert!(
                catalogue.is_stock_name("wso2am", version, main),
                "{version}"
            );
        }
        // The separate distributions of 4.5.0 and later: only the gateway ships synapse
        // configurations; all of them ship the keystores.
        for version in ["4.5.0", "4.6.0", "4.7.0"] {
            assert!(catalogue.is_stock_name("wso2am-universal-gw", version, main));
            for key in ["wso2am-acp", "wso2am-tm"] {
                assert!(catalogue.knows(key, version), "{key} {version}");
                assert!(
                    !catalogue.is_stock_name(key, version, main),
                    "{key} {version}"
                );
                assert!(catalogue.is_stock_name(
                    key,
                    version,
                    "repository/resources/security/wso2carbon.jks"
                ));
            }
        }
        assert!(catalogue.knows("wso2is", "5.11.0"));
        let names = catalogue.stock_names_in("wso2am", "4.1.0", crate::pack::SEQUENCES_DIR);
        assert!(names.contains(&"_opa_policy_failure_handler_.xml".to_string()));
        assert!(!catalogue
            .stock_names_in("wso2am", "4.0.0", crate::pack::SEQUENCES_DIR)
            .contains(&"_opa_policy_failure_handler_.xml".to_string()));
        let names = catalogue.stock_names_in("wso2am", "4.6.0", crate::pack::SEQUENCES_DIR);
        for added in [
            "_extension_fault_handler_.xml",
            "_mcp_failure_handler_.xml",
            "guardrail_fault.xml",
        ] {
            assert!(names.contains(&added.to_string()), "{added}");
        }
        // 4.4.0 and 4.5.0 ship no `api/` folder; 4.2.0 no proxy service any more.
        let api = "repository/deployment/server/synapse-configs/default/api/_OpenService_.xml";
        assert!(catalogue.is_stock_name("wso2am", "4.3.0", api));
        assert!(!catalogue.is_stock_name("wso2am", "4.4.0", api));
        assert!(catalogue.is_stock_name("wso2am", "4.6.0", api));
        assert!(!catalogue.is_stock_name(
            "wso2am",
            "4.2.0",
            "repository/deployment/server/synapse-configs/default/proxy-services/WorkflowCallbackService.xml"
        ));
    }

    #[test]
    fn default_keystores_are_recognised_by_hash() {
        let catalogue = Catalogue::builtin();
        assert_eq!(
            catalogue.stock_copy_of(
                crate::pack::SECURITY_DIR,
                "wso2carbon.jks",
                "1fc89abe35094dccf0057a2f4b04c8248528872a40fd057b09e5f668bf39845e"
            ),
            Some("wso2am-3.0.0".to_string())
        );
    }

    #[test]
    fn site_catalogue_with_bad_hash_is_refused() {
        let mut catalogue = Catalogue::default();
        let error = catalogue
            .add_text("[wso2am.\"3.0.0\"]\n\"a.xml\" = [\"xyz\"]\n", "site.toml")
            .unwrap_err();
        assert!(error.to_string().contains("site.toml"));
    }
}
