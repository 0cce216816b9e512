//! Upgrade paths: which bundled script takes a pack of one version to another, directly or
//! through 2.0.0, read from the scripts' `@accepts` lines; the bundled script `run` and
//! `plan` choose when they are given none; what is special about a path (facts of WSO2's
//! guides and sources, see `UPGRADE-PATHS.md`); and README's table of the paths.

use super::header::Accepts;
use super::{Header, BUNDLED};
use crate::pack::{compare_versions, Role};
use anyhow::{bail, Result};
use serde::Serialize;
use std::cmp::Ordering;

/// A pack given to a script, as far as choosing one goes: its role, product key
/// (`wso2am`, `wso2is`) and version.
#[derive(Debug, Clone, Copy)]
pub struct Given<'a> {
    pub role: Role,
    pub product: &'a str,
    pub version: &'a str,
}

/// What the bundled scripts say of some packs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The one bundled script for them (the most specific, when several take them).
    One(&'static str),
    /// No bundled script takes them; some would with more packs: the script and what it
    /// still needs (`--via`: API-M 2.0.0).
    None(Vec<(&'static str, Vec<String>)>),
    /// Several take them and none is made for exactly them.
    Many(Vec<&'static str>),
}

/// The headers of the bundled scripts, in their order.
fn bundled() -> Vec<(&'static str, Header)> {
    BUNDLED
        .iter()
        .filter_map(|(name, source)| Header::parse(source).ok().map(|header| (*name, header)))
        .collect()
}

fn takes(accepts: &Accepts, product: &str, version: &str) -> bool {
    accepts.product == product && accepts.versions.iter().any(|known| known == version)
}

/// Whether `header` takes the packs `given`: each one in a role it declares, and every role
/// it needs given. Else the roles it still needs (empty when it refuses a pack given).
fn fits(header: &Header, given: &[Given]) -> std::result::Result<(), Vec<String>> {
    let refused = given.iter().any(|pack| {
        !header
            .accepts
            .iter()
            .any(|accepts| accepts.role == pack.role && takes(accepts, pack.product, pack.version))
    });
    if refused || header.accepts.is_empty() {
        return Err(Vec::new());
    }
    let missing: Vec<String> = header
        .accepts
        .iter()
        .filter(|accepts| !accepts.optional)
        .filter(|accepts| !given.iter().any(|pack| pack.role == accepts.role))
        .map(|accepts| format!("--{} ({})", accepts.role, accepts.wanted()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// Whether `narrow` accepts no pack in a role that `wide` would not: a script made for part
/// of what another takes.
fn within(narrow: &Header, wide: &Header) -> bool {
    narrow.accepts.iter().all(|accepts| {
        wide.accepts
            .iter()
            .find(|other| other.role == accepts.role)
            .is_some_and(|other| {
                other.product == accepts.product
                    && accepts
                        .versions
                        .iter()
                        .all(|version| other.versions.contains(version))
            })
    })
}

/// The bundled script for the packs `given`.
pub fn choose(given: &[Given]) -> Choice {
    choose_among(&bundled(), given)
}

fn choose_among(scripts: &[(&'static str, Header)], given: &[Given]) -> Choice {
    let fitting: Vec<&(&'static str, Header)> = scripts
        .iter()
        .filter(|(_, header)| fits(header, given).is_ok())
        .collect();
    match fitting.as_slice() {
        [] => Choice::None(
            scripts
                .iter()
                .filter_map(|(name, header)| match fits(header, given) {
                    Err(missing) if !missing.is_empty() => Some((*name, missing)),
                    _ => None,
                })
                .collect(),
        ),
        [(name, _)] => Choice::One(name),
        several => {
            // The script made for exactly these packs (3.0.0-to-4.1.0 beside to-4.x).
            let specific: Vec<&'static str> = several
                .iter()
                .filter(|(name, header)| {
                    several
                        .iter()
                        .all(|(other, wide)| other == name || within(header, wide))
                })
                .map(|(name, _)| *name)
                .collect();
            match specific.as_slice() {
                [name] => Choice::One(name),
                _ => Choice::Many(several.iter().map(|(name, _)| *name).collect()),
            }
        }
    }
}

/// One run of a bundled script on the way.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub script: &'static str,
    pub from: String,
    pub to: String,
}

/// How API-M `from` gets to `to` with the bundled scripts.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub from: String,
    pub to: String,
    /// The version gone through (`2.0.0`), when the path takes two steps.
    pub via: Option<String>,
    /// The bundled script that does the whole path in one `run` (two steps: with `--via`,
    /// stopping at a checkpoint).
    pub script: &'static str,
    /// The same path step by step, one bundled script each.
    pub steps: Vec<Step>,
    /// The WSO2 Identity Server version the guides name as the target's Key Manager.
    pub key_manager: Option<&'static str>,
    /// What is special about the path, as sentences.
    pub notes: Vec<String>,
}

/// The API-M versions the bundled scripts take as `role`, oldest first.
fn versions(scripts: &[(&'static str, Header)], role: Role) -> Vec<String> {
    let mut versions: Vec<String> = scripts
        .iter()
        .flat_map(|(_, header)| header.accepts.clone())
        .filter(|accepts| accepts.role == role && accepts.product == "wso2am")
        .flat_map(|accepts| accepts.versions)
        .collect();
    versions.sort_by(|left, right| compare_versions(left, right));
    versions.dedup();
    versions
}

fn api_m(role: Role, version: &str) -> Given<'_> {
    Given {
        role,
        product: "wso2am",
        version,
    }
}

/// How API-M `from` gets to `to`; an error (bad input) for a version the bundled scripts do
/// not know or a path they do not take.
pub fn route(from: &str, to: &str) -> Result<Route> {
    let scripts = bundled();
    let sources = versions(&scripts, Role::Old);
    let targets = versions(&scripts, Role::New);
    for (version, known, what) in [(from, &sources, "from"), (to, &targets, "to")] {
        if !known.iter().any(|known| known == version) {
            bail!(
                "no bundled script migrates {what} API-M {version}: they migrate {what} {} (give exact versions, like 3.2.0)",
                known.join(", ")
            );
        }
    }
    if compare_versions(to, from) != Ordering::Greater {
        bail!("API-M {to} is not newer than {from}: a migration goes to a later version");
    }
    let given = [api_m(Role::Old, from), api_m(Role::New, to)];
    let (script, via) = match choose_among(&scripts, &given) {
        Choice::One(script) => (script, None),
        Choice::Many(names) => bail!(
            "more than one bundled script takes API-M {from} to {to}: {}",
            quoted(&names)
        ),
        Choice::None(near) => {
            // A path of two steps: a script that also needs `--via`.
            let through = near.iter().find_map(|(name, _)| {
                let header = &scripts.iter().find(|(known, _)| known == name)?.1;
                let via = header
                    .accepts
                    .iter()
                    .find(|accepts| accepts.role == Role::Via)?;
                via.versions.first().map(|via| (*name, Some(via.clone())))
            });
            match through {
                Some(found) => found,
                None => bail!(
                    "no bundled script takes API-M {from} to {to}: from {from} they go to {}",
                    reachable(&scripts, from).join(", ")
                ),
            }
        }
    };
    let steps = match &via {
        None => vec![Step {
            script,
            from: from.to_string(),
            to: to.to_string(),
        }],
        Some(via) => {
            let mut steps = Vec::new();
            for (step_from, step_to) in [(from, via.as_str()), (via.as_str(), to)] {
                let given = [api_m(Role::Old, step_from), api_m(Role::New, step_to)];
                if let Choice::One(step) = choose_among(&scripts, &given) {
                    steps.push(Step {
                        script: step,
                        from: step_from.to_string(),
                        to: step_to.to_string(),
                    });
                }
            }
            steps
        }
    };
    Ok(Route {
        from: from.to_string(),
        to: to.to_string(),
        via: via.clone(),
        script,
        steps,
        key_manager: key_manager_of(to),
        notes: notes(from, to, via.as_deref()),
    })
}

/// The targets a source reaches with the bundled scripts.
fn reachable(scripts: &[(&'static str, Header)], from: &str) -> Vec<String> {
    versions(scripts, Role::New)
        .into_iter()
        .filter(|to| compare_versions(to, from) == Ordering::Greater)
        .filter(|to| {
            let given = [api_m(Role::Old, from), api_m(Role::New, to)];
            match choose_among(scripts, &given) {
                Choice::One(_) => true,
                Choice::Many(_) => false,
                Choice::None(near) => !near.is_empty(),
            }
        })
        .collect()
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Identity Server version WSO2's guides name as the Key Manager of API-M `version`:
/// IS 5.10.0 for 4.0.0 (the 1.x/2.0.0 to 4.0.0 guides), IS 5.11.0 for 4.1.0 (the 3.0.0 and
/// 4.0.0 to 4.1.0 guides); none for later targets. The bundled scripts hold the same facts
/// (`apim::key_manager_version`).
pub fn key_manager_of(version: &str) -> Option<&'static str> {
    match version {
        "4.0.0" => Some("5.10.0"),
        "4.1.0" => Some("5.11.0"),
        _ => None,
    }
}

/// What is special about API-M `from` to `to` (through `via`), from WSO2's guides and
/// sources (`UPGRADE-PATHS.md`, `MIGRATION-FACTS.md`).
fn notes(from: &str, to: &str, via: Option<&str>) -> Vec<String> {
    let before = |version: &str, than: &str| compare_versions(version, than) == Ordering::Less;
    let at_least = |version: &str, than: &str| !before(version, than);
    let mut notes = Vec::new();
    if let Some(via) = via {
        notes.push(format!(
            "{from} cannot go to 3.x or 4.x directly: step 1 takes it to a fresh {via} pack (keystores, user stores, JDBC drivers, the custom synapse artifacts of the super tenant and every tenant), then {via}'s own data migration runs on that pack (its migration client, with -DmigrateDB, -DmigrateReg, -DmigrateFS), then step 2 goes on from the migrated {via} pack to {to}, carrying what step 1 brought into it"
        ));
    }
    let source = via.unwrap_or(from);
    if before(source, "3.0.0") {
        notes.push(format!(
            "{source} is configured by XML and {to} by deployment.toml: its settings (databases, host name, offset, keystores, user store, gateway environments) are carried as TOML keys by `migrate_config`; every other customised XML file is reported, to redo by hand"
        ));
        notes.push(format!(
            "{to} wants RSA keys of at least 2048 bits: with a weaker key in the old keystore, keep it as `[keystore.internal]` (and `[keystore.tls]`) and put a new 2048-bit key in `[keystore.primary]` (the 2.6.0 to 4.1.0 guide); the `weak-rsa` reminder gives the `keytool` command"
        ));
        notes.push(
            "APIs that applications consume with JWT must be republished: the local entry JWT needs is written only on publishing"
                .to_string(),
        );
    }
    if before(source, "4.0.0") && at_least(to, "4.0.0") {
        notes.push(format!(
            "from 4.0.0 the gateway answers errors in JSON, not XML: fault sequences customised in {from} are reported with the diff to {to}'s, to port by hand, and clients that parse error bodies must change"
        ));
        notes.push(format!(
            "five profiles become three: publisher, developer portal and key manager nodes become control-plane (or stay apart as `*-deprecated` profiles where {to} ships them), gateway and traffic manager nodes stay what they were"
        ));
    }
    if at_least(to, "4.0.0") {
        notes.push(format!(
            "{to} deletes at start-up every file of `synapse-configs/default/{{api,endpoints,sequences,local-entries}}` its skip lists do not name: the site's own ones are copied and listed in `apis`, `endpoints`, `sequences` and `local_entries` (never `local-entries`), on the nodes that run a gateway (gateway-worker, all-in-one; a control plane keeps the gateway's artifact sync off)"
        ));
    }
    if source == "2.6.0" && to == "4.1.0" {
        notes.push(
            "WSO2's 2.6.0 to 4.1.0 guide has no skip-list step, but 4.1.0 deletes unlisted artifacts all the same: they are listed anyway"
                .to_string(),
        );
    }
    if (3..4).contains(&major(source)) {
        notes.push(
            "the gateway environment 3.x called \"Production and Sandbox\" is \"Default\" in 4.x: set `[[apim.gateway.environment]] name` and `gateway_labels` back to the old name for migrated APIs to deploy (the 3.0.0 to 4.1.0 guide)"
                .to_string(),
        );
    }
    if source == "4.0.0" && to == "4.1.0" {
        notes.push(
            "4.0.0 and 4.1.0 share the identity components (IS 5.11): no identity migration step; carry the `[encryption] key` of 4.0.0's deployment.toml over (the 4.0.0 to 4.1.0 guide)"
                .to_string(),
        );
    }
    if at_least(to, "4.2.0") {
        let tested = to == "4.2.0"
            && ["2.6.0", "3.0.0", "3.1.0", "3.2.0", "4.0.0", "4.1.0"].contains(&source);
        notes.push(format!(
            "WSO2 publishes no upgrade guide for a target after 4.1.0: its database scripts and migration client for {to} come through WSO2 support; the file-level steps are those of the 4.1.0 guides{}",
            if tested {
                format!(" (WSO2 tested {source} to 4.2.0 directly, wso2/api-manager#995)")
            } else {
                String::new()
            }
        ));
    }
    if at_least(to, "4.5.0") {
        notes.push(format!(
            "from 4.5.0 the control plane, gateway and traffic manager also ship as packs of their own (`wso2am-acp-{to}`, `wso2am-universal-gw-{to}`, `wso2am-tm-{to}`): give each node its distribution's pack, whose profile it runs, or the all-in-one pack with --profile"
        ));
    }
    if before(source, "4.6.0") && at_least(to, "4.6.0") {
        notes.push(
            "4.6.0 adds the stock sequences `_extension_fault_handler_`, `guardrail_fault` and `_mcp_failure_handler_`: a custom file of one of those names is not copied over it"
                .to_string(),
        );
    }
    notes.push(match key_manager_of(to) {
        Some(is) => format!(
            "with WSO2 IS as Key Manager: upgrade it to IS {is} first, with its own guide; give it as --km to get the keystores and user stores too"
        ),
        None => format!(
            "WSO2's guides name no Identity Server version as the Key Manager of {to}: upgrade a separate IS Key Manager with its own guide (--km is refused)"
        ),
    });
    notes
}

fn major(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0)
}

/// A row of README's table: the script, the sources, the targets, the version gone through.
type Row = (&'static str, Vec<String>, Vec<String>, Option<String>);

/// README's table of supported paths, one row per script and set of sources with the same
/// targets, made from the bundled scripts' headers (kept fresh by a test).
pub fn table_markdown() -> String {
    let scripts = bundled();
    let targets = versions(&scripts, Role::New);
    let mut rows: Vec<Row> = Vec::new();
    for (name, header) in &scripts {
        let Some(old) = header
            .accepts
            .iter()
            .find(|accepts| accepts.role == Role::Old)
        else {
            continue;
        };
        let via = header
            .accepts
            .iter()
            .find(|accepts| accepts.role == Role::Via)
            .and_then(|accepts| accepts.versions.first().cloned());
        for from in &old.versions {
            let reached: Vec<String> = targets
                .iter()
                .filter(|to| compare_versions(to, from) == Ordering::Greater)
                .filter(|to| {
                    let mut given = vec![api_m(Role::Old, from), api_m(Role::New, to)];
                    if let Some(via) = &via {
                        given.push(api_m(Role::Via, via));
                    }
                    choose_among(&scripts, &given) == Choice::One(name)
                })
                .cloned()
                .collect();
            if reached.is_empty() {
                continue;
            }
            match rows
                .iter_mut()
                .find(|(script, _, to, _)| script == name && *to == reached)
            {
                Some((_, sources, _, _)) => sources.push(from.clone()),
                None => rows.push((name, vec![from.clone()], reached, via.clone())),
            }
        }
    }
    let mut out =
        String::from("| from API-M | to API-M | bundled script | how |\n|---|---|---|---|\n");
    for (script, sources, reached, via) in rows {
        let how = match via {
            Some(via) => format!(
                "through {via} (`--via` a fresh {via} pack): stops at a checkpoint for the {via} data migration, then `--continue`"
            ),
            None => "one run".to_string(),
        };
        out.push_str(&format!(
            "| {} | {} | [`{script}`](docs/paths/{script}.md) | {how} |\n",
            sources.join(", "),
            reached.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Header {
        Header::parse(text).expect("header")
    }

    #[test]
    fn the_script_made_for_the_packs_wins_and_two_equal_ones_are_named() {
        let scripts = vec![
            (
                "family",
                header("//! @accepts old wso2am 3.0.0,3.2.0\n//! @accepts new wso2am 4.1.0,4.5.0\n"),
            ),
            (
                "exact",
                header("//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n"),
            ),
            (
                "twin",
                header("//! @accepts old wso2am 3.2.0\n//! @accepts new wso2am 4.5.0,4.6.0\n"),
            ),
            (
                "chain",
                header("//! @accepts old wso2am 1.9.0\n//! @accepts via wso2am 2.0.0\n//! @accepts new wso2am 4.5.0\n"),
            ),
        ];
        let given = |old: &'static str, new: &'static str| {
            vec![api_m(Role::Old, old), api_m(Role::New, new)]
        };
        assert_eq!(
            choose_among(&scripts, &given("3.0.0", "4.1.0")),
            Choice::One("exact")
        );
        assert_eq!(
            choose_among(&scripts, &given("3.0.0", "4.5.0")),
            Choice::One("family")
        );
        assert_eq!(
            choose_among(&scripts, &given("3.2.0", "4.5.0")),
            Choice::Many(vec!["family", "twin"])
        );
        assert_eq!(
            choose_among(&scripts, &given("1.9.0", "4.5.0")),
            Choice::None(vec![("chain", vec!["--via (API-M 2.0.0)".to_string()])])
        );
        let mut with_via = given("1.9.0", "4.5.0");
        with_via.push(api_m(Role::Via, "2.0.0"));
        assert_eq!(choose_among(&scripts, &with_via), Choice::One("chain"));
        assert_eq!(
            choose_among(&scripts, &given("3.2.0", "4.1.0")),
            Choice::One("family")
        );
        assert_eq!(
            choose_among(&scripts, &given("2.0.0", "4.1.0")),
            Choice::None(Vec::new())
        );
    }

    #[test]
    fn every_documented_path_has_one_bundled_route() {
        for from in [
            "2.6.0", "3.0.0", "3.1.0", "3.2.0", "4.0.0", "4.1.0", "4.2.0", "4.3.0", "4.4.0",
        ] {
            for to in [
                "4.1.0", "4.2.0", "4.3.0", "4.4.0", "4.5.0", "4.6.0", "4.7.0",
            ] {
                if compare_versions(to, from) != Ordering::Greater {
                    assert!(route(from, to).is_err(), "{from} -> {to}");
                    continue;
                }
                let route =
                    route(from, to).unwrap_or_else(|error| panic!("{from} -> {to}: {error}"));
                assert_eq!(route.via, None, "{from} -> {to}");
                assert_eq!(route.steps.len(), 1);
            }
        }
        assert_eq!(
            route("3.0.0", "4.1.0").expect("route").script,
            "3.0.0-to-4.1.0"
        );
        assert_eq!(route("3.0.0", "4.5.0").expect("route").script, "to-4.x");
        assert_eq!(
            route("2.0.0", "4.0.0").expect("route").script,
            "2.0.0-to-4.0.0"
        );
        assert_eq!(route("2.0.0", "4.6.0").expect("route").script, "to-4.x");
        for from in ["1.8.0", "1.9.0", "1.9.1"] {
            let to_four = route(from, "4.0.0").expect("route");
            assert_eq!(to_four.script, "1.x-to-4.0.0");
            assert_eq!(to_four.via.as_deref(), Some("2.0.0"));
            let later = route(from, "4.5.0").expect("route");
            assert_eq!(later.script, "1.x-to-4.x");
            let steps: Vec<&str> = later.steps.iter().map(|step| step.script).collect();
            assert_eq!(steps, ["1.x-to-2.0.0", "to-4.x"]);
            assert_eq!(route(from, "2.0.0").expect("route").script, "1.x-to-2.0.0");
        }
    }

    #[test]
    fn unknown_versions_and_backward_paths_are_refused() {
        let message = route("3.5.0", "4.1.0").expect_err("unknown").to_string();
        assert!(
            message.contains("API-M 3.5.0") && message.contains("3.2.0"),
            "{message}"
        );
        assert!(route("3.2.0", "4.9.0").is_err());
        let message = route("4.4.0", "4.2.0").expect_err("older").to_string();
        assert!(message.contains("not newer"), "{message}");
    }

    #[test]
    fn each_path_says_what_is_special_about_it() {
        let joined = |from: &str, to: &str| route(from, to).expect("route").notes.join("\n");
        assert!(joined("2.6.0", "4.1.0").contains("no skip-list step"));
        assert!(!joined("3.2.0", "4.1.0").contains("no skip-list step"));
        assert!(joined("2.6.0", "4.1.0").contains("2048 bits"));
        assert!(joined("3.2.0", "4.5.0").contains("wso2am-universal-gw-4.5.0"));
        assert!(joined("3.2.0", "4.5.0").contains("Production and Sandbox"));
        assert!(joined("3.1.0", "4.2.0").contains("wso2/api-manager#995"));
        assert!(joined("4.0.0", "4.1.0").contains("[encryption] key"));
        assert!(joined("1.9.0", "4.5.0").contains("cannot go to 3.x or 4.x directly"));
        assert!(joined("4.1.0", "4.6.0").contains("guardrail_fault"));
        assert!(joined("3.2.0", "4.5.0").contains("--km is refused"));
        assert!(joined("3.0.0", "4.1.0").contains("IS 5.11.0"));
    }
}
