//! The one shape of every `--json` document: `schema` (this format's version), `command`,
//! `outcome`, the command's own fields, and `error` (null, or what went wrong: the message,
//! the exit code, and the file, line and column where known). Every command that takes
//! `--json` prints exactly one such document on stdout, whatever happens; a failure before
//! the command could print its own is an error document (`outcome: "error"`). A new command
//! builds its document with `render` and so follows the same conventions (docs/json.md).

use crate::error::Failure;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The version of the document format; raised when a field changes meaning or goes away
/// (new fields may appear without it).
pub const SCHEMA: u32 = 1;

/// The `outcome` of a command that ended in an error (exit 1 or 2) with no document of its
/// own.
pub const ERROR: &str = "error";
/// The `outcome` of a command that only reads and reports (`history`, `show`, `detect`,
/// `scripts`).
pub const OK: &str = "ok";
/// Nothing was left to do (a finished chain run again, a rollback with nothing to take back).
pub const NOTHING_TO_DO: &str = "nothing to do";
/// The command did what was asked (a run applied, a rollback done).
pub const DONE: &str = "done";

/// What went wrong, for machines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The message, as printed after `error: ` on stderr.
    pub message: String,
    /// The exit code: 2 bad input (nothing changed), 1 a run that failed and was taken back
    /// (or was not confirmed).
    pub exit_code: u8,
    /// The file the error is about, where known: a pack directory, a malformed
    /// deployment.toml, a script, an inventory, a plan file, the file a failed run stopped at.
    pub file: Option<PathBuf>,
    /// The line and column in `file`, where known (a script error, a TOML error).
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl ErrorInfo {
    /// What went wrong in `failure`, with the file the first error of its chain that names
    /// one names (`error::InFile`, a TOML error, a script error).
    pub fn of(failure: &Failure) -> ErrorInfo {
        let mut info = ErrorInfo {
            message: failure.to_string(),
            exit_code: failure.exit_code(),
            file: None,
            line: None,
            column: None,
        };
        for cause in failure.error().chain() {
            if let Some(in_file) = cause.downcast_ref::<crate::error::InFile>() {
                info.file = Some(in_file.file.clone());
            } else if let Some(toml) = cause.downcast_ref::<crate::pack::toml::TomlError>() {
                info.file = Some(PathBuf::from(&toml.file));
                info.line = Some(toml.line);
                info.column = Some(toml.column);
            } else if let Some(script) = cause.downcast_ref::<crate::engine::ScriptError>() {
                info.file = script.file.as_deref().cloned();
                if !script.about_input {
                    info.line = script.line;
                    info.column = script.column;
                }
            } else {
                continue;
            }
            break;
        }
        info
    }

    /// A failure described by its message alone (a run's error kept as text).
    pub fn message(message: &str, exit_code: u8, file: Option<PathBuf>) -> ErrorInfo {
        ErrorInfo {
            message: message.to_string(),
            exit_code,
            file,
            line: None,
            column: None,
        }
    }
}

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema: u32,
    command: &'a str,
    outcome: &'a str,
    #[serde(flatten)]
    body: &'a T,
    error: Option<&'a ErrorInfo>,
}

/// The document of `command`: the head (`schema`, `command`, `outcome`), then `body`'s fields
/// (a struct or map, which must not have those names nor `error`), then `error`.
pub fn render<T: Serialize>(
    command: &str,
    outcome: &str,
    body: &T,
    error: Option<&ErrorInfo>,
) -> String {
    let document = Document {
        schema: SCHEMA,
        command,
        outcome,
        body,
        error,
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|error| {
        // Only a map with non-string keys fails here; the message still has the shape.
        format!(
            "{{\"schema\": {SCHEMA}, \"command\": {}, \"outcome\": \"error\", \"error\": {{\"message\": {}, \"exit_code\": 1, \"file\": null, \"line\": null, \"column\": null}}}}",
            serde_json::Value::from(command),
            serde_json::Value::from(format!("cannot encode the document: {error}"))
        )
    })
}

/// Writes the same document as `render` to `writer` as it is serialised, for documents too
/// large to hold whole (a run's stored report), without indentation: half the bytes of the
/// indented text and twice as fast to write (`show` indents it again as it prints it).
pub fn write<T: Serialize>(
    writer: &mut dyn std::io::Write,
    command: &str,
    outcome: &str,
    body: &T,
    error: Option<&ErrorInfo>,
) -> std::io::Result<()> {
    let document = Document {
        schema: SCHEMA,
        command,
        outcome,
        body,
        error,
    };
    // Serialised into a buffer of its own type: the serialiser's many small writes (each
    // key, quote and comma) are then copies, not calls through `writer`.
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, writer);
    serde_json::to_writer(&mut buffered, &document).map_err(std::io::Error::other)?;
    std::io::Write::flush(&mut buffered)
}

/// The document of a command that failed before it had one of its own.
pub fn error_document(command: &str, failure: &Failure) -> String {
    render(
        command,
        ERROR,
        &serde_json::Map::new(),
        Some(&ErrorInfo::of(failure)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_written_as_it_is_serialised_is_the_rendered_one_on_one_line() {
        let body = serde_json::json!({"actions": [{"path": "a\u{1b}b", "seq": 1}], "n": 2});
        let mut written = Vec::new();
        write(&mut written, "run", "changed", &body, None).expect("written");
        let written = String::from_utf8(written).expect("UTF-8");
        assert!(!written.contains('\n'), "{written}");
        let parsed: serde_json::Value = serde_json::from_str(&written).expect("json");
        let rendered: serde_json::Value =
            serde_json::from_str(&render("run", "changed", &body, None)).expect("json");
        assert_eq!(parsed, rendered);
    }

    #[test]
    fn an_error_document_has_the_head_and_the_file() {
        let failure = Failure::bad_input_in("/opt/pack", "--new: cannot open `/opt/pack`");
        let document: serde_json::Value =
            serde_json::from_str(&error_document("run", &failure)).expect("json");
        assert_eq!(document["schema"], SCHEMA);
        assert_eq!(document["command"], "run");
        assert_eq!(document["outcome"], "error");
        assert_eq!(document["error"]["exit_code"], 2);
        assert_eq!(document["error"]["file"], "/opt/pack");
        assert_eq!(
            document["error"]["message"],
            "--new: cannot open `/opt/pack`"
        );
    }

    #[test]
    fn the_body_comes_between_the_head_and_the_error() {
        let text = render("history", OK, &serde_json::json!({"runs": []}), None);
        let order: Vec<usize> = [
            "\"schema\"",
            "\"command\"",
            "\"outcome\"",
            "\"runs\"",
            "\"error\"",
        ]
        .iter()
        .map(|key| text.find(key).expect(key))
        .collect();
        assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    }
}
