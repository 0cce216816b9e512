//! Script errors, located in their source and rendered with the line and a caret.

use super::{MAX_ARRAY_SIZE, MAX_CALL_LEVELS, MAX_MAP_SIZE, MAX_OPERATIONS, MAX_STRING_SIZE};
use crate::script::Script;
use rhai::{EvalAltResult, Position};
use std::cell::RefCell;
use std::path::PathBuf;

/// A script error located in its source, rendered with the line and a caret; or an error
/// about a file of a pack that a primitive met (a malformed deployment.toml), which is the
/// pack's and not the script's, and so is one line, naming that file.
#[derive(Debug, Default)]
pub struct ScriptError {
    pub message: String,
    pub source_name: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub line_text: Option<String>,
    /// The file the error is about: the script read from a file, or a file of a pack (boxed:
    /// errors travel in `Result`s, which stay small).
    pub file: Option<Box<PathBuf>>,
    /// The error is about `file`, a file of a pack, not about the script.
    pub about_input: bool,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)?;
        if self.about_input {
            return Ok(());
        }
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "\n  --> {}:{line}:{column}", self.source_name)?;
            if let Some(text) = &self.line_text {
                let gutter = " ".repeat(line.to_string().len());
                write!(
                    f,
                    "\n{gutter} |\n{line} | {text}\n{gutter} | {}^",
                    " ".repeat(column.saturating_sub(1))
                )?;
            }
        } else {
            write!(f, "\n  --> {}", self.source_name)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

impl ScriptError {
    pub fn new(script: &Script, error: &EvalAltResult) -> ScriptError {
        // The outermost position is in the script the user wrote; the innermost error says
        // what actually went wrong (inside a function or a stdlib module).
        let position = error.position();
        let mut innermost = error;
        let mut trail = Vec::new();
        loop {
            match innermost {
                EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => {
                    if !name.starts_with("anon$") {
                        trail.push(format!("in `{name}`"));
                    }
                    innermost = inner;
                }
                EvalAltResult::ErrorInModule(name, inner, _) => {
                    trail.push(format!("in module `{name}`"));
                    innermost = inner;
                }
                _ => break,
            }
        }
        let mut message = match innermost {
            EvalAltResult::ErrorTooManyOperations(_) => format!(
                "the script ran more than {MAX_OPERATIONS} operations and was stopped (an endless loop?)"
            ),
            EvalAltResult::ErrorStackOverflow(_) => format!(
                "the script nested calls more than {MAX_CALL_LEVELS} deep and was stopped (runaway recursion?)"
            ),
            EvalAltResult::ErrorDataTooLarge(what, _) => format!(
                "{what} too large: the script was stopped (limits: strings {} MiB, arrays {} items, maps {} items)",
                MAX_STRING_SIZE / (1024 * 1024),
                MAX_ARRAY_SIZE,
                MAX_MAP_SIZE
            ),
            EvalAltResult::ErrorRuntime(value, _) => value.to_string(),
            EvalAltResult::ErrorTerminated(value, _) => value.to_string(),
            other => {
                // Rhai appends ` (line N, position M)`; the location is rendered separately.
                let text = other.to_string();
                match text.rsplit_once(" (line ") {
                    Some((head, _)) => head.to_string(),
                    None => text,
                }
            }
        };
        if let EvalAltResult::ErrorRuntime(value, _) = innermost {
            if let Some((text, file)) = take_input_error() {
                if text == value.to_string() {
                    return ScriptError {
                        message: text,
                        source_name: script.name.clone(),
                        file: Some(Box::new(file)),
                        about_input: true,
                        ..ScriptError::default()
                    };
                }
            }
        }
        if !trail.is_empty() {
            message = format!("{message} ({})", trail.join(", "));
        }
        ScriptError::at(script, message, position)
    }

    /// An error of `script` as a whole, with no position in it.
    pub fn whole(script: &Script, message: String) -> ScriptError {
        ScriptError {
            message,
            source_name: script.name.clone(),
            file: script.path.clone().map(Box::new),
            ..ScriptError::default()
        }
    }

    pub fn at(script: &Script, message: String, position: Position) -> ScriptError {
        let line = position.line();
        let column = position.position();
        ScriptError {
            message,
            source_name: script.name.clone(),
            file: script.path.clone().map(Box::new),
            about_input: false,
            line,
            column: line.map(|_| column.unwrap_or(1)),
            // An error at the end of the file (an unclosed block) is on the empty line after it.
            line_text: line.and_then(|line| {
                script
                    .source
                    .lines()
                    .nth(line - 1)
                    .map(str::to_string)
                    .or_else(|| (line == script.source.lines().count() + 1).then(String::new))
            }),
        }
    }
}

thread_local! {
    /// The last error of the host that was about a file of a pack, with that file: a script
    /// error with the same message is that error, reported as the pack's (see `ScriptError`).
    static INPUT_ERROR: RefCell<Option<(String, PathBuf)>> = const { RefCell::new(None) };
}

fn take_input_error() -> Option<(String, PathBuf)> {
    INPUT_ERROR.with(|slot| slot.borrow_mut().take())
}

/// Forgets an input error left by an earlier script (one it caught).
pub(crate) fn clear_input_error() {
    let _ = take_input_error();
}

/// Turns an error of the host into a script error at the call site. An error about a file
/// of a pack (a TOML error, an `error::InFile`) is remembered with its file, so that the
/// script error it becomes is reported as that file's.
pub fn script_error(error: anyhow::Error) -> Box<EvalAltResult> {
    let message = format!("{error:#}");
    let file = error.chain().find_map(|cause| {
        cause
            .downcast_ref::<crate::pack::toml::TomlError>()
            .map(|toml| PathBuf::from(&toml.file))
            .or_else(|| {
                cause
                    .downcast_ref::<crate::error::InFile>()
                    .map(|in_file| in_file.file.clone())
            })
    });
    if let Some(file) = file {
        INPUT_ERROR.with(|slot| *slot.borrow_mut() = Some((message.clone(), file)));
    }
    message.into()
}

/// Shorthand for primitives' results.
pub type ScriptResult<T> = Result<T, Box<EvalAltResult>>;
