//! Setting and inserting values in the form and place the surrounding document uses.

use anyhow::bail;
use toml_edit::{DocumentMut, InlineTable, Item, Key, Table, Value};

use super::key::{dotted, get, get_mut, not_a_table, walk_mut, Reach};
use super::with_article;

/// Sets the value at `path`, creating missing tables as needed (a missing parent becomes a normal `[table]` header if it is the last table segment; intermediate missing ones implicit), keeping the existing decor of the key when it already exists. Returns Ok(false) when the value was already equal (compare by the value's display without decor), Ok(true) when changed. Errors when a segment on the way exists and is not a table.
pub fn set(doc: &mut DocumentMut, path: &[String], value: Value) -> anyhow::Result<bool> {
    if path.is_empty() {
        bail!("cannot set a value at an empty key path");
    }
    let item = match walk_mut(doc.as_item_mut(), path) {
        Reach::Found(item) => item,
        Reach::Missing { depth } => {
            insert_missing(doc, path, depth, value, &path[..depth])?;
            return Ok(true);
        }
        Reach::NotATable { depth, type_name } => bail!(
            "cannot set `{}`: {}",
            dotted(path),
            not_a_table(&path[..depth], type_name)
        ),
    };
    let type_name = item.type_name();
    let Some(current) = item.as_value_mut() else {
        // Replacing a whole table with a value would drop everything in it, which is never
        // what a migration step means to do.
        bail!(
            "cannot set `{}`: it is {}, not a value",
            dotted(path),
            with_article(type_name)
        );
    };
    if normalized(current) == normalized(&value) {
        return Ok(false);
    }
    let decor = current.decor().clone();
    *current = value;
    *current.decor_mut() = decor;
    Ok(true)
}

/// The value's text with all decor and source formatting removed, so that values that mean
/// the same thing compare equal however they were written.
pub(super) fn normalized(value: &Value) -> String {
    let mut value = value.clone();
    normalize(&mut value);
    value.to_string()
}

fn normalize(value: &mut Value) {
    value.decor_mut().clear();
    match value {
        Value::String(v) => v.fmt(),
        Value::Integer(v) => v.fmt(),
        Value::Float(v) => v.fmt(),
        Value::Boolean(v) => v.fmt(),
        Value::Datetime(v) => v.fmt(),
        Value::Array(array) => {
            for item in array.iter_mut() {
                normalize(item);
            }
            array.fmt();
        }
        Value::InlineTable(table) => {
            table.set_dotted(false);
            for (mut key, item) in table.iter_mut() {
                key.fmt();
                normalize(item);
            }
            table.fmt();
        }
    }
}

/// Inserts `value` at `path`, of which only the first `existing` segments exist, in the form
/// the nearest existing table uses: a key of an inline table inside an inline table, a dotted
/// key inside dotted keys, and otherwise a key under a normal `[table]` header (implicit parents
/// so no empty headers appear). A new header goes right after the table at `anchor` when that
/// is a table, otherwise at the end of the document but before `[secrets]`. Returns whether a
/// table header was written.
pub(super) fn insert_missing(
    doc: &mut DocumentMut,
    path: &[String],
    existing: usize,
    value: Value,
    anchor: &[String],
) -> anyhow::Result<bool> {
    let (parent, rest) = path.split_at(existing);
    if rest.is_empty() {
        bail!("internal error: `{}` already exists", dotted(path));
    }

    let header_position = match get(doc, parent) {
        Some(Item::Table(table)) if !table.is_dotted() => {
            if rest.len() > 1 {
                Some(new_header_position(doc, anchor))
            } else if table.is_implicit() {
                // An implicit table only shows a header once it holds a key; the header goes
                // just before its first sub-table so that it reads top-down.
                Some(
                    subtree_positions(table)
                        .min()
                        .unwrap_or_else(|| end_position(doc)),
                )
            } else {
                None
            }
        }
        // Dotted keys and inline tables get no header.
        Some(item) if item.is_table_like() => None,
        _ => bail!("internal error: `{}` could not be reached", dotted(parent)),
    };
    if let Some(position) = header_position {
        shift_positions(doc.as_table_mut(), position);
    }

    match get_mut(doc, parent) {
        Some(item) if item.is_inline_table() => insert_inline(item, rest, value),
        Some(Item::Table(table)) if table.is_dotted() || rest.len() == 1 => {
            if let Some(position) = header_position {
                table.set_implicit(false);
                table.set_position(position);
            }
            insert_keys(table, rest, value);
        }
        Some(Item::Table(table)) => {
            let position = header_position.unwrap_or_else(|| table.position().unwrap_or(0) + 1);
            let Some((key, tables)) = rest.split_last() else {
                bail!("internal error: no key to set");
            };
            let Some((first, middle)) = tables.split_first() else {
                bail!("internal error: no table to create");
            };
            let mut header = Table::new();
            header.set_position(position);
            header.insert(key, Item::Value(value));
            let mut item = Item::Table(header);
            for segment in middle.iter().rev() {
                let mut implicit = Table::new();
                implicit.set_implicit(true);
                implicit.insert(segment, item);
                item = Item::Table(implicit);
            }
            table.insert(first, item);
        }
        _ => bail!("internal error: `{}` could not be reached", dotted(parent)),
    }
    Ok(header_position.is_some())
}

/// Adds `rest` (one key, or dotted keys) with `value` at the end of a table's key/value lines,
/// indented like the line before it.
pub(super) fn insert_keys(table: &mut Table, rest: &[String], value: Value) {
    let indent = line_indent(table);
    let Some((last, parents)) = rest.split_last() else {
        return;
    };
    let mut leaf = Key::new(last.as_str());
    if let Some(indent) = indent {
        // For dotted keys the whole line's leading text lives on the last key.
        leaf.leaf_decor_mut().set_prefix(indent);
    }
    let Some((first, middle)) = parents.split_first() else {
        table.insert_formatted(&leaf, Item::Value(value));
        return;
    };
    let mut innermost = dotted_table();
    innermost.insert_formatted(&leaf, Item::Value(value));
    let mut item = Item::Table(innermost);
    for segment in middle.iter().rev() {
        let mut wrapper = dotted_table();
        wrapper.insert(segment, item);
        item = Item::Table(wrapper);
    }
    table.insert(first, item);
}

/// A table written as dotted keys, marked the way the parser marks them.
fn dotted_table() -> Table {
    let mut table = Table::new();
    table.set_implicit(true);
    table.set_dotted(true);
    table
}

/// The indentation of the last key/value line of `table`, when it has one.
fn line_indent(table: &Table) -> Option<String> {
    let values = table.get_values();
    let (keys, _) = values.last()?;
    let prefix = keys.last()?.leaf_decor().prefix()?.as_str()?;
    let indent = &prefix[prefix.rfind('\n').map_or(0, |i| i + 1)..];
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| indent.to_owned())
}

/// Adds `rest` with `value` at the end of the inline table `item`, spaced like its last entry.
fn insert_inline(item: &mut Item, rest: &[String], value: Value) {
    let Some((first, deeper)) = rest.split_first() else {
        return;
    };
    let mut value = value;
    for segment in deeper.iter().rev() {
        let mut wrapper = InlineTable::new();
        wrapper.insert(segment.as_str(), value);
        value = Value::InlineTable(wrapper);
    }

    let last_entry = item.as_inline_table().and_then(|inline| {
        let values = inline.get_values();
        values.last().and_then(|(keys, last_value)| {
            let leaf = keys.last()?;
            let names: Vec<String> = keys.iter().map(|key| key.get().to_owned()).collect();
            Some((names, leaf.leaf_decor().clone(), last_value.decor().clone()))
        })
    });
    let mut key = Key::new(first.as_str());
    match last_entry {
        Some((names, key_decor, value_decor)) => {
            // The space before `}` belongs to the last value; it moves to the new last value.
            if let Some(previous) = walk_mut(item, &names).found().and_then(Item::as_value_mut) {
                previous.decor_mut().set_suffix("");
            }
            *key.leaf_decor_mut() = key_decor;
            *value.decor_mut() = value_decor;
        }
        None => {
            if let Some(inline) = item.as_inline_table_mut().filter(|inline| {
                inline
                    .preamble()
                    .as_str()
                    .is_some_and(|p| p.trim().is_empty())
            }) {
                inline.set_preamble("");
            }
        }
    }
    if let Some(inline) = item.as_inline_table_mut() {
        inline.insert_formatted(&key, value);
    }
}

/// Where a new header table goes: right after the table at `anchor` (or after its last
/// sub-table when it has no header of its own), otherwise at the end before `[secrets]`.
fn new_header_position(doc: &DocumentMut, anchor: &[String]) -> usize {
    if !anchor.is_empty() {
        if let Some(Item::Table(table)) = get(doc, anchor) {
            let after = table.position().or_else(|| subtree_positions(table).max());
            if let Some(position) = after {
                return position + 1;
            }
        }
    }
    end_position(doc)
}

/// The position at the end of the document, but before `[secrets]`, which WSO2 requires to
/// stay the last table.
pub(super) fn end_position(doc: &DocumentMut) -> usize {
    if let Some(secrets) = doc.as_table().get("secrets") {
        let first = match secrets {
            Item::Table(table) => subtree_positions(table).min(),
            Item::ArrayOfTables(tables) => tables.iter().flat_map(subtree_positions).min(),
            _ => None,
        };
        if let Some(position) = first {
            return position;
        }
    }
    subtree_positions(doc.as_table())
        .max()
        .map_or(1, |position| position + 1)
}

/// The document positions of `table` and every table below it.
pub(super) fn subtree_positions(table: &Table) -> std::vec::IntoIter<usize> {
    fn collect(table: &Table, out: &mut Vec<usize>) {
        out.extend(table.position());
        for (_, item) in table.iter() {
            match item {
                Item::Table(child) => collect(child, out),
                Item::ArrayOfTables(children) => {
                    for child in children.iter() {
                        collect(child, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    collect(table, &mut out);
    out.into_iter()
}

/// Moves every table at `from` or later one place down, making room for a new table at `from`,
/// because `toml_edit` writes tables in the order of their positions.
pub(super) fn shift_positions(table: &mut Table, from: usize) {
    if let Some(position) = table.position() {
        if position >= from {
            table.set_position(position + 1);
        }
    }
    for (_, item) in table.iter_mut() {
        match item {
            Item::Table(child) => shift_positions(child, from),
            Item::ArrayOfTables(children) => {
                for child in children.iter_mut() {
                    shift_positions(child, from);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pack::toml::fixtures::*;
    use crate::pack::toml::parse;
    use toml_edit::Array;

    // ---- set ----

    #[test]
    fn set_replaces_a_value_and_keeps_its_decor() {
        let text = "[server]\n  hostname = \"localhost\"   # the host\noffset = 0\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(set(
            &mut doc,
            &path("server.hostname"),
            Value::from("apim.example.com")
        )
        .unwrap());
        assert_eq!(
            doc.to_string(),
            "[server]\n  hostname = \"apim.example.com\"   # the host\noffset = 0\n"
        );
    }

    #[test]
    fn set_reports_an_equal_value_as_unchanged() {
        let text = "[server]\nhostname = 'localhost' # c\nports = [ 1,2 ]\nflag = true\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(!set(&mut doc, &path("server.hostname"), Value::from("localhost")).unwrap());
        let ports: Array = [1_i64, 2].into_iter().collect();
        assert!(!set(&mut doc, &path("server.ports"), Value::Array(ports)).unwrap());
        assert!(!set(&mut doc, &path("server.flag"), Value::from(true)).unwrap());
        assert_eq!(doc.to_string(), text);
        assert!(set(&mut doc, &path("server.flag"), Value::from(false)).unwrap());
        assert!(doc.to_string().contains("flag = false\n"));
    }

    #[test]
    fn set_adds_a_key_at_the_end_of_an_existing_table_with_its_indentation() {
        let text = "[apim.analytics]\n  enable = false\n  auth_token = \"\"\n\n# next\n[apim.devportal]\nx = 1\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(set(&mut doc, &path("apim.analytics.type"), Value::from("elk")).unwrap());
        assert_eq!(
            doc.to_string(),
            "[apim.analytics]\n  enable = false\n  auth_token = \"\"\n  type = \"elk\"\n\n# next\n[apim.devportal]\nx = 1\n"
        );
    }

    #[test]
    fn set_creates_a_header_after_the_nearest_existing_table() {
        let mut doc = parse(STOCK, FILE).unwrap();
        assert!(set(
            &mut doc,
            &path("apim.analytics.properties.x"),
            Value::from(1)
        )
        .unwrap());
        let out = doc.to_string();
        assert!(
            out.contains(
                "auth_token = \"\"\n\n[apim.analytics.properties]\nx = 1\n\n[apim.oauth_config]\n"
            ),
            "{out}"
        );
        assert_all_lines_kept(STOCK, &out);
        parse(&out, FILE).unwrap();
    }

    #[test]
    fn set_creates_missing_tables_implicitly_before_secrets() {
        let text = "[server]\nhostname = \"localhost\"\n\n[secrets]\nadmin = \"[admin]\"\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(set(&mut doc, &path("a.b.c.key"), Value::from("v")).unwrap());
        assert_eq!(
            doc.to_string(),
            "[server]\nhostname = \"localhost\"\n\n[a.b.c]\nkey = \"v\"\n\n[secrets]\nadmin = \"[admin]\"\n"
        );
        assert!(set(&mut doc, &path("root_key"), Value::from(1)).unwrap());
        assert!(doc.to_string().starts_with("root_key = 1\n[server]\n"));
    }

    #[test]
    fn set_inside_inline_tables_and_dotted_keys() {
        let text = "[g]\nlimits = { max = 1 }\n  skip.apis = [\"a\"]\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(set(&mut doc, &path("g.limits.min"), Value::from(0)).unwrap());
        assert!(set(&mut doc, &path("g.skip.sequences"), Value::from("s")).unwrap());
        assert!(set(&mut doc, &path("g.skip.deep.er"), Value::from(true)).unwrap());
        assert_eq!(
            doc.to_string(),
            "[g]\nlimits = { max = 1, min = 0 }\n  skip.apis = [\"a\"]\n  skip.sequences = \"s\"\n  skip.deep.er = true\n"
        );
        parse(&doc.to_string(), FILE).unwrap();
    }

    #[test]
    fn set_compares_inline_values_without_formatting() {
        let text = "[g]\nlimits = { max = 1, names = [ 'a' ,\"b\" ] } # keep\n";
        let mut doc = parse(text, FILE).unwrap();
        let names: Array = ["a", "b"].into_iter().collect();
        assert!(!set(&mut doc, &path("g.limits.names"), Value::Array(names)).unwrap());
        assert!(!set(&mut doc, &path("g.limits.max"), Value::from(1)).unwrap());
        assert_eq!(doc.to_string(), text);
        assert!(set(&mut doc, &path("g.limits.max"), Value::from(2)).unwrap());
        assert_eq!(
            doc.to_string(),
            "[g]\nlimits = { max = 2, names = [ 'a' ,\"b\" ] } # keep\n"
        );
    }

    #[test]
    fn set_makes_an_implicit_table_visible_before_its_sub_tables() {
        let text = "[x]\ny = 1\n\n[a.b]\nc = 1\n";
        let mut doc = parse(text, FILE).unwrap();
        assert!(set(&mut doc, &path("a.top"), Value::from(2)).unwrap());
        assert_eq!(
            doc.to_string(),
            "[x]\ny = 1\n\n[a]\ntop = 2\n\n[a.b]\nc = 1\n"
        );
    }

    #[test]
    fn set_errors_when_a_segment_is_not_a_table() {
        let mut doc = parse(
            "[server]\nhostname = \"localhost\"\n[[env]]\nname = 1\n",
            FILE,
        )
        .unwrap();
        let err = set(&mut doc, &path("server.hostname.x"), Value::from(1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot set `server.hostname.x`: `server.hostname` is a string, not a table"
        );
        let err = set(&mut doc, &path("env.name"), Value::from(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("is an array of tables, not a table"), "{err}");
        let err = set(&mut doc, &path("server"), Value::from(1))
            .unwrap_err()
            .to_string();
        assert_eq!(err, "cannot set `server`: it is a table, not a value");
        assert!(set(&mut doc, &[], Value::from(1)).is_err());
    }
}
