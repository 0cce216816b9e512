//! The colours of the human output, in one place: what a change, a failure, a warning, a
//! finding, a heading and the summary look like. Text is styled with `anstyle` escapes
//! always; `output` keeps or strips them per stream (`--color`, `NO_COLOR`, a terminal or
//! not), so nothing here decides whether colour is shown.

use anstyle::{AnsiColor, Effects, Style};

/// A file created.
pub const CREATE: Style = AnsiColor::Green.on_default();
/// A file replaced or edited.
pub const REPLACE: Style = AnsiColor::Yellow.on_default();
/// Nothing to do, or left alone on purpose.
pub const QUIET: Style = Style::new().effects(Effects::DIMMED);
/// A failure, and the `error:` of an error.
pub const ERROR: Style = AnsiColor::Red.on_default().effects(Effects::BOLD);
/// The `warning` heading and the `!` of each warning.
pub const WARNING: Style = AnsiColor::Yellow.on_default().effects(Effects::BOLD);
/// The `findings` heading and the `*` of each finding.
pub const FINDING: Style = AnsiColor::Magenta.on_default().effects(Effects::BOLD);
/// Reminders and checkpoints: something for the operator to do.
pub const TODO: Style = AnsiColor::Cyan.on_default().effects(Effects::BOLD);
/// Headings (a primitive's group, a step).
pub const HEADING: Style = Style::new().effects(Effects::BOLD);
/// The summary line.
pub const SUMMARY: Style = Style::new().effects(Effects::BOLD);
/// A good ending: done, complete.
pub const GOOD: Style = AnsiColor::Green.on_default().effects(Effects::BOLD);

/// `text` in `style`.
pub fn paint(style: Style, text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    format!("{style}{text}{style:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn painted_text_is_wrapped_in_the_style_and_a_reset() {
        assert_eq!(paint(ERROR, "error"), "\u{1b}[1m\u{1b}[31merror\u{1b}[0m");
        assert_eq!(paint(ERROR, ""), "");
    }
}
