//! The only place where the tests use the apim-migrate library in process instead of through
//! its binary: planning and applying a plan with a hook between the two, the hash cache, the
//! bundled sources, the primitives' documentation and the hashes and file names the tool uses.
//! When the library's internals change, this file is the one to adapt.

use super::Packs;
use apim_migrate::change::planner::PackSlot;
use apim_migrate::change::state::TargetLocks;
use apim_migrate::engine::{self, PlanOptions};
use apim_migrate::pack::stock::Catalogue;
use apim_migrate::pack::{Pack, Role};
use apim_migrate::script::Script;
use std::collections::BTreeMap;
use std::path::Path;

pub use apim_migrate::change::plan::Plan;
pub use apim_migrate::error::Failure;
pub use apim_migrate::primitives::{docs as primitive_docs, reference_markdown};
pub use apim_migrate::script::paths::table_markdown as path_table_markdown;
pub use apim_migrate::script::{body_of, BUNDLED, STDLIB};

/// Plans `source` against the packs in this process, as `run` does before applying.
pub fn plan_in_process(packs: &Packs, source: &str) -> Plan {
    let slots = vec![
        PackSlot::new(Role::Old, Pack::identify(&packs.old).expect("old")),
        PackSlot::new(Role::New, Pack::identify(&packs.new).expect("new")),
    ];
    let script = Script {
        name: "inline.rhai".to_string(),
        source: source.to_string(),
        path: None,
    };
    let options = PlanOptions {
        stop_at_checkpoint: true,
        ..Default::default()
    };
    let catalogue = Catalogue::with_files(&[packs.stock.as_path()]).expect("catalogue");
    let (plan, _) = engine::plan(
        &script,
        slots,
        BTreeMap::new(),
        catalogue,
        options,
        apim_migrate::primitives::register_all,
    )
    .unwrap_or_else(|error| panic!("plan: {error}"));
    plan
}

/// Applies a plan of `plan_in_process` to the new pack, as `run` does.
pub fn apply_in_process(packs: &Packs, plan: &mut Plan) -> Result<(), Failure> {
    let locks = TargetLocks::acquire([packs.new.as_path()], "test").expect("lock");
    apim_migrate::change::apply::apply(
        plan,
        "20260101T000000000Z-00001-0",
        &locks,
        &apim_migrate::change::progress::Silent,
        &apim_migrate::pack::hashes::HashCache::default(),
    )
}

/// Whether the hash cache of `pack`, as a run loads it, holds the hash of the file `metadata`
/// describes.
pub fn hash_cache_covers(pack: &Path, metadata: &std::fs::Metadata) -> bool {
    let root = apim_migrate::pack::PackRoot::open(pack).expect("open the pack");
    apim_migrate::pack::hashes::HashCache::load([&root])
        .covers(&apim_migrate::pack::Stat::of(metadata))
}

/// The tenants whose gateway folders the hash cache of `pack` holds a listing of.
pub fn hash_cache_listed_tenants(pack: &Path) -> Vec<u32> {
    let root = apim_migrate::pack::PackRoot::open(pack).expect("open the pack");
    apim_migrate::pack::hashes::HashCache::load([&root]).listed_tenants()
}

/// The file names the built-in stock catalogue lists directly under `dir` for a product (or
/// separate distribution) key and version.
pub fn builtin_stock_names(key: &str, version: &str, dir: &str) -> Vec<String> {
    Catalogue::builtin().stock_names_in(key, version, dir)
}

/// The SHA-256 of a file, in hex, as the journal records it.
pub fn sha256_file(path: &Path) -> String {
    apim_migrate::pack::files::sha256_file(path).expect("hash")
}

/// The SHA-256 of a text, in hex, as the reports record a script's.
pub fn sha256(text: &str) -> String {
    apim_migrate::pack::files::sha256_bytes(text.as_bytes())
}

/// The source of the bundled script `name`.
pub fn bundled_script(name: &str) -> &'static str {
    BUNDLED
        .iter()
        .find(|(bundled, _)| *bundled == name)
        .unwrap_or_else(|| panic!("no bundled script {name}"))
        .1
}

/// Whether `path` names a temporary file of an atomic write, which a killed run may leave.
pub fn is_temp_file(path: &str) -> bool {
    use apim_migrate::pack::files::{TEMP_PREFIX, TEMP_SUFFIX};
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}
