//! `verify`: a read-only check of a 3.x/4.x pack before its first start. Each problem names
//! the check, the file (and line where known) and what to do. The checks: deployment.toml
//! parses; every key is read by the pack's templates (a typo such as `local-entries` is not);
//! the skip lists name files that exist and are not stock; the keystores and trust store
//! named exist; a JDBC driver serves every database; each `$secret{alias}` has its entry and
//! `[secrets]` is last; no 1.x `log4j.properties` and no `tenantloader-1.0.jar` left behind;
//! the gateway environments and the gateway's labels agree.

use super::config_facts::ReadKeys;
use super::jdbc;
use super::keystores;
use super::stock::Catalogue;
use super::templates::SkipListRules;
use super::toml::{
    display_path, parse, plain_key, read_skip_lists, secret_references, secrets_last, settings,
    Seg, SkipKind,
};
use super::{compare_versions, Pack, Product, COMPONENTS_LIB, DEPLOYMENT_TOML, SYNAPSE_DEFAULT};
use anyhow::{bail, Result};
use serde::Serialize;
use std::cmp::Ordering;

/// Every check, in the order they run.
pub const CHECKS: [&str; 9] = [
    "toml",
    "unread-key",
    "skip-list",
    "keystore",
    "jdbc-driver",
    "secrets",
    "log4j",
    "tenantloader",
    "gateway-environment",
];

/// One problem.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// Which check found it (one of `CHECKS`).
    pub check: &'static str,
    /// The file, pack-relative.
    pub file: String,
    pub line: Option<usize>,
    pub message: String,
    /// What to do about it.
    pub fix: String,
}

/// Checks `pack`; errors only for a pack that cannot be verified (not API-M 3.x or later).
pub fn verify(pack: &Pack, catalogue: &Catalogue) -> Result<Vec<Problem>> {
    if pack.product != Product::ApiManager
        || compare_versions(&pack.version, "3.0.0") == Ordering::Less
    {
        bail!(
            "`{}` is {} {}: verify checks API-M 3.0.0 and later packs, which are configured by `{DEPLOYMENT_TOML}`",
            pack.home.display(),
            pack.product.short_name(),
            pack.version
        );
    }
    let mut problems = Vec::new();
    let text = match pack.read_to_string(DEPLOYMENT_TOML) {
        Ok(text) => text,
        Err(error) => {
            problems.push(Problem {
                check: "toml",
                file: DEPLOYMENT_TOML.into(),
                line: None,
                message: format!("`{DEPLOYMENT_TOML}` cannot be read: {error}"),
                fix: "restore the file from the pack's distribution, then redo the site's settings"
                    .into(),
            });
            return Ok(problems);
        }
    };
    let label = format!("{}/{DEPLOYMENT_TOML}", pack.home.display());
    let document = match parse(&text, &label) {
        Ok(document) => Some(document),
        Err(error) => {
            problems.push(Problem {
                check: "toml",
                file: DEPLOYMENT_TOML.into(),
                line: Some(error.line),
                message: format!(
                    "not valid TOML: line {}, column {}: {}",
                    error.line, error.column, error.message
                ),
                fix: "fix the file; the server does not start with it".into(),
            });
            None
        }
    };
    if let Some(document) = &document {
        unread_keys(pack, document, &text, &mut problems);
        skip_lists(pack, catalogue, document, &text, &mut problems);
        keystores_exist(pack, &mut problems)?;
        jdbc_drivers(pack, &mut problems)?;
        secrets(document, &text, &mut problems);
        gateway_environments(document, &text, &mut problems);
    }
    leftovers(pack, &mut problems)?;
    Ok(problems)
}

/// The 1-based line of a setting: its key's line under its table's header (the `n`th
/// `[[array]]` header for an entry of an array of tables), else the first line setting the key.
pub fn line_of(text: &str, path: &[Seg]) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(Seg::Key(last)) = path.last() else {
        return None;
    };
    let parents = &path[..path.len() - 1];
    let header_keys: Vec<String> = parents
        .iter()
        .filter_map(|seg| match seg {
            Seg::Key(key) => Some(key.clone()),
            Seg::Index(_) => None,
        })
        .collect();
    let index = parents.iter().rev().find_map(|seg| match seg {
        Seg::Index(index) => Some(*index),
        Seg::Key(_) => None,
    });
    let defines = |line: &str, key: &str| {
        let line = line.trim_start();
        [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .any(|form| {
                line.strip_prefix(form.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
    };
    // Look for the table's header, then the key before the next header.
    for depth in (0..=header_keys.len()).rev() {
        let header = header_keys[..depth].join(".");
        let rest_keys = &header_keys[depth..];
        let wanted = if rest_keys.is_empty() {
            last.clone()
        } else {
            format!("{}.{last}", rest_keys.join("."))
        };
        let mut seen = 0;
        let mut inside = depth == 0;
        for (number, line) in lines.iter().enumerate() {
            let trimmed = line.trim();
            if trimmed.starts_with('[') {
                let name = trimmed
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim();
                let matches = depth > 0 && name == header;
                inside = if matches && trimmed.starts_with("[[") {
                    seen += 1;
                    index.is_none_or(|index| seen == index + 1)
                } else {
                    matches
                };
                continue;
            }
            if inside && defines(line, &wanted) {
                return Some(number + 1);
            }
        }
    }
    lines
        .iter()
        .position(|line| defines(line, last))
        .map(|number| number + 1)
}

fn unread_keys(
    pack: &Pack,
    document: &toml_edit::DocumentMut,
    text: &str,
    problems: &mut Vec<Problem>,
) {
    let reads = ReadKeys::of(pack);
    if !reads.from_pack() {
        return;
    }
    let mut reported: Vec<String> = Vec::new();
    for setting in settings(document) {
        let key = plain_key(&setting.path);
        if reads.reads(&key) || reported.contains(&key) {
            continue;
        }
        reported.push(key.clone());
        let underscored = key.replace('-', "_");
        let fix = if underscored != key && reads.reads(&underscored) {
            format!("did you mean `{underscored}`? rename the key; as written it is ignored")
        } else {
            "remove it or correct its name: the pack ignores it (see `repository/resources/conf/templates` for the keys it reads)".to_string()
        };
        problems.push(Problem {
            check: "unread-key",
            file: DEPLOYMENT_TOML.into(),
            line: line_of(text, &setting.path),
            message: format!(
                "`{}` is read by none of the pack's templates",
                display_path(&setting.path)
            ),
            fix,
        });
    }
}

fn skip_lists(
    pack: &Pack,
    catalogue: &Catalogue,
    document: &toml_edit::DocumentMut,
    text: &str,
    problems: &mut Vec<Problem>,
) {
    let rules = SkipListRules::of(pack);
    for (key, names) in read_skip_lists(document) {
        let Some(kind) = SkipKind::from_key(&key) else {
            continue;
        };
        let path: Vec<Seg> = super::templates::SKIP_LIST_KEY
            .split('.')
            .chain(std::iter::once(key.as_str()))
            .map(|key| Seg::Key(key.to_string()))
            .collect();
        let line = line_of(text, &path);
        for name in names {
            let relative = format!("{SYNAPSE_DEFAULT}/{}/{name}", kind.dir());
            let stock = rules.exempts(kind, &name)
                || catalogue.is_stock_name(pack.stock_key(), &pack.version, &relative);
            if stock {
                problems.push(Problem {
                    check: "skip-list",
                    file: DEPLOYMENT_TOML.into(),
                    line,
                    message: format!("the skip list `{key}` names `{name}`, a stock file of {}", pack.version),
                    fix: format!("remove `{name}` from the list: the pack keeps its stock files itself, and a listed stock file no longer gets its updates"),
                });
            } else if !pack.is_file(&relative) && !tenant_has(pack, kind, &name) {
                problems.push(Problem {
                    check: "skip-list",
                    file: DEPLOYMENT_TOML.into(),
                    line,
                    message: format!("the skip list `{key}` names `{name}`, but no `{relative}` (nor a tenant's) exists"),
                    fix: format!("copy the file into `{}` or remove the name from the list", kind.dir()),
                });
            }
        }
    }
}

/// Whether a tenant's synapse folder holds `name`.
fn tenant_has(pack: &Pack, kind: SkipKind, name: &str) -> bool {
    pack.list_dir(super::TENANTS_DIR)
        .unwrap_or_default()
        .iter()
        .any(|tenant| {
            pack.is_file(&format!(
                "{}/{tenant}/synapse-configs/default/{}/{name}",
                super::TENANTS_DIR,
                kind.dir()
            ))
        })
}

fn keystores_exist(pack: &Pack, problems: &mut Vec<Problem>) -> Result<()> {
    for configured in keystores::find(pack)?.configured {
        if configured.exists || !configured.configured_by.starts_with("deployment.toml") {
            continue;
        }
        problems.push(Problem {
            check: "keystore",
            file: DEPLOYMENT_TOML.into(),
            line: None,
            message: format!("{} names `{}`, which does not exist", configured.configured_by, configured.value),
            fix: "copy the keystore into `repository/resources/security` (`copy_keystores(old, new)` does) or correct the file name".into(),
        });
    }
    Ok(())
}

fn jdbc_drivers(pack: &Pack, problems: &mut Vec<Problem>) -> Result<()> {
    let drivers = jdbc::drivers_in(pack, COMPONENTS_LIB)?;
    for database in jdbc::configured_databases(pack)? {
        if database.database == "h2" {
            continue;
        }
        let served = drivers.iter().any(|driver| {
            driver
                .databases
                .iter()
                .any(|served| jdbc::serves(served, &database.database))
        });
        if !served {
            problems.push(Problem {
                check: "jdbc-driver",
                file: DEPLOYMENT_TOML.into(),
                line: None,
                message: format!("{} uses a {} database, but no {} JDBC driver is in `{COMPONENTS_LIB}`", database.configured_by, database.database, database.database),
                fix: format!("place the driver jar in `{COMPONENTS_LIB}` (`place_jdbc(new, \"/path/to/driver.jar\")` does)"),
            });
        }
    }
    Ok(())
}

fn secrets(document: &toml_edit::DocumentMut, text: &str, problems: &mut Vec<Problem>) {
    if !secrets_last(document) {
        problems.push(Problem {
            check: "secrets",
            file: DEPLOYMENT_TOML.into(),
            line: text.lines().position(|line| line.trim() == "[secrets]").map(|number| number + 1),
            message: "`[secrets]` is not the last table of the file".into(),
            fix: "move `[secrets]` and its entries to the end of the file: the cipher tool reads the entries up to the end of the file".into(),
        });
    }
    let entries: Vec<String> = document
        .get("secrets")
        .and_then(|item| item.as_table_like())
        .map(|table| table.iter().map(|(key, _)| key.to_string()).collect())
        .unwrap_or_default();
    let mut reported: Vec<String> = Vec::new();
    for (alias, path) in secret_references(document) {
        if entries.contains(&alias) || reported.contains(&alias) {
            continue;
        }
        reported.push(alias.clone());
        problems.push(Problem {
            check: "secrets",
            file: DEPLOYMENT_TOML.into(),
            line: line_of(text, &path),
            message: format!("`{}` uses `$secret{{{alias}}}`, but `[secrets]` has no `{alias}`", display_path(&path)),
            fix: format!(
                "add `{} = \"[the password]\"` under `[secrets]` and run `ciphertool.sh -Dconfigure`",
                toml_edit::Key::new(alias.as_str()).display_repr()
            ),
        });
    }
}

fn gateway_environments(
    document: &toml_edit::DocumentMut,
    text: &str,
    problems: &mut Vec<Problem>,
) {
    let names: Vec<String> = document
        .get("apim")
        .and_then(|apim| apim.get("gateway"))
        .and_then(|gateway| gateway.get("environment"))
        .and_then(|item| item.as_array_of_tables())
        .map(|environments| {
            environments
                .iter()
                .filter_map(|table| {
                    table
                        .get("name")
                        .and_then(|name| name.as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut seen: Vec<&String> = Vec::new();
    for name in &names {
        if seen.contains(&name) {
            problems.push(Problem {
                check: "gateway-environment",
                file: DEPLOYMENT_TOML.into(),
                line: None,
                message: format!("two gateway environments are named `{name}`"),
                fix: "give each `[[apim.gateway.environment]]` a name of its own".into(),
            });
        }
        seen.push(name);
    }
    let labels_path: Vec<Seg> = [
        "apim",
        "sync_runtime_artifacts",
        "gateway",
        "gateway_labels",
    ]
    .iter()
    .map(|key| Seg::Key(key.to_string()))
    .collect();
    let labels: Option<Vec<String>> = super::toml::get_setting(document, &labels_path)
        .and_then(|value| value.as_array())
        .map(|array| {
            array
                .iter()
                .filter_map(|value| value.as_str().map(str::to_string))
                .collect()
        });
    let (Some(labels), false) = (labels, names.is_empty()) else {
        return;
    };
    let line = line_of(text, &labels_path);
    if !labels.iter().any(|label| names.contains(label)) {
        problems.push(Problem {
            check: "gateway-environment",
            file: DEPLOYMENT_TOML.into(),
            line,
            message: format!(
                "the gateway deploys the APIs of {} but the environments are {}: this node's gateway deploys none of its environments' APIs",
                quoted(&labels),
                quoted(&names)
            ),
            fix: "set `gateway_labels` to the environment names (after a migration, the old names: \"Production and Sandbox\" before 4.0.0)".into(),
        });
    } else if let Some(missing) = names.iter().find(|name| !labels.contains(name)) {
        problems.push(Problem {
            check: "gateway-environment",
            file: DEPLOYMENT_TOML.into(),
            line,
            message: format!(
                "the environment `{missing}` is not among the gateway's labels {}",
                quoted(&labels)
            ),
            fix: format!("add `{missing}` to `gateway_labels` if this node's gateway serves it"),
        });
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn leftovers(pack: &Pack, problems: &mut Vec<Problem>) -> Result<()> {
    let log4j = "repository/conf/log4j.properties";
    if compare_versions(&pack.version, "3.0.0") != Ordering::Less && pack.is_file(log4j) {
        problems.push(Problem {
            check: "log4j",
            file: log4j.into(),
            line: None,
            message: format!("`{log4j}` is a 1.x/2.x logging file; {} reads `repository/conf/log4j2.properties`", pack.version),
            fix: "port its custom loggers to `log4j2.properties` (the format changed) and remove the file".into(),
        });
    }
    for dir in ["repository/components/dropins", COMPONENTS_LIB] {
        for name in pack.list_dir(dir).unwrap_or_default() {
            if name.starts_with("tenantloader") && name.ends_with(".jar") {
                let file = format!("{dir}/{name}");
                problems.push(Problem {
                    check: "tenantloader",
                    file: file.clone(),
                    line: None,
                    message: format!("`{file}` is the tenant loader of old releases, which stops this release's tenants from loading"),
                    fix: format!("remove `{file}`: tenants load on their own from 2.x on"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::toml::parse_setting_path;

    #[test]
    fn lines_are_found_under_the_right_header_and_entry() {
        let text = "[server]\nhostname = \"a\"\n\n[[apim.gateway.environment]]\nname = \"A\"\n\n[[apim.gateway.environment]]\nname = \"B\"\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\n'local-entries' = [\"x.xml\"]\n";
        let at = |path: &str| line_of(text, &parse_setting_path(path).expect("path"));
        assert_eq!(at("server.hostname"), Some(2));
        assert_eq!(at("apim.gateway.environment[1].name"), Some(8));
        assert_eq!(at("apim.gateway.environment[0].name"), Some(5));
        assert_eq!(
            at("apim.sync_runtime_artifacts.gateway.skip_list.'local-entries'"),
            Some(11)
        );
    }
}
