//! The packs `apim-migrate demo` migrates: the customised 3.0.0 and the fresh 4.1.0 pack, and writing them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::{stock_catalogue, PackBuilder};

/// The `demo`'s 3.0.0 pack, on which the standard script is tested: everything it handles, and
/// a few traps.
pub fn demo_old_pack() -> PackBuilder {
    PackBuilder::api_manager("3.0.0")
        .keystore("partner-truststore.jks", "partner")
        .keystore("gateway-tls.p12", "gateway tls")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .userstore(Some(1), "suppliers.example.com")
        .userstore(Some(2), "retail.example.com")
        .tenant(1)
        .tenant(2)
        .tenant(3)
        .custom_sequence("audit_log")
        .custom_sequence("correlation_id")
        .custom_sequence("strip_internal_headers")
        .customise_stock_sequence("_auth_failure_handler_")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "In")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "Out")
        .jdbc_driver(
            "mysql-connector-java-8.0.28.jar",
            "com.mysql.cj.jdbc.Driver",
        )
        .plain_jar("acme-custom-handler-1.2.jar")
        .database(
            "apim_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/apim_db",
        )
        .database(
            "shared_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/shared_db",
        )
        .secure_vault(&[
            "super_admin_password",
            "apim_db_password",
            "keystore_password",
        ])
}

/// The sample fresh 4.1.0 pack.
pub fn demo_new_pack() -> PackBuilder {
    PackBuilder::api_manager("4.1.0")
}

/// The packs `apim-migrate demo` migrates, written under one directory.
pub struct Demo {
    pub root: PathBuf,
    pub old: PathBuf,
    pub new: PathBuf,
    /// The site catalogue that describes the sample packs' stock files (as `--stock`).
    pub catalogue: PathBuf,
}

/// Writes the demo's packs into `dir`, which must be new or empty, or into a new directory
/// under the system's temp dir; and the catalogue of their stock files beside them.
pub fn write_demo(dir: Option<&Path>) -> Result<Demo> {
    let root = match dir {
        Some(dir) => {
            if dir.exists()
                && fs::read_dir(dir)
                    .map(|mut entries| entries.next().is_some())
                    .unwrap_or(true)
            {
                anyhow::bail!(
                    "`{}` is not empty: give a new or empty directory for the demo packs",
                    dir.display()
                );
            }
            fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            dir.to_path_buf()
        }
        None => tempfile::Builder::new()
            .prefix("apim-migrate-demo-")
            .tempdir()
            .context("cannot create a directory for the demo")?
            .keep(),
    };
    let old_builder = demo_old_pack();
    let new_builder = demo_new_pack();
    let old = old_builder.write(&root.join("wso2am-3.0.0"))?;
    let new = new_builder.write(&root.join("wso2am-4.1.0"))?;
    // The sample packs' stock files are the project's own, so they are described by a site
    // catalogue, exactly as an operator would describe a pack with WSO2 updates.
    let catalogue = root.join("stock-catalogue.toml");
    fs::write(&catalogue, stock_catalogue(&[&old_builder, &new_builder]))
        .with_context(|| format!("cannot write `{}`", catalogue.display()))?;
    Ok(Demo {
        root,
        old,
        new,
        catalogue,
    })
}
