//! `scripts new`: the source of a new site script, started from a bundled standard script or
//! from a skeleton, and writing it without overwriting anything by accident.

use crate::pack::Role;
use crate::script::{self, Accepts, BasedOn, Header};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The standard whose packs a script started from scratch accepts: the most common path.
pub const DEFAULT_STANDARD: &str = "3.0.0-to-4.1.0";

/// How a script declares a parameter, written under `@params none` in every new script.
const PARAMS_EXAMPLE: &str = "\
//
// Parameters: to take some, replace `@params none` above with one header line each, e.g.
//     //! @param gateway=yes  also remind about the load balancer in front of the gateways
// and read them as `params.gateway` or `param(\"gateway\", \"yes\")`; `--set gateway=no` changes
// one, and a `--set` key the header does not declare is refused before anything changes.
";

/// A new site script: its source, and what it was started from.
pub struct NewScript {
    pub source: String,
    pub based_on: Option<BasedOn>,
    pub accepts: Vec<Accepts>,
}

/// The source of a new site script: with `from`, the bundled script's body unchanged under a
/// header that says where it came from; without, a skeleton for the packs of
/// `DEFAULT_STANDARD`.
pub fn new_script(from: Option<&str>) -> Result<NewScript> {
    let standard = from.unwrap_or(DEFAULT_STANDARD);
    let Some((name, source)) = script::BUNDLED.iter().find(|(name, _)| *name == standard) else {
        let names: Vec<&str> = script::BUNDLED.iter().map(|(name, _)| *name).collect();
        bail!(
            "--from `{standard}`: not a bundled script; give one of {} (a site script of your own is copied with `cp`)",
            names.join(", ")
        );
    };
    let header = Header::parse(source).with_context(|| format!("bundled script `{name}`"))?;
    let mut out = String::new();
    let based_on = from.map(|_| BasedOn {
        script: name.to_string(),
        sha256: crate::pack::files::sha256_bytes(source.as_bytes()),
        version: env!("CARGO_PKG_VERSION").to_string(),
    });
    match &based_on {
        Some(based_on) => {
            let description = format!(
                "Site script based on {name}: {}",
                script::description_of(source)
            );
            out.push_str(&crate::text::wrap(&description, "//! ", "//! "));
            out.push('\n');
            out.push_str(&format!("//! {}\n", based_on.line()));
        }
        None => out.push_str(
            "//! Describe this site script here: what it migrates, for which site, and what it adds\n\
             //! to or leaves out of the standard steps. `apim-migrate scripts` shows this text.\n",
        ),
    }
    out.push_str("//!\n");
    // The tags of the standard, as it writes them: the packs it accepts and, for a copy of its
    // body, which reads them, its parameters; a skeleton takes none until it declares some.
    for line in source.lines().take_while(|line| line.starts_with("//!")) {
        let tag = line.trim_start_matches("//!").trim();
        if tag.starts_with('@') && (from.is_some() || tag.starts_with("@accepts")) {
            out.push_str(line);
            out.push('\n');
        }
    }
    if from.is_none() {
        out.push_str("//! @params none\n");
    }
    if from.is_none() || header.params.as_ref().is_some_and(Vec::is_empty) {
        out.push_str(PARAMS_EXAMPLE);
    }
    match from {
        Some(_) => out.push_str(script::body_of(source)),
        None => out.push_str(&skeleton_body(&header.accepts)),
    }
    Ok(NewScript {
        source: out,
        based_on,
        accepts: header.accepts,
    })
}

/// The body of a script started from scratch: the checks of its packs, then a commented
/// walk-through of the primitives, from their documentation.
fn skeleton_body(accepts: &[Accepts]) -> String {
    let mut out = String::from(
        "//\n// `run` and `plan` refuse packs that the `@accepts` lines above do not accept, before anything\n// changes; change them for other versions (`apim-migrate scripts` shows what the bundled\n// scripts accept).\n\nimport \"apim\" as apim;\n\n// Refuse the wrong packs before anything is planned, also in a copy that lost its header.\n",
    );
    for accepts in accepts {
        let versions: Vec<String> = accepts
            .versions
            .iter()
            .map(|version| format!("\"{version}\""))
            .collect();
        let hint = match accepts.role {
            Role::Old => "apim::path_hint(old.version)".to_string(),
            Role::Km => format!("\"give an {} pack as `--km`\"", accepts.wanted()),
            role => format!(
                "\"give a fresh, extracted {} pack as `--{role}`\"",
                accepts.wanted()
            ),
        };
        let call = format!(
            "require_version({}, \"{}\", [{}], {hint});",
            accepts.role,
            accepts.product,
            versions.join(", ")
        );
        if accepts.optional {
            out.push_str(&format!("if {} != () {{\n    {call}\n}}\n", accepts.role));
        } else {
            out.push_str(&format!("{call}\n"));
        }
    }
    out.push_str(
        "\n// What the script does. A script only describes: each primitive records actions, `plan`\n// shows them and `run` applies them with a journal. The primitives, each with an example to\n// uncomment and adapt (`apim-migrate docs NAME` explains one in full):\n",
    );
    for doc in crate::primitives::docs() {
        out.push_str("//\n");
        out.push_str(&format!("// {}\n", doc.signature));
        for line in doc.example.lines() {
            out.push_str(&format!("//     {line}\n"));
        }
    }
    out
}

/// The path `scripts new NAME` writes: NAME, with `.rhai` added when it does not end so.
pub fn script_path(name: &str) -> Result<PathBuf> {
    if name.is_empty() || name.ends_with('/') || name.ends_with("/.") || name == "." {
        bail!("`{name}`: give the new script's file name, like `site` or `scripts/site.rhai`");
    }
    let path = PathBuf::from(name);
    Ok(
        if path
            .extension()
            .is_some_and(|extension| extension == "rhai")
        {
            path
        } else {
            PathBuf::from(format!("{name}.rhai"))
        },
    )
}

/// Writes `source` to `path`: a new file, or with `force` over an existing one. The
/// directory must exist.
pub fn write_script(path: &Path, source: &str, force: bool) -> Result<()> {
    let shown = path.display();
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "`{shown}`: the directory `{}` does not exist; create it first (`mkdir -p {}`) or give another path",
            parent.display(),
            parent.display()
        );
    }
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => {
            bail!("`{shown}` is a directory; give the new script's file name")
        }
        Ok(_) if !force => {
            bail!("`{shown}` exists; give another name, or add --force to overwrite it")
        }
        Ok(_) => {
            // Through a temporary file in the same directory: the old script or the new one.
            let name = path.file_name().unwrap_or(path.as_os_str());
            crate::change::disk::atomic_write(&parent.join(name), 0o644, source.as_bytes())?;
            return Ok(());
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => bail!("cannot write `{shown}`: {error}"),
    }
    crate::change::disk::create_new(path, source.as_bytes())
        .with_context(|| format!("cannot create `{shown}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_from_a_standard_keeps_its_body_and_says_where_it_came_from() {
        for (name, source) in script::BUNDLED {
            let new = new_script(Some(name)).expect("new script");
            assert!(new.source.ends_with(script::body_of(source)), "{name}");
            let header = Header::parse(&new.source).expect("header");
            let standard = Header::parse(source).expect("standard header");
            let tags = |header: &Header| -> Vec<String> {
                header.accepts.iter().map(Accepts::tag).collect()
            };
            assert_eq!(tags(&header), tags(&standard), "{name}");
            assert_eq!(header.params, standard.params, "{name}");
            let based_on = header.based_on.expect("based on");
            assert_eq!(based_on.script, *name);
            assert_eq!(
                based_on.sha256,
                crate::pack::files::sha256_bytes(source.as_bytes())
            );
            assert_eq!(
                script::description_of(&new.source),
                format!(
                    "Site script based on {name}: {}",
                    script::description_of(source)
                )
            );
        }
    }

    #[test]
    fn a_script_from_scratch_checks_the_packs_of_the_common_path_and_walks_through_every_primitive()
    {
        let new = new_script(None).expect("new script");
        assert!(new.based_on.is_none());
        for doc in crate::primitives::docs() {
            assert!(
                new.source.contains(&format!("// {}\n", doc.signature)),
                "{}",
                doc.name
            );
        }
        assert!(new.source.contains(
            "require_version(old, \"wso2am\", [\"3.0.0\"], apim::path_hint(old.version));"
        ));
        assert!(new.source.contains("if km != () {\n    require_version(km, \"wso2is\", [\"5.11.0\"], \"give an IS 5.11.0 pack as `--km`\");\n}\n"));
    }

    #[test]
    fn script_paths_get_rhai_added() {
        assert_eq!(script_path("site").expect("path"), Path::new("site.rhai"));
        assert_eq!(
            script_path("a/site.v2").expect("path"),
            Path::new("a/site.v2.rhai")
        );
        assert_eq!(
            script_path("a/site.rhai").expect("path"),
            Path::new("a/site.rhai")
        );
        assert!(script_path("dir/").is_err());
        assert!(script_path("").is_err());
    }
}
