//! `check SCRIPT...`: scripts checked without touching any pack.

use crate::cli::CheckArgs;
use crate::error::{CommandResult, Failure};

pub fn check(args: &CheckArgs) -> CommandResult {
    let checked = crate::authoring::check::check(&args.scripts);
    let mut problems = 0;
    let mut failing = 0;
    for script in &checked {
        if script.errors.is_empty() {
            crate::outln!("ok: {}", script.script);
            continue;
        }
        failing += 1;
        for error in &script.errors {
            problems += 1;
            crate::report::output::error_text(&format!(
                "{}: {error}\n\n",
                crate::report::style::paint(crate::report::style::ERROR, "error")
            ));
        }
    }
    if problems == 0 {
        return Ok(());
    }
    Err(Failure::bad_input(format!(
        "{problems} problem{} in {failing} of {} script{}; nothing was run",
        if problems == 1 { "" } else { "s" },
        checked.len(),
        if checked.len() == 1 { "" } else { "s" }
    )))
}
