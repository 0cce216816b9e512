//! The `Pack` type scripts see as `old`, `new`, `km` and `via`, and checks on packs.

use super::Registry;
use crate::change::plan::ProfileSkip;
use crate::engine::{script_error, PackHandle, ScriptResult};
use crate::pack::profile::Capability;
use rhai::{Array, NativeCallContext};

pub fn declare(registry: &mut Registry) {
    registry
        .pack_type(
            "old | new | km | via",
            "The packs given on the command line; `km` and `via` are `()` when not given. `product` is `wso2am` or `wso2is`; `marker` is the file that decided the version; `profile` is the part of a distributed deployment the pack's node runs (`all-in-one`, `control-plane`, `gateway-worker`, … ; `identity-server` for an IS pack), from `--profile`/`--old-profile` or detected.",
            r#"print(`${old.product_name} ${old.version} at ${old.home}`);
if km != () { print(`key manager: ${km.version}`); }"#,
        )
        .property("role", |pack: &mut PackHandle| pack.role.to_string())
        .property("home", |pack: &mut PackHandle| pack.home.clone())
        .property("product", |pack: &mut PackHandle| pack.product.clone())
        .property("product_name", |pack: &mut PackHandle| {
            pack.product_name.clone()
        })
        .property("version", |pack: &mut PackHandle| pack.version.clone())
        .property("major", |pack: &mut PackHandle| {
            pack.version
                .split('.')
                .next()
                .and_then(|major| major.parse::<i64>().ok())
                .unwrap_or(0)
        })
        .property("marker", |pack: &mut PackHandle| pack.marker.clone())
        .property("is_target", |pack: &mut PackHandle| pack.target)
        .property("profile", |pack: &mut PackHandle| pack.profile.name.clone())
        .property("profile_decided_by", |pack: &mut PackHandle| {
            pack.profile.decided_by.clone()
        });
    registry
        .engine()
        .register_fn("to_string", |pack: &mut PackHandle| {
            format!(
                "{} {} ({}: {})",
                pack.product_name, pack.version, pack.role, pack.home
            )
        })
        .register_fn("to_debug", |pack: &mut PackHandle| {
            format!("Pack({}: {} {})", pack.role, pack.product, pack.version)
        });

    registry
        .primitive(
            "require_version",
            "Stops the script, before anything changes, unless `pack` is `product` (`wso2am`, `wso2is`) in one of `versions`; the error says what the pack is and adds `hint` (which script fits instead).",
            r#"require_version(old, "wso2am", ["3.0.0"], "for 2.0.0 use `2.0.0-to-4.0.0`");"#,
        )
        .form(["pack", "product", "versions", "hint"], |_| {
            |_context: NativeCallContext,
             pack: PackHandle,
             product: &str,
             versions: Array,
             hint: &str|
             -> ScriptResult<()> { require_version(&pack, product, &versions, hint) }
        });

    registry
        .primitive(
            "profile_has",
            "Whether the pack's node does `capability`: `gateway` (runs an API gateway: all-in-one, control-plane, gateway-worker, gateway-manager), `users` (authenticates users: all-in-one, control-plane, publisher, developer portal/store, key manager, an IS Key Manager) or `migration-client` (where the API-M migration client runs: all-in-one and control-plane; api-publisher before 4.0.0; once per deployment under `--inventory`). When it does not, the report lists `what` under \"skipped for the profile\" with the reason.",
            r#"if profile_has(new, "gateway", "custom global sequences and the skip list") {
    add_skip_sequences(old, new);
}"#,
        )
        .form(["pack", "capability", "what"], |shared| {
            move |pack: PackHandle, capability: &str, what: &str| -> ScriptResult<bool> {
                let Some(wanted) = Capability::parse(capability) else {
                    let known: Vec<&str> =
                        Capability::ALL.iter().map(|known| known.key()).collect();
                    return Err(script_error(anyhow::anyhow!(
                        "profile_has: no capability `{capability}`; one of {}",
                        known.join(", ")
                    )));
                };
                let who = format!("`{}`", pack.role);
                match pack.profile.lacks(&pack.facts, wanted, &who) {
                    None => Ok(true),
                    Some(reason) => {
                        shared.borrow_mut().planner.skip_for_profile(ProfileSkip {
                            pack: pack.role,
                            profile: pack.profile.name.clone(),
                            capability: wanted.key().to_string(),
                            what: what.to_string(),
                            reason,
                        });
                        Ok(false)
                    }
                }
            }
        });
}

fn require_version(
    pack: &PackHandle,
    product: &str,
    versions: &Array,
    hint: &str,
) -> ScriptResult<()> {
    let versions: Vec<String> = versions.iter().map(|version| version.to_string()).collect();
    if pack.product == product && versions.contains(&pack.version) {
        return Ok(());
    }
    let wanted = match product {
        "wso2am" => "WSO2 API Manager",
        "wso2is" => "WSO2 Identity Server",
        other => other,
    };
    let mut message = format!(
        "`{}` ({}) is {} {}, but this script expects {wanted} {}",
        pack.flag(),
        pack.home,
        pack.product_name,
        pack.version,
        versions.join(" or ")
    );
    if !hint.is_empty() {
        message.push_str("; ");
        message.push_str(hint);
    }
    Err(script_error(anyhow::anyhow!(message)))
}
