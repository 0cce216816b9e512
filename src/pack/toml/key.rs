//! Dotted key paths: parsing them, naming them in messages, and finding what they lead to in a document.

use anyhow::{anyhow, bail};
use toml_edit::{DocumentMut, Item, Key};

use super::with_article;

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

/// How far a key path reaches into a document, from [`walk`] and [`walk_mut`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Reach<T> {
    /// Every segment exists: the item at the end of the path (the root for an empty path).
    Found(T),
    /// The first `depth` segments lead to a table (a `[table]`, an inline table or the table
    /// of a dotted key) that has no key `path[depth]`.
    Missing { depth: usize },
    /// The first `depth` segments lead to a `type_name` (a value or an array of tables),
    /// which holds no keys, so `path[depth]` cannot be in it.
    NotATable {
        depth: usize,
        type_name: &'static str,
    },
}

impl<T> Reach<T> {
    /// The item, when the whole path exists.
    pub(super) fn found(self) -> Option<T> {
        match self {
            Reach::Found(item) => Some(item),
            Reach::Missing { .. } | Reach::NotATable { .. } => None,
        }
    }
}

/// Follows `path` down from `root`, through `[table]`s, inline tables and dotted keys alike,
/// because WSO2 reads the same nested map from all of them.
pub(super) fn walk<'a>(root: &'a Item, path: &[String]) -> Reach<&'a Item> {
    let mut item = root;
    for (depth, segment) in path.iter().enumerate() {
        let Some(table) = item.as_table_like() else {
            return Reach::NotATable {
                depth,
                type_name: item.type_name(),
            };
        };
        match table.get(segment) {
            Some(next) => item = next,
            None => return Reach::Missing { depth },
        }
    }
    Reach::Found(item)
}

/// [`walk`], for an item to change.
pub(super) fn walk_mut<'a>(root: &'a mut Item, path: &[String]) -> Reach<&'a mut Item> {
    let mut item = root;
    for (depth, segment) in path.iter().enumerate() {
        // Checked before the mutable borrow below, which would keep `item` borrowed here.
        if !item.is_table_like() {
            return Reach::NotATable {
                depth,
                type_name: item.type_name(),
            };
        }
        match item
            .as_table_like_mut()
            .and_then(|table| table.get_mut(segment))
        {
            Some(next) => item = next,
            None => return Reach::Missing { depth },
        }
    }
    Reach::Found(item)
}

/// The item at `path`, looking through tables, inline tables and dotted keys alike (use as_table_like()).
pub fn get<'a>(doc: &'a DocumentMut, path: &[String]) -> Option<&'a Item> {
    walk(doc.as_item(), path).found()
}

/// The mutable item at `path`, looking through tables, inline tables and dotted keys alike.
pub(super) fn get_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> Option<&'a mut Item> {
    walk_mut(doc.as_item_mut(), path).found()
}

/// Why a path stops at `reached`: "`a.b` is a string, not a table".
pub(super) fn not_a_table(reached: &[String], type_name: &str) -> String {
    format!(
        "`{}` is {}, not a table",
        dotted(reached),
        with_article(type_name)
    )
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
    use toml_edit::Value;

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
    // ---- walk ----

    const WALKED: &str = r#"top = 1
[g]
limits = { max = 1, inner = { deep = "x" } }
skip.apis = ["a.xml"]
name = "gw"

[[env]]
id = 1
"#;

    /// Where `key` leads in `text`: a value as written, or the kind of item that is not a value.
    fn reach(text: &str, key: &str) -> Reach<String> {
        let doc = parse(text, FILE).unwrap();
        match walk(doc.as_item(), &path(key)) {
            Reach::Found(item) => Reach::Found(item.as_value().map_or_else(
                || item.type_name().to_owned(),
                |value| value.to_string().trim().to_owned(),
            )),
            Reach::Missing { depth } => Reach::Missing { depth },
            Reach::NotATable { depth, type_name } => Reach::NotATable { depth, type_name },
        }
    }

    fn found(text: &str) -> Reach<String> {
        Reach::Found(text.to_owned())
    }

    #[test]
    fn walk_reaches_through_inline_tables() {
        assert_eq!(reach(WALKED, "g.limits.max"), found("1"));
        assert_eq!(reach(WALKED, "g.limits.inner.deep"), found("\"x\""));
        assert_eq!(
            reach(WALKED, "g.limits.inner.other"),
            Reach::Missing { depth: 3 }
        );
    }

    #[test]
    fn walk_reaches_through_dotted_keys() {
        assert_eq!(reach(WALKED, "g.skip.apis"), found("[\"a.xml\"]"));
        assert_eq!(reach(WALKED, "g.skip"), found("table"));
        assert_eq!(
            reach(WALKED, "g.skip.sequences"),
            Reach::Missing { depth: 2 }
        );
    }

    #[test]
    fn walk_stops_at_a_value_where_a_table_was_expected() {
        assert_eq!(
            reach(WALKED, "g.name.first"),
            Reach::NotATable {
                depth: 2,
                type_name: "string"
            }
        );
        assert_eq!(
            reach(WALKED, "top.a.b"),
            Reach::NotATable {
                depth: 1,
                type_name: "integer"
            }
        );
        assert_eq!(
            reach(WALKED, "g.limits.max.x"),
            Reach::NotATable {
                depth: 3,
                type_name: "integer"
            }
        );
        // An array of tables holds tables, but no keys of its own.
        assert_eq!(
            reach(WALKED, "env.id"),
            Reach::NotATable {
                depth: 1,
                type_name: "array of tables"
            }
        );
        // The last segment may be anything.
        assert_eq!(reach(WALKED, "env"), found("array of tables"));
    }

    #[test]
    fn walk_reports_the_first_missing_segment() {
        assert_eq!(reach(WALKED, "nope"), Reach::Missing { depth: 0 });
        assert_eq!(reach(WALKED, "g.nope.deeper"), Reach::Missing { depth: 1 });
        let doc = parse(WALKED, FILE).unwrap();
        assert!(walk(doc.as_item(), &[]).found().unwrap().is_table());
    }

    /// A reach with the item replaced by its kind, to compare [`walk`] with [`walk_mut`].
    fn shape<T: std::ops::Deref<Target = Item>>(reach: Reach<T>) -> Reach<&'static str> {
        match reach {
            Reach::Found(item) => Reach::Found(item.type_name()),
            Reach::Missing { depth } => Reach::Missing { depth },
            Reach::NotATable { depth, type_name } => Reach::NotATable { depth, type_name },
        }
    }

    #[test]
    fn walk_mut_goes_where_walk_goes() {
        let mut doc = parse(WALKED, FILE).unwrap();
        for key in [
            "g.limits.inner.deep",
            "g.skip.apis",
            "g.skip.sequences",
            "g.name.first",
            "env.id",
            "nope",
        ] {
            let seen = shape(walk(doc.as_item(), &path(key)));
            let changed = shape(walk_mut(doc.as_item_mut(), &path(key)));
            assert_eq!(seen, changed, "{key}");
        }
        let max = walk_mut(doc.as_item_mut(), &path("g.limits.max"))
            .found()
            .unwrap();
        *max = Item::Value(Value::from(2));
        assert_eq!(
            get(&doc, &path("g.limits.max")).unwrap().as_integer(),
            Some(2)
        );
    }
}
