//! `copy_gateway_artifacts`: the site's own sequences, endpoints, local entries and APIs (of
//! the super tenant and of each tenant) copied into a 4.x pack and listed in the skip lists
//! its `api-manager.xml.j2` reads, so that the gateway does not delete them at start-up; and
//! the checks of a skip list that is already there. `add_skip_sequences` is the same for
//! the super tenant's sequences alone.

use super::sequences::{customised_id, diff_between};
use super::Registry;
use crate::change::plan::{Finding, Status};
use crate::change::planner::Planner;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::artifacts::{self, Artifact, ArtifactClass};
use crate::pack::sequences::FAULT_SEQUENCES_CHANGED_IN_4;
use crate::pack::stock::Catalogue;
use crate::pack::templates::{SkipListRules, API_MANAGER_TEMPLATE, SKIP_LIST_KEY};
use crate::pack::toml::{self, SkipKind};
use crate::pack::{Pack, DEPLOYMENT_TOML, SYNAPSE_DEFAULT};
use anyhow::bail;
use std::collections::BTreeMap;

const PRIMITIVE: &str = "copy_gateway_artifacts";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "copy_gateway_artifacts",
            "The 4.x gateway deletes, at start-up and when a tenant loads, every file of `synapse-configs/default/{api,endpoints,sequences,local-entries}` that its skip list does not name. This copies the site's own ones from `from` into `to` (the super tenant's and each tenant's, to the same place) and merges their file names into `[apim.sync_runtime_artifacts.gateway.skip_list]` `apis`, `endpoints`, `sequences` and `local_entries` of `to`'s deployment.toml (no duplicates, every existing line kept). Which lists exist and which names the gateway already keeps are read from `to`'s own `api-manager.xml.j2` (built-in facts when it has none): a stock name is never listed. Left alone: stock files; an API's own files (`provider--Name_vX.xml`, its endpoints and `--In/--Out/--Fault` sequences, its definition as a local entry), which travel with the data migration; a customised stock file, reported as a finding with the diff to `to`'s, to port by hand (a tenant's stock-named files are the gateway's own copies, written when the tenant loads: left unread); a custom file whose name is stock in `to` (warning). Warns about a skip list already in `to` that uses the key `local-entries` (4.x reads `local_entries`) or lists a stock name, and about the site's files in other folders (proxy services, tasks, ...), which no skip list covers.",
            r#"if profile_has(new, "gateway", "custom synapse artifacts and the skip lists") {
    copy_gateway_artifacts(old, new);
}"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            let wanted = Wanted {
                kinds: SkipKind::ALL.to_vec(),
                tenants: true,
                only: None,
            };
            copy(&mut shared.borrow_mut(), &from, &to, PRIMITIVE, &wanted).map_err(script_error)
        });
}

/// Which artifacts a call is about.
pub(super) struct Wanted {
    pub kinds: Vec<SkipKind>,
    /// Each tenant's too, not only the super tenant's.
    pub tenants: bool,
    /// Only these custom files (file names), when given.
    pub only: Option<Vec<String>>,
}

/// Copies the custom artifacts `wanted` of `from` into `to` and lists them (see the
/// primitive's summary); `primitive` names the caller in the plan.
pub(super) fn copy(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
    primitive: &str,
    wanted: &Wanted,
) -> anyhow::Result<()> {
    let Session {
        planner, catalogue, ..
    } = session;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    let rules = SkipListRules::of(&to_pack);
    if rules.kinds.is_empty() {
        bail!(
            "`{}` ({}) is {}, which reads no gateway skip list ({}): `{primitive}` is for 4.x packs; before 4.x, `copy_synapse_artifacts` copies the custom synapse artifacts",
            to.flag(),
            to.home,
            to_pack.label(),
            rules.source.describe()
        );
    }
    let Some(toml_bytes) = planner.read(to.role, DEPLOYMENT_TOML)? else {
        bail!(
            "`{}` ({}) has no `{DEPLOYMENT_TOML}`: the gateway skip list is a setting of it",
            to.flag(),
            to.home
        );
    };
    let file = format!("{}/{DEPLOYMENT_TOML}", to.home);
    let text = crate::pack::files::utf8_text(toml_bytes, &file)?;
    check_existing(
        planner, catalogue, to, &to_pack, &rules, &text, &file, primitive,
    )?;

    let with_others = wanted.only.is_none() && wanted.tenants;
    let scan = artifacts::scan(
        &from_pack,
        catalogue,
        &wanted.kinds,
        wanted.tenants,
        with_others,
    )?;
    let found = scan.artifacts;
    let tenants_api_own = scan.tenants_api_own;
    if let Some(names) = &wanted.only {
        refuse_unknown_names(&found, names, from)?;
    }
    let mut listed: BTreeMap<SkipKind, Vec<String>> = BTreeMap::new();
    let mut stock_left = scan.tenants_stock;
    let mut api_own = tenants_api_own;
    for artifact in &found {
        let chosen = wanted
            .only
            .as_ref()
            .is_none_or(|names| names.contains(&artifact.name));
        match artifact.class {
            ArtifactClass::Stock => stock_left += 1,
            ArtifactClass::ApiOwn => {
                api_own += 1;
                // One action each for the super tenant's; a tenant's are counted by `scan`,
                // as a pack may hold thousands of tenants with their APIs.
                if wanted.only.is_none() {
                    planner.skip(
                        primitive,
                        from.role,
                        &artifact.path,
                        "an API's own file: it travels with its API in the data migration",
                    )?;
                }
            }
            ArtifactClass::CustomisedStock | ArtifactClass::StockUnknown => {
                if wanted.only.is_none() {
                    report_customised(
                        planner, from, to, &from_pack, &to_pack, artifact, primitive,
                    )?;
                }
            }
            ArtifactClass::Custom | ArtifactClass::Link => {
                if !chosen {
                    continue;
                }
                if let Some(reason) = not_to_copy(catalogue, &rules, &from_pack, &to_pack, artifact)
                {
                    planner.skip(primitive, from.role, &artifact.path, &reason)?;
                    planner.warn(primitive, &reason, None);
                    continue;
                }
                let status = planner.copy_from_pack(
                    primitive,
                    from.role,
                    &artifact.path,
                    to.role,
                    &artifact.path,
                )?;
                let names = listed.entry(artifact.kind).or_default();
                if status != Status::Skipped && !names.contains(&artifact.name) {
                    names.push(artifact.name.clone());
                }
            }
        }
    }
    if with_others {
        let others = scan.others;
        if !others.is_empty() {
            planner.warn(
                primitive,
                &format!(
                    "`{}` holds synapse artifacts of its own outside the folders the skip lists cover ({}): they are not copied. {} does not delete them, but check by hand whether each is still needed and still valid in {}, and copy it if so",
                    from.role,
                    others
                        .iter()
                        .map(|path| format!("`{path}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    to_pack.label(),
                    to_pack.label()
                ),
                None,
            );
        }
    }

    let what = wanted
        .kinds
        .iter()
        .map(|kind| kind.noun())
        .collect::<Vec<_>>()
        .join(", ");
    if wanted.only.is_none() && tenants_api_own > 0 {
        planner.check(
            primitive,
            from.role,
            crate::pack::TENANTS_DIR,
            &format!(
                "{tenants_api_own} files of the tenants' published APIs left to the data migration, which writes them again"
            ),
        )?;
    }
    if listed.values().all(Vec::is_empty) {
        planner.check(
            primitive,
            from.role,
            SYNAPSE_DEFAULT,
            &format!(
                "no custom {what} to carry ({stock_left} stock, {api_own} of published APIs): the skip lists are not needed"
            ),
        )?;
        return Ok(());
    }
    // Copies do not touch deployment.toml, so the text read above is current.
    let mut merged_text = text.clone();
    let mut gateway_table_present = true;
    for (kind, names) in &listed {
        if names.is_empty() {
            continue;
        }
        let merged = toml::merge_skip_list(&merged_text, &file, *kind, names)?;
        gateway_table_present &= merged.gateway_table_present;
        merged_text = merged.text;
    }
    if !gateway_table_present
        && !to
            .facts
            .defaults_define("apim.sync_runtime_artifacts.gateway")
    {
        planner.warn(
            primitive,
            &format!(
                "`{}:{DEPLOYMENT_TOML}` has no `[apim.sync_runtime_artifacts.gateway]` table and the pack's defaults define none: `api-manager.xml.j2` reads the skip lists only when that table is defined (the stock 4.x file has it); add it",
                to.role
            ),
            None,
        );
    }
    if merged_text != text {
        planner.write(
            primitive,
            to.role,
            DEPLOYMENT_TOML,
            merged_text.into_bytes(),
            0o644,
        )?;
    }
    Ok(())
}

/// Why a custom artifact is not copied, if it is not: its name is stock in `to`, or the
/// template reads no list of its kind.
fn not_to_copy(
    catalogue: &Catalogue,
    rules: &SkipListRules,
    from_pack: &Pack,
    to_pack: &Pack,
    artifact: &Artifact,
) -> Option<String> {
    let stock_in_target =
        catalogue.is_stock_name(to_pack.stock_key(), &to_pack.version, &artifact.stock_path);
    if stock_in_target {
        return Some(format!(
            "`{}` is a custom {} of {} but a stock one of {}: not copied over it (nor listed); rename it, or merge the two by hand",
            artifact.name,
            singular(artifact.kind),
            from_pack.label(),
            to_pack.label()
        ));
    }
    if crate::pack::name::has_raw_bytes(&artifact.name) {
        return Some(format!(
            "the name of `{}` is not UTF-8: it cannot be listed in the skip list of deployment.toml (TOML holds only text), so {} would delete it at start-up; not copied: rename it to a UTF-8 name and run again",
            crate::pack::name::shown(&artifact.name),
            to_pack.label()
        ));
    }
    if rules.exempts(artifact.kind, &artifact.name) {
        return Some(format!(
            "`{}` is a custom {} of {}, but a name {} keeps for a file of its own ({}): not copied (nor listed); rename it, or merge the two by hand",
            artifact.name,
            singular(artifact.kind),
            from_pack.label(),
            to_pack.label(),
            rules.source.describe()
        ));
    }
    if !rules.reads(artifact.kind) {
        return Some(format!(
            "{} reads no `{}` skip list ({}): the gateway would delete `{}` at start-up, so it is not copied; carry it by hand if the gateway keeps it",
            to_pack.label(),
            artifact.kind.key(),
            rules.source.describe(),
            artifact.name
        ));
    }
    None
}

fn singular(kind: SkipKind) -> &'static str {
    match kind {
        SkipKind::Apis => "API",
        SkipKind::Endpoints => "endpoint",
        SkipKind::Sequences => "sequence",
        SkipKind::LocalEntries => "local entry",
    }
}

/// Refuses names (given to `add_skip_sequences`) that are no custom file.
fn refuse_unknown_names(
    found: &[Artifact],
    names: &[String],
    from: &PackHandle,
) -> anyhow::Result<()> {
    let custom: Vec<&str> = found
        .iter()
        .filter(|artifact| matches!(artifact.class, ArtifactClass::Custom | ArtifactClass::Link))
        .map(|artifact| artifact.name.as_str())
        .collect();
    let unknown: Vec<String> = names
        .iter()
        .filter(|name| !custom.contains(&name.as_str()))
        .map(|name| format!("`{name}`"))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "{} {} not a custom global sequence of `{}` (custom ones: {})",
            unknown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" },
            from.role,
            if custom.is_empty() {
                "none".to_string()
            } else {
                custom.join(", ")
            }
        );
    }
    Ok(())
}

/// A customised stock file: not copied over the new pack's own, reported with the diff.
fn report_customised(
    planner: &mut Planner,
    from: &PackHandle,
    to: &PackHandle,
    from_pack: &Pack,
    to_pack: &Pack,
    artifact: &Artifact,
    primitive: &str,
) -> anyhow::Result<()> {
    let diff = diff_between(planner, from, &artifact.path, to, &artifact.stock_path)?;
    let noun = singular(artifact.kind);
    let (reason, message) = if artifact.class == ArtifactClass::CustomisedStock {
        let json_note = artifact.kind == SkipKind::Sequences
            && FAULT_SEQUENCES_CHANGED_IN_4.contains(&artifact.name.trim_end_matches(".xml"))
            && to_pack.major() >= 4
            && from_pack.major() < 4;
        (
            format!(
                "customised stock {noun}: not copied over {}'s own; port the change by hand",
                to_pack.label()
            ),
            format!(
                "stock {noun} `{}` was customised in `{}` ({}): port the customisation by hand to `{}:{}`{}",
                artifact.name,
                from.role,
                from_pack.label(),
                to.role,
                artifact.stock_path,
                if json_note {
                    " (from 4.0.0 it answers in JSON, not XML)"
                } else {
                    ""
                }
            ),
        )
    } else {
        (
            format!(
                "stock {noun} whose stock bytes for {} are not known: compare it by hand",
                from_pack.label()
            ),
            format!(
                "cannot tell whether stock {noun} `{}` of `{}` was customised (no stock hash for {}): compare it with a pristine pack and port any change by hand",
                artifact.name,
                from.role,
                from_pack.label()
            ),
        )
    };
    planner.skip(primitive, from.role, &artifact.path, &reason)?;
    planner.find(Finding {
        id: customised_id(&artifact.path),
        primitive: primitive.to_string(),
        message,
        path: Some(format!("{}:{}", from.role, artifact.path)),
        diff,
        carried_from: None,
    });
    Ok(())
}

/// Warns about what a skip list already in `to` gets wrong: a key 4.x never reads (above
/// all `local-entries`), and names the gateway keeps anyway.
#[allow(clippy::too_many_arguments)]
fn check_existing(
    planner: &mut Planner,
    catalogue: &Catalogue,
    to: &PackHandle,
    to_pack: &Pack,
    rules: &SkipListRules,
    text: &str,
    file: &str,
    primitive: &str,
) -> anyhow::Result<()> {
    let document = toml::parse(text, file)?;
    let table = format!("[{SKIP_LIST_KEY}]");
    for (key, names) in toml::read_skip_lists(&document) {
        if rules.other_keys.contains(&key) {
            // A list this tool does not know, but the template reads.
            continue;
        }
        let Some(kind) = SkipKind::from_key(&key).filter(|kind| rules.reads(*kind)) else {
            let fix = if key == "local-entries" {
                format!(
                    "4.x reads `local_entries`, with an underscore (some WSO2 documents misspell it): rename the key to `local_entries` in `{}:{DEPLOYMENT_TOML}`, or the local entries it names are deleted at start-up",
                    to.role
                )
            } else {
                format!(
                    "{} reads no such list ({}): its names protect nothing; remove it from `{}:{DEPLOYMENT_TOML}`",
                    to_pack.label(),
                    rules.source.describe(),
                    to.role
                )
            };
            planner.warn(primitive, &format!("`{key}` under `{table}`: {fix}"), None);
            continue;
        };
        let stock: Vec<String> = names
            .iter()
            .filter(|name| {
                rules.exempts(kind, name)
                    || catalogue.is_stock_name(
                        to_pack.stock_key(),
                        &to_pack.version,
                        &format!("{SYNAPSE_DEFAULT}/{}/{name}", kind.dir()),
                    )
            })
            .map(|name| format!("`{name}`"))
            .collect();
        if !stock.is_empty() {
            planner.warn(
                primitive,
                &format!(
                    "`{key}` under `{table}` in `{}:{DEPLOYMENT_TOML}` lists stock {} of {} ({}), which `{API_MANAGER_TEMPLATE}` keeps already: a skip list is for the site's own files; remove {} from it",
                    to.role,
                    kind.noun(),
                    to_pack.label(),
                    stock.join(", "),
                    if stock.len() == 1 { "it" } else { "them" }
                ),
                None,
            );
        }
    }
    Ok(())
}
