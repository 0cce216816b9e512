//! The `Pack` type scripts see as `old`, `new`, `km` and `via`, and checks on packs.

use super::{primitive, script_error, PrimitiveDoc, ScriptResult, SharedSession};
use crate::planner::PackSlot;
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
        signature: "old | new | km | via  (properties: role, home, product, product_name, version, major, marker, is_target)",
        summary: "The packs given on the command line; `km` and `via` are `()` when not given. `product` is `wso2am` or `wso2is`; `marker` is the file that decided the version.",
        example: r#"print(`${old.product_name} ${old.version} at ${old.home}`);
if km != () { print(`key manager: ${km.version}`); }"#,
    },
    PrimitiveDoc {
        name: "require_version",
        signature: "require_version(pack, product, versions, hint)",
        summary: "Stops the script, before anything changes, unless `pack` is `product` (`wso2am`, `wso2is`) in one of `versions`; the error says what the pack is and adds `hint` (which script fits instead).",
        example: r#"require_version(old, "wso2am", ["3.0.0"], "for 2.0.0 use `2.0.0-to-4.0.0`");"#,
    },
];

pub fn register(engine: &mut Engine, _session: &SharedSession) {
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
