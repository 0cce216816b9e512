//! Dotted key paths: parsing them, naming them in messages, and finding what they lead to in a document.

use anyhow::{anyhow, bail};
use toml_edit::{DocumentMut, InlineTable, Item, Key, Table, TableLike, Value};

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
pub(super) fn get_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> Option<&'a mut Item> {
    let (last, parents) = path.split_last()?;
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for segment in parents {
        table = table.get_mut(segment)?.as_table_like_mut()?;
    }
    table.get_mut(last)
}

/// How many leading segments of `path` exist in `doc`: `Ok(path.len())` when the whole path
/// exists, `Err((index, type name))` when segment `index` exists but cannot hold keys.
pub(super) fn existing_prefix(
    doc: &DocumentMut,
    path: &[String],
) -> Result<usize, (usize, &'static str)> {
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
pub(super) enum Node<'a> {
    Table(&'a Table),
    Inline(&'a InlineTable),
}

/// A table-like node of the document, writable.
pub(super) enum NodeMut<'a> {
    Table(&'a mut Table),
    Inline(&'a mut InlineTable),
}

pub(super) fn node<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<Node<'a>> {
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

pub(super) fn node_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> Option<NodeMut<'a>> {
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

/// A key path written the way TOML would, quoting segments that need it.
pub(super) fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|segment| Key::new(segment.as_ref()).display_repr().into_owned())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pack::toml::fixtures::*;
    use crate::pack::toml::parse;

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
}
