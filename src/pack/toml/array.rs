//! Appending a string to an array in the array's own layout.

use toml_edit::{Array, RawString, Value};

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
pub(super) fn push_string(array: &mut Array, name: &str) {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Arrays are appended to by the skip-list merge, so these tests go through it.

    use crate::pack::toml::fixtures::*;
    use crate::pack::toml::SkipKind;

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
}
