//! The line editor's helper: Tab completion (commands, primitives, functions, variables,
//! module functions, paths inside the open packs, files for `:load`), a hint with the
//! signature of the function being called, and multi-line statements without `\`.

use super::lexer;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::Context;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

/// The REPL's own commands: name, arguments, what it does.
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (
        ":help",
        "[NAME]",
        "this help, or the documentation of a primitive or command",
    ),
    (
        ":plan",
        "STATEMENT",
        "show what a statement would change, changing nothing",
    ),
    (
        ":dry-run",
        "on|off",
        "show every statement's changes instead of applying them",
    ),
    (
        ":undo",
        "",
        "take back the last statement applied in this session",
    ),
    (
        ":load",
        "FILE [KEY=VALUE...]",
        "run a script (a `.rhai` path or a bundled name) as one statement",
    ),
    (
        ":packs",
        "",
        "the packs open in this session and what each holds",
    ),
    (
        ":history",
        "",
        "the statements of this session and what became of each",
    ),
    (":quit", "", "leave the REPL (Ctrl-D does too)"),
];

/// Rhai keywords offered by completion.
const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "switch", "import", "as", "true", "false",
    "private",
];

/// What completion and hints know; refreshed after each statement.
#[derive(Debug, Default)]
pub struct Names {
    /// Function name to the signatures shown in hints (primitives: their documented form).
    pub functions: BTreeMap<String, Vec<String>>,
    /// Variables and constants in scope.
    pub variables: Vec<String>,
    /// Module alias to its functions: name and signature.
    pub modules: BTreeMap<String, Vec<(String, String)>>,
    /// Properties of a pack (`old.version`).
    pub properties: Vec<String>,
}

pub struct ReplHelper {
    pub names: Rc<RefCell<Names>>,
    /// The homes of the open packs, for paths inside strings.
    pub homes: Vec<PathBuf>,
    files: FilenameCompleter,
    color: bool,
}

impl ReplHelper {
    pub fn new(names: Rc<RefCell<Names>>, homes: Vec<PathBuf>, color: bool) -> ReplHelper {
        ReplHelper {
            names,
            homes,
            files: FilenameCompleter::new(),
            color,
        }
    }

    /// Paths inside the open packs that complete `typed` (relative to a pack home).
    fn pack_paths(&self, typed: &str) -> Vec<Pair> {
        let (dir, prefix) = match typed.rfind('/') {
            Some(slash) => (&typed[..=slash], &typed[slash + 1..]),
            None => ("", typed),
        };
        if dir.split('/').any(|part| part == "..") || dir.starts_with('/') {
            return Vec::new();
        }
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        for home in &self.homes {
            let Ok(entries) = std::fs::read_dir(home.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if !name.starts_with(prefix) || name == crate::pack::STATE_DIR {
                    continue;
                }
                let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
                *found.entry(name).or_default() |= is_dir;
            }
        }
        found
            .into_iter()
            .map(|(name, is_dir)| Pair {
                display: if is_dir {
                    format!("{name}/")
                } else {
                    name.clone()
                },
                replacement: format!("{dir}{name}{}", if is_dir { "/" } else { "" }),
            })
            .collect()
    }

    fn command_candidates(&self, line: &str, pos: usize) -> (usize, Vec<Pair>) {
        let head = &line[..pos];
        let Some((command, argument)) = head.split_once(char::is_whitespace) else {
            return (
                0,
                COMMANDS
                    .iter()
                    .filter(|(name, _, _)| name.starts_with(head))
                    .map(|(name, _, _)| pair(name))
                    .collect(),
            );
        };
        let start = pos - argument.trim_start().len();
        let argument = argument.trim_start();
        let names = self.names.borrow();
        let candidates: Vec<Pair> = match command {
            ":help" => names
                .functions
                .keys()
                .map(String::as_str)
                .chain(COMMANDS.iter().map(|(name, _, _)| *name))
                .filter(|name| name.starts_with(argument))
                .map(pair)
                .collect(),
            ":dry-run" => ["on", "off"]
                .iter()
                .filter(|word| word.starts_with(argument))
                .map(|word| pair(word))
                .collect(),
            _ => Vec::new(),
        };
        (start, candidates)
    }
}

fn pair(text: &str) -> Pair {
    Pair {
        display: text.to_string(),
        replacement: text.to_string(),
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        context: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start();
        if trimmed.starts_with(':') {
            if trimmed.starts_with(":load ") {
                return self.files.complete(line, pos, context);
            }
            let (start, candidates) = self.command_candidates(trimmed, pos.saturating_sub(indent));
            return Ok((start + indent, candidates));
        }
        let open = lexer::scan(&line[..pos]);
        if let Some((quote, start)) = open.string {
            if quote == '"' || quote == '`' {
                return Ok((start, self.pack_paths(&line[start..pos])));
            }
            return Ok((pos, Vec::new()));
        }
        let (start, word) = lexer::word_before(line, pos);
        let names = self.names.borrow();
        // `old.ver` completes properties.
        if start > 0 && line[..start].ends_with('.') {
            let candidates = names
                .properties
                .iter()
                .chain(names.functions.keys())
                .filter(|name| name.starts_with(word))
                .map(|name| pair(name))
                .collect();
            return Ok((start, candidates));
        }
        // `apim::pa` completes the functions of a module.
        if let Some((module, prefix)) = word.rsplit_once("::") {
            let candidates = names
                .modules
                .get(module)
                .map(|functions| {
                    functions
                        .iter()
                        .filter(|(name, _)| name.starts_with(prefix))
                        .map(|(name, _)| pair(&format!("{module}::{name}")))
                        .collect()
                })
                .unwrap_or_default();
            return Ok((start, candidates));
        }
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let mut candidates: Vec<String> = names
            .functions
            .keys()
            .chain(names.variables.iter())
            .cloned()
            .chain(KEYWORDS.iter().map(|keyword| keyword.to_string()))
            .chain(names.modules.keys().map(|module| format!("{module}::")))
            .filter(|name| name.starts_with(word))
            .collect();
        candidates.sort();
        candidates.dedup();
        Ok((start, candidates.iter().map(|name| pair(name)).collect()))
    }
}

/// A hint: shown dimmed after the cursor; `completion` is what the right arrow inserts.
pub struct ReplHint {
    display: String,
    completion: Option<String>,
}

impl Hint for ReplHint {
    fn display(&self) -> &str {
        &self.display
    }

    fn completion(&self) -> Option<&str> {
        self.completion.as_deref()
    }
}

impl ReplHelper {
    /// The hint for `line` with the cursor at its end.
    pub fn hint_for(&self, line: &str) -> Option<ReplHint> {
        let trimmed = line.trim_start();
        if trimmed.starts_with(':') {
            if trimmed.contains(char::is_whitespace) {
                return None;
            }
            let mut matching = COMMANDS
                .iter()
                .filter(|(name, _, _)| name.starts_with(trimmed));
            let (name, arguments, _) = matching.next()?;
            if matching.next().is_some() {
                return None;
            }
            let rest = &name[trimmed.len()..];
            return Some(ReplHint {
                display: format!("{rest} {arguments}").trim_end().to_string(),
                completion: (!rest.is_empty()).then(|| rest.to_string()),
            });
        }
        let open = lexer::scan(line);
        let names = self.names.borrow();
        if open.string.is_none() {
            let (start, word) = lexer::word_before(line, line.len());
            let after_dot = start > 0 && line[..start].ends_with('.');
            if word.len() >= 2 && !word.contains("::") && !after_dot {
                let mut matching = names
                    .functions
                    .keys()
                    .filter(|name| name.starts_with(word) && name.len() > word.len());
                if let (Some(name), None) = (matching.next(), matching.next()) {
                    let rest = &name[word.len()..];
                    let signature = names
                        .functions
                        .get(name)
                        .and_then(|signatures| signatures.first())
                        .map(|signature| format!("    {signature}"))
                        .unwrap_or_default();
                    return Some(ReplHint {
                        display: format!("{rest}{signature}"),
                        completion: Some(rest.to_string()),
                    });
                }
            }
        }
        let call = lexer::enclosing_call(line, line.len())?;
        let signatures = match call.rsplit_once("::") {
            Some((module, name)) => names
                .modules
                .get(module)?
                .iter()
                .filter(|(function, _)| function == name)
                .map(|(_, signature)| format!("{module}::{signature}"))
                .collect(),
            None => names.functions.get(call)?.clone(),
        };
        (!signatures.is_empty()).then(|| ReplHint {
            display: format!("    {}", signatures.join(" | ")),
            completion: None,
        })
    }
}

impl Hinter for ReplHelper {
    type Hint = ReplHint;

    fn hint(&self, line: &str, pos: usize, _context: &Context<'_>) -> Option<ReplHint> {
        if pos < line.len() || line.contains('\n') {
            return None;
        }
        self.hint_for(line)
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for ReplHelper {
    fn validate(&self, context: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = context.input();
        if !lexer::needs_more(input) {
            return Ok(ValidationResult::Valid(None));
        }
        Ok(ValidationResult::Incomplete)
    }
}

impl rustyline::Helper for ReplHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper(homes: Vec<PathBuf>) -> ReplHelper {
        let mut names = Names::default();
        names.functions.insert(
            "copy_keystores".to_string(),
            vec!["copy_keystores(from, to)".to_string()],
        );
        names.functions.insert(
            "copy_tenant_userstores".to_string(),
            vec!["copy_tenant_userstores(from, to)".to_string()],
        );
        names.functions.insert(
            "read_toml".to_string(),
            vec!["read_toml(pack, key) | read_toml(pack, file, key)".to_string()],
        );
        names.variables = vec!["old".to_string(), "new".to_string(), "gateways".to_string()];
        names.modules.insert(
            "apim".to_string(),
            vec![("path_hint".to_string(), "path_hint(version)".to_string())],
        );
        names.properties = vec!["version".to_string(), "home".to_string()];
        ReplHelper::new(Rc::new(RefCell::new(names)), homes, false)
    }

    fn complete(helper: &ReplHelper, line: &str) -> (usize, Vec<String>) {
        let history = rustyline::history::DefaultHistory::new();
        let context = Context::new(&history);
        let (start, pairs) = helper
            .complete(line, line.len(), &context)
            .expect("complete");
        (
            start,
            pairs.into_iter().map(|pair| pair.replacement).collect(),
        )
    }

    #[test]
    fn completes_functions_variables_modules_properties_and_commands() {
        let helper = helper(Vec::new());
        assert_eq!(
            complete(&helper, "copy_k"),
            (0, vec!["copy_keystores".to_string()])
        );
        assert_eq!(
            complete(&helper, "copy_"),
            (
                0,
                vec![
                    "copy_keystores".to_string(),
                    "copy_tenant_userstores".to_string()
                ]
            )
        );
        assert_eq!(
            complete(&helper, "print(gate"),
            (6, vec!["gateways".to_string()])
        );
        assert_eq!(
            complete(&helper, "apim::pa"),
            (0, vec!["apim::path_hint".to_string()])
        );
        assert_eq!(
            complete(&helper, "old.ver"),
            (4, vec!["version".to_string()])
        );
        assert_eq!(complete(&helper, ":un"), (0, vec![":undo".to_string()]));
        assert_eq!(
            complete(&helper, ":help copy_t"),
            (6, vec!["copy_tenant_userstores".to_string()])
        );
        assert_eq!(
            complete(&helper, ":dry-run o"),
            (9, vec!["on".to_string(), "off".to_string()])
        );
    }

    #[test]
    fn completes_paths_inside_the_packs_in_strings() {
        let first = tempfile::tempdir().expect("temp dir");
        let second = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(first.path().join("repository/conf")).expect("dirs");
        std::fs::create_dir_all(second.path().join("repository/components")).expect("dirs");
        std::fs::write(first.path().join("repository/conf/deployment.toml"), "").expect("file");
        std::fs::create_dir_all(first.path().join(".apim-migrate")).expect("dirs");
        let helper = helper(vec![
            first.path().to_path_buf(),
            second.path().to_path_buf(),
        ]);
        assert_eq!(
            complete(&helper, "list(old, \"repository/co"),
            (
                11,
                vec![
                    "repository/components/".to_string(),
                    "repository/conf/".to_string()
                ]
            )
        );
        assert_eq!(
            complete(&helper, "read_toml(new, \"repository/conf/dep"),
            (16, vec!["repository/conf/deployment.toml".to_string()])
        );
        assert_eq!(
            complete(&helper, "list(old, \".apim").1,
            Vec::<String>::new()
        );
        assert_eq!(complete(&helper, "list(old, \"../").1, Vec::<String>::new());
    }

    #[test]
    fn hints_show_the_rest_of_a_name_or_the_signature_of_the_call() {
        let helper = helper(Vec::new());
        let hint = helper.hint_for("copy_keys").expect("hint");
        assert_eq!(hint.display(), "tores    copy_keystores(from, to)");
        assert_eq!(hint.completion(), Some("tores"));
        let hint = helper.hint_for("read_toml(new, ").expect("hint");
        assert_eq!(
            hint.display(),
            "    read_toml(pack, key) | read_toml(pack, file, key)"
        );
        assert_eq!(hint.completion(), None);
        let hint = helper.hint_for("apim::path_hint(").expect("hint");
        assert_eq!(hint.display(), "    apim::path_hint(version)");
        let hint = helper.hint_for(":lo").expect("hint");
        assert_eq!(hint.display(), "ad FILE [KEY=VALUE...]");
        assert!(helper.hint_for("copy_").is_none(), "two names match");
        assert!(helper.hint_for("copy_keystores(old, new);").is_none());
    }
}
