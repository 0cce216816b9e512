//! `completions SHELL`: clap's completion script, which already offers the bundled script
//! names and the profile names (`cli::values`), made to offer `.rhai` files for SCRIPT too
//! where the shell's generated script would offer only the names: bash falls back to files
//! by itself; zsh gets a function with both; fish gets the names added beside its files. For
//! bash, the generated script is also mended where clap_complete misspells the state of a
//! subcommand of a binary whose name has a hyphen (clap-rs/clap#6421, open), without which
//! nothing after `apim-migrate COMMAND` would complete.

use crate::cli::{Cli, CompletionsArgs};
use crate::error::CommandResult;
use clap_complete::Shell;

pub fn completions(args: &CompletionsArgs) -> CommandResult {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "apim-migrate", &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    crate::out!("{}", with_site_scripts(args.shell, script));
    Ok(())
}

/// The bundled script names and the first clause of each description.
fn bundled() -> Vec<(&'static str, String)> {
    crate::script::BUNDLED
        .iter()
        .map(|(name, source)| {
            let description = crate::script::description_of(source);
            let summary = description.split(':').next().unwrap_or_default().trim();
            (*name, summary.to_string())
        })
        .collect()
}

/// `script` with `.rhai` files offered beside the bundled names for SCRIPT.
fn with_site_scripts(shell: Shell, script: String) -> String {
    match shell {
        Shell::Bash => bash(script),
        Shell::Zsh => zsh(script),
        Shell::Fish => fish(script),
        _ => script,
    }
}

/// bash: the case labels of subcommands spelled as the loop that picks them spells them
/// (`apim__migrate__subcmd__run`, not `apim__subcmd__migrate__subcmd__run`).
fn bash(script: String) -> String {
    script.replace("apim__subcmd__migrate", "apim__migrate")
}

/// zsh: each SCRIPT argument's list of names becomes a function that offers the names and
/// the `.rhai` files.
fn zsh(mut script: String) -> String {
    for spec in ["::script -- ", "::scripts -- "] {
        let mut from = 0;
        while let Some(found) = script[from..].find(spec) {
            let start = from + found;
            let (Some(open), Some(close)) =
                (script[start..].find(":(("), script[start..].find("))'"))
            else {
                break;
            };
            let (open, close) = (start + open, start + close + 2);
            script.replace_range(open..close, ":_apim_migrate_scripts");
            from = open;
        }
    }
    let names: Vec<String> = bundled()
        .iter()
        .map(|(name, summary)| format!("{name}\\:\"{}\"", summary.replace('"', "'")))
        .collect();
    let function = format!(
        "\n_apim_migrate_scripts() {{\n    _alternative \\\n        'scripts:bundled script:(({}))' \\\n        'files:site script:_files -g \"*.rhai\"'\n}}\n",
        names.join(" ")
    );
    match script.find("autoload -U is-at-least\n") {
        Some(at) => {
            let at = at + "autoload -U is-at-least\n".len();
            script.insert_str(at, &function);
            script
        }
        None => script + function.as_str(),
    }
}

/// fish: the bundled names offered for SCRIPT of `run`, `plan` and `check`, beside the files
/// fish offers anyway.
fn fish(mut script: String) -> String {
    let names: Vec<String> = bundled()
        .iter()
        .map(|(name, summary)| format!("{name}\\t'{}'", summary.replace('\'', "")))
        .collect();
    script.push_str("\n# SCRIPT: the bundled scripts, beside the site scripts (files).\n");
    for command in ["run", "plan", "check"] {
        script.push_str(&format!(
            "complete -c apim-migrate -n \"__fish_apim_migrate_using_subcommand {command}\" -a \"{}\"\n",
            names.join("\n")
        ));
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(shell: Shell) -> String {
        let mut command = <Cli as clap::CommandFactory>::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "apim-migrate", &mut script);
        String::from_utf8_lossy(&script).into_owned()
    }

    #[test]
    fn bash_case_labels_match_the_state_the_loop_builds() {
        let script = with_site_scripts(Shell::Bash, generated(Shell::Bash));
        assert!(script.contains("cmd=\"apim__migrate__subcmd__run\""));
        assert!(script.contains("        apim__migrate__subcmd__run)"));
        assert!(!script.contains("apim__subcmd__migrate"));
    }

    #[test]
    fn zsh_offers_the_bundled_names_and_rhai_files_for_every_script_argument() {
        let script = with_site_scripts(Shell::Zsh, generated(Shell::Zsh));
        // run, plan and check.
        assert_eq!(
            script.matches(":_apim_migrate_scripts'").count(),
            3,
            "{script}"
        );
        assert!(script.contains("_apim_migrate_scripts() {"));
        assert!(script.contains("3.0.0-to-4.1.0\\:\"WSO2 API-M 3.0.0 to 4.1.0\""));
        assert!(script.contains("_files -g \"*.rhai\""));
        // The profiles keep their lists.
        assert!(script.contains("control-plane\\:"));
    }

    #[test]
    fn fish_adds_the_bundled_names_beside_the_files() {
        let script = with_site_scripts(Shell::Fish, generated(Shell::Fish));
        assert!(script.contains(
            "-n \"__fish_apim_migrate_using_subcommand run\" -a \"3.0.0-to-4.1.0\\t'WSO2 API-M 3.0.0 to 4.1.0'"
        ));
        assert!(script.contains("__fish_apim_migrate_using_subcommand check"));
    }
}
