//! Migration scripts: the bundled ones (compiled into the binary from `scripts/`), site
//! scripts given by path, and the bundled Rhai library in `stdlib/` that scripts `import`.

use crate::plan::Source;
use anyhow::{bail, Context, Result};
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Bundled scripts: name and source.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "3.0.0-to-4.1.0",
        include_str!("../scripts/3.0.0-to-4.1.0.rhai"),
    ),
    ("1.x-to-4.0.0", include_str!("../scripts/1.x-to-4.0.0.rhai")),
    ("1.x-to-2.0.0", include_str!("../scripts/1.x-to-2.0.0.rhai")),
    (
        "2.0.0-to-4.0.0",
        include_str!("../scripts/2.0.0-to-4.0.0.rhai"),
    ),
];

/// Bundled library modules: import name and source.
pub const STDLIB: &[(&str, &str)] = &[("apim", include_str!("../stdlib/apim.rhai"))];

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
            let source = crate::fsx::read_regular(path)
                .and_then(|bytes| crate::fsx::utf8_text(bytes, &path.display().to_string()))
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
        let relative = crate::fsx::confined_relative(name_or_path).with_context(|| {
            format!("step `{name_or_path}`: give a bundled script name or a `.rhai` path below the calling script's directory")
        })?;
        let Some(dir) = dir else {
            bail!("step `{name_or_path}`: a bundled script can only run bundled scripts as steps");
        };
        let mut script = Script::load(&crate::fsx::join(dir, &relative).display().to_string())?;
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
pub fn description_of(source: &str) -> String {
    header_lines(source)
        .map(|(_, text)| text)
        .filter(|text| !text.is_empty() && !text.starts_with('@'))
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

/// What a script's header declares besides its description: the parameters it takes.
///
/// ```text
/// //! @param gateway_only=false  copy only what a gateway node needs
/// //! @params none               (the script takes no parameters)
/// ```
///
/// A script with neither tag does not declare its parameters, and any `--set` is passed on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// `None` when the script does not declare its parameters.
    pub params: Option<Vec<Param>>,
}

/// A declared parameter: `--set NAME=VALUE` overrides `default`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub default: String,
    pub description: String,
}

impl Header {
    pub fn parse(source: &str) -> Result<Header> {
        let mut header = Header::default();
        for (line, text) in header_lines(source) {
            let Some(tag) = text.strip_prefix('@') else {
                continue;
            };
            let (tag, rest) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
            let rest = rest.trim();
            match tag {
                "params" if rest == "none" => {
                    if header.params.as_ref().is_some_and(|params| !params.is_empty()) {
                        bail!("line {line}: `@params none` after `@param` lines");
                    }
                    header.params = Some(Vec::new());
                }
                "params" => bail!("line {line}: write `//! @params none` for a script without parameters"),
                "param" => {
                    let (spec, description) =
                        rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
                    let (name, default) = spec.split_once('=').unwrap_or((spec, ""));
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        bail!(
                            "line {line}: `@param {rest}`: write `//! @param NAME=DEFAULT  what it does` (NAME of letters, digits, `_`, `-`, `.`)"
                        );
                    }
                    let params = header.params.get_or_insert_with(Vec::new);
                    if params.iter().any(|param| param.name == name) {
                        bail!("line {line}: the parameter `{name}` is declared twice");
                    }
                    params.push(Param {
                        name: name.to_string(),
                        default: default.to_string(),
                        description: description.trim().to_string(),
                    });
                }
                other => bail!(
                    "line {line}: unknown header tag `@{other}` (known: `@param NAME=DEFAULT  text`, `@params none`)"
                ),
            }
        }
        Ok(header)
    }

    /// Checks `--set` values against the declared parameters and adds the defaults of those
    /// not given. Nothing is checked for a script that does not declare its parameters.
    pub fn complete_params(
        &self,
        script: &str,
        params: &mut std::collections::BTreeMap<String, String>,
    ) -> Result<()> {
        let Some(declared) = &self.params else {
            return Ok(());
        };
        for key in params.keys() {
            if !declared.iter().any(|param| &param.name == key) {
                if declared.is_empty() {
                    bail!("--set `{key}`: `{script}` takes no parameters; leave --set out");
                }
                let names: Vec<&str> = declared.iter().map(|param| param.name.as_str()).collect();
                bail!(
                    "--set `{key}`: `{script}` has no parameter `{key}`; it declares {} (see its header, `apim-migrate scripts show {script}`)",
                    names.join(", ")
                );
            }
        }
        for param in declared {
            params
                .entry(param.name.clone())
                .or_insert_with(|| param.default.clone());
        }
        Ok(())
    }
}

/// Resolves `import "NAME"`: a bundled library module, or `NAME.rhai` in the directory of
/// the script given on the command line, or in a `--lib` directory, in that order. Nothing
/// else: no absolute paths, no `..`, no link out of those directories. Every module loaded is
/// recorded (name, path, hash) for the journal.
pub struct ScriptModules {
    dirs: Vec<PathBuf>,
    cache: RefCell<HashMap<String, Shared<Module>>>,
    used: Rc<RefCell<Vec<Source>>>,
}

impl ScriptModules {
    /// `dirs`: the script's own directory (if it has one), then the `--lib` directories.
    pub fn new(dirs: Vec<PathBuf>, used: Rc<RefCell<Vec<Source>>>) -> ScriptModules {
        ScriptModules {
            dirs,
            cache: RefCell::default(),
            used,
        }
    }

    /// The source of module `path`: bundled, or read from the first directory that has it.
    fn find(&self, path: &str) -> std::result::Result<(String, Option<PathBuf>), String> {
        if let Some((_, source)) = STDLIB.iter().find(|(name, _)| *name == path) {
            return Ok((source.to_string(), None));
        }
        let names: Vec<&str> = STDLIB.iter().map(|(name, _)| *name).collect();
        let places = std::iter::once(format!("the bundled modules ({})", names.join(", ")))
            .chain(
                self.dirs
                    .iter()
                    .map(|dir| format!("`{}`", dir.join(format!("{path}.rhai")).display())),
            )
            .collect::<Vec<_>>()
            .join(", ");
        let relative = crate::fsx::confined_relative(path).map_err(|error| {
            format!("module `{path}`: {error:#}; modules are named by a path relative to the script's directory or a --lib directory, without `.rhai`")
        })?;
        for dir in &self.dirs {
            let file = crate::fsx::join(dir, &format!("{relative}.rhai"));
            let Ok(real) = file.canonicalize() else {
                continue;
            };
            if !real.starts_with(dir) {
                return Err(format!(
                    "module `{path}`: `{}` leads out of `{}` through a link; modules are never loaded from elsewhere",
                    file.display(),
                    dir.display()
                ));
            }
            let source = crate::fsx::read_regular(&real)
                .and_then(|bytes| crate::fsx::utf8_text(bytes, &file.display().to_string()))
                .map_err(|error| format!("module `{path}`: {error}"))?;
            return Ok((source, Some(file)));
        }
        Err(format!(
            "module `{path}` not found: scripts import from {places}"
        ))
    }
}

impl rhai::ModuleResolver for ScriptModules {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        position: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(module) = self.cache.borrow().get(path) {
            return Ok(module.clone());
        }
        let (source, file) = self
            .find(path)
            .map_err(|message| Box::new(EvalAltResult::ErrorRuntime(message.into(), position)))?;
        let mut ast = engine.compile(&source).map_err(|error| {
            Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                error.into(),
                position,
            ))
        })?;
        ast.set_source(match &file {
            Some(file) => file.display().to_string(),
            None => format!("stdlib/{path}.rhai"),
        });
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|error| {
            Box::new(EvalAltResult::ErrorInModule(
                path.to_string(),
                error,
                position,
            ))
        })?;
        let module: Shared<Module> = module.into();
        self.cache
            .borrow_mut()
            .insert(path.to_string(), module.clone());
        self.used.borrow_mut().push(Source {
            kind: "module".to_string(),
            name: path.to_string(),
            path: file,
            sha256: crate::fsx::sha256_bytes(source.as_bytes()),
        });
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn a_header_declares_parameters_with_defaults_and_the_description_leaves_tags_out() {
        let source = "//! Site copy.\n//!\n//! @param gateway_only=false  copy what a gateway needs\n//! @param label=\n// not header\n//! @param late=1\n";
        let header = Header::parse(source).expect("header");
        let declared = header.params.clone().expect("declared");
        assert_eq!(declared.len(), 2, "{declared:?}");
        assert_eq!(declared[0].name, "gateway_only");
        assert_eq!(declared[0].default, "false");
        assert_eq!(declared[0].description, "copy what a gateway needs");
        assert_eq!(declared[1].name, "label");
        assert_eq!(declared[1].default, "");
        assert_eq!(description_of(source), "Site copy.");

        let mut given = params(&[("label", "x")]);
        header
            .complete_params("site.rhai", &mut given)
            .expect("known");
        assert_eq!(given, params(&[("gateway_only", "false"), ("label", "x")]));

        let error = header
            .complete_params("site.rhai", &mut params(&[("gateway-only", "true")]))
            .expect_err("unknown");
        let message = error.to_string();
        assert!(message.contains("--set `gateway-only`"), "{message}");
        assert!(message.contains("gateway_only, label"), "{message}");
    }

    #[test]
    fn params_none_refuses_every_set_and_no_declaration_refuses_none() {
        let none = Header::parse("//! Bundled.\n//! @params none\n").expect("header");
        let message = none
            .complete_params("x", &mut params(&[("a", "1")]))
            .expect_err("refused")
            .to_string();
        assert!(message.contains("takes no parameters"), "{message}");
        let undeclared = Header::parse("//! Old style.\n").expect("header");
        assert_eq!(undeclared.params, None);
        let mut given = params(&[("a", "1")]);
        undeclared
            .complete_params("x", &mut given)
            .expect("passed on");
        assert_eq!(given, params(&[("a", "1")]));
    }

    #[test]
    fn malformed_headers_name_the_line() {
        for (source, expected) in [
            (
                "//! a\n//! @parm x=1\n",
                "line 2: unknown header tag `@parm`",
            ),
            ("//! @param =1\n", "line 1"),
            (
                "//! @param a b=1\n//! @param a=2\n",
                "line 2: the parameter `a` is declared twice",
            ),
            ("//! @params some\n", "line 1"),
            ("//! @param a=1\n//! @params none\n", "line 2"),
        ] {
            let message = format!("{:#}", Header::parse(source).expect_err(source));
            assert!(message.contains(expected), "{source:?}: {message}");
        }
    }

    #[test]
    fn every_bundled_script_declares_its_parameters() {
        for (name, source) in BUNDLED {
            let header = Header::parse(source).unwrap_or_else(|error| panic!("{name}: {error}"));
            assert!(header.params.is_some(), "{name} declares its parameters");
        }
    }
}
