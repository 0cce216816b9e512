//! `add_skip_sequences`: custom global sequences of the super tenant, copied and protected by
//! the 4.x gateway skip list (`copy_gateway_artifacts` for sequences alone); customised stock
//! sequences reported for a manual port. Also what the primitives that report a customised
//! stock file share: its finding's id and its diff.

use super::Registry;
use crate::change::planner::unified_diff;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::toml::SkipKind;
use rhai::Array;

const PRIMITIVE: &str = "add_skip_sequences";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "add_skip_sequences",
            "Finds the custom global sequences of `from`'s super tenant (not a stock sequence of its version, not an API's own `provider--Name:vX--In/Out/Fault` sequence), copies them into `to`, and merges their file names into `[apim.sync_runtime_artifacts.gateway.skip_list] sequences` of `to`'s deployment.toml, so that 4.x does not delete them at start-up: no duplicates, every existing line, comment and order kept, tables created only when missing; a name `to`'s `api-manager.xml.j2` already keeps is never listed. Stock sequences customised in `from` are not copied over the new pack's own: each is reported as a finding, with a diff against the new pack's file, for a manual port. With `names`, only those custom sequences (with or without `.xml`). `copy_gateway_artifacts` does the same for endpoints, local entries and APIs too, and for every tenant.",
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
    let wanted = super::gateway::Wanted {
        kinds: vec![SkipKind::Sequences],
        tenants: false,
        only,
    };
    super::gateway::copy(session, from, to, PRIMITIVE, &wanted)
}

/// The id of the finding about a customised stock file, shared by every primitive that
/// reports one, so that the same file is reported once.
pub(crate) fn customised_id(path: &str) -> String {
    format!("customised:{path}")
}

/// The diff from `from`'s file at `from_path` to `to`'s file at `to_path`, so the operator
/// sees what to port; `None` when `to` has no such file or either is not text.
pub(crate) fn diff_between(
    planner: &crate::change::planner::Planner,
    from: &PackHandle,
    from_path: &str,
    to: &PackHandle,
    to_path: &str,
) -> anyhow::Result<Option<String>> {
    let old = planner.read(from.role, from_path)?.unwrap_or_default();
    let Some(new) = planner.read(to.role, to_path)? else {
        return Ok(None);
    };
    Ok(unified_diff(from_path, &old, &new).map(|diff| {
        diff.replacen(
            &format!("--- a/{from_path}"),
            &format!("--- {}:{from_path}", from.role),
            1,
        )
        .replacen(
            &format!("+++ b/{from_path}"),
            &format!("+++ {}:{to_path}", to.role),
            1,
        )
    }))
}
