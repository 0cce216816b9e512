//! `detect`: what a directory is and what in it a migration has to carry over.

use crate::pack::jdbc::{self, ConfiguredDatabase, DriverJar};
use crate::pack::keystores::{self, Location};
use crate::pack::secure_vault::{self, SecureVault};
use crate::pack::sequences::{self, SequenceKind};
use crate::pack::stock::Catalogue;
use crate::pack::userstores;
use crate::pack::{MarkerReading, Pack, COMPONENTS_LIB, SECURITY_DIR};
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct KeystoreFinding {
    pub path: String,
    /// `default` (WSO2's shipped keystore), `stock-name` (a stock name with other bytes: your
    /// own key under the default name), `custom`, or `configured`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TenantUserstores {
    /// `None` for the super tenant.
    pub tenant: Option<u32>,
    pub files: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Detection {
    pub home: String,
    pub product: String,
    pub product_name: String,
    /// For a separate distribution of API-M 4.5.0 and later, its key (`wso2am-acp`,
    /// `wso2am-universal-gw`, `wso2am-tm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    pub version: String,
    pub decided_by: String,
    pub markers: Vec<MarkerReading>,
    pub disagreements: Vec<String>,
    /// The part of a distributed deployment the pack's node runs (API-M only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<crate::pack::profile::NodeProfile>,
    pub secure_vault: SecureVault,
    pub keystores: Vec<KeystoreFinding>,
    /// User store files, the super tenant's first, then by tenant id.
    pub userstores: Vec<TenantUserstores>,
    pub tenants: Vec<u32>,
    pub custom_sequences: Vec<String>,
    pub customised_stock_sequences: Vec<String>,
    pub unverifiable_stock_sequences: Vec<String>,
    pub api_sequences: usize,
    pub linked_sequences: Vec<String>,
    pub jdbc_drivers: Vec<DriverJar>,
    pub databases: Vec<ConfiguredDatabase>,
}

pub fn detect(pack: &Pack, catalogue: &Catalogue) -> Result<Detection> {
    let secure_vault = secure_vault::detect(pack)?;
    let found = keystores::find(pack)?;
    let stock_names = catalogue.stock_names_in(pack.stock_key(), &pack.version, SECURITY_DIR);
    let mut keystore_findings = Vec::new();
    for name in &found.in_security_dir {
        let path = format!("{SECURITY_DIR}/{name}");
        let sha256 = crate::pack::files::sha256_file(&pack.path(&path)).unwrap_or_default();
        let (kind, note) = match catalogue.stock_copy_of(SECURITY_DIR, name, &sha256) {
            Some(stock) => (
                "default",
                Some(format!("WSO2's default keystore as shipped in {stock}")),
            ),
            None if stock_names.contains(name) => ("stock-name", None),
            None => ("custom", None),
        };
        keystore_findings.push(KeystoreFinding {
            path,
            kind: kind.to_string(),
            note,
        });
    }
    for configured in &found.configured {
        let (path, note) = match &configured.location {
            Location::InPack(relative) => {
                if keystore_findings
                    .iter()
                    .any(|finding| &finding.path == relative)
                {
                    continue;
                }
                (
                    relative.clone(),
                    format!("named by {}", configured.configured_by),
                )
            }
            Location::Outside(path) => (
                path.display().to_string(),
                format!("named by {}, outside the pack", configured.configured_by),
            ),
        };
        let note = if configured.exists {
            note
        } else {
            format!("{note}; missing")
        };
        keystore_findings.push(KeystoreFinding {
            path,
            kind: "configured".to_string(),
            note: Some(note),
        });
    }

    // `find` lists the super tenant first, then tenants by id.
    let mut userstore_groups: Vec<TenantUserstores> = Vec::new();
    for store in userstores::find(pack)? {
        match userstore_groups.last_mut() {
            Some(group) if group.tenant == store.tenant => group.files.push(store.path.to_string()),
            _ => userstore_groups.push(TenantUserstores {
                tenant: store.tenant,
                files: vec![store.path.to_string()],
            }),
        }
    }

    let classified = sequences::classify(pack, catalogue)?;
    let names_of = |kind: SequenceKind| -> Vec<String> {
        classified
            .iter()
            .filter(|sequence| sequence.kind == kind)
            .map(|sequence| sequence.name.clone())
            .collect()
    };

    Ok(Detection {
        home: pack.home.display().to_string(),
        product: pack.product.key().to_string(),
        product_name: pack.distribution.name(pack.product).to_string(),
        distribution: (!pack.distribution.is_full()).then(|| pack.stock_key().to_string()),
        version: pack.version.clone(),
        decided_by: pack.marker.to_string(),
        markers: pack.readings.clone(),
        disagreements: pack.disagreements.clone(),
        profile: crate::pack::profile::Generation::of_pack(pack)
            .map(|_| crate::pack::profile::detect(pack)),
        secure_vault,
        keystores: keystore_findings,
        userstores: userstore_groups,
        tenants: userstores::tenant_ids(pack)?,
        custom_sequences: names_of(SequenceKind::Custom),
        customised_stock_sequences: names_of(SequenceKind::CustomisedStock),
        unverifiable_stock_sequences: names_of(SequenceKind::StockUnknown),
        api_sequences: names_of(SequenceKind::ApiSpecific).len(),
        linked_sequences: names_of(SequenceKind::Link),
        jdbc_drivers: jdbc::drivers_in(pack, COMPONENTS_LIB)?,
        databases: jdbc::configured_databases(pack)?,
    })
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

impl Detection {
    pub fn human(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.home);
        let _ = writeln!(
            out,
            "  product           {} {} (decided by `{}`)",
            self.product_name, self.version, self.decided_by
        );
        if let Some(distribution) = &self.distribution {
            let _ = writeln!(
                out,
                "  distribution      `{distribution}`, a separate distribution of API-M {}",
                self.version
            );
        }
        for disagreement in &self.disagreements {
            let _ = writeln!(out, "  ! markers disagree: {disagreement}");
        }
        if let Some(profile) = &self.profile {
            let _ = writeln!(
                out,
                "  profile           {} ({})",
                profile.name, profile.decided_by
            );
        }
        let vault = if self.secure_vault.in_use {
            format!("in use ({})", self.secure_vault.evidence.join("; "))
        } else {
            "not in use".to_string()
        };
        let _ = writeln!(out, "  secure vault      {vault}");
        if !self.secure_vault.aliases.is_empty() {
            let _ = writeln!(
                out,
                "  secret aliases    {}",
                self.secure_vault.aliases.join(", ")
            );
        }
        let _ = writeln!(out, "  keystores");
        if self.keystores.is_empty() {
            let _ = writeln!(out, "    none");
        }
        for keystore in &self.keystores {
            let note = keystore
                .note
                .as_deref()
                .map(|note| format!(" ({note})"))
                .unwrap_or_default();
            let _ = writeln!(out, "    {:<10} {}{note}", keystore.kind, keystore.path);
        }
        let _ = writeln!(out, "  tenants           {}", self.tenants.len());
        let _ = writeln!(out, "  user stores");
        if self.userstores.is_empty() {
            let _ = writeln!(out, "    none");
        }
        for group in &self.userstores {
            let names: Vec<&str> = group
                .files
                .iter()
                .map(|path| path.rsplit('/').next().unwrap_or(path))
                .collect();
            let label = group
                .tenant
                .map_or("super tenant".to_string(), |id| format!("tenant {id}"));
            let _ = writeln!(out, "    {label:<14} {}", names.join(", "));
        }
        let _ = writeln!(
            out,
            "  custom sequences  {}",
            list_or_none(&self.custom_sequences)
        );
        let _ = writeln!(
            out,
            "  customised stock  {}",
            list_or_none(&self.customised_stock_sequences)
        );
        if !self.unverifiable_stock_sequences.is_empty() {
            let _ = writeln!(
                out,
                "  unverifiable      {} (no stock hashes for this version)",
                self.unverifiable_stock_sequences.join(", ")
            );
        }
        if !self.linked_sequences.is_empty() {
            let _ = writeln!(
                out,
                "  linked sequences  {}",
                self.linked_sequences.join(", ")
            );
        }
        let _ = writeln!(out, "  API sequences     {}", self.api_sequences);
        let drivers: Vec<String> = self
            .jdbc_drivers
            .iter()
            .map(|driver| format!("{} ({})", driver.file_name, driver.databases.join("/")))
            .collect();
        let _ = writeln!(out, "  JDBC drivers      {}", list_or_none(&drivers));
        let databases: Vec<String> = self
            .databases
            .iter()
            .map(|database| format!("{} ({})", database.name, database.database))
            .collect();
        let _ = writeln!(out, "  databases         {}", list_or_none(&databases));
        out
    }
}
