//! The `Pack` type scripts see as `old`, `new`, `km` and `via`, and checks on packs.

use super::{primitive, script_error, PrimitiveDoc, ScriptResult, SharedSession};
use crate::plan::ProfileSkip;
use crate::planner::PackSlot;
use crate::profile::{Capability, Generation, NodeProfile};
use rhai::{Array, Engine, NativeCallContext};

/// A pack as scripts see it: a role and what detection found. Changes go through the
/// primitives, which look the role up in the session; a handle itself grants nothing.
#[derive(Debug, Clone)]
pub struct PackHandle {
    pub role: String,
    pub home: String,
    pub product: String,
    pub product_name: String,
    pub version: String,
    pub marker: String,
    pub target: bool,
    pub profile: NodeProfile,
    /// `None` for an Identity Server pack.
    pub generation: Option<Generation>,
}

impl PackHandle {
    pub fn new(slot: &PackSlot) -> PackHandle {
        PackHandle {
            role: slot.role.clone(),
            home: slot.pack.home.display().to_string(),
            product: slot.pack.product.key().to_string(),
            product_name: slot.pack.product.name().to_string(),
            version: slot.pack.version.clone(),
            marker: slot.pack.marker.to_string(),
            target: slot.target,
            profile: slot.profile.clone(),
            generation: Generation::of_pack(&slot.pack),
        }
    }

    /// The command-line flag that named this pack.
    pub fn flag(&self) -> String {
        format!("--{}", self.role)
    }
}

pub const DOCS: &[PrimitiveDoc] = &[
    PrimitiveDoc {
        name: "Pack",
        signature: "old | new | km | via  (properties: role, home, product, product_name, version, major, marker, is_target, profile, profile_decided_by)",
        summary: "The packs given on the command line; `km` and `via` are `()` when not given. `product` is `wso2am` or `wso2is`; `marker` is the file that decided the version; `profile` is the part of a distributed deployment the pack's node runs (`all-in-one`, `control-plane`, `gateway-worker`, … ; `identity-server` for an IS pack), from `--profile`/`--old-profile` or detected.",
        example: r#"print(`${old.product_name} ${old.version} at ${old.home}`);
if km != () { print(`key manager: ${km.version}`); }"#,
    },
    PrimitiveDoc {
        name: "require_version",
        signature: "require_version(pack, product, versions, hint)",
        summary: "Stops the script, before anything changes, unless `pack` is `product` (`wso2am`, `wso2is`) in one of `versions`; the error says what the pack is and adds `hint` (which script fits instead).",
        example: r#"require_version(old, "wso2am", ["3.0.0"], "for 2.0.0 use `2.0.0-to-4.0.0`");"#,
    },
    PrimitiveDoc {
        name: "profile_has",
        signature: "profile_has(pack, capability, what)",
        summary: "Whether the pack's node does `capability`: `gateway` (runs an API gateway: all-in-one, control-plane, gateway-worker, gateway-manager), `users` (authenticates users: all-in-one, control-plane, publisher, developer portal/store, key manager, an IS Key Manager) or `migration-client` (where the API-M migration client runs: all-in-one and control-plane; api-publisher before 4.0.0; once per deployment under `--inventory`). When it does not, the report lists `what` under \"skipped for the profile\" with the reason.",
        example: r#"if profile_has(new, "gateway", "custom global sequences and the skip list") {
    add_skip_sequences(old, new);
}"#,
    },
];

pub fn register(engine: &mut Engine, session: &SharedSession) {
    let shared = session.clone();
    primitive(
        engine,
        "profile_has",
        ["pack", "capability", "what"],
        move |pack: PackHandle, capability: &str, what: &str| -> ScriptResult<bool> {
            let Some(wanted) = Capability::parse(capability) else {
                let known: Vec<&str> = Capability::ALL.iter().map(|known| known.key()).collect();
                return Err(script_error(anyhow::anyhow!(
                    "profile_has: no capability `{capability}`; one of {}",
                    known.join(", ")
                )));
            };
            let who = format!("`{}`", pack.role);
            match pack.profile.lacks(pack.generation, wanted, &who) {
                None => Ok(true),
                Some(reason) => {
                    shared.borrow_mut().planner.skip_for_profile(ProfileSkip {
                        pack: pack.role.clone(),
                        profile: pack.profile.name.clone(),
                        capability: wanted.key().to_string(),
                        what: what.to_string(),
                        reason,
                    });
                    Ok(false)
                }
            }
        },
    );

    engine
        .register_type_with_name::<PackHandle>("Pack")
        .register_get("role", |pack: &mut PackHandle| pack.role.clone())
        .register_get("home", |pack: &mut PackHandle| pack.home.clone())
        .register_get("product", |pack: &mut PackHandle| pack.product.clone())
        .register_get("product_name", |pack: &mut PackHandle| {
            pack.product_name.clone()
        })
        .register_get("version", |pack: &mut PackHandle| pack.version.clone())
        .register_get("major", |pack: &mut PackHandle| {
            pack.version
                .split('.')
                .next()
                .and_then(|major| major.parse::<i64>().ok())
                .unwrap_or(0)
        })
        .register_get("marker", |pack: &mut PackHandle| pack.marker.clone())
        .register_get("is_target", |pack: &mut PackHandle| pack.target)
        .register_get("profile", |pack: &mut PackHandle| pack.profile.name.clone())
        .register_get("profile_decided_by", |pack: &mut PackHandle| {
            pack.profile.decided_by.clone()
        })
        .register_fn("to_string", |pack: &mut PackHandle| {
            format!(
                "{} {} ({}: {})",
                pack.product_name, pack.version, pack.role, pack.home
            )
        })
        .register_fn("to_debug", |pack: &mut PackHandle| {
            format!("Pack({}: {} {})", pack.role, pack.product, pack.version)
        });

    primitive(
        engine,
        "require_version",
        ["pack", "product", "versions", "hint"],
        |_context: NativeCallContext,
         pack: PackHandle,
         product: &str,
         versions: Array,
         hint: &str|
         -> ScriptResult<()> {
            let versions: Vec<String> =
                versions.iter().map(|version| version.to_string()).collect();
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
        },
    );
}
