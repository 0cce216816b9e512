//! `import` confined: the module resolver that loads bundled modules, then the script's
//! directory, then `--lib` directories, and nothing else.

use super::STDLIB;
use crate::change::plan::Source;
use rhai::{Engine, EvalAltResult, Module, Position, Scope, Shared};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

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
        let relative = crate::pack::files::confined_relative(path).map_err(|error| {
            format!("module `{path}`: {error:#}; modules are named by a path relative to the script's directory or a --lib directory, without `.rhai`")
        })?;
        for dir in &self.dirs {
            let file = crate::pack::files::join(dir, &format!("{relative}.rhai"));
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
            let source = crate::pack::files::read_regular(&real)
                .and_then(|bytes| crate::pack::files::utf8_text(bytes, &file.display().to_string()))
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
            sha256: crate::pack::files::sha256_bytes(source.as_bytes()),
        });
        Ok(module)
    }
}
