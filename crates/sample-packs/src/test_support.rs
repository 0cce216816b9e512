//! Helpers shared by the unit tests: reading a written pack back, and a pack with every feature.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::encoding::hex_sha256;
use crate::PackBuilder;

pub(crate) fn read(dir: &Path, relative: &str) -> String {
    fs::read_to_string(dir.join(relative)).expect(relative)
}

#[cfg(unix)]
pub(crate) fn mode(dir: &Path, relative: &str) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(dir.join(relative))
        .expect(relative)
        .permissions()
        .mode()
        & 0o777
}

pub(crate) fn file_hash(dir: &Path, relative: &str) -> String {
    hex_sha256(&fs::read(dir.join(relative)).expect(relative))
}

/// Every file of a written pack with its hash, by pack-relative path.
pub(crate) fn all_hashes(root: &Path) -> BTreeMap<String, String> {
    let mut hashes = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("prefix");
                let relative = relative.to_string_lossy().replace('\\', "/");
                hashes.insert(relative, hex_sha256(&fs::read(&path).expect("read")));
            }
        }
    }
    hashes
}

pub(crate) fn catalogue_hashes(
    catalogue: &str,
    product: &str,
    version: &str,
    path: &str,
) -> Vec<String> {
    let document: toml_edit::DocumentMut = catalogue.parse().expect("catalogue parses");
    document[product][version][path]
        .as_array()
        .expect(path)
        .iter()
        .map(|value| value.as_str().expect("hash").to_string())
        .collect()
}

pub(crate) fn featured_3_0_0() -> PackBuilder {
    PackBuilder::api_manager("3.0.0")
        .keystore("site-keystore.jks", "site secret")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "tenant.example.com")
        .tenant(1)
        .custom_sequence("SiteAuditLogger")
        .customise_stock_sequence("_auth_failure_handler_")
        .api_sequence("admin", "PizzaShack", "1.0.0", "In")
        .custom_synapse_artifact("endpoints", "BackendEP")
        .jdbc_driver(
            "mysql-connector-java-8.0.28.jar",
            "com.mysql.cj.jdbc.Driver",
        )
        .plain_jar("acme-audit-handler-1.2.0.jar")
        .database(
            "apim_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/apim_db?useSSL=false&serverTimezone=UTC",
        )
        .secure_vault(&["admin_password", "keystore_password"])
        .deployment_toml_extra("[apim.devportal]\nenable_ratings = false\n")
}
