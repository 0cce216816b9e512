//! The outcomes that decide the exit code: bad input (2), a failed, undone run (1), and work
//! stopped by SIGINT or SIGTERM (130).

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit code for bad usage or bad input found before anything changed.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code for a run that failed while applying and was taken back.
pub const EXIT_RUN_FAILED: u8 = 1;

/// An error whose kind decides the exit code. Everything else travels as `anyhow::Error`
/// and is wrapped into one of these at the command boundary.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or bad input, found before any pack was changed.
    BadInput(anyhow::Error),
    /// Applying failed; whatever had been applied was taken back (or the message says
    /// what could not be).
    RunFailed(anyhow::Error),
    /// The operator did not confirm the plan at the prompt: nothing was changed.
    NotConfirmed(anyhow::Error),
    /// SIGINT or SIGTERM stopped the work at a boundary; the message says what became of
    /// what it had done (taken back, or what to run to finish).
    Interrupted(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => EXIT_BAD_INPUT,
            Failure::RunFailed(_) | Failure::NotConfirmed(_) => EXIT_RUN_FAILED,
            Failure::Interrupted(_) => crate::interrupt::EXIT_INTERRUPTED,
        }
    }

    pub fn bad_input(message: impl fmt::Display) -> Self {
        Failure::BadInput(anyhow::anyhow!("{message}"))
    }

    /// Bad input about one file: the message says it, and `--json` names the file.
    pub fn bad_input_in(file: impl Into<PathBuf>, message: impl fmt::Display) -> Self {
        Failure::BadInput(anyhow::Error::new(InFile {
            file: file.into(),
            message: message.to_string(),
        }))
    }

    /// The same failure, about `file` when it names no file yet (for `--json`).
    pub fn in_file(self, file: &Path) -> Failure {
        match self {
            Failure::BadInput(error) if file_of(&error).is_none() => {
                Failure::BadInput(anyhow::Error::new(InFile {
                    file: file.to_path_buf(),
                    message: format!("{error:#}"),
                }))
            }
            other => other,
        }
    }

    /// The error, whatever the kind.
    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::BadInput(error)
            | Failure::RunFailed(error)
            | Failure::NotConfirmed(error)
            | Failure::Interrupted(error) => error,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BadInput(error)
            | Failure::RunFailed(error)
            | Failure::NotConfirmed(error)
            | Failure::Interrupted(error) => {
                write!(f, "{error:#}")
            }
        }
    }
}

impl From<anyhow::Error> for Failure {
    /// Errors that reach the command boundary untyped happened before anything changed:
    /// the apply step types its own failures explicitly.
    fn from(error: anyhow::Error) -> Self {
        Failure::BadInput(error)
    }
}

/// An error about one file (a pack directory, an inventory, a plan file, a script, a file of
/// a pack): its message says what is wrong; `file` names the file for machines (`--json`).
/// Its `Display` is the message alone, so it reads the same as any other error.
#[derive(Debug)]
pub struct InFile {
    pub file: PathBuf,
    pub message: String,
}

impl fmt::Display for InFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InFile {}

/// The file an error is about, when an `InFile` in its chain names it.
pub fn file_of(error: &anyhow::Error) -> Option<&Path> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<InFile>())
        .map(|in_file| in_file.file.as_path())
}

/// `Result` for commands.
pub type CommandResult<T = ()> = Result<T, Failure>;
