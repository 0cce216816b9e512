//! `path FROM TO`: how one API-M version goes to another with the bundled scripts.

use crate::cli::PathArgs;
use crate::error::{CommandResult, Failure};
use crate::report::document;
use crate::script::paths;
use crate::text::wrap;
use std::fmt::Write as _;

pub fn path(args: &PathArgs) -> CommandResult {
    let route = paths::route(args.from.trim(), args.to.trim()).map_err(Failure::BadInput)?;
    if args.json {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            from: &'a str,
            to: &'a str,
            route: &'a str,
            via: Option<&'a str>,
            script: &'a str,
            steps: &'a [paths::Step],
            run_command: String,
            key_manager: Option<&'a str>,
            notes: &'a [String],
        }
        let body = Body {
            from: &route.from,
            to: &route.to,
            route: if route.via.is_some() {
                "through"
            } else {
                "direct"
            },
            via: route.via.as_deref(),
            script: route.script,
            steps: &route.steps,
            run_command: command(&route),
            key_manager: route.key_manager,
            notes: &route.notes,
        };
        crate::report::output::document(&document::render("path", document::OK, &body, None));
        return Ok(());
    }
    let mut out = String::new();
    let how = match &route.via {
        Some(via) => format!("through {via}, in two steps with {via}'s data migration between"),
        None => "directly, in one run".to_string(),
    };
    let _ = writeln!(out, "API-M {} to {}: {how}", route.from, route.to);
    let _ = writeln!(out, "  script       {}", route.script);
    let _ = writeln!(out, "  command      {}", command(&route));
    if route.via.is_some() {
        let _ = writeln!(
            out,
            "               (stops at a checkpoint for the data migration; the same command with --continue goes on)"
        );
        let steps: Vec<String> = route
            .steps
            .iter()
            .enumerate()
            .map(|(index, step)| {
                format!(
                    "{}. {} ({} to {})",
                    index + 1,
                    step.script,
                    step.from,
                    step.to
                )
            })
            .collect();
        let _ = writeln!(out, "  or by step   {}", steps.join("  "));
    }
    let key_manager = match route.key_manager {
        Some(version) => format!("WSO2 IS {version} (--km)"),
        None => "none named by WSO2's guides (--km is refused)".to_string(),
    };
    let _ = writeln!(out, "  key manager  {key_manager}");
    let _ = writeln!(out, "what is special");
    for note in &route.notes {
        let _ = writeln!(out, "{}", wrap(note, "  - ", "    "));
    }
    crate::out!("{out}");
    Ok(())
}

/// The `run` command of the whole path, with placeholders for the packs.
fn command(route: &paths::Route) -> String {
    let via = route
        .via
        .as_ref()
        .map(|via| format!(" --via <fresh {via} pack>"))
        .unwrap_or_default();
    format!(
        "apim-migrate run {} --old <{} pack>{via} --new <{} pack>",
        route.script, route.from, route.to
    )
}
