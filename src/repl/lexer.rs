//! Just enough of Rhai's lexical structure for the line editor: where strings, comments and
//! brackets open and close. It tells whether a statement is complete (Enter runs it) or
//! continues on the next line, whether the cursor is inside a string (path completion), and
//! which call the cursor is in (the signature hint). The parser has the last word: anything
//! this scanner lets through is compiled by Rhai, which reports real errors.

/// What is still open at the end of the scanned text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Open {
    /// Unclosed brackets, innermost last: the bracket (`(`, `[`, `{`, or `$` for the `${` of
    /// an interpolation) and its byte offset.
    pub brackets: Vec<(char, usize)>,
    /// An unclosed string: its quote (`"`, `` ` `` or `'`) and the byte offset just after it.
    pub string: Option<(char, usize)>,
    /// Inside a `/* */` comment (Rhai nests them): how deep.
    pub comment: usize,
    /// The text ends with `\` inside a `"` string (Rhai's line continuation).
    pub continued: bool,
}

impl Open {
    /// Whether the statement goes on on the next line: an open bracket, a multi-line
    /// (backtick) string, a continued `"` string, or a block comment. A `"` string left open
    /// without `\` is an error Rhai reports at once (its strings do not span lines).
    pub fn incomplete(&self) -> bool {
        !self.brackets.is_empty()
            || self.comment > 0
            || matches!(self.string, Some(('`', _)))
            || self.continued
    }
}

/// Whether a statement typed so far goes on on the next line: something is open at its end
/// (a bracket, a multi-line string, a comment), or it ends where more must come (a trailing
/// operator: `x = 1 +`). `:` commands are one line.
pub fn needs_more(text: &str) -> bool {
    !text.trim_start().starts_with(':')
        && (scan(text).incomplete() || crate::engine::ends_early(text))
}

/// Scans `text` and says what is open at its end.
pub fn scan(text: &str) -> Open {
    let mut open = Open::default();
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if open.comment > 0 {
            if text[index..].starts_with("*/") {
                open.comment -= 1;
                index += 2;
            } else if text[index..].starts_with("/*") {
                open.comment += 1;
                index += 2;
            } else {
                index += 1;
            }
            continue;
        }
        if let Some((quote, _)) = open.string {
            match byte {
                b'\\' if quote != '`' => {
                    if index + 1 == bytes.len() {
                        open.continued = quote == '"';
                    }
                    index += 2;
                    continue;
                }
                b'$' if quote == '`' && text[index..].starts_with("${") => {
                    open.string = None;
                    open.brackets.push(('$', index));
                    index += 2;
                    continue;
                }
                _ if byte == quote as u8 => open.string = None,
                _ => {}
            }
            index += 1;
            continue;
        }
        match byte {
            b'/' if text[index..].starts_with("//") => {
                // A line comment runs to the end of the line.
                match text[index..].find('\n') {
                    Some(end) => index += end,
                    None => index = bytes.len(),
                }
                continue;
            }
            b'/' if text[index..].starts_with("/*") => {
                open.comment = 1;
                index += 2;
                continue;
            }
            b'"' | b'`' | b'\'' => open.string = Some((byte as char, index + 1)),
            b'(' | b'[' | b'{' => open.brackets.push((byte as char, index)),
            b')' | b']' => {
                let opening = if byte == b')' { '(' } else { '[' };
                if open
                    .brackets
                    .last()
                    .is_some_and(|(last, _)| *last == opening)
                {
                    open.brackets.pop();
                }
            }
            b'}' => match open.brackets.last() {
                Some(('{', _)) => {
                    open.brackets.pop();
                }
                Some(('$', _)) => {
                    // The end of an interpolation: back inside the backtick string.
                    open.brackets.pop();
                    open.string = Some(('`', index + 1));
                }
                _ => {}
            },
            _ => {}
        }
        index += 1;
    }
    if open.string.is_none() {
        open.continued = false;
    }
    open
}

/// The identifier (with `::` namespaces) that ends at `pos`, and where it starts.
pub fn word_before(line: &str, pos: usize) -> (usize, &str) {
    let head = &line[..pos];
    let start = head
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .last()
        .map_or(pos, |(index, _)| index);
    (start, &head[start..])
}

/// The name of the function whose argument list the cursor is in, if any (with its
/// namespace: `apim::path_hint`).
pub fn enclosing_call(line: &str, pos: usize) -> Option<&str> {
    let open = scan(&line[..pos]);
    let (_, at) = open
        .brackets
        .iter()
        .rev()
        .find(|(bracket, _)| *bracket == '(')?;
    let (start, name) = word_before(line, *at);
    (!name.is_empty() && start < *at).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_blocks_and_multiline_strings_continue_and_the_rest_is_complete() {
        assert!(scan("if x {").incomplete());
        assert!(scan("fn f(a,").incomplete());
        assert!(scan("let names = [\"a\",").incomplete());
        assert!(scan("let text = `first line").incomplete());
        assert!(scan("let text = \"first line \\").incomplete());
        assert!(scan("/* a comment").incomplete());
        assert!(needs_more("x = 1 +"));
        assert!(needs_more("let total = new.version +\n  old.version +"));
        assert!(!needs_more("x = 1 + 2"));
        assert!(!needs_more("copy_keystores(old, new);"));
        assert!(!needs_more(":plan x = 1 +"));
        assert!(!scan("if x { y }").incomplete());
        assert!(!scan("let s = \"{\";").incomplete());
        assert!(!scan("let s = '{';").incomplete());
        assert!(!scan("// if x {").incomplete());
        assert!(
            !scan("let s = \"unclosed").incomplete(),
            "Rhai reports it at once"
        );
        assert!(!scan("let s = `a ${ 1 + 2 } b`;").incomplete());
        assert!(scan("let s = `a ${ f(").incomplete());
        assert!(!scan("/* a /* nested */ comment */ x").incomplete());
        assert!(
            !scan("if x { y }}").incomplete(),
            "too many closers: Rhai says so"
        );
    }

    #[test]
    fn an_open_string_is_found_with_its_start() {
        let open = scan("copy_file(old, \"repository/co");
        assert_eq!(open.string, Some(('"', 16)));
        assert_eq!(scan("x(\"a\", \"b\")").string, None);
    }

    #[test]
    fn the_enclosing_call_is_the_innermost_open_one() {
        assert_eq!(
            enclosing_call("copy_keystores(old, ", 20),
            Some("copy_keystores")
        );
        assert_eq!(
            enclosing_call("set_toml(new, read_toml(old, \"a\"), ", 35),
            Some("set_toml")
        );
        assert_eq!(
            enclosing_call("set_toml(new, read_toml(old, ", 29),
            Some("read_toml")
        );
        assert_eq!(
            enclosing_call("apim::path_hint(", 16),
            Some("apim::path_hint")
        );
        assert_eq!(enclosing_call("let x = (1 + ", 13), None);
        assert_eq!(enclosing_call("copy_keystores(old, new)", 24), None);
    }

    #[test]
    fn the_word_before_the_cursor_includes_namespaces() {
        assert_eq!(word_before("let a = copy_key", 16), (8, "copy_key"));
        assert_eq!(word_before("apim::pa", 8), (0, "apim::pa"));
        assert_eq!(word_before("x(", 2), (2, ""));
    }
}
