//! Migration scripts: the bundled ones (compiled into the binary from `scripts/`), site
//! scripts given by path, and the bundled Rhai library in `stdlib/` that scripts `import`.

mod header;
mod listing;
mod modules;
pub mod paths;

pub use header::{Accepts, BasedOn, Header, Param};
pub use listing::{listed_bundled, listed_in, Listed};
pub use modules::ScriptModules;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Bundled scripts: name and source.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "3.0.0-to-4.1.0",
        include_str!("../../scripts/3.0.0-to-4.1.0.rhai"),
    ),
    ("to-4.x", include_str!("../../scripts/to-4.x.rhai")),
    (
        "1.x-to-4.0.0",
        include_str!("../../scripts/1.x-to-4.0.0.rhai"),
    ),
    ("1.x-to-4.x", include_str!("../../scripts/1.x-to-4.x.rhai")),
    (
        "1.x-to-2.0.0",
        include_str!("../../scripts/1.x-to-2.0.0.rhai"),
    ),
    (
        "2.0.0-to-4.0.0",
        include_str!("../../scripts/2.0.0-to-4.0.0.rhai"),
    ),
];

/// Bundled library modules: import name and source.
pub const STDLIB: &[(&str, &str)] = &[("apim", include_str!("../../stdlib/apim.rhai"))];

/// A script ready to run.
#[derive(Debug, Clone)]
pub struct Script {
    /// The bundled name, or the path as given.
    pub name: String,
    pub source: String,
    /// Where it was read from; `None` for bundled scripts.
    pub path: Option<PathBuf>,
}

impl Script {
    /// Resolves SCRIPT: a bundled name, or the path of a `.rhai` file.
    pub fn load(name_or_path: &str) -> Result<Script> {
        if let Some((name, source)) = BUNDLED.iter().find(|(name, _)| *name == name_or_path) {
            return Ok(Script {
                name: name.to_string(),
                source: source.to_string(),
                path: None,
            });
        }
        let path = Path::new(name_or_path);
        if path
            .extension()
            .is_some_and(|extension| extension == "rhai")
            || path.components().count() > 1
        {
            let source = crate::pack::files::read_regular(path)
                .and_then(|bytes| crate::pack::files::utf8_text(bytes, &path.display().to_string()))
                .with_context(|| {
                format!("cannot read script `{}` (give a bundled script name or the path of a `.rhai` file)", path.display())
            })?;
            return Ok(Script {
                name: name_or_path.to_string(),
                source,
                path: Some(path.to_path_buf()),
            });
        }
        let names: Vec<&str> = BUNDLED.iter().map(|(name, _)| *name).collect();
        bail!(
            "unknown script `{name_or_path}`: bundled scripts are {} (or give the path of a `.rhai` file; see `apim-migrate scripts`)",
            names.join(", ")
        )
    }

    /// Resolves the script of a step (`run_script`): a bundled name, or a `.rhai` file in
    /// `dir` (the calling script's directory) or below it. Steps never load code from
    /// anywhere else: no absolute paths, no `..`, and a bundled script has no directory.
    pub fn load_step(name_or_path: &str, dir: Option<&Path>) -> Result<Script> {
        if BUNDLED.iter().any(|(name, _)| *name == name_or_path) {
            return Script::load(name_or_path);
        }
        let path = Path::new(name_or_path);
        let is_path = path
            .extension()
            .is_some_and(|extension| extension == "rhai")
            || path.components().count() > 1;
        if !is_path {
            return Script::load(name_or_path);
        }
        let relative = crate::pack::files::confined_relative(name_or_path).with_context(|| {
            format!("step `{name_or_path}`: give a bundled script name or a `.rhai` path below the calling script's directory")
        })?;
        let Some(dir) = dir else {
            bail!("step `{name_or_path}`: a bundled script can only run bundled scripts as steps");
        };
        let file = crate::pack::files::join(dir, &relative);
        // As for modules: a link that leads out of the script's directory is refused.
        if let (Ok(real), Ok(dir_real)) = (file.canonicalize(), dir.canonicalize()) {
            if !real.starts_with(&dir_real) {
                bail!(
                    "step `{name_or_path}`: `{}` leads out of `{}` through a link; steps are never loaded from elsewhere",
                    crate::pack::name::shown_path(&file),
                    crate::pack::name::shown_path(dir)
                );
            }
        }
        let mut script = Script::load(&file.display().to_string())?;
        script.name = name_or_path.to_string();
        Ok(script)
    }

    /// The directory of a script read from a file.
    pub fn dir(&self) -> Option<PathBuf> {
        self.path
            .as_ref()
            .and_then(|path| path.parent())
            .map(Path::to_path_buf)
    }

    /// The `//!` lines at the top of the script: its description.
    pub fn description(&self) -> String {
        description_of(&self.source)
    }

    /// The script's header, checked.
    pub fn header(&self) -> Result<Header> {
        Header::parse(&self.source).with_context(|| format!("script `{}`", self.name))
    }
}

/// The description of a script: the text of its `//!` header lines, tags left out.
/// The line that says where a site script came from (see `BasedOn`) is left out too.
pub fn description_of(source: &str) -> String {
    header_lines(source)
        .map(|(_, text)| text)
        .filter(|text| !text.is_empty() && !text.starts_with('@') && BasedOn::parse(text).is_none())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// The `//!` lines at the top of a script, numbered from 1, with the marker taken off.
fn header_lines(source: &str) -> impl Iterator<Item = (usize, &str)> {
    source
        .lines()
        .enumerate()
        .take_while(|(_, line)| line.starts_with("//!"))
        .map(|(index, line)| (index + 1, line.trim_start_matches("//!").trim()))
}

/// What comes after the `//!` header of a script, byte for byte.
pub fn body_of(source: &str) -> &str {
    let mut rest = source;
    while rest.starts_with("//!") {
        rest = match rest.find('\n') {
            Some(end) => &rest[end + 1..],
            None => "",
        };
    }
    rest
}
