//! `detect DIR...`: what each directory is and what a migration must carry over.

use crate::cli::DetectArgs;
use crate::error::CommandResult;
use crate::pack::stock::Catalogue;
use crate::pack::Pack;
use anyhow::Context;

pub fn detect(args: &DetectArgs) -> CommandResult {
    let catalogue = Catalogue::with_files(&args.stock)?;
    let mut detections = Vec::new();
    for dir in &args.dirs {
        let pack = Pack::identify(dir)?;
        detections.push(
            crate::pack::detect::detect(&pack, &catalogue)
                .with_context(|| format!("cannot inspect `{}`", pack.home.display()))?,
        );
    }
    if args.json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&detections).unwrap_or_default()
        );
    } else {
        let texts: Vec<String> = detections
            .iter()
            .map(|detection| detection.human())
            .collect();
        crate::out!("{}", texts.join("\n"));
    }
    Ok(())
}
