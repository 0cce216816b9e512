//! `copy_keystores`: keystores and truststores, with the checks that keep certificates and
//! encrypted secrets usable on the new pack.

use super::Registry;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::keystores::{self, Location};
use crate::pack::SECURITY_DIR;

const PRIMITIVE: &str = "copy_keystores";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "copy_keystores",
            "Copies every keystore (`.jks`, `.p12`, `.pfx`, `.jceks`) of `from`'s `repository/resources/security` over `to`'s, modes kept, plus keystores that `from`'s configuration names elsewhere inside the pack. Other files there (`sslprofiles.xml`, `listenerprofiles.xml`) are left alone. Warns when `from` still holds WSO2's default keystore, when a keystore is configured outside the pack, and when the two packs' configurations name different keystore files.",
            r#"copy_keystores(old, new);
if km != () { copy_keystores(old, km); }"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            copy_keystores(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
}

fn copy_keystores(session: &mut Session, from: &PackHandle, to: &PackHandle) -> anyhow::Result<()> {
    let planner = &mut session.planner;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    let found = keystores::find(&from_pack)?;

    if found.in_security_dir.is_empty() && found.configured.is_empty() {
        planner.warn(
            PRIMITIVE,
            &format!(
                "no keystores found in `{}:{SECURITY_DIR}`; is `{}` the right pack?",
                from.role, from.home
            ),
            None,
        );
    }
    for name in &found.in_security_dir {
        let relative = format!("{SECURITY_DIR}/{name}");
        if let Ok(sha256) = from_pack.sha256(&relative) {
            // A default truststore holds only public certificates; a default keystore holds a
            // private key that every WSO2 download shares.
            let truststore = name.to_ascii_lowercase().contains("truststore");
            if let Some(stock) = session
                .catalogue
                .stock_copy_of(SECURITY_DIR, name, &sha256)
                .filter(|_| !truststore)
            {
                planner.warn(
                    PRIMITIVE,
                    &format!(
                        "`{}:{relative}` is WSO2's default keystore (as shipped in {stock}); its private key is public: replace it with your own before production",
                        from.role
                    ),
                    None,
                );
            }
        }
        planner.copy_from_pack(PRIMITIVE, from.role, &relative, to.role, &relative)?;
    }
    for configured in found.elsewhere_in_pack() {
        let Location::InPack(relative) = &configured.location else {
            continue;
        };
        if configured.exists {
            planner.copy_from_pack(PRIMITIVE, from.role, relative, to.role, relative)?;
        } else {
            planner.warn(
                PRIMITIVE,
                &format!(
                    "{} names keystore `{}`, which does not exist in `{}`",
                    configured.configured_by, configured.value, from.home
                ),
                None,
            );
        }
    }
    for configured in found.outside_pack() {
        if let Location::Outside(path) = &configured.location {
            planner.warn(
                PRIMITIVE,
                &format!(
                    "{} of `{}` names keystore `{}`, outside the pack: it is not copied; make it available at the same path for `{}`, or move it into `{SECURITY_DIR}` and update the configuration",
                    configured.configured_by,
                    from.role,
                    path.display(),
                    to.role
                ),
                None,
            );
        }
    }
    // Keystore settings travel with the configuration migration, not with the files:
    // point out where the two packs disagree so that it is not forgotten.
    let to_found = keystores::find(&to_pack)?;
    for configured in found
        .configured
        .iter()
        .filter(|configured| configured.configured_by.starts_with("deployment.toml"))
    {
        let same_key = to_found
            .configured
            .iter()
            .find(|other| other.configured_by == configured.configured_by);
        if let Some(other) = same_key {
            if other.value != configured.value {
                planner.warn(
                    PRIMITIVE,
                    &format!(
                        "{} is `{}` in `{}` but `{}` in `{}`: carry the setting over during the configuration migration",
                        configured.configured_by, configured.value, from.role, other.value, to.role
                    ),
                    None,
                );
            }
        }
    }
    Ok(())
}
