//! Format-preserving reads and edits of WSO2 `deployment.toml` files.

use std::fmt;

use anyhow::{anyhow, bail};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Key, RawString, Table, TableLike, Value};

/// The path of the table that holds the gateway skip lists, without the list name.
const SKIP_LIST_TABLE: [&str; 4] = ["apim", "sync_runtime_artifacts", "gateway", "skip_list"];

/// How many segments of the skip list path lead to the gateway table.
const GATEWAY_DEPTH: usize = 3;

/// Which skip list of `[apim.sync_runtime_artifacts.gateway.skip_list]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    Apis,
    Endpoints,
    Sequences,
    LocalEntries,
}

impl SkipKind {
    /// The key of this list inside the skip list table.
    pub fn key(self) -> &'static str {
        match self {
            SkipKind::Apis => "apis",
            SkipKind::Endpoints => "endpoints",
            SkipKind::Sequences => "sequences",
            SkipKind::LocalEntries => "local_entries",
        }
    }
}

/// A parse error that names the file, line and column, one line, lowercase, e.g.
/// "`/x/repository/conf/deployment.toml` is not valid TOML: line 12, column 5: expected `=` (fix the file, then run again)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TomlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not valid TOML: line {}, column {}: {} (fix the file, then run again)",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for TomlError {}

/// Parses `text`; `file` is only used in the error. Line/column are 1-based, taken from toml_edit's error span.
pub fn parse(text: &str, file: &str) -> Result<DocumentMut, TomlError> {
    text.parse::<DocumentMut>().map_err(|err| {
        let offset = err.span().map_or(0, |span| span.start);
        let (line, column) = line_column(text, offset);
        TomlError {
            file: file.to_owned(),
            line,
            column,
            message: one_line(err.message()),
        }
    })
}

/// The 1-based line and column (counted in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Joins the lines of a `toml_edit` message into one lowercase line, because the tool reports
/// every error on a single line.
fn one_line(message: &str) -> String {
    let parts: Vec<String> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(lowercase_first_word)
        .collect();
    if parts.is_empty() {
        "the parser gave no reason".to_owned()
    } else {
        parts.join("; ")
    }
}

/// Lowercases a capitalised first word such as `Unexpected`, leaving names and symbols alone.
fn lowercase_first_word(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.clone().next()) {
        (Some(first), Some(second))
            if first.is_ascii_uppercase() && second.is_ascii_lowercase() =>
        {
            let mut out = String::with_capacity(text.len());
            out.push(first.to_ascii_lowercase());
            out.push_str(chars.as_str());
            out
        }
        _ => text.to_owned(),
    }
}

/// The outcome of [`merge_skip_list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipListMerge {
    /// The whole new document text.
    pub text: String,
    /// Names appended, in the order given (deduplicated).
    pub added: Vec<String>,
    /// Names that were already in the list, in the order given (deduplicated).
    pub already_present: Vec<String>,
    /// True when `[apim.sync_runtime_artifacts.gateway.skip_list]` had to be created.
    pub created_table: bool,
    /// Whether `[apim.sync_runtime_artifacts.gateway]` existed before (WSO2 reads the skip list only when it does).
    pub gateway_table_present: bool,
}

/// Merges `names` into the skip list `kind`. Errors (anyhow, one line, naming the dotted key and `file`) when a key on the way exists but is not a table, or the list exists but is not an array of strings.
pub fn merge_skip_list(
    text: &str,
    file: &str,
    kind: SkipKind,
    names: &[String],
) -> anyhow::Result<SkipListMerge> {
    let mut doc = parse(text, file)?;
    let path: Vec<String> = SKIP_LIST_TABLE
        .iter()
        .map(|segment| (*segment).to_owned())
        .chain(std::iter::once(kind.key().to_owned()))
        .collect();

    let existing = existing_prefix(&doc, &path).map_err(|(index, type_name)| {
        anyhow!(
            "cannot add to `{}` in `{file}`: `{}` is {}, not a table",
            dotted(&path),
            dotted(&path[..=index]),
            with_article(type_name)
        )
    })?;
    // The gateway table counts as present in any form (header, implicit, dotted or inline),
    // because WSO2 sees the same nested map for all of them.
    let gateway_table_present = existing > GATEWAY_DEPTH - 1;

    let current = if existing == path.len() {
        string_list(get(&doc, &path), &path, file)?
    } else {
        Vec::new()
    };

    let mut added: Vec<String> = Vec::new();
    let mut already_present: Vec<String> = Vec::new();
    for name in names {
        if current.contains(name) {
            if !already_present.contains(name) {
                already_present.push(name.clone());
            }
        } else if !added.contains(name) {
            added.push(name.clone());
        }
    }

    if added.is_empty() {
        // Nothing to add: hand the input back byte for byte rather than a re-rendered copy.
        return Ok(SkipListMerge {
            text: text.to_owned(),
            added,
            already_present,
            created_table: false,
            gateway_table_present,
        });
    }

    let mut created_table = existing < SKIP_LIST_TABLE.len();
    if existing == path.len() {
        let array = get_mut(&mut doc, &path)
            .and_then(Item::as_array_mut)
            .ok_or_else(|| anyhow!("`{}` in `{file}` could not be edited", dotted(&path)))?;
        for name in &added {
            push_string(array, name);
        }
    } else {
        let array: Array = added.iter().map(String::as_str).collect();
        let wrote_header = insert_missing(
            &mut doc,
            &path,
            existing,
            Value::Array(array),
            &path[..GATEWAY_DEPTH],
        )?;
        created_table |= wrote_header;
    }

    let new_text = render(&doc, text);
    check_merge(&new_text, file, &path, &current, &added)?;

    Ok(SkipListMerge {
        text: new_text,
        added,
        already_present,
        created_table,
        gateway_table_present,
    })
}

/// Reads the strings of the skip list at `path`, or explains why the item is not a list of strings.
fn string_list(item: Option<&Item>, path: &[String], file: &str) -> anyhow::Result<Vec<String>> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let Some(array) = item.as_array() else {
        bail!(
            "`{}` in `{file}` is {}, not an array of strings",
            dotted(path),
            with_article(item.type_name())
        );
    };
    array
        .iter()
        .map(|value| {
            value.as_str().map(str::to_owned).ok_or_else(|| {
                anyhow!(
                    "`{}` in `{file}` holds {}, but it must be an array of strings",
                    dotted(path),
                    with_article(value.type_name())
                )
            })
        })
        .collect()
}

/// Re-reads the edited text as a last line of defence, so that a bug here can never lead to a
/// corrupt or wrong file being written.
fn check_merge(
    new_text: &str,
    file: &str,
    path: &[String],
    before: &[String],
    added: &[String],
) -> anyhow::Result<()> {
    let reparsed = parse(new_text, file).map_err(|err| {
        anyhow!(
            "internal error: the edited `{file}` would not be valid TOML ({})",
            err.message
        )
    })?;
    let after = string_list(get(&reparsed, path), path, file)?;
    let expected: Vec<String> = before.iter().chain(added).cloned().collect();
    if after != expected {
        bail!(
            "internal error: the edited `{}` in `{file}` does not hold the expected names",
            dotted(path)
        );
    }
    Ok(())
}

/// Parses a dotted key path like `apim.sync_runtime_artifacts.gateway` or `a."b.c".d` (quoted segments may contain dots; both "..." and '...' quotes) into segments. Errors on empty segments or unbalanced quotes.
pub fn parse_key_path(path: &str) -> anyhow::Result<Vec<String>> {
    let mut segments = Vec::new();
    let mut chars = path.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let segment = match chars.peek() {
            Some('"') => {
                chars.next();
                read_basic_segment(&mut chars, path)?
            }
            Some('\'') => {
                chars.next();
                let mut segment = String::new();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => segment.push(c),
                        None => bail!("key path `{path}` has an unbalanced `'` quote"),
                    }
                }
                segment
            }
            _ => {
                let mut segment = String::new();
                while let Some(c) = chars.next_if(|c| *c != '.') {
                    if c == '"' || c == '\'' {
                        bail!("key path `{path}` has an unbalanced `{c}` quote");
                    }
                    segment.push(c);
                }
                segment.trim_end().to_owned()
            }
        };
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        if segment.is_empty() {
            bail!("key path `{path}` has an empty segment");
        }
        segments.push(segment);
        match chars.next() {
            None => return Ok(segments),
            Some('.') => {}
            Some(c) => bail!("key path `{path}` has an unexpected `{c}` after a quoted segment"),
        }
    }
}

/// Reads a `"..."` segment after its opening quote, with TOML's basic string escapes.
fn read_basic_segment(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    path: &str,
) -> anyhow::Result<String> {
    let mut segment = String::new();
    loop {
        match chars.next() {
            Some('"') => return Ok(segment),
            Some('\\') => {
                let escaped = match chars.next() {
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('b') => '\u{8}',
                    Some('f') => '\u{c}',
                    Some(marker @ ('u' | 'U')) => {
                        let width = if marker == 'u' { 4 } else { 8 };
                        let digits: String = chars.by_ref().take(width).collect();
                        u32::from_str_radix(&digits, 16)
                            .ok()
                            .filter(|_| digits.len() == width)
                            .and_then(char::from_u32)
                            .ok_or_else(|| {
                                anyhow!("key path `{path}` has an invalid `\\{marker}` escape")
                            })?
                    }
                    Some(other) => bail!("key path `{path}` has an unknown escape `\\{other}`"),
                    None => bail!("key path `{path}` has an unbalanced `\"` quote"),
                };
                segment.push(escaped);
            }
            Some(c) => segment.push(c),
            None => bail!("key path `{path}` has an unbalanced `\"` quote"),
        }
    }
}

/// The item at `path`, looking through tables, inline tables and dotted keys alike (use as_table_like()).
pub fn get<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<&'a Item> {
    let Some((last, parents)) = path.split_last() else {
        return Some(doc.as_item());
    };
    let mut table: &dyn TableLike = doc.as_table();
    for segment in parents {
        table = table.get(segment)?.as_table_like()?;
    }
    table.get(last)
}

/// The mutable item at `path`, looking through tables, inline tables and dotted keys alike.
fn get_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> Option<&'a mut Item> {
    let (last, parents) = path.split_last()?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for segment in parents {
        table = table.get_mut(segment)?.as_table_like_mut()?;
    }
    table.get_mut(last)
}

/// Sets the value at `path`, creating missing tables as needed (a missing parent becomes a normal `[table]` header if it is the last table segment; intermediate missing ones implicit), keeping the existing decor of the key when it already exists. Returns Ok(false) when the value was already equal (compare by the value's display without decor), Ok(true) when changed. Errors when a segment on the way exists and is not a table.
pub fn set(doc: &mut DocumentMut, path: &[String], value: Value) -> anyhow::Result<bool> {
    if path.is_empty() {
        bail!("cannot set a value at an empty key path");
    }
    let existing = existing_prefix(doc, path).map_err(|(index, type_name)| {
        anyhow!(
            "cannot set `{}`: `{}` is {}, not a table",
            dotted(path),
            dotted(&path[..=index]),
            with_article(type_name)
        )
    })?;
    if existing < path.len() {
        insert_missing(doc, path, existing, value, &path[..existing])?;
        return Ok(true);
    }

    let Some(item) = get_mut(doc, path) else {
        bail!("cannot set `{}`: it could not be reached", dotted(path));
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
fn normalized(value: &Value) -> String {
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

/// How many leading segments of `path` exist in `doc`: `Ok(path.len())` when the whole path
/// exists, `Err((index, type name))` when segment `index` exists but cannot hold keys.
fn existing_prefix(doc: &DocumentMut, path: &[String]) -> Result<usize, (usize, &'static str)> {
    let mut table: &dyn TableLike = doc.as_table();
    for (index, segment) in path.iter().enumerate() {
        let Some(item) = table.get(segment) else {
            return Ok(index);
        };
        if index + 1 == path.len() {
            break;
        }
        match item.as_table_like() {
            Some(next) => table = next,
            None => return Err((index, item.type_name())),
        }
    }
    Ok(path.len())
}

/// A table-like node of the document, read-only.
enum Node<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
}

/// A table-like node of the document, writable.
enum NodeMut<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

fn node<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<Node<'a>> {
    let mut current = Node::Table(doc.as_table());
    for segment in path {
        current = match current {
            Node::Table(table) => match table.get(segment)? {
                Item::Table(table) => Node::Table(table),
                Item::Value(Value::InlineTable(inline)) => Node::Inline(inline),
                _ => return None,
            },
            Node::Inline(inline) => match inline.get(segment)? {
                Value::InlineTable(inline) => Node::Inline(inline),
                _ => return None,
            },
        };
    }
    Some(current)
}

fn node_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> Option<NodeMut<'a>> {
    let mut current = NodeMut::Table(doc.as_table_mut());
    for segment in path {
        current = match current {
            NodeMut::Table(table) => match table.get_mut(segment)? {
                Item::Table(table) => NodeMut::Table(table),
                Item::Value(Value::InlineTable(inline)) => NodeMut::Inline(inline),
                _ => return None,
            },
            NodeMut::Inline(inline) => match inline.get_mut(segment)? {
                Value::InlineTable(inline) => NodeMut::Inline(inline),
                _ => return None,
            },
        };
    }
    Some(current)
}

/// Inserts `value` at `path`, of which only the first `existing` segments exist, in the form
/// the nearest existing table uses: a key of an inline table inside an inline table, a dotted
/// key inside dotted keys, and otherwise a key under a normal `[table]` header (implicit parents
/// so no empty headers appear). A new header goes right after the table at `anchor` when that
/// is a table, otherwise at the end of the document but before `[secrets]`. Returns whether a
/// table header was written.
fn insert_missing(
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

    let header_position = match node(doc, parent) {
        Some(Node::Table(table)) if !table.is_dotted() => {
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
        Some(_) => None,
        None => bail!("internal error: `{}` could not be reached", dotted(parent)),
    };
    if let Some(position) = header_position {
        shift_positions(doc.as_table_mut(), position);
    }

    match node_mut(doc, parent) {
        Some(NodeMut::Inline(inline)) => insert_inline(inline, rest, value),
        Some(NodeMut::Table(table)) if table.is_dotted() || rest.len() == 1 => {
            if let Some(position) = header_position {
                table.set_implicit(false);
                table.set_position(position);
            }
            insert_keys(table, rest, value);
        }
        Some(NodeMut::Table(table)) => {
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
        None => bail!("internal error: `{}` could not be reached", dotted(parent)),
    }
    Ok(header_position.is_some())
}

/// Adds `rest` (one key, or dotted keys) with `value` at the end of a table's key/value lines,
/// indented like the line before it.
fn insert_keys(table: &mut Table, rest: &[String], value: Value) {
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

/// Adds `rest` with `value` at the end of an inline table, spaced like its last entry.
fn insert_inline(inline: &mut InlineTable, rest: &[String], value: Value) {
    let Some((first, deeper)) = rest.split_first() else {
        return;
    };
    let mut value = value;
    for segment in deeper.iter().rev() {
        let mut wrapper = InlineTable::new();
        wrapper.insert(segment.as_str(), value);
        value = Value::InlineTable(wrapper);
    }

    let last_entry = {
        let values = inline.get_values();
        values.last().and_then(|(keys, last_value)| {
            let leaf = keys.last()?;
            let names: Vec<String> = keys.iter().map(|key| key.get().to_owned()).collect();
            Some((names, leaf.leaf_decor().clone(), last_value.decor().clone()))
        })
    };
    let mut key = Key::new(first.as_str());
    match last_entry {
        Some((names, key_decor, value_decor)) => {
            // The space before `}` belongs to the last value; it moves to the new last value.
            if let Some(previous) = inline_value_mut(inline, &names) {
                previous.decor_mut().set_suffix("");
            }
            *key.leaf_decor_mut() = key_decor;
            *value.decor_mut() = value_decor;
        }
        None => {
            if inline
                .preamble()
                .as_str()
                .is_some_and(|p| p.trim().is_empty())
            {
                inline.set_preamble("");
            }
        }
    }
    inline.insert_formatted(&key, value);
}

fn inline_value_mut<'a>(inline: &'a mut InlineTable, keys: &[String]) -> Option<&'a mut Value> {
    let (last, parents) = keys.split_last()?;
    let mut table: &mut dyn TableLike = inline;
    for segment in parents {
        table = table.get_mut(segment)?.as_table_like_mut()?;
    }
    table.get_mut(last)?.as_value_mut()
}

/// Where a new header table goes: right after the table at `anchor` (or after its last
/// sub-table when it has no header of its own), otherwise at the end before `[secrets]`.
fn new_header_position(doc: &DocumentMut, anchor: &[String]) -> usize {
    if !anchor.is_empty() {
        if let Some(Node::Table(table)) = node(doc, anchor) {
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
fn end_position(doc: &DocumentMut) -> usize {
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
fn subtree_positions(table: &Table) -> std::vec::IntoIter<usize> {
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
fn shift_positions(table: &mut Table, from: usize) {
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

/// The text of a decor part, or `default` when the part uses `toml_edit`'s default.
fn raw_text(raw: Option<&RawString>, default: &str) -> String {
    raw.and_then(RawString::as_str)
        .unwrap_or(default)
        .to_owned()
}

fn prefix_of(value: &Value, index: usize) -> String {
    raw_text(value.decor().prefix(), if index == 0 { "" } else { " " })
}

fn suffix_of(value: &Value) -> String {
    raw_text(value.decor().suffix(), "")
}

/// Appends `name` to `array` in the array's own layout: on the same line for a single-line
/// array, on a line of its own with the same indentation for a multi-line one. Comments stay
/// with the items they follow, and a trailing comma stays or stays absent.
fn push_string(array: &mut Array, name: &str) {
    let count = array.len();
    let trailing_comma = array.trailing_comma() && count > 0;
    if count > 0 && !trailing_comma {
        // Without a trailing comma the text before `]` is printed right after the last item's
        // own suffix, so it is moved there to be handled in one place.
        let trailing = raw_text(Some(array.trailing()), "");
        if !trailing.is_empty() {
            if let Some(last) = array.get_mut(count - 1) {
                let suffix = suffix_of(last) + trailing.as_str();
                last.decor_mut().set_suffix(suffix);
            }
            array.set_trailing("");
        }
    }

    let multi_line = if count == 0 {
        raw_text(Some(array.trailing()), "").contains('\n')
    } else {
        array
            .iter()
            .enumerate()
            .any(|(index, value)| prefix_of(value, index).contains('\n'))
    };

    let mut item = Value::from(name);
    if multi_line {
        let indent = (0..count)
            .rev()
            .find_map(|index| {
                let prefix = prefix_of(array.get(index)?, index);
                prefix.rfind('\n').map(|at| prefix[at + 1..].to_owned())
            })
            .unwrap_or_else(|| "    ".to_owned());
        // The text after the last item: a comment on its line stays with that item, the rest
        // (later comment lines and the indentation of `]`) moves behind the new item.
        let region = if count == 0 || trailing_comma {
            raw_text(Some(array.trailing()), "")
        } else {
            array.get(count - 1).map(suffix_of).unwrap_or_default()
        };
        let (head, rest) = match region.find('\n') {
            Some(at) => region.split_at(at),
            None => ("", region.as_str()),
        };
        let head = if head.trim().is_empty() { "" } else { head };
        item.decor_mut().set_prefix(format!("{head}\n{indent}"));
        if count == 0 || trailing_comma {
            item.decor_mut().set_suffix("");
            array.set_trailing(rest);
        } else {
            item.decor_mut().set_suffix(rest);
            if let Some(last) = array.get_mut(count - 1) {
                last.decor_mut().set_suffix("");
            }
        }
    } else if count == 0 {
        // `[ ]` becomes `[ "x" ]` and `[]` becomes `["x"]`.
        item.decor_mut()
            .set_prefix(raw_text(Some(array.trailing()), ""));
        item.decor_mut().set_suffix("");
    } else {
        let single_line = |text: &str| !text.contains('\n') && !text.contains('#');
        let prefix = match array.get(count - 1) {
            Some(last) if count >= 2 => prefix_of(last, count - 1),
            _ => " ".to_owned(),
        };
        item.decor_mut().set_prefix(prefix);
        let last_suffix = array.get(count - 1).map(suffix_of).unwrap_or_default();
        if trailing_comma {
            let suffix = if single_line(&last_suffix) {
                last_suffix
            } else {
                String::new()
            };
            item.decor_mut().set_suffix(suffix);
        } else {
            // The last item's suffix (such as the space before `]`) moves to the new last
            // item; the old one takes the spacing items before a comma have.
            let middle = if count >= 2 {
                array.get(count - 2).map(suffix_of).unwrap_or_default()
            } else {
                String::new()
            };
            let middle = if single_line(&middle) {
                middle
            } else {
                String::new()
            };
            item.decor_mut().set_suffix(last_suffix);
            if let Some(last) = array.get_mut(count - 1) {
                last.decor_mut().set_suffix(middle);
            }
        }
    }
    array.push_formatted(item);
}

/// The document's text, with the byte order mark and CRLF line endings of the original kept,
/// because `toml_edit` drops the one and writes LF for the other.
fn render(doc: &DocumentMut, original: &str) -> String {
    let mut out = doc.to_string();
    let crlf_only = original.contains("\r\n")
        && original.matches('\n').count() == original.matches("\r\n").count();
    if crlf_only {
        out = out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    if original.starts_with('\u{feff}') && !out.starts_with('\u{feff}') {
        out.insert(0, '\u{feff}');
    }
    out
}

/// A key path written the way TOML would, quoting segments that need it.
fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|segment| Key::new(segment.as_ref()).display_repr().into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A shortened WSO2 API Manager 4.1.0 `deployment.toml`, with its commented blocks, array
    /// tables and odd spacing kept.
    const STOCK: &str = r#"[server]
hostname = "localhost"
#offset=0
base_path = "${carbon.protocol}://${carbon.host}:${carbon.management.port}"
#discard_empty_caches = false
server_role = "default"

[super_admin]
username = "admin"
password = "admin"
create_admin_account = true

[user_store]
type = "database_unique_id"

[database.apim_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[database.shared_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[keystore.tls]
file_name =  "wso2carbon.jks"
type =  "JKS"
password =  "wso2carbon"
alias =  "wso2carbon"
key_password =  "wso2carbon"

#[keystore.primary]
#file_name =  "wso2carbon.jks"
#type =  "JKS"
#password =  "wso2carbon"
#alias =  "wso2carbon"
#key_password =  "wso2carbon"

[[apim.gateway.environment]]
name = "Default"
type = "hybrid"
display_in_api_console = true
description = "This is a hybrid gateway that handles both production and sandbox token traffic."
show_as_token_endpoint_url = true
service_url = "https://localhost:${mgt.transport.https.port}/services/"
username= "${admin.username}"
password= "${admin.password}"
ws_endpoint = "ws://localhost:9099"
wss_endpoint = "wss://localhost:8099"
http_endpoint = "http://localhost:${http.nio.port}"
https_endpoint = "https://localhost:${https.nio.port}"

[apim.sync_runtime_artifacts.gateway]
gateway_labels =["Default"]

#[apim.cache.gateway_token]
#enable = true
#expiry_time = "900s"

#[apim.cache.resource]
#enable = true
#expiry_time = "900s"

#[apim.cache.km_token]
#enable = false
#expiry_time = "15m"

[apim.analytics]
enable = false
config_endpoint = "https://localhost:8080/auth/v1"
auth_token = ""

[apim.oauth_config]
#enable_outbound_auth_header = false
#auth_header = "Authorization"
#revoke_endpoint = "https://localhost:${https.nio.port}/revoke"

[apim.devportal]
#url = "https://localhost:${mgt.transport.https.port}/devportal"
#enable_application_sharing = false

[transport.https.properties]
proxyPort = 443

[[event_handler]]
name="userPostSelfRegistration"
subscriptions=["POST_ADD_USER"]

[service_provider]
sp_name_regex = "^[\\sa-zA-Z0-9._-]*$"

[[event_listener]]
id = "token_revocation"
type = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"
name = "org.wso2.is.notification.ApimOauthEventInterceptor"
order = 1
[event_listener.properties]
notification_endpoint = "https://localhost:${mgt.transport.https.port}/internal/data/v1/notify"
username = "${admin.username}"
password = "${admin.password}"
'header.X-WSO2-KEY-MANAGER' = "default"

[oauth.grant_type.token_exchange]
enable = true
allow_refresh_tokens = true
iat_validity_period = "1h"

#[apim.token.revocation]
#notifier_impl = "org.wso2.carbon.apimgt.keymgt.events.TokenRevocationNotifierImpl"
"#;

    const FILE: &str = "/pack/repository/conf/deployment.toml";

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn merge(text: &str, kind: SkipKind, names: &[&str]) -> SkipListMerge {
        merge_skip_list(text, FILE, kind, &strings(names)).unwrap()
    }

    fn path(dotted: &str) -> Vec<String> {
        parse_key_path(dotted).unwrap()
    }

    fn list(text: &str, kind: SkipKind) -> Option<Vec<String>> {
        let doc = parse(text, FILE).unwrap();
        let mut key = path("apim.sync_runtime_artifacts.gateway.skip_list");
        key.push(kind.key().to_owned());
        let array = get(&doc, &key)?.as_array()?;
        Some(
            array
                .iter()
                .map(|value| value.as_str().unwrap().to_owned())
                .collect(),
        )
    }

    /// Asserts that the lines of `before` for which `kept` holds appear in `after` in the same
    /// order, each as a whole line.
    fn assert_lines_kept(before: &str, after: &str, kept: impl Fn(&str) -> bool) {
        let mut remaining = after.split('\n');
        for line in before.split('\n').filter(|line| kept(line)) {
            assert!(
                remaining.any(|candidate| candidate == line),
                "line {line:?} of the input is missing or out of order in:\n{after}"
            );
        }
    }

    /// The same check when every input line must survive.
    fn assert_all_lines_kept(before: &str, after: &str) {
        assert_lines_kept(before, after, |_| true);
    }

    // ---- SkipKind and parse ----

    #[test]
    fn skip_kind_keys() {
        assert_eq!(SkipKind::Apis.key(), "apis");
        assert_eq!(SkipKind::Endpoints.key(), "endpoints");
        assert_eq!(SkipKind::Sequences.key(), "sequences");
        assert_eq!(SkipKind::LocalEntries.key(), "local_entries");
    }

    #[test]
    fn parse_accepts_the_stock_file_and_round_trips_it() {
        let doc = parse(STOCK, FILE).unwrap();
        assert_eq!(doc.to_string(), STOCK);
    }

    #[test]
    fn parse_error_names_file_line_and_column() {
        let text = "[server]\nhostname = \"localhost\"\n\n[apim.analytics]\nenable false\n";
        let err = parse(text, FILE).unwrap_err();
        assert_eq!(err.file, FILE);
        assert_eq!((err.line, err.column), (5, 8));
        assert_eq!(err.message, "expected `.`, `=`");
        assert_eq!(
            err.to_string(),
            "`/pack/repository/conf/deployment.toml` is not valid TOML: line 5, column 8: \
             expected `.`, `=` (fix the file, then run again)"
        );
    }

    #[test]
    fn parse_error_messages_are_one_line() {
        let err = parse("[a]\nb = \n", FILE).unwrap_err();
        assert_eq!((err.line, err.column), (2, 5));
        assert!(!err.to_string().contains('\n'));
        assert_eq!(err.message, "invalid string; expected `\"`, `'`");

        let err = parse("[a]\nb = 1\n\n[a]\nc = 2\n", FILE).unwrap_err();
        assert_eq!((err.line, err.column), (4, 1));
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
    }

    #[test]
    fn parse_error_line_counts_a_byte_order_mark_as_text() {
        let err = parse("\u{feff}[a]\nb c = 1\n", FILE).unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
    }

    #[test]
    fn parse_error_column_counts_characters() {
        let err = parse("name = \"é\" x\n", FILE).unwrap_err();
        assert_eq!((err.line, err.column), (1, 12));
    }

    #[test]
    fn parse_error_at_end_of_file() {
        let err = parse("[a]\nb = [1, 2", FILE).unwrap_err();
        assert_eq!((err.line, err.column), (2, 10));
        assert_eq!(err.message, "invalid array; expected `]`");
    }

    // ---- parse_key_path ----

    #[test]
    fn key_path_plain_and_quoted_segments() {
        assert_eq!(
            path("apim.sync_runtime_artifacts.gateway"),
            strings(&["apim", "sync_runtime_artifacts", "gateway"])
        );
        assert_eq!(path(r#"a."b.c".d"#), strings(&["a", "b.c", "d"]));
        assert_eq!(path("a.'b.c'.d"), strings(&["a", "b.c", "d"]));
        assert_eq!(
            path(r#"event_listener.properties.'header.X-WSO2-KEY-MANAGER'"#),
            strings(&["event_listener", "properties", "header.X-WSO2-KEY-MANAGER"])
        );
        assert_eq!(
            path(r#" a . "b \"q\" \\ \u00e9" "#),
            strings(&["a", "b \"q\" \\ é"])
        );
        assert_eq!(path("single"), strings(&["single"]));
    }

    #[test]
    fn key_path_errors() {
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a.\"b",
            "a.'b",
            "a\"b",
            r#"a."b"c"#,
            "a.''",
            " . ",
        ] {
            let err = parse_key_path(bad).unwrap_err().to_string();
            assert!(err.starts_with("key path `"), "{bad:?}: {err}");
            assert!(!err.contains('\n') && !err.ends_with('.'), "{err}");
        }
        assert!(parse_key_path("a..b")
            .unwrap_err()
            .to_string()
            .contains("empty segment"));
        assert!(parse_key_path("a.\"b")
            .unwrap_err()
            .to_string()
            .contains("unbalanced"));
    }

    // ---- get ----

    #[test]
    fn get_looks_through_tables_inline_tables_and_dotted_keys() {
        let text = r#"top = 1
[apim.sync_runtime_artifacts.gateway]
gateway_labels = ["Default"]
skip_list.apis = ["a.xml"]
other = { inner = { deep = "x" } }
"#;
        let doc = parse(text, FILE).unwrap();
        assert_eq!(get(&doc, &path("top")).unwrap().as_integer(), Some(1));
        assert!(get(&doc, &path("apim.sync_runtime_artifacts"))
            .unwrap()
            .is_table());
        assert!(get(
            &doc,
            &path("apim.sync_runtime_artifacts.gateway.gateway_labels")
        )
        .unwrap()
        .is_array());
        assert!(get(
            &doc,
            &path("apim.sync_runtime_artifacts.gateway.skip_list.apis")
        )
        .is_some());
        assert_eq!(
            get(
                &doc,
                &path("apim.sync_runtime_artifacts.gateway.other.inner.deep")
            )
            .unwrap()
            .as_str(),
            Some("x")
        );
        assert!(get(&doc, &path("apim.missing")).is_none());
        assert!(get(&doc, &path("top.below")).is_none());
        assert!(get(&doc, &[]).unwrap().is_table());
    }

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

    // ---- merge_skip_list: rule 1 ----

    #[test]
    fn merging_names_already_present_returns_the_input_unchanged() {
        let text = "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
                    [apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [ 'a.xml' ,\"b.xml\"]";
        let result = merge(text, SkipKind::Sequences, &["b.xml", "a.xml", "b.xml"]);
        assert_eq!(result.text, text);
        assert!(result.added.is_empty());
        assert_eq!(result.already_present, strings(&["b.xml", "a.xml"]));
        assert!(!result.created_table);
        assert!(result.gateway_table_present);
    }

    #[test]
    fn merging_an_empty_list_returns_the_input_unchanged() {
        let result = merge(STOCK, SkipKind::Apis, &[]);
        assert_eq!(result.text, STOCK);
        assert!(result.added.is_empty() && result.already_present.is_empty());
        assert!(!result.created_table);
    }

    #[test]
    fn merging_twice_equals_merging_once() {
        let names = ["_cors_request_handler_.xml", "custom seq.xml", "a\"b.xml"];
        let once = merge(STOCK, SkipKind::Sequences, &names);
        let twice = merge(&once.text, SkipKind::Sequences, &names);
        assert_eq!(twice.text, once.text);
        assert!(twice.added.is_empty());
        assert_eq!(twice.already_present, strings(&names));
    }

    // ---- rule 2: existing arrays ----

    fn skip_table(body: &str) -> String {
        format!(
            "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\n{body}\n# after\n[apim.analytics]\nenable = false\n"
        )
    }

    fn assert_append(kind: SkipKind, body: &str, names: &[&str], expected_body: &str) {
        let text = skip_table(body);
        let result = merge(&text, kind, names);
        assert_eq!(result.text, skip_table(expected_body));
        assert!(!result.created_table);
        let body_lines: Vec<&str> = body.split('\n').collect();
        assert_lines_kept(&text, &result.text, |line| !body_lines.contains(&line));
    }

    #[test]
    fn single_line_arrays_stay_single_line() {
        assert_append(
            SkipKind::Sequences,
            "sequences = [\"a.xml\"]",
            &["b.xml", "c.xml"],
            "sequences = [\"a.xml\", \"b.xml\", \"c.xml\"]",
        );
        assert_append(
            SkipKind::Apis,
            "apis = [ \"a.xml\" ]",
            &["b.xml"],
            "apis = [ \"a.xml\", \"b.xml\" ]",
        );
        assert_append(
            SkipKind::Apis,
            "apis = [ \"a.xml\" , \"b.xml\" ]",
            &["c.xml"],
            "apis = [ \"a.xml\" , \"b.xml\" , \"c.xml\" ]",
        );
        assert_append(
            SkipKind::Endpoints,
            "endpoints = [\"a.xml\",\"b.xml\"]",
            &["c.xml"],
            "endpoints = [\"a.xml\",\"b.xml\",\"c.xml\"]",
        );
        assert_append(
            SkipKind::Endpoints,
            "endpoints = [\"a.xml\", \"b.xml\",]",
            &["c.xml"],
            "endpoints = [\"a.xml\", \"b.xml\", \"c.xml\",]",
        );
        assert_append(
            SkipKind::LocalEntries,
            "local_entries = []",
            &["x.xml"],
            "local_entries = [\"x.xml\"]",
        );
        assert_append(
            SkipKind::LocalEntries,
            "local_entries = [ ]",
            &["x.xml"],
            "local_entries = [ \"x.xml\" ]",
        );
        assert_append(
            SkipKind::Apis,
            "apis = [\"a.xml\"] # skip these",
            &["b.xml"],
            "apis = [\"a.xml\", \"b.xml\"] # skip these",
        );
    }

    #[test]
    fn new_names_are_deduplicated_and_compared_as_strings() {
        let text = skip_table("apis = ['a.xml', \"b.xml\"]");
        let result = merge(
            &text,
            SkipKind::Apis,
            &["c.xml", "a.xml", "c.xml", "d.xml", "b.xml"],
        );
        assert_eq!(result.added, strings(&["c.xml", "d.xml"]));
        assert_eq!(result.already_present, strings(&["a.xml", "b.xml"]));
        assert_eq!(
            result.text,
            skip_table("apis = ['a.xml', \"b.xml\", \"c.xml\", \"d.xml\"]")
        );
    }

    #[test]
    fn multi_line_arrays_get_one_new_line_per_name() {
        assert_append(
            SkipKind::Sequences,
            "sequences = [\n    \"a.xml\",\n    \"b.xml\"\n]",
            &["c.xml", "d.xml"],
            "sequences = [\n    \"a.xml\",\n    \"b.xml\",\n    \"c.xml\",\n    \"d.xml\"\n]",
        );
        assert_append(
            SkipKind::Sequences,
            "sequences = [\n  \"a.xml\",\n  \"b.xml\",\n]",
            &["c.xml"],
            "sequences = [\n  \"a.xml\",\n  \"b.xml\",\n  \"c.xml\",\n]",
        );
        assert_append(
            SkipKind::Apis,
            "apis = [\n\t\"a.xml\"]",
            &["b.xml"],
            "apis = [\n\t\"a.xml\",\n\t\"b.xml\"]",
        );
        assert_append(
            SkipKind::Apis,
            "apis = [\n]",
            &["a.xml", "b.xml"],
            "apis = [\n    \"a.xml\",\n    \"b.xml\"\n]",
        );
    }

    #[test]
    fn comments_inside_multi_line_arrays_stay_with_their_items() {
        assert_append(
            SkipKind::Sequences,
            "sequences = [\n    \"a.xml\", # first\n    \"b.xml\" # second\n]",
            &["c.xml"],
            "sequences = [\n    \"a.xml\", # first\n    \"b.xml\", # second\n    \"c.xml\"\n]",
        );
        assert_append(
            SkipKind::Sequences,
            "sequences = [\n    # the handlers\n    \"a.xml\",\n    \"b.xml\", # second\n    # \"old.xml\",\n  ]",
            &["c.xml"],
            "sequences = [\n    # the handlers\n    \"a.xml\",\n    \"b.xml\", # second\n    \"c.xml\",\n    # \"old.xml\",\n  ]",
        );
    }

    // ---- rule 3: missing list, table present ----

    #[test]
    fn a_missing_list_is_added_at_the_end_of_the_skip_list_table() {
        let text = skip_table("apis = [\"a.xml\"]\n# endpoints = []");
        let result = merge(&text, SkipKind::Sequences, &["s.xml"]);
        assert_eq!(
            result.text,
            skip_table("apis = [\"a.xml\"]\nsequences = [\"s.xml\"]\n# endpoints = []")
        );
        assert!(!result.created_table);
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn a_missing_list_in_an_empty_skip_list_table() {
        let text = "[apim.sync_runtime_artifacts.gateway.skip_list]\n\n[server]\nx = 1\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n[server]\nx = 1\n"
        );
        assert!(result.gateway_table_present);
    }

    #[test]
    fn an_implicit_skip_list_table_gets_its_header_before_its_sub_tables() {
        let text = "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n[server]\nx = 1\n\n\
                    [apim.sync_runtime_artifacts.gateway.skip_list.extra]\ny = 2\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n[server]\nx = 1\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list.extra]\ny = 2\n"
        );
        assert!(result.created_table);
        assert!(result.gateway_table_present);
    }

    // ---- rule 4: missing skip_list table ----

    #[test]
    fn the_skip_list_table_is_created_right_after_the_gateway_table() {
        let result = merge(
            STOCK,
            SkipKind::Sequences,
            &["_cors_request_handler_.xml", "x.xml"],
        );
        assert!(result.created_table);
        assert!(result.gateway_table_present);
        assert_eq!(
            result.added,
            strings(&["_cors_request_handler_.xml", "x.xml"])
        );
        assert!(
            result.text.contains(
                "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
                 [apim.sync_runtime_artifacts.gateway.skip_list]\n\
                 sequences = [\"_cors_request_handler_.xml\", \"x.xml\"]\n\n\
                 #[apim.cache.gateway_token]\n"
            ),
            "{}",
            result.text
        );
        assert_all_lines_kept(STOCK, &result.text);
        assert_eq!(result.text.lines().count(), STOCK.lines().count() + 3);
        assert_eq!(
            list(&result.text, SkipKind::Sequences).unwrap(),
            strings(&["_cors_request_handler_.xml", "x.xml"])
        );
        // The array tables and their sub-tables keep their order after the shift.
        let events = result.text.find("[[event_listener]]").unwrap();
        let properties = result.text.find("[event_listener.properties]").unwrap();
        assert!(events < properties);
    }

    #[test]
    fn the_skip_list_table_goes_after_gateway_sub_tables_only_when_the_gateway_has_no_header() {
        let text = "[server]\nx = 1\n\n[apim.sync_runtime_artifacts.gateway.other]\ny = 2\n\n[apim.analytics]\nenable = false\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[server]\nx = 1\n\n[apim.sync_runtime_artifacts.gateway.other]\ny = 2\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n[apim.analytics]\nenable = false\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    #[test]
    fn without_a_gateway_table_the_skip_list_goes_at_the_end() {
        let text = "# WSO2 API Manager\n[server]\nhostname = \"localhost\"\n\n[apim.analytics]\nenable = false\n\n# trailing notes\n#[apim.cache.tags]\n";
        let result = merge(text, SkipKind::Apis, &["PizzaShackAPI.xml"]);
        assert_eq!(
            result.text,
            "# WSO2 API Manager\n[server]\nhostname = \"localhost\"\n\n[apim.analytics]\nenable = false\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"PizzaShackAPI.xml\"]\n\n# trailing notes\n#[apim.cache.tags]\n"
        );
        assert!(!result.gateway_table_present);
        assert!(result.created_table);
        // No empty `[apim]` or `[apim.sync_runtime_artifacts]` headers appear.
        assert!(!result.text.contains("[apim]"));
        assert!(!result.text.contains("[apim.sync_runtime_artifacts]"));
    }

    #[test]
    fn without_a_gateway_table_the_skip_list_goes_before_secrets() {
        let text = format!(
            "{}\n# Secrets must stay last.\n[secrets]\nadmin_password = \"[admin]\"\n",
            STOCK.replace(
                "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n",
                ""
            )
        );
        let result = merge(&text, SkipKind::LocalEntries, &["entry.xml"]);
        assert!(!result.gateway_table_present);
        assert!(result.text.contains(
            "iat_validity_period = \"1h\"\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\n\
             local_entries = [\"entry.xml\"]\n\n#[apim.token.revocation]\n"
        ));
        assert!(result
            .text
            .ends_with("# Secrets must stay last.\n[secrets]\nadmin_password = \"[admin]\"\n"));
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn with_a_gateway_table_and_secrets_the_skip_list_still_follows_the_gateway() {
        let text = format!("{STOCK}\n[secrets]\nadmin_password = \"[admin]\"\n");
        let result = merge(&text, SkipKind::Apis, &["a.xml"]);
        assert!(result.text.contains(
            "gateway_labels =[\"Default\"]\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n#[apim.cache.gateway_token]"
        ));
        assert!(result
            .text
            .ends_with("[secrets]\nadmin_password = \"[admin]\"\n"));
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn an_empty_document_gets_just_the_skip_list_table() {
        let result = merge("", SkipKind::Endpoints, &["ep.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\nendpoints = [\"ep.xml\"]\n"
        );
    }

    // ---- rule 5: inline tables and dotted keys ----

    fn gateway_body(body: &str) -> String {
        format!(
            "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n{body}\n\n#[apim.cache.gateway_token]\n#enable = true\n\n[apim.analytics]\nenable = false\n"
        )
    }

    #[test]
    fn inline_skip_lists_are_appended_in_place() {
        let text = gateway_body("skip_list = { sequences = [\"a.xml\"] }");
        let result = merge(&text, SkipKind::Sequences, &["b.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { sequences = [\"a.xml\", \"b.xml\"] }")
        );
        assert!(!result.created_table);

        let result = merge(&text, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { sequences = [\"a.xml\"], apis = [\"api.xml\"] }")
        );
        assert!(!result.created_table);

        let compact = gateway_body("skip_list = {sequences=[\"a.xml\"]}");
        let result = merge(&compact, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = {sequences=[\"a.xml\"],apis=[\"api.xml\"]}")
        );

        let empty = gateway_body("skip_list = {}");
        let result = merge(&empty, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { apis = [\"api.xml\"] }")
        );
    }

    #[test]
    fn an_inline_gateway_gets_an_inline_skip_list() {
        let text = "[apim.sync_runtime_artifacts]\ngateway = { gateway_labels = [\"Default\"] }\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts]\ngateway = { gateway_labels = [\"Default\"], skip_list = { apis = [\"a.xml\"] } }\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    #[test]
    fn dotted_skip_lists_are_appended_in_place() {
        let text = gateway_body("skip_list.sequences = [\"a.xml\"]");
        let result = merge(&text, SkipKind::Sequences, &["b.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list.sequences = [\"a.xml\", \"b.xml\"]")
        );

        let result = merge(&text, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list.sequences = [\"a.xml\"]\nskip_list.apis = [\"api.xml\"]")
        );
        assert!(!result.created_table);
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn dotted_gateway_keys_get_a_dotted_skip_list() {
        let text = "[apim.sync_runtime_artifacts]\n  gateway.gateway_labels = [\"Default\"]\n\n[server]\nx = 1\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts]\n  gateway.gateway_labels = [\"Default\"]\n  gateway.skip_list.apis = [\"a.xml\"]\n\n[server]\nx = 1\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    // ---- rule 6: no final newline ----

    #[test]
    fn a_document_without_a_final_newline_stays_valid() {
        let text = "[server]\nhostname = \"localhost\"\n\n[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            format!(
                "{text}\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n"
            )
        );

        let text = "[server]\nhostname = \"localhost\"\n# the end";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        parse(&result.text, FILE).unwrap();
        assert_all_lines_kept(text, &result.text);

        let text = skip_table("apis = [\"a.xml\"]").trim_end().to_owned();
        let result = merge(&text, SkipKind::Apis, &["b.xml"]);
        parse(&result.text, FILE).unwrap();
        assert_eq!(
            list(&result.text, SkipKind::Apis).unwrap(),
            strings(&["a.xml", "b.xml"])
        );

        let text = "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]";
        let result = merge(text, SkipKind::Endpoints, &["e.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\nendpoints = [\"e.xml\"]\n"
        );
    }

    // ---- line endings and byte order mark ----

    #[test]
    fn crlf_line_endings_and_a_byte_order_mark_are_kept() {
        let text = "\u{feff}[server]\r\nhostname = \"localhost\"\r\n\r\n[apim.sync_runtime_artifacts.gateway]\r\ngateway_labels =[\"Default\"]\r\n\r\n# end\r\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "\u{feff}[server]\r\nhostname = \"localhost\"\r\n\r\n[apim.sync_runtime_artifacts.gateway]\r\ngateway_labels =[\"Default\"]\r\n\r\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\r\napis = [\"a.xml\"]\r\n\r\n# end\r\n"
        );
    }

    // ---- errors ----

    #[test]
    fn merge_errors_name_the_key_and_the_file() {
        let cases = [
            (
                "[apim]\nsync_runtime_artifacts = \"off\"\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts` is a string, not a table",
            ),
            (
                "[[apim.sync_runtime_artifacts.gateway]]\ngateway_labels = [\"Default\"]\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts.gateway` is an array of tables, not a table",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway]\nskip_list = [\"a.xml\"]\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts.gateway.skip_list` is an array, not a table",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = \"a.xml\"\n",
                "`apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml` is a string, not an array of strings",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\", 3]\n",
                "`apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml` holds an integer, but it must be an array of strings",
            ),
        ];
        for (text, expected) in cases {
            let err = merge_skip_list(text, FILE, SkipKind::Apis, &strings(&["x.xml"]))
                .unwrap_err()
                .to_string();
            assert_eq!(err, expected);
        }
    }

    #[test]
    fn merge_reports_invalid_toml_with_line_and_column() {
        let err = merge_skip_list(
            "[server]\nhostname = localhost\n",
            FILE,
            SkipKind::Apis,
            &strings(&["x"]),
        )
        .unwrap_err();
        let parse_error = err.downcast_ref::<TomlError>().unwrap();
        assert_eq!((parse_error.line, parse_error.column), (2, 12));
        assert!(err.to_string().starts_with(
            "`/pack/repository/conf/deployment.toml` is not valid TOML: line 2, column 12: "
        ));
    }

    // ---- property test ----

    const KINDS: [SkipKind; 4] = [
        SkipKind::Apis,
        SkipKind::Endpoints,
        SkipKind::Sequences,
        SkipKind::LocalEntries,
    ];

    /// Tables of a WSO2 file that have nothing to do with the skip list, in any order.
    const POOL: &[&[&str]] = &[
        &[
            "[server]",
            "hostname = \"localhost\"",
            "#offset=0",
            "base_path = \"${carbon.protocol}://${carbon.host}:${carbon.management.port}\"",
            "server_role = \"default\"",
        ],
        &[
            "[database.apim_db]",
            "type = \"h2\"",
            "url = \"jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE\"",
            "username = \"wso2carbon\"",
        ],
        &[
            "[[apim.gateway.environment]]",
            "name = \"Default\"",
            "type = \"hybrid\"",
            "display_in_api_console = true",
        ],
        &[
            "[[apim.gateway.environment]]",
            "name = \"Internal\"",
            "  # an indented comment",
            "  type = \"production\"",
        ],
        &["[apim.analytics]", "enable = false", "auth_token = \"\""],
        &[
            "[transport.https.properties]",
            "proxyPort = 443",
            "#[apim.cache.tags]",
        ],
        &[
            "[[event_listener]]",
            "id = \"token_revocation\"",
            "[event_listener.properties]",
            "'header.X-WSO2-KEY-MANAGER' = \"default\"",
        ],
    ];

    /// Comment and blank lines that may stand between tables.
    const GAPS: &[&str] = &[
        "",
        "",
        "# comment",
        "\n",
        "#[apim.cache.gateway_token]\n#enable = true\n#expiry_time = \"900s\"",
        "\n# ---- section ----\n",
    ];

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Form {
        Absent,
        Header,
        Inline,
        Dotted,
    }

    #[derive(Debug, Clone, Copy)]
    enum Layout {
        Compact,
        Spaced,
        Padded,
        Multi {
            trailing_comma: bool,
            comments: bool,
            indent: usize,
        },
    }

    /// Which lines of a sample a merge may rewrite.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tag {
        Kept,
        List(usize),
        AnyList,
    }

    #[derive(Debug, Clone)]
    struct Sample {
        lines: Vec<(String, Tag)>,
        final_newline: bool,
        form: Form,
        gateway: bool,
        lists: Vec<Option<Vec<String>>>,
    }

    impl Sample {
        fn text(&self) -> String {
            let mut text = self
                .lines
                .iter()
                .map(|(line, _)| line.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if self.final_newline {
                text.push('\n');
            }
            text
        }

        fn push(&mut self, text: &str, tag: Tag) {
            for line in text.split('\n') {
                self.lines.push((line.to_owned(), tag));
            }
        }
    }

    fn quoted(name: &str) -> String {
        Value::from(name).to_string()
    }

    fn array_lines(key: &str, names: &[String], layout: Layout) -> Vec<String> {
        let items: Vec<String> = names.iter().map(|name| quoted(name)).collect();
        match layout {
            Layout::Compact => vec![format!("{key} = [{}]", items.join(","))],
            Layout::Spaced => vec![format!("{key} = [{}]", items.join(", "))],
            Layout::Padded if items.is_empty() => vec![format!("{key} = [ ]")],
            Layout::Padded => vec![format!("{key} = [ {} ]", items.join(" , "))],
            Layout::Multi {
                trailing_comma,
                comments,
                indent,
            } => {
                let pad = " ".repeat(indent);
                let mut lines = vec![format!("{key} = [")];
                for (index, item) in items.iter().enumerate() {
                    let last = index + 1 == items.len();
                    let comma = if !last || trailing_comma { "," } else { "" };
                    let comment = if comments && index % 2 == 0 {
                        " # note"
                    } else {
                        ""
                    };
                    lines.push(format!("{pad}{item}{comma}{comment}"));
                }
                if comments {
                    lines.push(format!("{pad}# \"retired.xml\","));
                }
                lines.push("]".to_owned());
                lines
            }
        }
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_ .'\"\\\\-]{1,8}(\\.xml)?"
    }

    fn layout_strategy() -> impl Strategy<Value = Layout> {
        prop_oneof![
            Just(Layout::Compact),
            Just(Layout::Spaced),
            Just(Layout::Padded),
            (
                any::<bool>(),
                any::<bool>(),
                prop_oneof![Just(2_usize), Just(4)]
            )
                .prop_map(|(trailing_comma, comments, indent)| Layout::Multi {
                    trailing_comma,
                    comments,
                    indent,
                }),
        ]
    }

    type Lists = Vec<Option<(Vec<String>, Layout)>>;

    #[allow(clippy::too_many_arguments)]
    fn build_sample(
        gateway: bool,
        form: usize,
        lists: Lists,
        order: Vec<usize>,
        gaps: Vec<usize>,
        secrets: bool,
        final_newline: bool,
    ) -> Sample {
        let form = match (form, gateway) {
            (0, _) => Form::Absent,
            (1, _) | (_, false) => Form::Header,
            (2, true) => Form::Inline,
            _ => Form::Dotted,
        };
        let lists: Lists = if form == Form::Absent {
            vec![None; 4]
        } else {
            lists
        };
        let mut sample = Sample {
            lines: Vec::new(),
            final_newline,
            form,
            gateway,
            lists: lists
                .iter()
                .map(|list| list.as_ref().map(|(names, _)| names.clone()))
                .collect(),
        };
        sample.push("# WSO2 API Manager deployment configuration", Tag::Kept);
        let mut gaps = gaps.into_iter();
        for block in order {
            let gap = GAPS[gaps.next().unwrap_or(0)];
            if !gap.is_empty() {
                sample.push(gap, Tag::Kept);
            }
            if let Some(lines) = POOL.get(block) {
                for line in *lines {
                    sample.push(line, Tag::Kept);
                }
            } else if block == POOL.len() && gateway {
                sample.push("[apim.sync_runtime_artifacts.gateway]", Tag::Kept);
                sample.push("gateway_labels =[\"Default\"]", Tag::Kept);
                if form == Form::Dotted {
                    for (index, list) in lists.iter().enumerate() {
                        if let Some((names, layout)) = list {
                            let key = format!("skip_list.{}", KINDS[index].key());
                            for line in array_lines(&key, names, *layout) {
                                sample.push(&line, Tag::List(index));
                            }
                        }
                    }
                }
                if form == Form::Inline {
                    let entries: Vec<String> = lists
                        .iter()
                        .enumerate()
                        .filter_map(|(index, list)| {
                            let (names, layout) = list.as_ref()?;
                            let layout = match layout {
                                Layout::Multi { .. } => Layout::Spaced,
                                other => *other,
                            };
                            array_lines(KINDS[index].key(), names, layout).pop()
                        })
                        .collect();
                    let line = if entries.is_empty() {
                        "skip_list = {}".to_owned()
                    } else {
                        format!("skip_list = {{ {} }}", entries.join(", "))
                    };
                    sample.push(&line, Tag::AnyList);
                }
            } else if block == POOL.len() + 1 && form == Form::Header {
                sample.push("[apim.sync_runtime_artifacts.gateway.skip_list]", Tag::Kept);
                sample.push("# artifacts the gateway must not redeploy", Tag::Kept);
                for (index, list) in lists.iter().enumerate() {
                    if let Some((names, layout)) = list {
                        for line in array_lines(KINDS[index].key(), names, *layout) {
                            sample.push(&line, Tag::List(index));
                        }
                    }
                }
            }
        }
        if secrets {
            let gap = GAPS[gaps.next().unwrap_or(0)];
            if !gap.is_empty() {
                sample.push(gap, Tag::Kept);
            }
            sample.push("[secrets]", Tag::Kept);
            sample.push("admin_password = \"[admin]\"", Tag::Kept);
        }
        sample
    }

    fn sample_strategy() -> impl Strategy<Value = (Sample, usize, Vec<String>)> {
        (
            any::<bool>(),
            0..4_usize,
            prop::collection::vec(
                prop::option::of((
                    prop::collection::vec(name_strategy(), 0..4),
                    layout_strategy(),
                )),
                4,
            ),
            Just((0..POOL.len() + 2).collect::<Vec<usize>>()).prop_shuffle(),
            prop::collection::vec(0..GAPS.len(), POOL.len() + 3),
            any::<bool>(),
            any::<bool>(),
            0..4_usize,
            prop::collection::vec(name_strategy(), 0..4),
            prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        )
            .prop_map(
                |(
                    gateway,
                    form,
                    lists,
                    order,
                    gaps,
                    secrets,
                    final_newline,
                    kind,
                    fresh,
                    picks,
                )| {
                    let sample =
                        build_sample(gateway, form, lists, order, gaps, secrets, final_newline);
                    // Mix names already in the target list (and repeats) in with new ones.
                    let existing = sample.lists[kind].clone().unwrap_or_default();
                    let mut names = fresh.clone();
                    for pick in picks {
                        if !existing.is_empty() {
                            names.push(pick.get(&existing).clone());
                        } else if !fresh.is_empty() {
                            names.push(pick.get(&fresh).clone());
                        }
                    }
                    (sample, kind, names)
                },
            )
    }

    /// A generated document with random edits from TOML's own alphabet: mostly invalid, some
    /// valid in ways the generator never writes.
    fn mutated_strategy() -> impl Strategy<Value = (String, usize, Vec<String>)> {
        const ALPHABET: &[&str] = &[
            "[",
            "]",
            "[[",
            "]]",
            "=",
            "\"",
            "'",
            "\"\"\"",
            "{",
            "}",
            ",",
            ".",
            "#",
            "\n",
            " ",
            "\r\n",
            "\\",
            "skip_list",
            "gateway",
            "apim",
            "sequences",
            "x",
            "1",
            "true",
            "\u{feff}",
            "é",
        ];
        (
            sample_strategy(),
            prop::collection::vec(
                (any::<prop::sample::Index>(), 0..ALPHABET.len(), 0..3u8),
                1..6,
            ),
        )
            .prop_map(|((sample, kind, names), edits)| {
                let mut text = sample.text();
                for (at, piece, how) in edits {
                    let mut index = at.index(text.len() + 1);
                    while !text.is_char_boundary(index) {
                        index -= 1;
                    }
                    match how {
                        0 => text.insert_str(index, ALPHABET[piece]),
                        1 => {
                            let end = (index + 1..=text.len())
                                .find(|end| text.is_char_boundary(*end))
                                .unwrap_or(index);
                            text.replace_range(index..end, "");
                        }
                        _ => text.replace_range(index.., ALPHABET[piece]),
                    }
                }
                (text, kind, names)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the input, the merge either refuses it with a located error or returns a
        /// document that parses and that a second merge leaves alone. It never panics.
        #[test]
        fn merge_never_corrupts_or_panics((text, kind_index, names) in mutated_strategy()) {
            let kind = KINDS[kind_index];
            match merge_skip_list(&text, FILE, kind, &names) {
                Ok(result) => {
                    prop_assert!(parse(&text, FILE).is_ok(), "accepted invalid input:\n{}", text);
                    prop_assert!(parse(&result.text, FILE).is_ok(), "invalid output:\n{}", result.text);
                    let again = merge_skip_list(&result.text, FILE, kind, &names)
                        .map_err(|err| TestCaseError::fail(err.to_string()))?;
                    prop_assert_eq!(&again.text, &result.text);
                    let after = list(&result.text, kind).unwrap_or_default();
                    for name in &names {
                        prop_assert!(after.contains(name), "{} missing:\n{}", name, result.text);
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    prop_assert!(message.contains(FILE), "{}", message);
                    prop_assert!(!message.contains('\n'), "one line: {}", message);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn merge_properties((sample, kind_index, names) in sample_strategy()) {
            let kind = KINDS[kind_index];
            let text = sample.text();
            prop_assert!(parse(&text, FILE).is_ok(), "the generated sample is not valid:\n{}", text);

            let result = merge_skip_list(&text, FILE, kind, &names)
                .map_err(|err| TestCaseError::fail(format!("{err}\n{text}")))?;
            prop_assert!(parse(&result.text, FILE).is_ok(), "invalid output:\n{}", result.text);

            // Merging twice equals merging once.
            let again = merge_skip_list(&result.text, FILE, kind, &names)
                .map_err(|err| TestCaseError::fail(err.to_string()))?;
            prop_assert_eq!(&again.text, &result.text);
            prop_assert!(again.added.is_empty());

            // Every line outside the edited array survives, in order.
            let mut remaining = result.text.split('\n');
            for (line, tag) in &sample.lines {
                let may_change = match tag {
                    Tag::Kept => false,
                    Tag::List(index) => *index == kind_index,
                    Tag::AnyList => true,
                };
                if !may_change {
                    prop_assert!(
                        remaining.any(|candidate| candidate == line),
                        "line {:?} lost or moved:\n--- input\n{}\n--- output\n{}", line, text, result.text
                    );
                }
            }

            // The list holds exactly the union: the original order first, then the new names.
            let before = sample.lists[kind_index].clone().unwrap_or_default();
            let mut expected = before.clone();
            for name in &names {
                if !expected.contains(name) {
                    expected.push(name.clone());
                }
            }
            let after = list(&result.text, kind).unwrap_or_default();
            prop_assert_eq!(&after, &expected);
            prop_assert_eq!(&result.added, &expected[before.len()..].to_vec());
            for name in &result.already_present {
                prop_assert!(before.contains(name));
            }
            if result.added.is_empty() {
                prop_assert_eq!(&result.text, &text);
            }

            prop_assert_eq!(
                result.gateway_table_present,
                sample.gateway || sample.form == Form::Header
            );
            let skip_list_existed = match sample.form {
                Form::Absent => false,
                Form::Header | Form::Inline => true,
                Form::Dotted => sample.lists.iter().any(Option::is_some),
            };
            prop_assert_eq!(result.created_table, !result.added.is_empty() && !skip_list_existed);
        }
    }
}
