//! The outcomes that decide the exit code: bad input (2), a failed, undone run (1), and work
//! stopped by SIGINT or SIGTERM (130).

use std::fmt;

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
    /// SIGINT or SIGTERM stopped the work at a boundary; the message says what became of
    /// what it had done (taken back, or what to run to finish).
    Interrupted(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => EXIT_BAD_INPUT,
            Failure::RunFailed(_) => EXIT_RUN_FAILED,
            Failure::Interrupted(_) => crate::interrupt::EXIT_INTERRUPTED,
        }
    }

    /// The error inside.
    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::BadInput(error) | Failure::RunFailed(error) | Failure::Interrupted(error) => {
                error
            }
        }
    }

    pub fn bad_input(message: impl fmt::Display) -> Self {
        Failure::BadInput(anyhow::anyhow!("{message}"))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::BadInput(error) | Failure::RunFailed(error) | Failure::Interrupted(error) => {
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

/// `Result` for commands.
pub type CommandResult<T = ()> = Result<T, Failure>;
