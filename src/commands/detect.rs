//! `detect DIR...`: what each directory is and what a migration must carry over.

use crate::cli::DetectArgs;
use crate::error::{CommandResult, Failure};
use crate::pack::stock::Catalogue;
use crate::pack::Pack;
use anyhow::Context;

pub fn detect(args: &DetectArgs) -> CommandResult {
    let catalogue = Catalogue::with_files(&args.stock)?;
    let mut detections = Vec::new();
    for dir in &args.dirs {
        let pack = Pack::identify(dir)
            .map_err(|error| Failure::bad_input_in(dir, format!("{error:#}")))?;
        detections.push(
            crate::pack::detect::detect(&pack, &catalogue)
                .with_context(|| format!("cannot inspect `{}`", pack.home.display()))?,
        );
    }
    if args.json {
        crate::report::output::document(&crate::report::document::render(
            "detect",
            crate::report::document::OK,
            &serde_json::json!({ "packs": detections }),
            None,
        ));
    } else {
        let texts: Vec<String> = detections
            .iter()
            .map(|detection| detection.human())
            .collect();
        crate::out!("{}", texts.join("\n"));
    }
    Ok(())
}
