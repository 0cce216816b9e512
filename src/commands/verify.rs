//! `verify DIR`: the pack checked before its first start; exit 0 clean, 1 problems found.

use crate::cli::VerifyArgs;
use crate::error::{CommandResult, Failure};
use crate::pack::stock::Catalogue;
use crate::pack::Pack;
use crate::report::document;

pub fn verify(args: &VerifyArgs) -> CommandResult<u8> {
    let catalogue = Catalogue::with_files(&args.stock)?;
    let pack = Pack::identify(&args.dir)
        .map_err(|error| Failure::bad_input_in(&args.dir, format!("{error:#}")))?;
    let problems = crate::pack::verify::verify(&pack, &catalogue)
        .map_err(|error| Failure::bad_input_in(&args.dir, format!("{error:#}")))?;
    let outcome = if problems.is_empty() {
        "clean"
    } else {
        "problems"
    };
    if args.json {
        let body = serde_json::json!({
            "pack": {
                "home": pack.home,
                "product": pack.product.short_name(),
                "version": pack.version,
            },
            "checks": crate::pack::verify::CHECKS,
            "problems": problems,
        });
        crate::report::output::document(&document::render("verify", outcome, &body, None));
    } else {
        crate::report::verify::print(&pack, &problems);
    }
    Ok(if problems.is_empty() { 0 } else { 1 })
}
