//! General helpers for site scripts: reminders, warnings, copies by relative path, TOML keys,
//! listings and tests of paths, parameters.

use super::Registry;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::files;
use crate::pack::toml;
use crate::pack::DEPLOYMENT_TOML;
use anyhow::{bail, Context};
use rhai::{Array, Dynamic, Map};

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "remind",
            "Adds a reminder: something the operator must do by hand. A second reminder with the same id replaces the first, so a site script can refine a standard one.",
            r#"remind("load-balancer", "point the load balancer at the 4.1.0 gateways");"#,
        )
        .form(["id", "message"], |shared| move |id: &str, message: &str| {
            shared.borrow_mut().planner.remind(id, message);
        })
        .form(["message"], |shared| move |message: &str| {
        let mut session = shared.borrow_mut();
        let id = format!("note-{}", session.planner.reminders().len() + 1);
        session.planner.remind(&id, message);
    });
    registry
        .primitive(
            "warn",
            "Adds a warning to the report.",
            r#"if !exists(old, "repository/conf/log4j2.properties") { warn("no log4j2.properties in the old pack"); }"#,
        )
        .form(["message"], |shared| move |message: &str| {
        shared.borrow_mut().planner.warn("", message, None);
    });
    registry
        .primitive(
            "copy_file",
            "Copies one file, by path relative to the packs, keeping its mode and modification time. Paths may not leave the pack (`..`, absolute paths, links out of it are refused).",
            r#"copy_file(old, "repository/conf/log4j2.properties", new, "repository/conf/log4j2.properties.old");"#,
        )
        .form(["from", "path", "to"], |shared| move |from: PackHandle, path: &str, to: PackHandle| -> ScriptResult<()> {
            copy_file(&mut shared.borrow_mut(), &from, path, &to, path).map_err(script_error)
        })
        .form(["from", "path", "to", "dest_path"], |shared| move |from: PackHandle, path: &str, to: PackHandle, dest: &str| -> ScriptResult<()> {
            copy_file(&mut shared.borrow_mut(), &from, path, &to, dest).map_err(script_error)
        });
    registry
        .primitive(
            "copy_dir",
            "Copies every file below a directory, by relative path, keeping modes and modification times; links that leave the source pack are reported and skipped.",
            r#"copy_dir(old, "repository/deployment/server/webapps/custom", new);"#,
        )
        .form(["from", "path", "to"], |shared| move |from: PackHandle, path: &str, to: PackHandle| -> ScriptResult<()> {
            copy_dir(&mut shared.borrow_mut(), &from, path, &to, path).map_err(script_error)
        })
        .form(["from", "path", "to", "dest_path"], |shared| move |from: PackHandle, path: &str, to: PackHandle, dest: &str| -> ScriptResult<()> {
            copy_dir(&mut shared.borrow_mut(), &from, path, &to, dest).map_err(script_error)
        });
    registry
        .primitive(
            "read_toml",
            "Reads a dotted key (`apim.gateway.environment`, quoted segments allowed) from the pack's deployment.toml (or another TOML file of the pack), as it will be after the changes planned so far; `()` when absent.",
            r#"let labels = read_toml(new, "apim.sync_runtime_artifacts.gateway.gateway_labels");"#,
        )
        .form(["pack", "key"], |shared| move |pack: PackHandle, key: &str| -> ScriptResult<Dynamic> {
            read_toml(&shared.borrow(), &pack, DEPLOYMENT_TOML, key).map_err(script_error)
        })
        .form(["pack", "file", "key"], |shared| move |pack: PackHandle, file: &str, key: &str| -> ScriptResult<Dynamic> {
            read_toml(&shared.borrow(), &pack, file, key).map_err(script_error)
        });
    registry
        .primitive(
            "set_toml",
            "Sets a dotted key in a target pack's deployment.toml (or another TOML file), creating tables only when missing and keeping every other line and comment; shown as a diff in the plan.",
            r#"set_toml(new, "indexing.re_indexing", 1);"#,
        )
        .form(["pack", "key", "value"], |shared| move |pack: PackHandle, key: &str, value: Dynamic| -> ScriptResult<()> {
            set_toml(&mut shared.borrow_mut(), &pack, DEPLOYMENT_TOML, key, value)
                .map_err(script_error)
        })
        .form(["pack", "file", "key", "value"], |shared| move |pack: PackHandle, file: &str, key: &str, value: Dynamic| -> ScriptResult<()> {
            set_toml(&mut shared.borrow_mut(), &pack, file, key, value).map_err(script_error)
        });
    registry
        .primitive(
            "list",
            "The sorted names in a directory of a pack (counting files planned so far); empty when it does not exist.",
            r#"for name in list(old, "repository/components/dropins") { print(name); }"#,
        )
        .form(["pack", "dir"], |shared| move |pack: PackHandle, dir: &str| -> ScriptResult<Array> {
            list(&shared.borrow(), &pack, dir).map_err(script_error)
        });
    registry
        .primitive(
            "exists",
            "Tests a path of a pack.",
            r#"if is_dir(old, "repository/tenants") { print("tenants present"); }"#,
        )
        .form(["pack", "path"], |shared| {
            move |pack: PackHandle, path: &str| -> ScriptResult<bool> {
                shared
                    .borrow()
                    .planner
                    .exists(pack.role, path)
                    .map_err(script_error)
            }
        })
        .form_named("is_file", ["pack", "path"], |shared| {
            move |pack: PackHandle, path: &str| -> ScriptResult<bool> {
                path_kind(&shared.borrow(), &pack, path, true).map_err(script_error)
            }
        })
        .form_named("is_dir", ["pack", "path"], |shared| {
            move |pack: PackHandle, path: &str| -> ScriptResult<bool> {
                path_kind(&shared.borrow(), &pack, path, false).map_err(script_error)
            }
        });
    registry
        .primitive(
            "param",
            "The value given with `--set name=value`, or `default`. All values of `params` are strings.",
            r#"let gateway_only = param("gateway_only", "false") == "true";"#,
        )
        .form(["name", "default"], |shared| move |name: &str, default: &str| -> String {
            shared
                .borrow()
                .params
                .get(name)
                .cloned()
                .unwrap_or_else(|| default.to_string())
        });
}

fn copy_file(
    session: &mut Session,
    from: &PackHandle,
    path: &str,
    to: &PackHandle,
    dest: &str,
) -> anyhow::Result<()> {
    session.planner.target(to.role)?;
    refuse_link_out(session, from, path)?;
    session
        .planner
        .copy_from_pack("copy_file", from.role, path, to.role, dest)?;
    Ok(())
}

/// A path a script names itself may not lead out of its pack through a link (links found
/// while walking a directory are reported and skipped instead).
fn refuse_link_out(session: &Session, from: &PackHandle, path: &str) -> anyhow::Result<()> {
    let relative = files::confined_relative(path)?;
    if let Some(real) = session.planner.view(from.role)?.leaves_pack(&relative) {
        bail!(
            "`{}:{relative}` is reached through a link that leads out of the pack (to `{}`); links are never followed out of a pack: copy what it points at by hand if it is needed",
            from.role,
            real.display()
        );
    }
    Ok(())
}

fn copy_dir(
    session: &mut Session,
    from: &PackHandle,
    path: &str,
    to: &PackHandle,
    dest: &str,
) -> anyhow::Result<()> {
    session.planner.target(to.role)?;
    refuse_link_out(session, from, path)?;
    let planner = &mut session.planner;
    let relative = files::confined_relative(path)?;
    let dest = files::confined_relative(dest)?;
    let source = planner.view(from.role)?;
    if !source.is_dir(&relative) {
        bail!("`{}:{relative}` is not a directory", from.role);
    }
    // Links are not walked into: a link is planned as a single file, and the planner decides
    // whether its target stays inside the pack.
    for path in source.files_under(&relative)? {
        let inner = path
            .strip_prefix(&format!("{relative}/"))
            .unwrap_or(&path)
            .to_string();
        planner.copy_from_pack(
            "copy_dir",
            from.role,
            &format!("{relative}/{inner}"),
            to.role,
            &format!("{dest}/{inner}"),
        )?;
    }
    Ok(())
}

fn read_document(
    session: &Session,
    pack: &PackHandle,
    file: &str,
) -> anyhow::Result<Option<toml_edit::DocumentMut>> {
    let Some(bytes) = session.planner.read(pack.role, file)? else {
        return Ok(None);
    };
    let label = format!("{}/{}", pack.home, files::confined_relative(file)?);
    let text = files::utf8_text(bytes, &label)?;
    Ok(Some(toml::parse(&text, &label)?))
}

fn read_toml(
    session: &Session,
    pack: &PackHandle,
    file: &str,
    key: &str,
) -> anyhow::Result<Dynamic> {
    let path = toml::parse_key_path(key)?;
    let Some(document) = read_document(session, pack, file)? else {
        return Ok(Dynamic::UNIT);
    };
    Ok(toml::get(&document, &path).map_or(Dynamic::UNIT, item_to_dynamic))
}

fn set_toml(
    session: &mut Session,
    pack: &PackHandle,
    file: &str,
    key: &str,
    value: Dynamic,
) -> anyhow::Result<()> {
    session.planner.target(pack.role)?;
    let path = toml::parse_key_path(key)?;
    let value =
        dynamic_to_value(&value).with_context(|| format!("cannot store this value at `{key}`"))?;
    let Some(mut document) = read_document(session, pack, file)? else {
        bail!("`{}` has no `{file}`", pack.home);
    };
    toml::set(&mut document, &path, value)?;
    session.planner.write(
        "set_toml",
        pack.role,
        file,
        document.to_string().into_bytes(),
        0o644,
    )?;
    Ok(())
}

fn list(session: &Session, pack: &PackHandle, dir: &str) -> anyhow::Result<Array> {
    let relative = files::confined_relative(dir)?;
    let names = session.planner.view(pack.role)?.list_dir(&relative)?;
    Ok(names.into_iter().map(Dynamic::from).collect())
}

fn path_kind(session: &Session, pack: &PackHandle, path: &str, file: bool) -> anyhow::Result<bool> {
    let relative = files::confined_relative(path)?;
    let view = session.planner.view(pack.role)?;
    if view.is_link(&relative) {
        return Ok(false);
    }
    Ok(if file {
        view.is_file(&relative)
    } else {
        view.is_dir(&relative)
    })
}

fn item_to_dynamic(item: &toml_edit::Item) -> Dynamic {
    match item {
        toml_edit::Item::Value(value) => value_to_dynamic(value),
        toml_edit::Item::Table(table) => {
            let map: Map = table
                .iter()
                .map(|(key, item)| (key.into(), item_to_dynamic(item)))
                .collect();
            Dynamic::from(map)
        }
        toml_edit::Item::ArrayOfTables(tables) => {
            let array: Array = tables
                .iter()
                .map(|table| {
                    let map: Map = table
                        .iter()
                        .map(|(key, item)| (key.into(), item_to_dynamic(item)))
                        .collect();
                    Dynamic::from(map)
                })
                .collect();
            Dynamic::from(array)
        }
        toml_edit::Item::None => Dynamic::UNIT,
    }
}

fn value_to_dynamic(value: &toml_edit::Value) -> Dynamic {
    use toml_edit::Value;
    match value {
        Value::String(text) => Dynamic::from(text.value().clone()),
        Value::Integer(number) => Dynamic::from(*number.value()),
        Value::Float(number) => Dynamic::from(*number.value()),
        Value::Boolean(flag) => Dynamic::from(*flag.value()),
        Value::Datetime(datetime) => Dynamic::from(datetime.value().to_string()),
        Value::Array(array) => Dynamic::from(array.iter().map(value_to_dynamic).collect::<Array>()),
        Value::InlineTable(table) => {
            let map: Map = table
                .iter()
                .map(|(key, value)| (key.into(), value_to_dynamic(value)))
                .collect();
            Dynamic::from(map)
        }
    }
}

fn dynamic_to_value(value: &Dynamic) -> anyhow::Result<toml_edit::Value> {
    if let Some(text) = value.clone().try_cast::<rhai::ImmutableString>() {
        return Ok(toml_edit::Value::from(text.as_str()));
    }
    if let Ok(number) = value.as_int() {
        return Ok(toml_edit::Value::from(number));
    }
    if let Ok(number) = value.as_float() {
        return Ok(toml_edit::Value::from(number));
    }
    if let Ok(flag) = value.as_bool() {
        return Ok(toml_edit::Value::from(flag));
    }
    if let Some(array) = value.clone().try_cast::<Array>() {
        let mut out = toml_edit::Array::new();
        for item in &array {
            out.push(dynamic_to_value(item)?);
        }
        return Ok(toml_edit::Value::Array(out));
    }
    if let Some(map) = value.clone().try_cast::<Map>() {
        let mut out = toml_edit::InlineTable::new();
        for (key, item) in &map {
            out.insert(key.as_str(), dynamic_to_value(item)?);
        }
        return Ok(toml_edit::Value::InlineTable(out));
    }
    bail!(
        "a `{}` has no TOML form (use a string, number, bool, array or map)",
        value.type_name()
    )
}
