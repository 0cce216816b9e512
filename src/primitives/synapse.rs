//! `copy_synapse_artifacts` (the 1.x to 2.0.0 copy of custom synapse configurations) and
//! `report_fault_sequences` (the fault sequences 4.0.0 changed to answer in JSON).

use super::sequences::{customised_id, diff_between};
use super::Registry;
use crate::change::plan::{Finding, Status};
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::sequences::FAULT_SEQUENCES_CHANGED_IN_4;
use crate::pack::stock::StockStatus;
use crate::pack::{userstores, Pack, SEQUENCES_DIR, SYNAPSE_DEFAULT, TENANTS_DIR};
use anyhow::bail;

const COPY: &str = "copy_synapse_artifacts";
const REPORT: &str = "report_fault_sequences";

/// The stock APIs the 2.0.0 guide says never to copy over the new pack's own.
pub const STOCK_APIS_NEVER_COPIED: [&str; 3] = [
    "api/_TokenAPI_.xml",
    "api/_RevokeAPI_.xml",
    "api/_AuthorizeAPI_.xml",
];

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "copy_synapse_artifacts",
            "The 1.x to 2.0.0 copy of synapse configurations: every file under `repository/deployment/server/synapse-configs/default` of `from`, and of each tenant's `repository/tenants/<id>/synapse-configs/default`, that is not a stock file of `from`'s version (custom sequences, APIs, endpoints, proxies, local entries, tasks...) is copied to the same place in `to`. Stock files are left to the new pack's own; the stock `_TokenAPI_`, `_RevokeAPI_` and `_AuthorizeAPI_` are never copied; a customised stock file is not copied but reported as a finding with a diff against `to`'s file, for a manual port; a custom file whose name is stock in `to` is not copied over it (warning). Refused for a 4.x `to`, which deletes unknown artifacts at start-up: use `copy_gateway_artifacts` there.",
            r#"copy_synapse_artifacts(old, new);"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            copy_synapse_artifacts(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
    registry
        .primitive(
            "report_fault_sequences",
            "Compares each fault sequence that 4.0.0 changed to answer in JSON (`_auth_failure_handler_`, `_backend_failure_handler_`, `_block_api_handler_`, `_graphql_failure_handler_`, `_threat_fault_`, `_throttle_out_handler_`, `_token_fault_`, `fault`, `main`) with the stock file of `from`'s version, by hash, and reports each customised one as a finding, with the diff from `from`'s file to `to`'s (a 4.x pack), so that the customisation can be ported to the JSON form. Changes nothing; `to` is only read.",
            r#"report_fault_sequences(old, new);"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            report_fault_sequences(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
}

/// The synapse roots of a pack: the super tenant's and each tenant's.
fn synapse_roots(pack: &Pack) -> anyhow::Result<Vec<String>> {
    let mut roots = vec![SYNAPSE_DEFAULT.to_string()];
    for id in userstores::tenant_ids(pack)? {
        let root = format!("{TENANTS_DIR}/{id}/synapse-configs/default");
        if pack.is_dir(&root) {
            roots.push(root);
        }
    }
    Ok(roots)
}

fn copy_synapse_artifacts(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
) -> anyhow::Result<()> {
    let Session {
        planner, catalogue, ..
    } = session;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    if to_pack.major() >= 4 {
        bail!(
            "`{}` ({}) is {}, which deletes the synapse artifacts its skip lists do not name at start-up: use `copy_gateway_artifacts`, which also lists them there",
            to.flag(),
            to.home,
            to_pack.label()
        );
    }
    let mut stock_left = 0;
    let mut copied = 0;
    for root in synapse_roots(&from_pack)? {
        for path in from_pack.files_under(&root)? {
            let inner = path
                .strip_prefix(&format!("{root}/"))
                .unwrap_or(&path)
                .to_string();
            // Tenants' synapse configurations hold the same stock files as the super
            // tenant's, so both are compared with the super tenant's stock.
            let stock_path = format!("{SYNAPSE_DEFAULT}/{inner}");
            let never_copied = STOCK_APIS_NEVER_COPIED.contains(&inner.as_str());
            let status = if from_pack.is_link(&path) {
                StockStatus::NotStock
            } else {
                let sha256 = from_pack.sha256(&path)?;
                catalogue.status(
                    from_pack.stock_key(),
                    &from_pack.version,
                    &stock_path,
                    &sha256,
                )
            };
            if never_copied && matches!(status, StockStatus::Stock | StockStatus::NotStock) {
                if status == StockStatus::Stock {
                    stock_left += 1;
                }
                planner.skip(
                    COPY,
                    from.role,
                    &path,
                    "a stock API of the token endpoints: the new pack's own is kept (never copied)",
                )?;
                continue;
            }
            match status {
                StockStatus::Stock => stock_left += 1,
                StockStatus::Customised | StockStatus::Unknown => {
                    let diff = diff_between(planner, from, &path, to, &path)?;
                    let customised = status == StockStatus::Customised;
                    let (reason, message) = if customised {
                        (
                            format!(
                                "customised stock file: not copied over {}'s own; port the change by hand",
                                to_pack.label()
                            ),
                            format!(
                                "stock file `{inner}` was customised in `{}` ({}): it is not copied over {}'s own; port the customisation by hand to `{}:{path}`",
                                from.role,
                                from_pack.label(),
                                to_pack.label(),
                                to.role
                            ),
                        )
                    } else {
                        (
                            format!(
                                "stock file whose stock bytes for {} are not known: not copied; compare it by hand",
                                from_pack.label()
                            ),
                            format!(
                                "cannot tell whether stock file `{inner}` of `{}` was customised (no stock hash for {}): compare it with a pristine pack and port any change by hand to `{}:{path}`",
                                from.role,
                                from_pack.label(),
                                to.role
                            ),
                        )
                    };
                    planner.skip(COPY, from.role, &path, &reason)?;
                    planner.find(Finding {
                        id: customised_id(&path),
                        primitive: COPY.to_string(),
                        message,
                        path: Some(format!("{}:{path}", from.role)),
                        diff,
                        carried_from: None,
                    });
                }
                StockStatus::NotStock => {
                    if catalogue.is_stock_name(to_pack.stock_key(), &to_pack.version, &stock_path) {
                        let reason = format!(
                            "`{inner}` is a custom file of {} but a stock file of {}: not copied over it; rename it, or merge the two by hand",
                            from_pack.label(),
                            to_pack.label()
                        );
                        planner.skip(COPY, from.role, &path, &reason)?;
                        planner.warn(COPY, &reason, None);
                        continue;
                    }
                    let status = planner.copy_from_pack(COPY, from.role, &path, to.role, &path)?;
                    if status != Status::Skipped {
                        copied += 1;
                    }
                }
            }
        }
    }
    if copied == 0 {
        planner.check(
            COPY,
            from.role,
            SYNAPSE_DEFAULT,
            &format!(
                "no custom synapse artifacts ({stock_left} stock files left to the new pack's own)"
            ),
        )?;
    } else if stock_left > 0 {
        planner.check(
            COPY,
            from.role,
            SYNAPSE_DEFAULT,
            &format!("{stock_left} stock files left to the new pack's own"),
        )?;
    }
    Ok(())
}

fn report_fault_sequences(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
) -> anyhow::Result<()> {
    let Session {
        planner, catalogue, ..
    } = session;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    if to_pack.major() < 4 {
        bail!(
            "`{}` ({}) is {}: the fault sequences changed to JSON in 4.0.0, so compare with a 4.x pack",
            to.flag(),
            to.home,
            to_pack.label()
        );
    }
    let mut reported = Vec::new();
    for stem in FAULT_SEQUENCES_CHANGED_IN_4 {
        let name = format!("{stem}.xml");
        let path = format!("{SEQUENCES_DIR}/{name}");
        if !from_pack.is_file(&path) || from_pack.is_link(&path) {
            continue;
        }
        let sha256 = from_pack.sha256(&path)?;
        let status = catalogue.status(from_pack.stock_key(), &from_pack.version, &path, &sha256);
        let message = match status {
            StockStatus::Stock | StockStatus::NotStock => continue,
            StockStatus::Customised => format!(
                "fault sequence `{name}` was customised in `{}` ({}): from 4.0.0 it answers in JSON, not XML, and the new file replaces it; port the customisation by hand to `{}:{path}` ({})",
                from.role,
                from_pack.label(),
                to.role,
                to_pack.label()
            ),
            StockStatus::Unknown => format!(
                "cannot tell whether fault sequence `{name}` of `{}` was customised (no stock hash for {}): compare it with a pristine pack; from 4.0.0 it answers in JSON, so port any change by hand to `{}:{path}`",
                from.role,
                from_pack.label(),
                to.role
            ),
        };
        let diff = diff_between(planner, from, &path, to, &path)?;
        planner.find(Finding {
            id: customised_id(&path),
            primitive: REPORT.to_string(),
            message,
            path: Some(format!("{}:{path}", from.role)),
            diff,
            carried_from: None,
        });
        reported.push(name);
    }
    let finding = if reported.is_empty() {
        format!(
            "none of the {} fault sequences that 4.0.0 changed to JSON is customised in {}",
            FAULT_SEQUENCES_CHANGED_IN_4.len(),
            from_pack.label()
        )
    } else {
        format!(
            "customised in {}, to port to the JSON form: {}",
            from_pack.label(),
            reported.join(", ")
        )
    };
    planner.check(REPORT, from.role, SEQUENCES_DIR, &finding)?;
    Ok(())
}
