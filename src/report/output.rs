//! Writing to stdout: a closed pipe (`apim-migrate docs | head`) ends the program quietly
//! instead of panicking, as `println!` would.

use std::io::Write;

/// Writes `text` to stdout as is.
pub fn text(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(i32::from(crate::error::EXIT_BAD_INPUT));
    }
}

/// `println!` that survives a closed pipe.
#[macro_export]
macro_rules! outln {
    () => { $crate::report::output::text("\n") };
    ($($arg:tt)*) => { $crate::report::output::text(&format!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that survives a closed pipe.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::report::output::text(&format!($($arg)*)) };
}
