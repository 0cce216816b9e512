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
    let mut ids: Vec<u32> = pack
        .list_subdirs(TENANTS_DIR)?
        .iter()
        .filter_map(|name| name.parse().ok())
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
    each(pack)?.collect()
}

/// How many tenants' user store directories `each` lists at once, on all cores: fewer than
/// the handles a pack keeps (512), so that each directory is still open when its stores are
/// looked up.
const LISTED_AT_ONCE: usize = 128;

/// `find`, the tenants' directories listed a slice at a time as their stores are asked for,
/// each slice on all cores: a caller that takes them a few hundred at a time looks them up
/// while the pack still holds the handle of their directory (see
/// `Planner::copy_all_from_pack`).
pub fn each(pack: &Pack) -> Result<impl Iterator<Item = Result<Userstore>> + '_> {
    let mut tenants = std::iter::once(None)
        .chain(tenant_ids(pack)?.into_iter().map(Some))
        .peekable();
    let slices = std::iter::from_fn(move || {
        tenants.peek()?;
        let slice: Vec<Option<u32>> = tenants.by_ref().take(LISTED_AT_ONCE).collect();
        // Listed on all cores; the stores' paths, which a plan keeps, are made here, on
        // this thread: what a thread of the slice allocated and kept would stay in that
        // thread's arena of the allocator (some 12 MB more at 100,000 tenants).
        let listed = super::parallel::on_all_cores(
            &slice,
            || (),
            |(), tenant| pack.list_dir(&dir_of(*tenant)),
        );
        Some(
            slice
                .into_iter()
                .zip(listed)
                .flat_map(|(tenant, names)| stores_in(tenant, names))
                .collect::<Vec<_>>(),
        )
    });
    Ok(slices.flatten())
}

/// The user stores of one tenant (or of the super tenant), from its directory's listing.
fn stores_in(tenant: Option<u32>, names: Result<Vec<String>>) -> Vec<Result<Userstore>> {
    let names = match names {
        Ok(names) => names,
        Err(error) => return vec![Err(error)],
    };
    let dir = dir_of(tenant);
    names
        .into_iter()
        .filter(|name| name.to_ascii_lowercase().ends_with(".xml"))
        // Listed, not read: with thousands of tenants, reading each file here as well as
        // when it is copied doubled the reads of planning.
        .map(|name| {
            Ok(Userstore {
                tenant,
                path: format!("{dir}/{name}").into(),
            })
        })
        .collect()
}
