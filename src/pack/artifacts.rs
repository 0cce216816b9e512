//! The synapse artifacts a 4.x gateway keeps only when its skip list names them: the files of
//! `synapse-configs/default/{api,endpoints,sequences,local-entries}`, of the super tenant and
//! of each tenant, told apart: stock, customised stock, a site's own, and an API's own
//! (published APIs and what the gateway wrote for them, which travel with the data
//! migration). Also the site's files in the other folders, which no skip list covers.

use super::sequences::is_api_sequence;
use super::stock::{Catalogue, StockStatus};
use super::toml::SkipKind;
use super::{userstores, Pack, SYNAPSE_DEFAULT, TENANTS_DIR};
use anyhow::Result;

/// What an artifact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactClass {
    /// Shipped by the pack's version, unchanged.
    Stock,
    /// Shipped by the pack's version, changed on site.
    CustomisedStock,
    /// A stock name whose stock bytes are not known, so changes cannot be told.
    StockUnknown,
    /// The site's own.
    Custom,
    /// A published API's own file (`provider--Name_vX.xml`, its endpoints, its
    /// `provider--Name:vX--In` sequences, its definition kept as a local entry).
    ApiOwn,
    /// A link, which is never followed out of a pack.
    Link,
}

/// One file of a skip-listed folder.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub kind: SkipKind,
    /// The file name, as a skip list names it: `audit_log.xml`.
    pub name: String,
    /// Pack-relative.
    pub path: String,
    /// `None` for the super tenant.
    pub tenant: Option<u32>,
    /// The same file in the super tenant's folder, where the stock files are catalogued.
    pub stock_path: String,
    pub class: ArtifactClass,
}

/// Whether `name`, a file of the folder of `kind`, is a published API's own: the gateway
/// names what it writes for an API `provider--Name…` (APIs, their endpoints, their
/// sequences `provider--Name:vX--In`), and 3.x keeps an API's definition as a local entry
/// named by the API's UUID.
pub fn is_api_own(kind: SkipKind, name: &str) -> bool {
    let stem = name.strip_suffix(".xml").unwrap_or(name);
    match kind {
        SkipKind::Sequences => is_api_sequence(name),
        SkipKind::Apis | SkipKind::Endpoints => stem.contains("--"),
        SkipKind::LocalEntries => stem.contains("--") || is_uuid(stem),
    }
}

fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 5
        && parts.iter().zip([8, 4, 4, 4, 12]).all(|(part, length)| {
            part.len() == length && part.chars().all(|c| c.is_ascii_hexdigit())
        })
}

/// The synapse roots of a pack: the super tenant's, then each tenant's (by id).
pub fn roots(pack: &Pack) -> Result<Vec<(Option<u32>, String)>> {
    let mut roots = vec![(None, SYNAPSE_DEFAULT.to_string())];
    for id in userstores::tenant_ids(pack)? {
        let root = format!("{TENANTS_DIR}/{id}/synapse-configs/default");
        if pack.is_dir(&root) {
            roots.push((Some(id), root));
        }
    }
    Ok(roots)
}

/// Every file of the folders of `kinds` (of the super tenant, and with `tenants` of each
/// tenant), classified against `catalogue`.
pub fn classify(
    pack: &Pack,
    catalogue: &Catalogue,
    kinds: &[SkipKind],
    tenants: bool,
) -> Result<Vec<Artifact>> {
    let mut found = Vec::new();
    for (tenant, root) in roots(pack)? {
        if tenant.is_some() && !tenants {
            continue;
        }
        for kind in kinds {
            let dir = format!("{root}/{}", kind.dir());
            for name in pack.list_dir(&dir)? {
                if !name.ends_with(".xml") {
                    continue;
                }
                let path = format!("{dir}/{name}");
                let stock_path = format!("{SYNAPSE_DEFAULT}/{}/{name}", kind.dir());
                let class = if pack.is_link(&path) {
                    ArtifactClass::Link
                } else if !pack.is_file(&path) {
                    continue;
                } else if is_api_own(*kind, &name) {
                    ArtifactClass::ApiOwn
                } else {
                    let sha256 = pack.sha256(&path)?;
                    match catalogue.status(pack.stock_key(), &pack.version, &stock_path, &sha256) {
                        StockStatus::NotStock => ArtifactClass::Custom,
                        StockStatus::Stock => ArtifactClass::Stock,
                        StockStatus::Customised => ArtifactClass::CustomisedStock,
                        StockStatus::Unknown => ArtifactClass::StockUnknown,
                    }
                };
                found.push(Artifact {
                    kind: *kind,
                    name,
                    path,
                    tenant,
                    stock_path,
                    class,
                });
            }
        }
    }
    Ok(found)
}

/// The site's files in the other folders of `synapse-configs/default` (proxy services,
/// tasks, templates, …), of the super tenant and each tenant: no skip list covers them.
pub fn others(pack: &Pack, catalogue: &Catalogue) -> Result<Vec<String>> {
    let listed: Vec<&str> = SkipKind::ALL.iter().map(|kind| kind.dir()).collect();
    let mut found = Vec::new();
    for (_, root) in roots(pack)? {
        for path in pack.files_under(&root)? {
            let inner = path.strip_prefix(&format!("{root}/")).unwrap_or(&path);
            let Some((folder, name)) = inner.split_once('/') else {
                // `synapse.xml`, `registry.xml`: the configuration of synapse itself.
                continue;
            };
            if listed.contains(&folder) || name.contains("--") {
                continue;
            }
            let stock_path = format!("{SYNAPSE_DEFAULT}/{inner}");
            if catalogue.is_stock_name(pack.stock_key(), &pack.version, &stock_path) {
                continue;
            }
            found.push(path);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apis_own_files_are_told_by_their_names() {
        assert!(is_api_own(
            SkipKind::Apis,
            "admin--PizzaShackAPI_v1.0.0.xml"
        ));
        assert!(is_api_own(
            SkipKind::Apis,
            "admin-AT-tenant1.example.com--OrdersAPI_v1.0.0.xml"
        ));
        assert!(!is_api_own(SkipKind::Apis, "HealthCheckAPI.xml"));
        assert!(is_api_own(
            SkipKind::Endpoints,
            "admin--PizzaShackAPI_APIproductionEndpoint.xml"
        ));
        assert!(!is_api_own(SkipKind::Endpoints, "BackendEP.xml"));
        assert!(is_api_own(
            SkipKind::Sequences,
            "admin--PizzaShackAPI:v1.0.0--In.xml"
        ));
        assert!(!is_api_own(SkipKind::Sequences, "audit--log.xml"));
        assert!(is_api_own(
            SkipKind::LocalEntries,
            "2f5b2c6e-0a7d-4a57-9d3e-0c4a1f3b8e21.xml"
        ));
        assert!(!is_api_own(SkipKind::LocalEntries, "partner-config.xml"));
    }
}
