//! Format-preserving reads and edits of WSO2 `deployment.toml` files: parsing with located errors, and the names the rest of the tool uses.

use std::fmt;

use toml_edit::DocumentMut;

mod array;
mod edit;
#[cfg(test)]
mod fixtures;
mod key;
mod settings;
mod skip_list;

pub use edit::set;
pub use key::{get, parse_key_path};
pub use settings::{
    display_path, entries, get_setting, keys_of, move_secrets_last, parse_setting_path, plain_key,
    same_value, secret_references, secrets_last, set_setting, settings, Seg, Setting,
};
pub use skip_list::{merge_skip_list, read_skip_lists, SkipKind, SkipListMerge};

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
    use crate::pack::toml::fixtures::*;

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
}
