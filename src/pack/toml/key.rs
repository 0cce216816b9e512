//! Dotted key paths: parsing them, naming them in messages, and finding what they lead to in a document.

use anyhow::{anyhow, bail};
use toml_edit::{DocumentMut, Item, Key};

use super::with_article;

/// Parses a dotted key path like `apim.sync_runtime_artifacts.gateway` or `a."b.c".d` (quoted segments may contain dots; both "..." and '...' quotes) into segments, with TOML's own key grammar. Errors on empty segments, unbalanced quotes and anything else TOML does not allow in a key.
pub fn parse_key_path(path: &str) -> anyhow::Result<Vec<String>> {
    let keys = Key::parse(path).map_err(|_| anyhow!("key path `{path}` {}", problem(path)))?;
    // TOML allows an empty quoted segment (`a.""`), but in a script it is nearly always a
    // variable that came out empty, so it is refused as it always was (see `key_path_errors`).
    if keys.iter().any(|key| key.get().is_empty()) {
        bail!("key path `{path}` has an empty segment");
    }
    Ok(keys.into_iter().map(|key| key.get().to_owned()).collect())
}

/// Why `toml_edit` refuses `path`, in the words this tool has always used, such as "has an
/// empty segment". toml_edit says where it stopped but not in words to show; its message's
/// kind, what stands there and what came before it tell which mistake it is. The unit tests
/// below pin every case, so a toml_edit that words its messages differently shows up there.
fn problem(path: &str) -> String {
    let (at, message) = stop(path);
    // Reading left to right, the first segment that is empty is the first problem.
    if read_before(path, at).iter().any(|key| key.get().is_empty()) {
        return "has an empty segment".to_owned();
    }
    if message.contains("recursion limit") {
        return "has more segments than a TOML file can nest".to_owned();
    }
    let found = path[at..].chars().next();
    // The escape is the one whose backslash comes last before the place toml_edit stopped.
    let escape = || {
        let backslash = path[..at].rfind('\\').map_or(at, |i| i + 1);
        path[backslash..].chars().next().unwrap_or('\\')
    };
    for (string, quote) in [
        ("invalid basic string", '"'),
        ("invalid literal string", '\''),
    ] {
        if message.starts_with(string) {
            return match found {
                Some(c) if c.is_control() && c != '\t' => format!(
                    "has a control character (`{}`) in a quoted segment, which TOML allows only as an escape",
                    c.escape_debug()
                ),
                _ => format!("has an unbalanced `{quote}` quote"),
            };
        }
    }
    if message.starts_with("invalid escape sequence") {
        return format!("has an unknown escape `\\{}`", escape());
    }
    if message.starts_with("invalid unicode") {
        return format!("has an invalid `\\{}` escape", escape());
    }
    let before = &path[..at];
    match found {
        None | Some('.') => "has an empty segment".to_owned(),
        Some(c) if before.trim_end_matches([' ', '\t']).ends_with(['"', '\'']) => {
            format!("has an unexpected `{c}` after a quoted segment")
        }
        Some(c @ ('"' | '\'')) => format!("has an unbalanced `{c}` quote"),
        Some(c) => {
            let what = match before.chars().next_back() {
                Some(' ') => "a space".to_owned(),
                Some('\t') => "a tab".to_owned(),
                _ => format!("`{}`", c.escape_debug()),
            };
            // The hand-written parser this replaced took any text up to a dot as a segment.
            // TOML takes only letters, digits, `-` and `_` without quotes; no test relied on
            // the laxer rule, so TOML's stands, with words that say how to fix the path.
            format!("has {what} in an unquoted segment, which TOML allows only in quoted ones")
        }
    }
}

/// Where `toml_edit` stops reading `path`, and its message. When a segment after a dot cannot
/// be read, toml_edit points at the dot, so the text after the dot is read again to find the
/// place in that segment.
fn stop(path: &str) -> (usize, String) {
    let mut from = 0;
    loop {
        let Err(error) = Key::parse(&path[from..]) else {
            return (path.len(), String::new());
        };
        let mut at = (from + error.span().map_or(0, |span| span.start)).min(path.len());
        while !path.is_char_boundary(at) {
            at -= 1;
        }
        let message = error.message().to_owned();
        if message.contains("recursion limit") {
            return (path.len(), message);
        }
        if message.is_empty() && path[at..].starts_with('.') {
            from = at + 1;
            continue;
        }
        return (at, message);
    }
}

/// The segments toml_edit read before it stopped at `at`: those of the longest start of
/// `path`, ending at `at` or at a dot before it, that is a key path of its own.
fn read_before(path: &str, at: usize) -> Vec<Key> {
    std::iter::once(at)
        .chain(path[..at].rmatch_indices('.').map(|(dot, _)| dot))
        .find_map(|end| Key::parse(&path[..end]).ok())
        .unwrap_or_default()
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

    fn key_error(path: &str) -> String {
        parse_key_path(path).unwrap_err().to_string()
    }

    #[test]
    fn key_path_errors_keep_their_words() {
        let cases = [
            ("a.\"b", "has an unbalanced `\"` quote"),
            ("a.\"b\\", "has an unbalanced `\"` quote"),
            ("a.'b", "has an unbalanced `'` quote"),
            ("a'b", "has an unbalanced `'` quote"),
            ("a.\"b\" c", "has an unexpected `c` after a quoted segment"),
            ("a.\"\\x\"", "has an unknown escape `\\x`"),
            ("a.\"\\ü\"", "has an unknown escape `\\ü`"),
            ("a.\"\\u12\"", "has an invalid `\\u` escape"),
            ("a.\"\\uD800\"", "has an invalid `\\u` escape"),
            ("a.\"\\U0000001\"", "has an invalid `\\U` escape"),
            ("a. .b", "has an empty segment"),
            // `''` and `""` are empty segments, not the start of a multi-line string.
            ("a.'''b'''", "has an empty segment"),
            ("a.\"\"\"b\"\"\"", "has an empty segment"),
            // Read left to right, the empty segment comes before the stray quote.
            ("a.\"\".b\"c", "has an empty segment"),
        ];
        for (path, problem) in cases {
            assert_eq!(key_error(path), format!("key path `{path}` {problem}"));
        }
    }

    #[test]
    fn key_path_unquoted_segments_hold_what_toml_allows() {
        assert_eq!(
            path("a-b_C9.'a b'.\"$x\""),
            strings(&["a-b_C9", "a b", "$x"])
        );
        assert_eq!(
            key_error("server.a b"),
            "key path `server.a b` has a space in an unquoted segment, which TOML allows only in quoted ones"
        );
        assert_eq!(
            key_error("a.$x"),
            "key path `a.$x` has `$` in an unquoted segment, which TOML allows only in quoted ones"
        );
        assert_eq!(
            key_error("é"),
            "key path `é` has `é` in an unquoted segment, which TOML allows only in quoted ones"
        );
    }

    #[test]
    fn key_path_quoted_segments_hold_what_toml_allows() {
        assert_eq!(
            key_error("a.\"b\u{1}\""),
            "key path `a.\"b\u{1}\"` has a control character (`\\u{1}`) in a quoted segment, which TOML allows only as an escape"
        );
        assert_eq!(path("a.\"b\\u0001\""), strings(&["a", "b\u{1}"]));
        assert_eq!(path("a.\"\\u00e9\""), strings(&["a", "é"]));
        // Only hex digits make a `\u` escape.
        assert_eq!(
            key_error("a.\"\\u+0e9\""),
            "key path `a.\"\\u+0e9\"` has an invalid `\\u` escape"
        );
    }

    #[test]
    fn key_path_depth_is_that_of_a_toml_file() {
        let deep = vec!["a"; 79].join(".");
        assert_eq!(path(&deep).len(), 79);
        let deeper = format!("{deep}.a");
        assert_eq!(
            key_error(&deeper),
            format!("key path `{deeper}` has more segments than a TOML file can nest")
        );
        assert!(parse(&format!("{deeper} = 1\n"), FILE).is_err());
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
