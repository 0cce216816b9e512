//! `docs [NAME]`: the primitives scripts can call, with an example each.

use crate::cli::DocsArgs;
use crate::error::{CommandResult, Failure};
use crate::primitives;

pub fn docs(args: &DocsArgs) -> CommandResult {
    let docs = primitives::docs();
    let selected: Vec<_> = match &args.name {
        Some(name) => {
            let found: Vec<_> = docs.iter().filter(|doc| doc.name == name).collect();
            if found.is_empty() {
                let names: Vec<&str> = docs.iter().map(|doc| doc.name).collect();
                return Err(Failure::bad_input(format!(
                    "no primitive `{name}`; known: {}",
                    names.join(", ")
                )));
            }
            found
        }
        None => docs.iter().collect(),
    };
    for (index, doc) in selected.iter().enumerate() {
        if index > 0 {
            crate::outln!();
        }
        crate::out!("{}", primitives::render_doc(doc));
    }
    Ok(())
}
