//! `check`: compiles scripts the way `run` would, in strict mode, without opening any pack,
//! and reports every problem it can find before a run: the header, the syntax, variables used
//! before they are defined, and calls of functions that do not exist (a typo of a primitive).

use crate::engine::{self, ScriptError};
use crate::pack::Role;
use crate::script::{self, Script};
use rhai::{ASTNode, Engine, Expr, Position, Stmt};
use std::collections::{BTreeMap, BTreeSet};

/// Functions Rhai provides as keywords rather than as registered functions.
const KEYWORD_FUNCTIONS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_def_var",
    "is_def_fn",
    "is_shared",
];

/// What checking one script found.
pub struct Checked {
    pub script: String,
    pub errors: Vec<ScriptError>,
}

/// Checks each script; a script that cannot be loaded is an error of its own.
pub fn check(names: &[String]) -> Vec<Checked> {
    let mut engine = crate::primitives::engine_without_packs();
    let known = known_functions(&engine);
    let module_functions = module_functions(&engine);
    names
        .iter()
        .map(|name| match Script::load(name) {
            Ok(script) => Checked {
                script: script.name.clone(),
                errors: check_one(&mut engine, &script, &known, &module_functions),
            },
            Err(error) => Checked {
                script: name.clone(),
                errors: vec![ScriptError {
                    message: format!("{error:#}"),
                    source_name: name.clone(),
                    ..ScriptError::default()
                }],
            },
        })
        .collect()
}

fn check_one(
    engine: &mut Engine,
    script: &Script,
    known: &BTreeSet<String>,
    module_functions: &BTreeSet<String>,
) -> Vec<ScriptError> {
    let mut errors = Vec::new();
    if let Err(error) = script.header() {
        errors.push(ScriptError {
            message: format!("{error:#}"),
            source_name: script.name.clone(),
            ..ScriptError::default()
        });
    }
    let scope = engine::script_scope(
        Role::DECLARED
            .iter()
            .map(|role| (role.to_string(), rhai::Dynamic::UNIT))
            .collect(),
        &BTreeMap::new(),
    );
    // The syntax first; then, on the tree, every call of an unknown function; then strict
    // variables (which stops at the first variable used before it is defined).
    engine.set_strict_variables(false);
    let ast = match engine.compile_with_scope(&scope, &script.source) {
        Ok(ast) => ast,
        Err(error) => {
            errors.push(ScriptError::at(script, error.0.to_string(), error.1));
            return errors;
        }
    };
    engine.set_strict_variables(true);
    let strict = engine.compile_with_scope(&scope, &script.source).err();
    engine.set_strict_variables(false);
    let own: BTreeSet<String> = ast
        .iter_functions()
        .map(|function| function.name.to_string())
        .collect();
    // Aliases of bundled modules: their functions are known; a module of the script's own
    // directory or a --lib directory is only read when the script runs.
    let mut bundled_aliases = BTreeSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(import, _))) = path.last() {
            let (module, alias) = import.as_ref();
            if let Expr::StringConstant(name, _) = module {
                if script::STDLIB
                    .iter()
                    .any(|(bundled, _)| *bundled == name.as_str())
                {
                    bundled_aliases.insert(alias.name.to_string());
                }
            }
        }
        true
    });
    let mut unknown: Vec<(String, Position)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let call = match path.last() {
            Some(ASTNode::Expr(
                Expr::FnCall(call, position) | Expr::MethodCall(call, position),
            )) => Some((call, position)),
            Some(ASTNode::Stmt(Stmt::FnCall(call, position))) => Some((call, position)),
            _ => None,
        };
        if let Some((call, position)) = call {
            let name = call.name.as_str();
            let is_name = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            let found = if call.namespace.is_empty() {
                known.contains(name) || own.contains(name) || name.starts_with("anon$")
            } else {
                !bundled_aliases.contains(call.namespace.root()) || module_functions.contains(name)
            };
            if is_name && call.op_token.is_none() && !found {
                unknown.push((name.to_string(), *position));
            }
        }
        true
    });
    for (name, position) in unknown {
        let hint = closest(&name, known.iter().chain(own.iter()))
            .map(|near| format!(" (did you mean `{near}`?)"))
            .unwrap_or_default();
        errors.push(ScriptError::at(
            script,
            format!("unknown function `{name}`{hint}; `apim-migrate docs` lists the primitives"),
            position,
        ));
    }
    if let Some(error) = strict {
        errors.push(ScriptError::at(script, error.0.to_string(), error.1));
    }
    errors.sort_by_key(|error| (error.line, error.column));
    errors
}

/// The names of every function the engine provides: primitives, helpers, Rhai's packages.
fn known_functions(engine: &Engine) -> BTreeSet<String> {
    engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|signature| signature.split('(').next())
        .map(|name| name.trim().to_string())
        .chain(KEYWORD_FUNCTIONS.iter().map(|name| name.to_string()))
        .collect()
}

/// The functions the bundled library modules define, callable as `alias::name`.
fn module_functions(engine: &Engine) -> BTreeSet<String> {
    script::STDLIB
        .iter()
        .filter_map(|(_, source)| engine.compile(source).ok())
        .flat_map(|ast| {
            ast.iter_functions()
                .map(|function| function.name.to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The known name nearest to `name`, when it is near enough to be a typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a String>,
) -> Option<&'a String> {
    candidates
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2.max(name.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, a) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(a != *b);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("copy_keystore", "copy_keystores"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
    }
}
