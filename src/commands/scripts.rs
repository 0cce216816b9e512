//! `scripts`: the bundled and site scripts listed, one shown, or a new one started.

use crate::cli::{NewArgs, ScriptsAction, ScriptsArgs};
use crate::error::CommandResult;
use crate::pack::Role;
use crate::script::{self, Script};
use crate::text::shell_word;
use std::path::Path;

pub fn scripts(args: &ScriptsArgs) -> CommandResult {
    match &args.action {
        Some(ScriptsAction::Show { name }) => {
            let script = Script::load(name)?;
            crate::out!("{}", script.source);
        }
        Some(ScriptsAction::New(args)) => new_script(args)?,
        None => list_scripts(&args.dir, args.json)?,
    }
    Ok(())
}

/// `scripts [--dir DIR] [--json]`: the bundled scripts, then the site scripts of DIR.
fn list_scripts(dir: &Path, json: bool) -> CommandResult {
    let bundled = script::listed_bundled();
    let local = script::listed_in(dir)?;
    let modules: Vec<&str> = script::STDLIB.iter().map(|(name, _)| *name).collect();
    if json {
        let body = serde_json::json!({
            "dir": dir,
            "scripts": bundled.iter().chain(&local).collect::<Vec<_>>(),
            "modules": modules,
        });
        crate::report::output::document(&crate::report::document::render(
            "scripts",
            crate::report::document::OK,
            &body,
            None,
        ));
        return Ok(());
    }
    crate::outln!(
        "bundled scripts (run one with `apim-migrate run NAME --old DIR --new DIR`; two-step paths also take `--via DIR`):"
    );
    for listed in &bundled {
        print_listed(listed);
    }
    if local.is_empty() {
        crate::outln!(
            "\nno site scripts (`*.rhai`) in `{}`; `apim-migrate scripts new NAME --from STANDARD` starts one",
            dir.display()
        );
    } else {
        crate::outln!(
            "\nsite scripts in `{}` (run one with `apim-migrate run PATH ...`):",
            dir.display()
        );
        for listed in &local {
            print_listed(listed);
        }
    }
    crate::outln!("\nbundled library modules (`import \"NAME\" as NAME;`):");
    for name in modules {
        crate::outln!("  {name}");
    }
    Ok(())
}

/// One script of the `scripts` listing: name (and path), description, packs, parameters.
fn print_listed(listed: &script::Listed) {
    const INDENT: &str = "      ";
    match &listed.path {
        Some(path) => crate::outln!("\n  {}  ({})", listed.name, path.display()),
        None => crate::outln!("\n  {}", listed.name),
    }
    if !listed.description.is_empty() {
        crate::outln!("{}", crate::text::wrap(&listed.description, INDENT, INDENT));
    }
    if let Some(error) = &listed.error {
        crate::outln!("{INDENT}error: {error}");
        return;
    }
    if let Some(based_on) = &listed.based_on {
        let now = match listed.standard_unchanged {
            Some(true) => "the bundled one is still the same",
            _ => "the bundled one has changed since",
        };
        crate::outln!(
            "{INDENT}based on: {} (sha256 {}) from apim-migrate {}; {now}",
            based_on.script,
            based_on.sha256,
            based_on.version
        );
    }
    if listed.accepts.is_empty() {
        crate::outln!("{INDENT}accepts:  not declared (the script's own checks decide)");
    } else {
        let accepts: Vec<String> = listed
            .accepts
            .iter()
            .map(|accepts| {
                format!(
                    "--{} {}{}",
                    accepts.role,
                    accepts.wanted(),
                    if accepts.optional { " (optional)" } else { "" }
                )
            })
            .collect();
        crate::outln!("{INDENT}accepts:  {}", accepts.join("; "));
    }
    match &listed.params {
        None => crate::outln!("{INDENT}params:   not declared (any --set is passed on)"),
        Some(params) if params.is_empty() => crate::outln!("{INDENT}params:   none"),
        Some(params) => {
            for (index, param) in params.iter().enumerate() {
                let label = if index == 0 { "params:  " } else { "         " };
                let text = if param.description.is_empty() {
                    String::new()
                } else {
                    format!("  {}", param.description)
                };
                crate::outln!("{INDENT}{label} {}={}{text}", param.name, param.default);
            }
        }
    }
}

/// `scripts new NAME [--from STANDARD] [--force]`: writes the script and says what comes next.
fn new_script(args: &NewArgs) -> CommandResult {
    let new = crate::authoring::scaffold::new_script(args.from.as_deref())?;
    let path = crate::authoring::scaffold::script_path(&args.name)?;
    crate::authoring::scaffold::write_script(&path, &new.source, args.force)?;
    let shown = shell_word(&path.display().to_string());
    match &new.based_on {
        Some(based_on) => crate::outln!(
            "wrote {}: {} (the body unchanged; its header names the standard and its SHA-256)",
            path.display(),
            based_on.line()
        ),
        None => crate::outln!(
            "wrote {}: a skeleton for the packs of `{}`, with a walk-through of the primitives",
            path.display(),
            crate::authoring::scaffold::DEFAULT_STANDARD
        ),
    }
    let mut packs = Vec::new();
    for role in Role::COMMAND_LINE {
        if let Some(accepts) = new.accepts.iter().find(|accepts| accepts.role == role) {
            let product = accepts.product.as_str();
            let version = accepts.versions.first().map(String::as_str).unwrap_or("");
            let flag = format!("--{role} /opt/{product}-{version}");
            packs.push(if accepts.optional {
                format!("[{flag}]")
            } else {
                flag
            });
        }
    }
    crate::outln!("next: describe it in its header and change what your site needs, then");
    crate::outln!("  apim-migrate check {shown}");
    crate::outln!("  apim-migrate plan {shown} {}", packs.join(" "));
    Ok(())
}
