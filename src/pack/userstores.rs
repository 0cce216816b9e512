//! Secondary user stores: the super tenant's and every tenant's.

use super::{Pack, SUPER_TENANT_USERSTORES, TENANTS_DIR};
use anyhow::Result;
use serde::Serialize;

/// One secondary user store file.
#[derive(Debug, Clone, Serialize)]
pub struct Userstore {
    /// `None` for the super tenant.
    pub tenant: Option<u32>,
    /// Pack-relative path (shared by the plan's actions that copy it).
    pub path: std::sync::Arc<str>,
}

/// Numeric tenant directories under `repository/tenants`, in numeric order.
pub fn tenant_ids(pack: &Pack) -> Result<Vec<u32>> {
    // Parsed as they are listed: 100,000 tenants' names gathered as strings and sorted
    // first took 10 MB at the peak of a run.
    let mut ids: Vec<u32> = Vec::new();
    pack.each_subdir(TENANTS_DIR, &mut |name| {
        ids.extend(name.parse::<u32>().ok())
    })?;
    ids.sort_unstable();
    ids.dedup();
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
    super::parallel::in_order(
        tenants(pack)?,
        || (),
        |(), tenant| stores_of(pack, tenant),
        |stores| {
            found.extend(std::mem::replace(stores, Ok(Vec::new()))?);
            Ok(())
        },
    )?;
    Ok(found)
}

/// The super tenant (`None`), then each tenant, in numeric order.
pub fn tenants(pack: &Pack) -> Result<impl Iterator<Item = Option<u32>> + Send> {
    Ok(std::iter::once(None).chain(tenant_ids(pack)?.into_iter().map(Some)))
}

/// The `*.xml` user stores of one tenant (or of the super tenant), in name order: listed,
/// not read (with thousands of tenants, reading each file here as well as when it is copied
/// doubled the reads of planning).
pub fn stores_of(pack: &Pack, tenant: Option<u32>) -> Result<Vec<Userstore>> {
    let dir = dir_of(tenant);
    Ok(pack
        .list_dir(&dir)?
        .into_iter()
        .filter(|name| name.to_ascii_lowercase().ends_with(".xml"))
        .map(|name| Userstore {
            tenant,
            path: format!("{dir}/{name}").into(),
        })
        .collect())
}
