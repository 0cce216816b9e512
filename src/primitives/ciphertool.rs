//! `remind_ciphertool`: when the old pack used secure vault, the exact cipher-tool steps for
//! the new one.

use super::Registry;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::{secure_vault, Role, DEPLOYMENT_TOML};

const PRIMITIVE: &str = "remind_ciphertool";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "remind_ciphertool",
            "When `from` uses secure vault (a `[secrets]` table or `$secret{…}` values in deployment.toml, an active `secret-conf.properties`, encrypted `cipher-text.properties` values, `svns:secretAlias` attributes in 1.x/2.x XML), adds the reminder `ciphertool` with the exact command for `to` (`bin/ciphertool.sh -Dconfigure`, `bin\\ciphertool.bat -Dconfigure` on Windows) and the secret aliases to re-enter in plain form first: for a `to` configured by deployment.toml, as `[secrets]` entries (an alias with a dot quoted, as TOML needs) referenced as `$secret{alias}`; otherwise records that none is needed.",
            r#"remind_ciphertool(old, new);"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            remind_ciphertool(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
}

fn remind_ciphertool(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
) -> anyhow::Result<()> {
    let planner = &mut session.planner;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    let vault = secure_vault::detect(&from_pack)?;
    if !vault.in_use {
        planner.check(
            PRIMITIVE,
            from.role,
            "repository/conf/security",
            "secure vault is not in use in the old pack: no cipher tool run is needed",
        )?;
        return Ok(());
    }
    let home = to_pack.home.display().to_string();
    let to_toml = to_pack.has_deployment_toml();
    let aliases = if vault.aliases.is_empty() {
        "(no aliases could be read: take them from the old configuration)".to_string()
    } else if to_toml {
        // As TOML keys: an alias with a dot (every 1.x/2.x one, `Carbon.Security.KeyStore.
        // Password`) must be quoted, or TOML reads it as nested tables.
        vault
            .aliases
            .iter()
            .map(|alias| {
                format!(
                    "`{} = \"[plain value]\"`",
                    toml_edit::Key::new(alias.as_str()).display_repr()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        vault.aliases.join(", ")
    };
    let config_step = if to_toml {
        let from_xml = !from_pack.has_deployment_toml();
        format!(
            "in `{home}/{DEPLOYMENT_TOML}`, list each secret under `[secrets]` in plain form, as `alias = \"[plain value]\"`, quoting an alias that holds a dot; keep `[secrets]` the last table; in the setting that uses a secret write `\"$secret{{alias}}\"` instead of the value (for example `password = \"$secret{{keystore_password}}\"`){}; and put `enable_secure_vault = true` first under `[apim]` where your setup needs it",
            if from_xml {
                format!(
                    ", as {} configures in TOML what {} marked with `svns:secretAlias` in XML",
                    to_pack.label(),
                    from_pack.label()
                )
            } else {
                String::new()
            }
        )
    } else {
        format!(
            "in `{home}/repository/conf/security/cipher-text.properties`, set each secret in plain form, as `alias=[plain value]`, and mark the same elements with `svns:secretAlias` as in the old pack"
        )
    };
    let message = format!(
        "secure vault was used in `{}` ({}). Re-encrypt the secrets for {}: (1) {config_step}; secrets to re-enter: {aliases}; (2) run `{home}/bin/ciphertool.sh -Dconfigure` (on Windows, `bin\\ciphertool.bat -Dconfigure` in the pack home) and enter the keystore password when asked. Encrypted values are not carried over by copying configuration files: the new pack renders its files from its own configuration",
        from.role,
        vault.evidence.join("; "),
        to_pack.label()
    );
    let id = match to.role {
        Role::New => "ciphertool".to_string(),
        other => format!("ciphertool-{other}"),
    };
    planner.remind(&id, &message);
    Ok(())
}
