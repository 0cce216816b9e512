//! A deployment.toml as a list of settings: every value with the path that leads to it,
//! entries of arrays of tables (`[[apim.gateway.environment]]`) by their index, so that two
//! files can be compared setting by setting and a setting written into a third one in the
//! form and place that file already uses.

use anyhow::{bail, Context};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use super::edit::{end_position, insert_keys, normalized, set, shift_positions, subtree_positions};
use super::key::{dotted, get_mut, parse_key_path};

/// One step of a setting's path: a key, or the index of an entry of an array of tables.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A value and where it is.
#[derive(Debug, Clone)]
pub struct Setting {
    pub path: Vec<Seg>,
    pub value: Value,
}

/// The settings of `doc` in document order (keys of a table in their order, tables before
/// the tables they hold). Arrays of plain values and inline tables are single values.
pub fn settings(doc: &DocumentMut) -> Vec<Setting> {
    let mut out = Vec::new();
    collect(doc.as_table(), &mut Vec::new(), &mut out);
    out
}

fn collect(table: &dyn toml_edit::TableLike, path: &mut Vec<Seg>, out: &mut Vec<Setting>) {
    for (key, item) in table.iter() {
        path.push(Seg::Key(key.to_string()));
        match item {
            Item::Value(Value::InlineTable(inline)) => collect(inline, path, out),
            Item::Value(value) => out.push(Setting {
                path: path.clone(),
                value: value.clone(),
            }),
            Item::Table(child) => collect(child, path, out),
            Item::ArrayOfTables(entries) => {
                for (index, entry) in entries.iter().enumerate() {
                    path.push(Seg::Index(index));
                    collect(entry, path, out);
                    path.pop();
                }
            }
            Item::None => {}
        }
        path.pop();
    }
}

/// `apim.gateway.environment[0].name`, segments quoted where TOML needs it.
pub fn display_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&dotted(&[key]));
            }
            Seg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The key a template reads for this setting: its keys without the indices
/// (`apim.gateway.environment.name`), as one string with the segments joined by dots.
pub fn plain_key(path: &[Seg]) -> String {
    keys_of(path).join(".")
}

/// The keys of `path`, indices left out.
pub fn keys_of(path: &[Seg]) -> Vec<String> {
    path.iter()
        .filter_map(|seg| match seg {
            Seg::Key(key) => Some(key.clone()),
            Seg::Index(_) => None,
        })
        .collect()
}

/// Parses `a.b[0].'c.d'`, the form [`display_path`] writes.
pub fn parse_setting_path(text: &str) -> anyhow::Result<Vec<Seg>> {
    let mut segs = Vec::new();
    let mut piece = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars().peekable();
    let flush = |piece: &mut String, segs: &mut Vec<Seg>| -> anyhow::Result<()> {
        let trimmed = piece.trim().trim_start_matches('.');
        if !trimmed.is_empty() {
            segs.extend(parse_key_path(trimmed)?.into_iter().map(Seg::Key));
        }
        piece.clear();
        Ok(())
    };
    while let Some(c) = chars.next() {
        match quote {
            Some(open) => {
                piece.push(c);
                if c == open {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                piece.push(c);
            }
            None if c == '[' => {
                flush(&mut piece, &mut segs)?;
                let mut digits = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    digits.push(d);
                }
                let index = digits
                    .trim()
                    .parse()
                    .with_context(|| format!("`{text}` has an index that is no number"))?;
                segs.push(Seg::Index(index));
            }
            None => piece.push(c),
        }
    }
    flush(&mut piece, &mut segs)?;
    if segs.is_empty() {
        bail!("an empty setting path");
    }
    Ok(segs)
}

/// The value at `path`, when there is one.
pub fn get_setting<'a>(doc: &'a DocumentMut, path: &[Seg]) -> Option<&'a Value> {
    enum At<'a> {
        Table(&'a dyn toml_edit::TableLike),
        Array(&'a ArrayOfTables),
        Value(&'a Value),
    }
    let mut at = At::Table(doc.as_table());
    for seg in path {
        at = match (at, seg) {
            (At::Table(table), Seg::Key(key)) => match table.get(key)? {
                Item::Value(Value::InlineTable(inline)) => At::Table(inline),
                Item::Value(value) => At::Value(value),
                Item::Table(table) => At::Table(table),
                Item::ArrayOfTables(array) => At::Array(array),
                Item::None => return None,
            },
            (At::Array(array), Seg::Index(index)) => At::Table(array.get(*index)?),
            _ => return None,
        };
    }
    match at {
        At::Value(value) => Some(value),
        _ => None,
    }
}

/// Whether two values mean the same (formatting and comments aside).
pub fn same_value(a: &Value, b: &Value) -> bool {
    normalized(a) == normalized(b)
}

/// The number of entries of the array of tables at `keys` (0 when there is none).
pub fn entries(doc: &DocumentMut, keys: &[String]) -> usize {
    super::get(doc, keys)
        .and_then(Item::as_array_of_tables)
        .map_or(0, ArrayOfTables::len)
}

/// Sets the value at `path`, creating what is missing: tables as [`set`] does, and entries of
/// an array of tables at the end of the array (one index past its last entry at most), after
/// its last entry in the file, before `[secrets]`. Returns whether the document changed.
pub fn set_setting(doc: &mut DocumentMut, path: &[Seg], value: Value) -> anyhow::Result<bool> {
    let Some(at) = path.iter().position(|seg| matches!(seg, Seg::Index(_))) else {
        return set(doc, &keys_of(path), value);
    };
    let array_keys = keys_of(&path[..at]);
    let Seg::Index(index) = path[at] else {
        unreachable!("position found an index")
    };
    let rest = &path[at + 1..];
    if rest.iter().any(|seg| matches!(seg, Seg::Index(_))) {
        bail!(
            "cannot set `{}`: arrays of tables inside arrays of tables are not edited",
            display_path(path)
        );
    }
    let rest = keys_of(rest);
    if rest.is_empty() {
        bail!("cannot set `{}`: it is a table", display_path(path));
    }
    let len = entries(doc, &array_keys);
    if super::get(doc, &array_keys).is_some() && len == 0 {
        bail!(
            "cannot set `{}`: `{}` is no array of tables",
            display_path(path),
            dotted(&array_keys)
        );
    }
    if index > len {
        bail!(
            "cannot set `{}`: `{}` has {len} entries",
            display_path(path),
            dotted(&array_keys)
        );
    }
    if index == len {
        append_entry(doc, &array_keys)?;
    }
    let array = get_mut(doc, &array_keys)
        .and_then(Item::as_array_of_tables_mut)
        .with_context(|| format!("`{}` could not be edited", dotted(&array_keys)))?;
    let entry = array
        .get_mut(index)
        .with_context(|| format!("`{}` could not be edited", display_path(path)))?;
    set_in_table(entry, &rest, value)
}

/// Sets `rest` in one table (an entry of an array of tables), keeping the decor of an
/// existing value, adding a missing key (dotted when nested) after the table's last line.
fn set_in_table(table: &mut Table, rest: &[String], value: Value) -> anyhow::Result<bool> {
    let Some((key, deeper)) = rest.split_first() else {
        bail!("cannot set a value at an empty key path");
    };
    if !table.contains_key(key) {
        insert_keys(table, rest, value);
        return Ok(true);
    }
    let item = table.get_mut(key).context("checked above")?;
    if deeper.is_empty() {
        let Some(existing) = item.as_value_mut() else {
            bail!("cannot set `{}`: it is a table", dotted(rest));
        };
        if normalized(existing) == normalized(&value) {
            return Ok(false);
        }
        let decor = existing.decor().clone();
        *existing = value;
        *existing.decor_mut() = decor;
        return Ok(true);
    }
    match item {
        Item::Table(child) => set_in_table(child, deeper, value),
        _ => bail!(
            "cannot set `{}`: `{key}` is no table of its own",
            dotted(rest)
        ),
    }
}

/// Appends an empty entry to the array of tables at `keys` (created when missing), placed
/// after the array's last entry, or at the end of the document before `[secrets]`.
fn append_entry(doc: &mut DocumentMut, keys: &[String]) -> anyhow::Result<()> {
    let after_last = super::get(doc, keys)
        .and_then(Item::as_array_of_tables)
        .and_then(|array| array.iter().flat_map(subtree_positions).max())
        .map(|position| position + 1);
    let position = after_last.unwrap_or_else(|| end_position(doc));
    shift_positions(doc.as_table_mut(), position);
    let mut entry = Table::new();
    entry.set_position(position);
    if let Some(array) = get_mut(doc, keys).and_then(Item::as_array_of_tables_mut) {
        array.push(entry);
        return Ok(());
    }
    let Some((last, parents)) = keys.split_last() else {
        bail!("an array of tables needs a name");
    };
    let mut table = doc.as_table_mut();
    for key in parents {
        let item = table.entry(key).or_insert_with(|| {
            let mut implicit = Table::new();
            implicit.set_implicit(true);
            Item::Table(implicit)
        });
        table = item
            .as_table_mut()
            .with_context(|| format!("`{}` is no table", dotted(parents)))?;
    }
    let mut array = ArrayOfTables::new();
    array.push(entry);
    table.insert(last, Item::ArrayOfTables(array));
    Ok(())
}

/// Whether `[secrets]`, when present, is the last table of the document, as WSO2's cipher
/// tool requires.
pub fn secrets_last(doc: &DocumentMut) -> bool {
    let Some(Item::Table(secrets)) = doc.as_table().get("secrets") else {
        return true;
    };
    let mine: Vec<usize> = subtree_positions(secrets).collect();
    let Some(first) = mine.iter().min().copied() else {
        return true;
    };
    doc.as_table()
        .iter()
        .filter(|(key, _)| *key != "secrets")
        .flat_map(|(_, item)| match item {
            Item::Table(table) => subtree_positions(table).collect::<Vec<_>>(),
            Item::ArrayOfTables(array) => array.iter().flat_map(subtree_positions).collect(),
            _ => Vec::new(),
        })
        .all(|position| position < first)
}

/// Moves `[secrets]` (and any table below it) after every other table.
pub fn move_secrets_last(doc: &mut DocumentMut) {
    let end = subtree_positions(doc.as_table()).max().unwrap_or(0) + 1;
    if let Some(Item::Table(secrets)) = doc.as_table_mut().get_mut("secrets") {
        if let Some(position) = secrets.position() {
            secrets.set_position(end + position);
        } else {
            secrets.set_position(end);
        }
        for (_, item) in secrets.iter_mut() {
            if let Item::Table(child) = item {
                let position = child.position().unwrap_or(0);
                child.set_position(end + position + 1);
            }
        }
    }
}

/// The aliases of every `$secret{alias}` in the document's string values, with the setting
/// that uses each, in document order.
pub fn secret_references(doc: &DocumentMut) -> Vec<(String, Vec<Seg>)> {
    let mut found = Vec::new();
    for setting in settings(doc) {
        let mut strings = Vec::new();
        collect_strings(&setting.value, &mut strings);
        for text in strings {
            let mut rest = text.as_str();
            while let Some(start) = rest.find("$secret{") {
                let after = &rest[start + "$secret{".len()..];
                let Some(end) = after.find('}') else {
                    break;
                };
                found.push((after[..end].to_string(), setting.path.clone()));
                rest = &after[end..];
            }
        }
    }
    found
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.value().clone()),
        Value::Array(array) => array.iter().for_each(|item| collect_strings(item, out)),
        Value::InlineTable(table) => table
            .iter()
            .for_each(|(_, item)| collect_strings(item, out)),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn doc(text: &str) -> DocumentMut {
        text.parse().unwrap()
    }

    fn path(text: &str) -> Vec<Seg> {
        parse_setting_path(text).unwrap()
    }

    #[test]
    fn settings_list_every_value_with_array_entries_by_index() {
        let document = doc("[server]\nhostname = \"a\"\n\n[[env]]\nname = \"A\"\n[env.properties]\n'x.y' = 1\n\n[[env]]\nname = \"B\"\n");
        let shown: Vec<String> = settings(&document)
            .iter()
            .map(|setting| display_path(&setting.path))
            .collect();
        assert_eq!(
            shown,
            [
                "server.hostname",
                "env[0].name",
                "env[0].properties.\"x.y\"",
                "env[1].name"
            ]
        );
        assert_eq!(
            plain_key(&path("env[0].properties.'x.y'")),
            "env.properties.x.y"
        );
        assert_eq!(
            get_setting(&document, &path("env[1].name")).and_then(Value::as_str),
            Some("B")
        );
        assert!(get_setting(&document, &path("env[2].name")).is_none());
        assert!(parse_setting_path("a[x].b").is_err());
    }

    #[test]
    fn a_new_entry_of_an_array_of_tables_goes_after_its_last_entry_and_before_secrets() {
        let mut document = doc("[[env]]\nname = \"A\"\n\n[other]\nx = 1\n\n[secrets]\nk = \"v\"\n");
        assert!(set_setting(&mut document, &path("env[1].name"), Value::from("B")).unwrap());
        assert!(set_setting(&mut document, &path("env[1].properties.p"), Value::from(2)).unwrap());
        assert!(set_setting(&mut document, &path("fresh[0].id"), Value::from("z")).unwrap());
        let text = document.to_string();
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {text}"))
        };
        assert!(at("name = \"B\"") < at("[other]"), "{text}");
        assert!(at("[[fresh]]") < at("[secrets]"), "{text}");
        assert!(text.contains("properties.p = 2"), "{text}");
        assert!(secrets_last(&document));
        // Setting the same value again changes nothing; an index past the end is refused.
        assert!(!set_setting(&mut document, &path("env[1].name"), Value::from("B")).unwrap());
        assert!(set_setting(&mut document, &path("env[5].name"), Value::from("C")).is_err());
    }

    #[test]
    fn secrets_not_last_are_found_and_moved() {
        let mut document = doc("[secrets]\na = \"x\"\n\n[server]\nhostname = \"$secret{b}\"\n");
        assert!(!secrets_last(&document));
        move_secrets_last(&mut document);
        assert!(secrets_last(&document));
        assert!(document.to_string().trim_end().ends_with("a = \"x\""));
        let references = secret_references(&document);
        assert_eq!(references.len(), 1);
        assert_eq!(references[0].0, "b");
    }
}
