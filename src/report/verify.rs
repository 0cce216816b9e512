//! The report of `verify`: each problem with its file, line and what to do, then a summary.

use super::style::{paint, FINDING, GOOD, HEADING, QUIET, SUMMARY};
use crate::pack::verify::{Problem, CHECKS};
use crate::pack::Pack;
use crate::text::wrap;

pub fn print(pack: &Pack, problems: &[Problem]) {
    crate::outln!(
        "{} {}  {} {}",
        paint(HEADING, "verify"),
        pack.home.display(),
        pack.product.short_name(),
        pack.version
    );
    for problem in problems {
        let place = match problem.line {
            Some(line) => format!("{}:{line}", problem.file),
            None => problem.file.clone(),
        };
        crate::outln!(
            "  {} {:<20} {place}",
            paint(FINDING, "problem"),
            problem.check
        );
        crate::outln!("{}", wrap(&problem.message, "           ", "           "));
        crate::outln!(
            "{}",
            paint(
                QUIET,
                &wrap(
                    &format!("fix: {}", problem.fix),
                    "           ",
                    "                "
                )
            )
        );
    }
    if problems.is_empty() {
        crate::outln!(
            "{} ({} checks: {})",
            paint(GOOD, "no problems found"),
            CHECKS.len(),
            CHECKS.join(", ")
        );
    } else {
        crate::outln!(
            "{}",
            paint(
                SUMMARY,
                &format!(
                    "{} problem{} found: fix {} before the first start",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    if problems.len() == 1 { "it" } else { "them" }
                )
            )
        );
    }
}
