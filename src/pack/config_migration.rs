//! Configuration migration: the settings of the old deployment.toml (or of the old XML files,
//! see `xml_config`) that the site changed from the old release's stock, carried into the new
//! deployment.toml: under the new name where a key was renamed, not at all where the new
//! release no longer reads the key, never over a value the operator already set in the new
//! file. Every decision is a `Note`; the new text keeps the file's comments and layout, and a
//! second migration over its own result changes nothing.

use super::config_facts::{ReadKeys, Renames};
use super::toml::{
    display_path, get_setting, keys_of, move_secrets_last, parse, plain_key, same_value,
    secret_references, secrets_last, set_setting, settings, Seg,
};
use anyhow::{bail, Result};
use toml_edit::{DocumentMut, Value};

/// The gateway environments, and the labels the 4.x gateway deploys.
const ENVIRONMENT: &str = "apim.gateway.environment";
const GATEWAY_LABELS: &str = "apim.sync_runtime_artifacts.gateway.gateway_labels";

/// Settings that are never carried, and why: the node's profile is the new pack's own (4.x
/// renamed the profiles; `profileSetup.sh` or the deployment templates set it).
const NOT_CARRIED: [(&str, &str); 1] = [(
    "server.server_role",
    "the node's profile is set in the new pack itself (`profileSetup.sh -Dprofile=NAME` or its deployment template): 4.x named the profiles anew",
)];

/// What the migration is given.
pub struct Sides<'a> {
    /// The old settings.
    pub old: &'a DocumentMut,
    /// The old release's stock settings.
    pub old_stock: &'a DocumentMut,
    /// The new deployment.toml's text, and its name for messages.
    pub new_text: &'a str,
    pub new_label: &'a str,
    /// The new release's stock settings, when known: a value of the new file that differs
    /// from them was set by the operator and is kept.
    pub new_stock: Option<&'a DocumentMut>,
    pub reads: &'a ReadKeys,
    pub renames: &'a Renames,
}

/// The kind of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Written into the new file.
    Carried,
    /// Written under the new release's name.
    Renamed,
    /// The old gateway environment name, kept as WSO2's guides ask.
    Environment,
    /// Not carried: the new release does not read it.
    Dropped,
    /// Not carried: the operator already set another value in the new file.
    Conflict,
    /// The site left out a stock setting that the new file sets.
    Removed,
    /// `$secret{alias}` without an entry in `[secrets]`.
    MissingSecret,
    /// `[secrets]` moved to the end of the file.
    SecretsMoved,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Carried => "carried",
            Kind::Renamed => "renamed",
            Kind::Environment => "environment",
            Kind::Dropped => "dropped",
            Kind::Conflict => "conflict",
            Kind::Removed => "removed",
            Kind::MissingSecret => "missing-secret",
            Kind::SecretsMoved => "secrets-moved",
        }
    }

    /// Whether the operator must look at it (as opposed to a change the plan shows).
    pub fn needs_review(self) -> bool {
        matches!(
            self,
            Kind::Dropped | Kind::Conflict | Kind::Removed | Kind::MissingSecret
        )
    }
}

/// One decision, with the setting it is about.
#[derive(Debug, Clone)]
pub struct Note {
    pub kind: Kind,
    /// The setting in the new file (`apim.gateway.environment[0].name`).
    pub key: String,
    pub message: String,
}

/// The new text and every decision.
#[derive(Debug, Clone)]
pub struct Migration {
    pub text: String,
    pub notes: Vec<Note>,
}

fn shown(value: &Value) -> String {
    let mut value = value.clone();
    value.decor_mut().clear();
    value.to_string()
}

/// Migrates; errors only when the new file is not TOML.
pub fn migrate(sides: &Sides) -> Result<Migration> {
    let mut new = parse(sides.new_text, sides.new_label)?;
    let mut notes = Vec::new();
    let mut changed = false;
    let environment = super::toml::parse_key_path(ENVIRONMENT)?;

    // The gateway environments keep their old names (and the gateway its labels), even where
    // the old name was the old release's stock "Production and Sandbox": the migrated APIs
    // are deployed to environments by name.
    let mut old_names = Vec::new();
    for setting in settings(sides.old) {
        if is_environment_name(&setting.path, &environment) {
            old_names.push(setting.value.clone());
            changed |= carry(
                sides,
                &mut new,
                &setting.path,
                &setting.path,
                &setting.value,
                Kind::Environment,
                &mut notes,
            );
        }
    }
    let labels_path = vec![
        Seg::Key("apim".into()),
        Seg::Key("sync_runtime_artifacts".into()),
        Seg::Key("gateway".into()),
        Seg::Key("gateway_labels".into()),
    ];
    if !old_names.is_empty()
        && get_setting(sides.old, &labels_path).is_none()
        && sides.reads.reads(GATEWAY_LABELS)
    {
        let mut labels: toml_edit::Array = old_names
            .iter()
            .map(|name| {
                let mut name = name.clone();
                name.decor_mut().clear();
                name
            })
            .collect();
        labels.fmt();
        changed |= carry(
            sides,
            &mut new,
            &labels_path,
            &labels_path,
            &Value::Array(labels),
            Kind::Environment,
            &mut notes,
        );
    }

    for setting in settings(sides.old) {
        let path = &setting.path;
        if is_environment_name(path, &environment) {
            continue;
        }
        if get_setting(sides.old_stock, path).is_some_and(|stock| same_value(stock, &setting.value))
        {
            continue;
        }
        let key = plain_key(path);
        if let Some((_, why)) = NOT_CARRIED.iter().find(|(never, _)| *never == key) {
            if !get_setting(&new, path).is_some_and(|current| same_value(current, &setting.value)) {
                notes.push(Note {
                    kind: Kind::Dropped,
                    key: key.clone(),
                    message: format!("`{key}` = {} is not carried: {why}", shown(&setting.value)),
                });
            }
            continue;
        }
        let has_index = path.iter().any(|seg| matches!(seg, Seg::Index(_)));
        match sides.renames.of(&key).filter(|_| !has_index) {
            Some(rename) => {
                for target in &rename.to {
                    let Ok(target) = super::toml::parse_key_path(target) else {
                        continue;
                    };
                    let target: Vec<Seg> = target.into_iter().map(Seg::Key).collect();
                    let before = notes.len();
                    changed |= carry(
                        sides,
                        &mut new,
                        path,
                        &target,
                        &setting.value,
                        Kind::Renamed,
                        &mut notes,
                    );
                    for note in &mut notes[before..] {
                        if note.kind == Kind::Renamed {
                            note.message = format!(
                                "{} (renamed from `{key}`, {})",
                                note.message, rename.source
                            );
                        }
                    }
                }
            }
            None => {
                changed |= carry(
                    sides,
                    &mut new,
                    path,
                    path,
                    &setting.value,
                    Kind::Carried,
                    &mut notes,
                );
            }
        }
    }

    // Stock settings the site left out, which the new file sets again.
    for stock in settings(sides.old_stock) {
        if get_setting(sides.old, &stock.path).is_some() {
            continue;
        }
        if let Some(current) = get_setting(&new, &stock.path) {
            notes.push(Note {
                kind: Kind::Removed,
                key: display_path(&stock.path),
                message: format!(
                    "the old file leaves out `{}` (stock: {}), which the new file sets to {}: remove it from the new file if the site meant to turn it off",
                    display_path(&stock.path),
                    shown(&stock.value),
                    shown(current)
                ),
            });
        }
    }

    if !secrets_last(&new) {
        move_secrets_last(&mut new);
        changed = true;
        notes.push(Note {
            kind: Kind::SecretsMoved,
            key: "secrets".into(),
            message: "`[secrets]` moved to the end of the file, where the cipher tool needs it"
                .into(),
        });
    }
    let secrets: Vec<String> = new
        .get("secrets")
        .and_then(|item| item.as_table_like())
        .map(|table| table.iter().map(|(key, _)| key.to_string()).collect())
        .unwrap_or_default();
    let mut reported = Vec::new();
    for (alias, path) in secret_references(&new) {
        if secrets.contains(&alias) || reported.contains(&alias) {
            continue;
        }
        reported.push(alias.clone());
        notes.push(Note {
            kind: Kind::MissingSecret,
            key: display_path(&path),
            message: format!(
                "`{}` uses `$secret{{{alias}}}` but `[secrets]` has no `{alias}`: add `{} = \"[plain text]\"` under `[secrets]` and run the cipher tool (`ciphertool.sh -Dconfigure`)",
                display_path(&path),
                toml_edit::Key::new(alias.as_str()).display_repr()
            ),
        });
    }

    let text = if changed {
        let text = new.to_string();
        if parse(&text, sides.new_label).is_err() {
            bail!(
                "the migrated `{}` would not be valid TOML; nothing was changed",
                sides.new_label
            );
        }
        text
    } else {
        sides.new_text.to_string()
    };
    Ok(Migration { text, notes })
}

fn is_environment_name(path: &[Seg], environment: &[String]) -> bool {
    path.len() == environment.len() + 2
        && keys_of(&path[..environment.len() + 1]) == environment
        && path.last() == Some(&Seg::Key("name".to_string()))
}

/// Carries one value from `from` (old) to `to` (new); returns whether the new document
/// changed.
fn carry(
    sides: &Sides,
    new: &mut DocumentMut,
    from: &[Seg],
    to: &[Seg],
    value: &Value,
    kind: Kind,
    notes: &mut Vec<Note>,
) -> bool {
    let key = display_path(to);
    let old_key = display_path(from);
    if !sides.reads.reads(&plain_key(to)) {
        notes.push(Note {
            kind: Kind::Dropped,
            key: old_key.clone(),
            message: format!(
                "`{old_key}` = {} is not carried: the new release does not read `{}` ({})",
                shown(value),
                plain_key(to),
                sides.reads.source.describe()
            ),
        });
        return false;
    }
    let current = get_setting(new, to);
    if current.is_some_and(|current| same_value(current, value)) {
        return false;
    }
    if let (Some(current), Some(stock)) = (current, sides.new_stock) {
        let stock_value = get_setting(stock, to);
        if !stock_value.is_some_and(|stock_value| same_value(stock_value, current)) {
            notes.push(Note {
                kind: Kind::Conflict,
                key: key.clone(),
                message: format!(
                    "`{key}`: the old file has {}, the new file already has {} (not the new release's stock): the new value is kept; change it by hand if the old one should stand",
                    shown(value),
                    shown(current)
                ),
            });
            return false;
        }
    }
    let before = current.map(shown);
    // The old line's comment stays in the old file; the new line takes the new file's form.
    let mut value = value.clone();
    value.decor_mut().clear();
    let value = &value;
    match set_setting(new, to, value.clone()) {
        Ok(changed) => {
            if changed {
                let message = match (kind, before) {
                    (Kind::Environment, Some(before)) => format!(
                        "`{key}` = {} (the new release ships {before}): the migrated APIs are deployed to their environments by name",
                        shown(value)
                    ),
                    (_, Some(before)) => format!("`{key}` = {} (was {before})", shown(value)),
                    (_, None) => format!("`{key}` = {}", shown(value)),
                };
                notes.push(Note { kind, key, message });
            }
            changed
        }
        Err(error) => {
            notes.push(Note {
                kind: Kind::Conflict,
                key: key.clone(),
                message: format!(
                    "`{key}` = {} could not be written: {error:#}; set it by hand",
                    shown(value)
                ),
            });
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::Product;

    fn doc(text: &str) -> DocumentMut {
        text.parse().expect("toml")
    }

    #[test]
    fn changed_settings_are_carried_stock_ones_are_not_and_a_second_run_changes_nothing() {
        let old = doc("[server]\nhostname = \"am.example.com\"\nnode_ip = \"127.0.0.1\"\n\n[[apim.gateway.environment]]\nname = \"Production and Sandbox\"\n\n[apim.analytics]\nurl_group = \"x\"\n\n[secrets]\nadmin = \"abc\"\n");
        let old_stock = doc("[server]\nhostname = \"localhost\"\nnode_ip = \"127.0.0.1\"\n\n[[apim.gateway.environment]]\nname = \"Production and Sandbox\"\n");
        let new_text = "# comment kept\n[server]\nhostname = \"localhost\" # the host\n\n[[apim.gateway.environment]]\nname = \"Default\"\n\n[apim.sync_runtime_artifacts.gateway]\ngateway_labels = [\"Default\"]\n";
        let new_stock = doc(new_text);
        let reads = ReadKeys::builtin(Product::ApiManager, "4.1.0");
        let renames = Renames::default();
        let sides = Sides {
            old: &old,
            old_stock: &old_stock,
            new_text,
            new_label: "new/deployment.toml",
            new_stock: Some(&new_stock),
            reads: &reads,
            renames: &renames,
        };
        let migration = migrate(&sides).expect("migrate");
        let text = &migration.text;
        assert!(text.starts_with("# comment kept\n"), "{text}");
        assert!(
            text.contains("hostname = \"am.example.com\" # the host"),
            "{text}"
        );
        assert!(text.contains("name = \"Production and Sandbox\""), "{text}");
        assert!(
            text.contains("gateway_labels = [\"Production and Sandbox\"]"),
            "{text}"
        );
        assert!(!text.contains("url_group"), "{text}");
        assert!(
            text.trim_end().ends_with("[secrets]\nadmin = \"abc\""),
            "{text}"
        );
        assert!(migration
            .notes
            .iter()
            .any(|note| note.kind == Kind::Dropped && note.key == "apim.analytics.url_group"));

        let again = Sides {
            new_text: text,
            ..sides
        };
        let second = migrate(&again).expect("again");
        assert_eq!(&second.text, text);
        assert!(second.notes.iter().all(|note| note.kind == Kind::Dropped));
    }

    #[test]
    fn a_value_the_operator_set_in_the_new_file_is_kept_and_reported() {
        let old = doc("[server]\nhostname = \"old.example.com\"\n");
        let old_stock = doc("[server]\nhostname = \"localhost\"\n");
        let new_stock = doc("[server]\nhostname = \"localhost\"\n");
        let new_text = "[server]\nhostname = \"new.example.com\"\n";
        let reads = ReadKeys::builtin(Product::ApiManager, "4.1.0");
        let renames = Renames::default();
        let migration = migrate(&Sides {
            old: &old,
            old_stock: &old_stock,
            new_text,
            new_label: "new",
            new_stock: Some(&new_stock),
            reads: &reads,
            renames: &renames,
        })
        .expect("migrate");
        assert_eq!(migration.text, new_text);
        let conflict = migration
            .notes
            .iter()
            .find(|note| note.kind == Kind::Conflict)
            .expect("conflict");
        assert!(
            conflict.message.contains("old.example.com")
                && conflict.message.contains("new.example.com")
        );
    }
}
