//! Migration scripts: the bundled ones (compiled into the binary from `scripts/`), site
//! scripts given by path, and the bundled Rhai library in `stdlib/` that scripts `import`.

use anyhow::{bail, Context, Result};
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
            let source = std::fs::read_to_string(path).with_context(|| {
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

    /// Like `load`, but a relative path is taken from `dir` (the calling script's
    /// directory) when given.
    pub fn load_relative(name_or_path: &str, dir: Option<&Path>) -> Result<Script> {
        let is_bundled = BUNDLED.iter().any(|(name, _)| *name == name_or_path);
        let path = Path::new(name_or_path);
        let is_path = path
            .extension()
            .is_some_and(|extension| extension == "rhai")
            || path.components().count() > 1;
        match dir {
            Some(dir) if !is_bundled && is_path && path.is_relative() => {
                let path = dir.join(name_or_path);
                let mut script = Script::load(&path.display().to_string())?;
                script.name = name_or_path.to_string();
                Ok(script)
            }
            _ => Script::load(name_or_path),
        }
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
}

pub fn description_of(source: &str) -> String {
    source
        .lines()
        .take_while(|line| line.starts_with("//!"))
        .map(|line| line.trim_start_matches("//!").trim())
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_string()
}

/// Resolves `import "apim"` to the bundled library and nothing else: scripts cannot load
/// code from arbitrary paths.
#[derive(Default)]
pub struct BundledModules {
    cache: RefCell<HashMap<String, Shared<Module>>>,
}

impl rhai::ModuleResolver for BundledModules {
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
        let Some((name, source)) = STDLIB.iter().find(|(name, _)| *name == path) else {
            let names: Vec<&str> = STDLIB.iter().map(|(name, _)| *name).collect();
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                format!("{path} (bundled modules: {})", names.join(", ")),
                position,
            )));
        };
        let mut ast = engine.compile(source).map_err(|error| {
            Box::new(EvalAltResult::ErrorInModule(
                name.to_string(),
                error.into(),
                position,
            ))
        })?;
        ast.set_source(format!("stdlib/{name}.rhai"));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(|error| {
            Box::new(EvalAltResult::ErrorInModule(
                name.to_string(),
                error,
                position,
            ))
        })?;
        let module: Shared<Module> = module.into();
        self.cache
            .borrow_mut()
            .insert(path.to_string(), module.clone());
        Ok(module)
    }
}
