//! Writing to the terminal, with the conventions every command shares: `--quiet` (nothing but
//! errors: `out!`/`outln!` print nothing, `document` still prints the `--json` document that
//! was asked for), `--color` (styles are written as ANSI escapes and kept or stripped per
//! stream by `anstream`), at most one `--json` document per process, and a closed pipe
//! (`apim-migrate docs | head`) that ends the program quietly instead of panicking.

use anstream::{AutoStream, ColorChoice};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);
static DOCUMENT_PRINTED: AtomicBool = AtomicBool::new(false);
/// The resolved colour choice of stdout and stderr (`choice_code`); auto until `init`.
static STDOUT_COLOR: AtomicU8 = AtomicU8::new(AUTO);
static STDERR_COLOR: AtomicU8 = AtomicU8::new(AUTO);

const AUTO: u8 = 0;
const ALWAYS: u8 = 1;
const NEVER: u8 = 2;

/// Sets `--quiet` and `--color` for the rest of the process. `choice` is `Auto` (colour only
/// on a terminal, and not with `NO_COLOR`, as `anstream` decides per stream), `Always` or
/// `Never`.
pub fn init(choice: ColorChoice, quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let resolve = |auto: ColorChoice| match choice {
        ColorChoice::Auto => auto,
        other => other,
    };
    STDOUT_COLOR.store(
        choice_code(resolve(AutoStream::choice(&std::io::stdout()))),
        Ordering::Relaxed,
    );
    STDERR_COLOR.store(
        choice_code(resolve(AutoStream::choice(&std::io::stderr()))),
        Ordering::Relaxed,
    );
}

fn choice_code(choice: ColorChoice) -> u8 {
    match choice {
        ColorChoice::Never => NEVER,
        ColorChoice::Auto => AUTO,
        ColorChoice::Always | ColorChoice::AlwaysAnsi => ALWAYS,
    }
}

fn choice_of(code: &AtomicU8) -> ColorChoice {
    match code.load(Ordering::Relaxed) {
        ALWAYS => ColorChoice::Always,
        NEVER => ColorChoice::Never,
        _ => ColorChoice::Auto,
    }
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Whether stdout shows colour (for a caller that draws for a terminal itself, such as the
/// REPL's line editor).
pub fn stdout_has_color() -> bool {
    choice_of(&STDOUT_COLOR) == ColorChoice::Always
}

/// Whether stderr shows colour.
pub fn stderr_has_color() -> bool {
    choice_of(&STDERR_COLOR) == ColorChoice::Always
}

/// Writes `text` to stdout as is, unless `--quiet`.
pub fn text(text: &str) {
    if !quiet() {
        write_stdout(text);
    }
}

/// A `fmt::Write` that prints on stdout (as `text` does) whole lines some `CHUNK` bytes at a
/// time, and the rest when dropped: a long report is printed as it is drawn, never held
/// whole. (Whole lines: a colour's escape sequence is never cut in two.)
#[derive(Default)]
pub struct Chunked {
    buffer: String,
}

impl Chunked {
    const CHUNK: usize = 64 * 1024;
}

impl std::fmt::Write for Chunked {
    fn write_str(&mut self, part: &str) -> std::fmt::Result {
        self.buffer.push_str(part);
        if self.buffer.len() >= Self::CHUNK {
            if let Some(end) = self.buffer.rfind('\n') {
                text(&self.buffer[..=end]);
                self.buffer.drain(..=end);
            }
        }
        Ok(())
    }
}

impl Drop for Chunked {
    fn drop(&mut self) {
        if !self.buffer.is_empty() {
            text(&self.buffer);
        }
    }
}

/// Prints a `--json` document (and a newline) on stdout, `--quiet` or not. A process prints
/// at most one: a second one (a command that printed its report, then failed) is dropped, so
/// that stdout always holds exactly one document.
pub fn document(json: &str) {
    if DOCUMENT_PRINTED.swap(true, Ordering::Relaxed) {
        return;
    }
    write_stdout(&format!("{json}\n"));
}

/// Whether a `--json` document was printed already.
pub fn document_printed() -> bool {
    DOCUMENT_PRINTED.load(Ordering::Relaxed)
}

fn write_stdout(text: &str) {
    // Buffered before stdout's own line buffer: without colour, the escapes are stripped by
    // writing the text between them one piece at a time, which stdout then wrote a line per
    // system call (13,000 of them for a report of 13,000 files).
    let choice = match choice_of(&STDOUT_COLOR) {
        ColorChoice::Auto => AutoStream::choice(&std::io::stdout()),
        choice => choice,
    };
    let buffered: Box<dyn Write> = Box::new(std::io::BufWriter::with_capacity(
        64 * 1024,
        std::io::stdout().lock(),
    ));
    let mut stdout = AutoStream::new(buffered, choice);
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        let _ = writeln!(
            AutoStream::new(std::io::stderr(), ColorChoice::Never),
            "error: cannot write to stdout: {error}"
        );
        std::process::exit(i32::from(crate::error::EXIT_BAD_INPUT));
    }
}

/// Writes `text` to stderr: errors always, `--quiet` or not.
pub fn error_text(text: &str) {
    let mut stderr = AutoStream::new(std::io::stderr().lock(), choice_of(&STDERR_COLOR));
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// Writes a warning (or a note) to stderr, unless `--quiet`.
pub fn warning_text(text: &str) {
    if !quiet() {
        error_text(text);
    }
}

/// `println!` that survives a closed pipe and keeps quiet under `--quiet`.
#[macro_export]
macro_rules! outln {
    () => { $crate::report::output::text("\n") };
    ($($arg:tt)*) => { $crate::report::output::text(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that survives a closed pipe and keeps quiet under `--quiet`.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::report::output::text(&format!($($arg)*)) };
}

/// A warning on stderr (`warning: ...`, styled), unless `--quiet`.
#[macro_export]
macro_rules! warnln {
    ($($arg:tt)*) => {
        $crate::report::output::warning_text(&format!(
            "{}: {}\n",
            $crate::report::style::paint($crate::report::style::WARNING, "warning"),
            format_args!($($arg)*)
        ))
    };
}
