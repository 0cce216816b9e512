//! Secondary user stores: the super tenant's and every tenant's.

use super::{Pack, SUPER_TENANT_USERSTORES, TENANTS_DIR};
use anyhow::Result;
use serde::Serialize;

/// One secondary user store file.
#[derive(Debug, Clone, Serialize)]
pub struct Userstore {
    /// `None` for the super tenant.
    pub tenant: Option<u32>,
    /// Pack-relative path.
    pub path: String,
    /// The `DomainName` property, when the file has one.
    pub domain: Option<String>,
}

/// Numeric tenant directories under `repository/tenants`, in numeric order.
pub fn tenant_ids(pack: &Pack) -> Result<Vec<u32>> {
    let mut ids: Vec<u32> = pack
        .list_dir(TENANTS_DIR)?
        .iter()
        .filter_map(|name| name.parse().ok())
        .filter(|id: &u32| pack.is_dir(&format!("{TENANTS_DIR}/{id}")))
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// The user stores directory of a tenant (or of the super tenant).
pub fn dir_of(tenant: Option<u32>) -> String {
    match tenant {
        None => SUPER_TENANT_USERSTORES.to_string(),
        Some(id) => format!("{TENANTS_DIR}/{id}/userstores"),
    }
}

/// Every `*.xml` user store of the super tenant and of each tenant.
pub fn find(pack: &Pack) -> Result<Vec<Userstore>> {
    let mut found = Vec::new();
    let tenants = std::iter::once(None).chain(tenant_ids(pack)?.into_iter().map(Some));
    for tenant in tenants {
        let dir = dir_of(tenant);
        for name in pack.list_dir(&dir)? {
            if !name.to_ascii_lowercase().ends_with(".xml") {
                continue;
            }
            let path = format!("{dir}/{name}");
            let domain = pack
                .read_to_string(&path)
                .ok()
                .and_then(|text| domain_name(&text));
            found.push(Userstore {
                tenant,
                path,
                domain,
            });
        }
    }
    Ok(found)
}

/// The value of `<Property name="DomainName">…</Property>`.
pub fn domain_name(text: &str) -> Option<String> {
    let marker = "name=\"DomainName\"";
    let start = text.find(marker)? + marker.len();
    let rest = &text[start..];
    let open = rest.find('>')? + 1;
    let close = rest[open..].find('<')? + open;
    Some(rest[open..close].trim().to_string())
}

/// The file name WSO2 gives a user store of a domain: dots become underscores.
pub fn file_name_for_domain(domain: &str) -> String {
    format!("{}.xml", domain.replace('.', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_and_file_name() {
        assert_eq!(
            domain_name("<Property name=\"DomainName\">corp.example.com</Property>"),
            Some("corp.example.com".to_string())
        );
        assert_eq!(
            file_name_for_domain("corp.example.com"),
            "corp_example_com.xml"
        );
    }
}
