//! `add_skip_sequences`: custom global sequences, copied and protected by the 4.x gateway skip
//! list; customised stock sequences reported for a manual port.

use super::Registry;
use crate::change::plan::Finding;
use crate::change::planner::unified_diff;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::sequences::{self, SequenceKind};
use crate::pack::toml::{self, SkipKind};
use crate::pack::{DEPLOYMENT_TOML, SEQUENCES_DIR};
use anyhow::bail;
use rhai::Array;

const PRIMITIVE: &str = "add_skip_sequences";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "add_skip_sequences",
            "Finds the custom global sequences of `from` (not a stock sequence of its version, not an API's own `provider--Name:vX--In/Out/Fault` sequence), copies them into `to`, and merges their file names into `[apim.sync_runtime_artifacts.gateway.skip_list] sequences` of `to`'s deployment.toml, so that 4.x does not delete them at start-up: no duplicates, every existing line, comment and order kept, tables created only when missing. Stock sequences customised in `from` are not copied over the new pack's own: each is reported as a finding, with a diff against the new pack's file, for a manual port. With `names`, only those custom sequences (with or without `.xml`).",
            r#"add_skip_sequences(old, new);
add_skip_sequences(old, new, ["audit_log", "cors_override.xml"]);"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            add_skip_sequences(&mut shared.borrow_mut(), &from, &to, None).map_err(script_error)
        })
        .form(["from", "to", "names"], |shared| move |from: PackHandle, to: PackHandle, names: Array| -> ScriptResult<()> {
            let names: Vec<String> = names
                .iter()
                .map(|name| {
                    let name = name.to_string();
                    if name.ends_with(".xml") {
                        name
                    } else {
                        format!("{name}.xml")
                    }
                })
                .collect();
            add_skip_sequences(&mut shared.borrow_mut(), &from, &to, Some(names))
                .map_err(script_error)
        });
}

fn add_skip_sequences(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
    only: Option<Vec<String>>,
) -> anyhow::Result<()> {
    let Session {
        planner, catalogue, ..
    } = session;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    let Some(toml_bytes) = planner.read(to.role, DEPLOYMENT_TOML)? else {
        bail!(
            "`{}` ({}) has no `{DEPLOYMENT_TOML}`: the gateway skip list is a 4.x setting",
            to.flag(),
            to.home
        );
    };
    let found = sequences::classify(&from_pack, catalogue)?;
    let target_stock = catalogue.stock_names_in(to_pack.product, &to_pack.version, SEQUENCES_DIR);

    if let Some(names) = &only {
        let custom: Vec<&str> = found
            .iter()
            .filter(|sequence| matches!(sequence.kind, SequenceKind::Custom | SequenceKind::Link))
            .map(|sequence| sequence.name.as_str())
            .collect();
        let unknown: Vec<&String> = names
            .iter()
            .filter(|name| !custom.contains(&name.as_str()))
            .collect();
        if !unknown.is_empty() {
            let unknown: Vec<String> = unknown.iter().map(|name| format!("`{name}`")).collect();
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
    }

    let mut skip_names = Vec::new();
    for sequence in &found {
        let wanted = only
            .as_ref()
            .is_none_or(|names| names.contains(&sequence.name));
        match sequence.kind {
            SequenceKind::Stock => {}
            SequenceKind::ApiSpecific => {
                if only.is_none() {
                    planner.skip(
                        PRIMITIVE,
                        from.role,
                        &sequence.path,
                        "an API's own sequence: it travels with its API in the data migration",
                    )?;
                }
            }
            SequenceKind::CustomisedStock | SequenceKind::StockUnknown => {
                if only.is_some() {
                    continue;
                }
                let diff = diff_between(planner, from, to, &sequence.path)?;
                let (reason, message) = if sequence.kind == SequenceKind::CustomisedStock {
                    (
                        format!("customised stock sequence: not copied over {}'s own; port the change by hand", to_pack.label()),
                        format!(
                            "stock sequence `{}` was customised in `{}` ({}): port the customisation by hand to `{}:{}`{}",
                            sequence.name,
                            from.role,
                            from_pack.label(),
                            to.role,
                            sequence.path,
                            if sequences::FAULT_SEQUENCES_CHANGED_IN_4.contains(&sequence.name.trim_end_matches(".xml"))
                                && to_pack.major() >= 4
                                && from_pack.major() < 4
                            {
                                " (from 4.0.0 it answers in JSON, not XML)"
                            } else {
                                ""
                            }
                        ),
                    )
                } else {
                    (
                        format!("stock sequence whose stock bytes for {} are not known: compare it by hand", from_pack.label()),
                        format!(
                            "cannot tell whether stock sequence `{}` of `{}` was customised (no stock hash for {}): compare it with a pristine pack and port any change by hand",
                            sequence.name,
                            from.role,
                            from_pack.label()
                        ),
                    )
                };
                planner.skip(PRIMITIVE, from.role, &sequence.path, &reason)?;
                planner.find(Finding {
                    id: customised_id(&sequence.path),
                    primitive: PRIMITIVE.to_string(),
                    message,
                    path: Some(format!("{}:{}", from.role, sequence.path)),
                    diff,
                    carried_from: None,
                });
            }
            SequenceKind::Custom | SequenceKind::Link => {
                if !wanted {
                    continue;
                }
                if target_stock.contains(&sequence.name) {
                    let reason = format!(
                        "`{}` is a custom sequence of {} but a stock sequence of {}: not copied over it; rename it, or merge the two by hand",
                        sequence.name,
                        from_pack.label(),
                        to_pack.label()
                    );
                    planner.skip(PRIMITIVE, from.role, &sequence.path, &reason)?;
                    planner.warn(PRIMITIVE, &reason, None);
                    continue;
                }
                if crate::pack::name::has_raw_bytes(&sequence.name) {
                    let reason = format!(
                        "the name of `{}` is not UTF-8: it cannot be listed in the skip list of deployment.toml (TOML holds only text), so {} would delete it at start-up; not copied: rename it to a UTF-8 name and run again",
                        crate::pack::name::shown(&sequence.name),
                        to_pack.label()
                    );
                    planner.skip(PRIMITIVE, from.role, &sequence.path, &reason)?;
                    planner.warn(PRIMITIVE, &reason, None);
                    continue;
                }
                let status = planner.copy_from_pack(
                    PRIMITIVE,
                    from.role,
                    &sequence.path,
                    to.role,
                    &sequence.path,
                )?;
                if status != crate::change::plan::Status::Skipped {
                    skip_names.push(sequence.name.clone());
                }
            }
        }
    }

    if skip_names.is_empty() {
        planner.check(
            PRIMITIVE,
            from.role,
            SEQUENCES_DIR,
            "no custom global sequences: the skip list is not needed",
        )?;
        return Ok(());
    }
    // Copying sequences does not touch deployment.toml, so the bytes read above are current.
    let file = format!("{}/{DEPLOYMENT_TOML}", to.home);
    let text = crate::pack::files::utf8_text(toml_bytes, &file)?;
    let merged = toml::merge_skip_list(&text, &file, SkipKind::Sequences, &skip_names)?;
    if !merged.gateway_table_present {
        planner.warn(
            PRIMITIVE,
            &format!(
                "`{}:{DEPLOYMENT_TOML}` has no `[apim.sync_runtime_artifacts.gateway]` table; WSO2 reads the skip list only when it exists (the stock 4.x file has it)",
                to.role
            ),
            None,
        );
    }
    planner.write(
        PRIMITIVE,
        to.role,
        DEPLOYMENT_TOML,
        merged.text.into_bytes(),
        0o644,
    )?;
    Ok(())
}

/// The id of the finding about a customised stock file, shared by every primitive that
/// reports one, so that the same file is reported once.
pub(crate) fn customised_id(path: &str) -> String {
    format!("customised:{path}")
}

/// The diff from `from`'s file to `to`'s file of the same path, so the operator sees what
/// to port; `None` when `to` has no such file or either is not text.
pub(crate) fn diff_between(
    planner: &crate::change::planner::Planner,
    from: &PackHandle,
    to: &PackHandle,
    path: &str,
) -> anyhow::Result<Option<String>> {
    let old = planner.read(from.role, path)?.unwrap_or_default();
    let Some(new) = planner.read(to.role, path)? else {
        return Ok(None);
    };
    Ok(unified_diff(path, &old, &new).map(|diff| {
        diff.replacen(
            &format!("--- a/{path}"),
            &format!("--- {}:{path}", from.role),
            1,
        )
        .replacen(
            &format!("+++ b/{path}"),
            &format!("+++ {}:{path}", to.role),
            1,
        )
    }))
}
