//! `defs DIR`: Rhai definition files for editors.

use crate::cli::DefsArgs;
use crate::error::CommandResult;

/// `defs DIR`: the definition files for editors, and where they went.
pub fn defs(args: &DefsArgs) -> CommandResult {
    let written = crate::authoring::defs::write(&args.dir)?;
    crate::outln!(
        "wrote {} Rhai definition files into `{}`, for the Rhai language server of your editor:",
        written.len(),
        args.dir.display()
    );
    for (path, bytes) in written {
        crate::outln!("  {} ({bytes} bytes)", path.display());
    }
    Ok(())
}
