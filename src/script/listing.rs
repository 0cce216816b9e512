//! Scripts as `apim-migrate scripts` lists them: the bundled ones and the site scripts of a
//! directory, each with what its header says.

use super::{description_of, Accepts, BasedOn, Header, Param, BUNDLED};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A script as `apim-migrate scripts` lists it: what its header says, or why it cannot be read.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// The bundled name, or the file name.
    pub name: String,
    /// The file; `None` for a bundled script.
    pub path: Option<PathBuf>,
    pub description: String,
    /// The packs it accepts; empty when it declares none.
    pub accepts: Vec<Accepts>,
    /// `None` when it does not declare its parameters.
    pub params: Option<Vec<Param>>,
    /// The standard it was started from, if its header says.
    pub based_on: Option<BasedOn>,
    /// With `based_on`: whether the bundled script of that name is still the one it began as.
    pub standard_unchanged: Option<bool>,
    /// Why its header (or the file) could not be read; the rest is what could be.
    pub error: Option<String>,
}

impl Listed {
    fn new(name: String, path: Option<PathBuf>, source: Result<String>) -> Listed {
        let mut listed = Listed {
            name,
            path,
            description: String::new(),
            accepts: Vec::new(),
            params: None,
            based_on: None,
            standard_unchanged: None,
            error: None,
        };
        let source = match source {
            Ok(source) => source,
            Err(error) => {
                listed.error = Some(format!("{error:#}"));
                return listed;
            }
        };
        listed.description = description_of(&source);
        match Header::parse(&source) {
            Ok(header) => {
                listed.standard_unchanged = header.based_on.as_ref().map(|based_on| {
                    BUNDLED.iter().any(|(name, source)| {
                        *name == based_on.script
                            && crate::pack::files::sha256_bytes(source.as_bytes())
                                == based_on.sha256
                    })
                });
                listed.accepts = header.accepts;
                listed.params = header.params;
                listed.based_on = header.based_on;
            }
            Err(error) => listed.error = Some(format!("{error:#}")),
        }
        listed
    }
}

/// The bundled scripts, as `scripts` lists them.
pub fn listed_bundled() -> Vec<Listed> {
    BUNDLED
        .iter()
        .map(|(name, source)| Listed::new(name.to_string(), None, Ok(source.to_string())))
        .collect()
}

/// The site scripts directly in `dir` (`*.rhai`, not the `*.d.rhai` definitions of `defs`),
/// sorted by name. A file that cannot be read or whose header is malformed is listed with
/// its error.
pub fn listed_in(dir: &Path) -> Result<Vec<Listed>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "--dir `{}`: cannot read it (give the directory that holds your site scripts)",
            dir.display()
        )
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("--dir `{}`: cannot read it", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        let is_file = std::fs::metadata(entry.path()).is_ok_and(|metadata| metadata.is_file());
        if is_file && name.ends_with(".rhai") && !name.ends_with(".d.rhai") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let shown = path.display().to_string();
            let source = match crate::pack::files::read_regular(&path) {
                Ok(bytes) => {
                    crate::pack::files::utf8_text(bytes, &shown).map_err(anyhow::Error::from)
                }
                Err(error) => Err(anyhow::anyhow!("cannot read `{shown}`: {error}")),
            };
            Listed::new(name, Some(path), source)
        })
        .collect())
}
