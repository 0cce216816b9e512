//! Stock catalogues: the SHA-256 of every stock file a builder writes, as TOML by product and version.

use std::collections::{BTreeMap, BTreeSet};

use crate::encoding::{hex_sha256, toml_string};
use crate::{PackBuilder, Version};

/// Stock catalogue (TOML) of several builders merged, e.g. the old and the new pack of a test.
pub fn stock_catalogue(builders: &[&PackBuilder]) -> String {
    // Tables in version order; within a table, paths sorted, each with the set of known hashes.
    let mut tables: BTreeMap<(&'static str, Version, String), BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    for builder in builders {
        let table = tables
            .entry((
                builder.catalogue_key(),
                builder.parsed_version,
                builder.version.clone(),
            ))
            .or_default();
        for (path, content) in builder.stock_synapse_files() {
            table
                .entry(path)
                .or_default()
                .insert(hex_sha256(content.as_bytes()));
        }
        for (path, bytes) in builder.stock_keystores() {
            table.entry(path).or_default().insert(hex_sha256(&bytes));
        }
    }
    let mut text = String::from(
        "# Stock files of the synthetic packs written by apim-migrate's sample builder:\n\
         # SHA-256 of each file, by path inside the pack.\n",
    );
    for ((product, _, version), entries) in tables {
        text.push_str(&format!("\n[{product}.{}]\n", toml_string(&version)));
        for (path, hashes) in entries {
            let list: Vec<String> = hashes.iter().map(|hash| format!("\"{hash}\"")).collect();
            text.push_str(&format!("{} = [{}]\n", toml_string(&path), list.join(", ")));
        }
    }
    text
}

impl PackBuilder {
    /// Stock catalogue (TOML) of this builder's own synthetic stock files for its version.
    pub fn stock_catalogue(&self) -> String {
        stock_catalogue(&[self])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::SYNAPSE_DEFAULT_DIR;
    use crate::test_support::{all_hashes, catalogue_hashes, featured_3_0_0, file_hash};

    #[test]
    fn catalogue_lists_stock_hashes_and_exposes_customised_sequences() {
        let temp = tempfile::tempdir().expect("temp dir");
        let builder = featured_3_0_0();
        let dir = builder.write(temp.path()).expect("pack written");
        let catalogue = builder.stock_catalogue();

        let main_path = format!("{SYNAPSE_DEFAULT_DIR}/sequences/main.xml");
        let main_hashes = catalogue_hashes(&catalogue, "wso2am", "3.0.0", &main_path);
        assert_eq!(main_hashes, vec![file_hash(&dir, &main_path)]);

        let customised = format!("{SYNAPSE_DEFAULT_DIR}/sequences/_auth_failure_handler_.xml");
        let customised_hashes = catalogue_hashes(&catalogue, "wso2am", "3.0.0", &customised);
        assert_eq!(customised_hashes.len(), 1);
        assert_ne!(customised_hashes[0], file_hash(&dir, &customised));

        let keystore = "repository/resources/security/wso2carbon.jks";
        assert_eq!(
            catalogue_hashes(&catalogue, "wso2am", "3.0.0", keystore),
            vec![file_hash(&dir, keystore)]
        );
        let truststore = "repository/resources/security/client-truststore.jks";
        assert_eq!(
            catalogue_hashes(&catalogue, "wso2am", "3.0.0", truststore),
            vec![file_hash(&dir, truststore)]
        );

        // Every stock synapse file written is catalogued; site files are not.
        let document: toml_edit::DocumentMut = catalogue.parse().expect("catalogue parses");
        let table = document["wso2am"]["3.0.0"].as_table().expect("table");
        for (path, hash) in all_hashes(&dir) {
            if path.starts_with(SYNAPSE_DEFAULT_DIR) {
                let listed = table.get(&path).and_then(|item| item.as_array());
                let site_file = path.contains("SiteAuditLogger")
                    || path.contains("PizzaShack")
                    || path.contains("BackendEP");
                assert_eq!(listed.is_none(), site_file, "{path}");
                if let Some(hashes) = listed {
                    let stock = hashes
                        .iter()
                        .any(|value| value.as_str() == Some(hash.as_str()));
                    assert_eq!(stock, !path.contains("_auth_failure_handler_"), "{path}");
                }
            }
        }
    }

    #[test]
    fn merged_catalogue_holds_one_table_per_product_version() {
        let old = PackBuilder::api_manager("3.0.0").customise_stock_sequence("main");
        let new = PackBuilder::api_manager("4.1.0");
        let key_manager = PackBuilder::identity_server("5.11.0");
        let catalogue = stock_catalogue(&[&old, &new, &key_manager, &old]);
        let document: toml_edit::DocumentMut = catalogue.parse().expect("catalogue parses");
        assert!(document["wso2am"]["3.0.0"].is_table());
        assert!(document["wso2am"]["4.1.0"].is_table());
        assert!(document["wso2is"]["5.11.0"].is_table());
        let main = format!("{SYNAPSE_DEFAULT_DIR}/sequences/main.xml");
        assert_eq!(
            catalogue_hashes(&catalogue, "wso2am", "3.0.0", &main).len(),
            1
        );
        assert_eq!(
            catalogue_hashes(&catalogue, "wso2am", "3.0.0", &main),
            catalogue_hashes(
                &PackBuilder::api_manager("3.0.0").stock_catalogue(),
                "wso2am",
                "3.0.0",
                &main
            )
        );
        assert!(document["wso2is"]["5.11.0"]
            .as_table()
            .expect("table")
            .contains_key("repository/resources/security/client-truststore.jks"));
    }
}
