//! The synapse artifacts a 4.x gateway keeps only when its skip list names them: the files of
//! `synapse-configs/default/{api,endpoints,sequences,local-entries}`, of the super tenant and
//! of each tenant, told apart: stock, customised stock, a site's own, and an API's own
//! (published APIs and what the gateway wrote for them, which travel with the data
//! migration). Also the site's files in the other folders, which no skip list covers.

use super::hashes::Listed;
use super::root::Stat;
use super::sequences::is_api_sequence;
use super::stock::{Catalogue, StockStatus};
use super::toml::SkipKind;
use super::{userstores, Pack, SYNAPSE_DEFAULT, TENANTS_DIR};
use anyhow::Result;
use sha2::{Digest, Sha256};

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

/// What `scan` found.
#[derive(Debug, Clone, Default)]
pub struct Scan {
    /// The files of the skip-listed folders asked for; of the tenants', only those that are
    /// not stock and not an API's own (which are counted instead).
    pub artifacts: Vec<Artifact>,
    /// The tenants' stock-named files.
    pub tenants_stock: usize,
    /// The tenants' files of published APIs.
    pub tenants_api_own: usize,
    /// The site's files in the other folders (pack-relative), when asked for.
    pub others: Vec<String>,
}

/// Every file of the folders of `kinds` (of the super tenant, and with `tenants` of each
/// tenant), classified against `catalogue`; with `others`, also the site's files in the
/// other folders of `synapse-configs/default` (proxy services, tasks, templates, …), which
/// no skip list covers.
///
/// A pack may hold thousands of tenants, so a tenant costs a listing of its synapse root and
/// of each of the folders found there, and no file is read but a custom one's candidates: an
/// API's own file is told by its name, and a stock name in a tenant's folder is taken as
/// stock unread, since the gateway writes those copies itself when the tenant first loads
/// (the super tenant's stock files are compared by hash). A tenant whose folders held
/// nothing but those, as an earlier run recorded in the hash cache (`hashes::Listed`),
/// costs a `stat` of its root and of each folder instead, while they show what was
/// recorded; a `run` records the tenants it listed.
pub fn scan(
    pack: &Pack,
    catalogue: &Catalogue,
    kinds: &[SkipKind],
    tenants: bool,
    others: bool,
) -> Result<Scan> {
    // What earlier runs recorded of the tenants' folders holds for this kind of scan only,
    // and only for a pack with nothing planned into its tenants' folders.
    let context = (tenants && pack.overlaid_below(TENANTS_DIR).next().is_none())
        .then(|| context_of(pack, catalogue, kinds, others));
    // The super tenant and the tenants by id only (their roots' paths are made as each is
    // scanned: 100,000 of them held at once were some 9 MB).
    let roots: Vec<Option<u32>> = if tenants {
        userstores::tenants(pack)?.collect()
    } else {
        vec![None]
    };
    // Listing thousands of tenants' folders is all system calls: spread over the cores (up
    // to four), each part in order, merged in order.
    let threads = super::parallel::threads();
    let parts: Vec<Result<Scan>> = if roots.len() < 64 || threads < 2 {
        vec![scan_roots(pack, catalogue, kinds, others, context, &roots)]
    } else {
        let chunk = roots.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = roots
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(|| scan_roots(pack, catalogue, kinds, others, context, part))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let mut scan = Scan::default();
    for part in parts {
        let part = part?;
        scan.artifacts.extend(part.artifacts);
        scan.tenants_stock += part.tenants_stock;
        scan.tenants_api_own += part.tenants_api_own;
        scan.others.extend(part.others);
    }
    Ok(scan)
}

/// What names a kind of scan, for `hashes::Listed`: the pack's version and stock names in
/// the synapse folders, the folders asked for, and whether the others are looked at.
fn context_of(pack: &Pack, catalogue: &Catalogue, kinds: &[SkipKind], others: bool) -> u64 {
    let mut hasher = Sha256::new();
    let mut put = |text: &str| {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    };
    put("apim-migrate gateway scan 1");
    put(pack.stock_key());
    put(&pack.version);
    for kind in kinds {
        put(kind.dir());
    }
    put(if others { "others" } else { "" });
    for path in catalogue.stock_paths_under(pack.stock_key(), &pack.version, SYNAPSE_DEFAULT) {
        put(path);
    }
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Where `kind` is in `SkipKind::ALL`: its place in `Stamps::folders`.
fn folder_index(kind: SkipKind) -> usize {
    SkipKind::ALL
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(0)
}

/// The bit of `kind` in `Listed::folders`.
fn folder_bit(kind: SkipKind) -> u8 {
    1 << folder_index(kind)
}

/// The counts an earlier run recorded of a tenant's folders, when the `stat`s of its root and
/// of each folder recorded still show what they showed (no entry added, removed or renamed
/// in any of them since).
fn recalled(pack: &Pack, context: u64, tenant: u32, root: &str) -> Option<(u32, u32)> {
    let (index, listed) = pack.hashes.listed(context, tenant)?;
    let mut stats = Vec::with_capacity(1 + SkipKind::ALL.len());
    stats.push(pack.root.glance(root).ok()??);
    for kind in SkipKind::ALL {
        if listed.folders & folder_bit(kind) != 0 {
            let dir = format!("{root}/{}", kind.dir());
            stats.push(pack.root.glance(&dir).ok()??);
        }
    }
    if Listed::stamps_of(context, tenant, &stats) != listed.stamps {
        return None;
    }
    pack.hashes.confirm_listed(index);
    Some((listed.stock, listed.api_own))
}

/// The `stat`s a tenant's listing is recorded with (when `wanted`): its root's, then its
/// folders' in the order of `SkipKind::ALL`; one that could not be taken is `None`, and
/// nothing is recorded then.
struct Stamps {
    wanted: bool,
    root: Option<Stat>,
    folders: [Option<Stat>; SkipKind::ALL.len()],
}

impl Stamps {
    /// Those of the root and of the folders `present`, in order.
    fn in_order(&self, present: u8) -> Option<Vec<Stat>> {
        if !self.wanted {
            return None;
        }
        let mut stats = vec![self.root?];
        for (index, kind) in SkipKind::ALL.into_iter().enumerate() {
            if present & folder_bit(kind) != 0 {
                stats.push(self.folders[index]?);
            }
        }
        Some(stats)
    }
}

/// `scan` of some synapse roots (of a tenant, or of the super tenant: `None`); `context`
/// names the kind of scan for what earlier runs recorded of the tenants' folders (`None`:
/// not used).
fn scan_roots(
    pack: &Pack,
    catalogue: &Catalogue,
    kinds: &[SkipKind],
    others: bool,
    context: Option<u64>,
    roots: &[Option<u32>],
) -> Result<Scan> {
    let mut scan = Scan::default();
    let listed: Vec<&str> = SkipKind::ALL.iter().map(|kind| kind.dir()).collect();
    for &tenant in roots {
        let root = match tenant {
            None => SYNAPSE_DEFAULT.to_string(),
            Some(id) => format!("{TENANTS_DIR}/{id}/synapse-configs/default"),
        };
        let root = root.as_str();
        let memo = context.zip(tenant);
        if let Some((context, id)) = memo {
            if let Some((stock, api_own)) = recalled(pack, context, id, root) {
                scan.tenants_stock += stock as usize;
                scan.tenants_api_own += api_own as usize;
                continue;
            }
        }
        // A run records what it lists, each directory's `stat` taken before its listing.
        let mut stamps = Stamps {
            wanted: memo.is_some() && pack.hashes.is_recording(),
            root: None,
            folders: [None; SkipKind::ALL.len()],
        };
        if stamps.wanted {
            stamps.root = pack.root.glance(root).ok().flatten();
        }
        let before = (
            scan.artifacts.len(),
            scan.tenants_stock,
            scan.tenants_api_own,
        );
        let mut present = 0u8;
        // One listing of the root says which folders there are: looking up a path is most of
        // the cost, and a folder that is not there costs one lookup either way.
        let folders = pack.list_subdirs(root)?;
        for kind in kinds {
            if !folders.iter().any(|folder| folder == kind.dir()) {
                continue;
            }
            present |= folder_bit(*kind);
            let dir = format!("{root}/{}", kind.dir());
            if stamps.wanted {
                stamps.folders[folder_index(*kind)] = pack.root.glance(&dir).ok().flatten();
            }
            // The super tenant's path of a file, where the stock files are catalogued: one
            // buffer for the folder's files (a tenant's are mostly counted, not kept).
            let mut stock_path = format!("{SYNAPSE_DEFAULT}/{}/", kind.dir());
            let folder_len = stock_path.len();
            for name in pack.list_dir(&dir)? {
                if !name.ends_with(".xml") {
                    continue;
                }
                stock_path.truncate(folder_len);
                stock_path.push_str(&name);
                let stock_name =
                    catalogue.is_stock_name(pack.stock_key(), &pack.version, &stock_path);
                let api_own = is_api_own(*kind, &name);
                if tenant.is_some() && (api_own || stock_name) {
                    if api_own {
                        scan.tenants_api_own += 1;
                    } else {
                        scan.tenants_stock += 1;
                    }
                    continue;
                }
                let path = format!("{dir}/{name}");
                let class = if api_own {
                    ArtifactClass::ApiOwn
                } else if pack.is_link(&path) {
                    ArtifactClass::Link
                } else if !pack.is_file(&path) {
                    continue;
                } else if !stock_name {
                    ArtifactClass::Custom
                } else {
                    let sha256 = pack.sha256(&path)?;
                    match catalogue.status(pack.stock_key(), &pack.version, &stock_path, &sha256) {
                        StockStatus::NotStock => ArtifactClass::Custom,
                        StockStatus::Stock => ArtifactClass::Stock,
                        StockStatus::Customised => ArtifactClass::CustomisedStock,
                        StockStatus::Unknown => ArtifactClass::StockUnknown,
                    }
                };
                scan.artifacts.push(Artifact {
                    kind: *kind,
                    name,
                    path,
                    tenant,
                    stock_path: stock_path.clone(),
                    class,
                });
            }
        }
        if let Some((context, id)) = memo {
            // Only a tenant whose folders held nothing but stock names and APIs' own files:
            // a custom file is looked at each time, and so are the other folders, whose
            // files lie deeper than the `stat`s recorded reach.
            let only_counted = scan.artifacts.len() == before.0
                && !(others
                    && folders
                        .iter()
                        .any(|folder| !listed.contains(&folder.as_str())));
            let counts = (
                u32::try_from(scan.tenants_stock - before.1),
                u32::try_from(scan.tenants_api_own - before.2),
            );
            if let (true, Some(stats), (Ok(stock), Ok(api_own))) =
                (only_counted, stamps.in_order(present), counts)
            {
                pack.hashes.record_listed(
                    Listed {
                        context,
                        tenant: id,
                        folders: present,
                        stock,
                        api_own,
                        stamps: [0; 16],
                    },
                    &stats,
                );
            }
        }
        if !others {
            continue;
        }
        for folder in folders
            .iter()
            .filter(|folder| !listed.contains(&folder.as_str()))
        {
            for path in pack.files_under(&format!("{root}/{folder}"))? {
                let inner = path.strip_prefix(&format!("{root}/")).unwrap_or(&path);
                let name = inner.rsplit('/').next().unwrap_or(inner);
                if name.contains("--") {
                    continue;
                }
                let stock_path = format!("{SYNAPSE_DEFAULT}/{inner}");
                if catalogue.is_stock_name(pack.stock_key(), &pack.version, &stock_path) {
                    continue;
                }
                scan.others.push(path);
            }
        }
    }
    Ok(scan)
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
