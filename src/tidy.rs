//! The boundaries ARCHITECTURE.md states, held by a test that reads the sources (as
//! rust-analyzer's `tidy` does): which layer may write to the filesystem, which may print,
//! which may see clap, Rhai or the terminal, which layer may import which, and how long a file
//! may grow. Each rule names the files it caught and what to do.

use std::path::{Path, PathBuf};

/// The layers, lowest first: a module may import its own layer and those before it, never
/// one after it, so no import circle can form between layers.
const LAYERS: &[&[&str]] = &[
    &["error", "text", "allocated", "interrupt"],
    &["pack"],
    &["change"],
    &["script"],
    &["engine"],
    &["primitives"],
    &["authoring", "run"],
    &["inventory", "repl"],
    &["report"],
    &["cli"],
    &["commands"],
];

/// What writes to the filesystem (or creates, removes, renames, links, changes modes or times).
const WRITES: &[&str] = &[
    "fs::write",
    "File::create",
    "File::options",
    "OpenOptions",
    "fs::create_dir",
    "fs::create_dir_all",
    "fs::remove_file",
    "fs::remove_dir",
    "fs::remove_dir_all",
    "fs::rename",
    "fs::hard_link",
    "fs::symlink",
    "set_permissions",
    "fs::copy",
    "tempfile::",
    ".persist(",
    "fcntl::open",
    "linkat",
    "renameat",
    "unlinkat",
    "mkdirat",
    "fchmod",
    "futimens",
    "utimensat",
    "set_times",
    "set_modified",
    ".set_len(",
];

/// What prints to the terminal.
const PRINTS: &[&str] = &[
    "println!",
    "print!(",
    "eprintln!",
    "eprint!(",
    "dbg!",
    "outln!",
    "out!(",
    "io::stdout",
    "io::stderr",
    "stdout()",
    "stderr()",
];

/// Where each rule allows what it otherwise forbids (folders or files under `src/`).
const MAY_WRITE: &[&str] = &["change/"];
const MAY_PRINT: &[&str] = &["report/", "commands/"];
const MAY_SEE_CLAP: &[&str] = &["cli/", "commands/"];
/// The layers that must know no Rhai: what changes packs, and what reads them.
const KNOW_NO_RHAI: &[&str] = &["change/", "pack/", "error.rs", "text.rs"];
/// The terminal's crates, and who may use them.
const TERMINAL_CRATES: &[&str] = &["indicatif", "rustyline", "anstream", "anstyle"];
const MAY_USE_TERMINAL: &[&str] = &["report/", "repl/", "commands/"];

/// Longer than this a file must be named, with its reason, in ARCHITECTURE.md ("Long files").
const LONG_FILE: usize = 800;

/// One source file: its path under `src/` and its code without unit tests and comments.
struct Source {
    relative: String,
    code: String,
    lines: usize,
}

fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
            let relative = path
                .strip_prefix(root.join("src"))
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            Source {
                lines: text.lines().count(),
                // A module's unit tests in a file of their own (`#[cfg(test)] mod tests;`).
                code: if relative.ends_with("/tests.rs") {
                    String::new()
                } else {
                    code_of(&text)
                },
                relative,
            }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "rs")
            && !path.ends_with("src/tidy.rs")
        {
            files.push(path);
        }
    }
}

/// The code the rules look at: up to the unit tests (`#[cfg(test)]`, at the end of a file by
/// this project's habit, or a module's `tests.rs`), without comments.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(tests) => &text[..tests],
        None => text,
    };
    text.lines()
        .map(|line| match line.trim_start() {
            trimmed if trimmed.starts_with("//") => "",
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn allowed(relative: &str, places: &[&str]) -> bool {
    places.iter().any(|place| relative.starts_with(place))
}

/// `file: what` for every use of one of `tokens` outside `places`.
fn misplaced(files: &[Source], tokens: &[&str], places: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files.iter().filter(|file| !allowed(&file.relative, places)) {
        for (number, line) in file.code.lines().enumerate() {
            for token in tokens.iter().filter(|token| contains_word(line, token)) {
                found.push(format!("src/{}:{}: `{token}`", file.relative, number + 1));
            }
        }
    }
    found
}

/// Whether `token` occurs in `line` as a name of its own, not inside a longer one
/// (`defs::write` is not `fs::write`, `fs::symlink_metadata` not `fs::symlink`).
fn contains_word(line: &str, token: &str) -> bool {
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(token).any(|(index, _)| {
        let before = line[..index].chars().next_back();
        let after = line[index + token.len()..].chars().next();
        let joined_before = before.is_some_and(name_char);
        let joined_after = token.ends_with(name_char) && after.is_some_and(name_char);
        !joined_before && !joined_after
    })
}

/// The layer of a module of the crate (`pack`, `change`, ...), by its folder or file.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn module_of(relative: &str) -> &str {
    let first = relative.split('/').next().unwrap_or(relative);
    first.strip_suffix(".rs").unwrap_or(first)
}

/// `file: crate::X` for every import of a later layer.
fn upward_imports(files: &[Source]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let module = module_of(&file.relative);
        let Some(own) = layer_of(module) else {
            continue;
        };
        for (number, line) in file.code.lines().enumerate() {
            for (index, _) in line.match_indices("crate::") {
                let imported: String = line[index + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                match layer_of(&imported) {
                    Some(layer) if layer > own => found.push(format!(
                        "src/{}:{}: `{module}` imports `{imported}`, a later layer",
                        file.relative,
                        number + 1
                    )),
                    _ => {}
                }
            }
        }
    }
    found
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn assert_none(found: Vec<String>, rule: &str) {
    assert!(found.is_empty(), "{rule}:\n  {}", found.join("\n  "));
}

#[test]
fn only_the_change_layer_writes_to_the_filesystem() {
    assert_none(
        misplaced(&sources(&repository()), WRITES, MAY_WRITE),
        "only src/change/ writes (packs through apply and rollback, other files through `disk`); move the write there",
    );
}

#[test]
fn a_file_of_unit_tests_is_compiled_for_tests_only() {
    // The rules skip a module's `tests.rs` whole: it must be declared after `#[cfg(test)]`.
    let declared: Vec<String> = sources(&repository())
        .iter()
        .filter(|file| contains_word(&file.code, "mod tests;"))
        .map(|file| format!("src/{}", file.relative))
        .collect();
    assert_none(
        declared,
        "declare a module's unit tests as `#[cfg(test)] mod tests;`, at the end of the file",
    );
}

#[test]
fn only_report_and_commands_print() {
    assert_none(
        misplaced(&sources(&repository()), PRINTS, MAY_PRINT),
        "only src/report/ and src/commands/ print; return the text (or a report type) instead",
    );
}

#[test]
fn clap_stays_in_the_command_line_layer() {
    assert_none(
        misplaced(&sources(&repository()), &["clap"], MAY_SEE_CLAP),
        "only src/cli/ and src/commands/ see clap; pass plain data (`run::Request`) instead",
    );
}

#[test]
fn what_changes_and_reads_packs_knows_no_rhai_and_no_terminal() {
    let files = sources(&repository());
    let no_rhai: Vec<Source> = files
        .into_iter()
        .filter(|file| allowed(&file.relative, KNOW_NO_RHAI))
        .collect();
    assert_none(
        misplaced(&no_rhai, &["rhai"], &[]),
        "src/change/ and src/pack/ know no Rhai",
    );
    assert_none(
        misplaced(&sources(&repository()), TERMINAL_CRATES, MAY_USE_TERMINAL),
        "the terminal's crates belong to src/report/, src/repl/ and src/commands/",
    );
}

#[test]
fn no_module_imports_a_later_layer() {
    assert_none(
        upward_imports(&sources(&repository())),
        "a layer imports only itself and the layers before it (see LAYERS and ARCHITECTURE.md)",
    );
}

#[test]
fn every_module_says_what_it_is_and_long_files_say_why() {
    let root = repository();
    let architecture = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
    let long_files = architecture
        .split("## Long files")
        .nth(1)
        .unwrap_or_default();
    let mut found = Vec::new();
    for file in sources(&root) {
        let text =
            std::fs::read_to_string(root.join("src").join(&file.relative)).unwrap_or_default();
        if !text.starts_with("//!") {
            found.push(format!(
                "src/{}: starts without a `//!` line",
                file.relative
            ));
        }
        if file.lines > LONG_FILE && !long_files.contains(&format!("`src/{}`", file.relative)) {
            found.push(format!(
                "src/{}: {} lines; split it, or say why not under \"Long files\" in ARCHITECTURE.md",
                file.relative, file.lines
            ));
        }
        for marker in ["todo!", "unimplemented!", "dbg!"] {
            if file.code.contains(marker) {
                found.push(format!("src/{}: `{marker}`", file.relative));
            }
        }
    }
    assert_none(found, "module documentation and file length");
}

#[test]
fn the_rules_catch_what_they_are_meant_to_catch() {
    let file = |relative: &str, code: &str| Source {
        relative: relative.to_string(),
        code: code_of(code),
        lines: code.lines().count(),
    };
    let files = [
        file("pack/keystores.rs", "fn f() { std::fs::write(path, b\"x\"); }\n"),
        file("engine/mod.rs", "fn f() { println!(\"planned\"); }\n"),
        file("run/mod.rs", "use clap::Parser;\n"),
        file("change/apply.rs", "use crate::report::Outcome;\nfn f() { fs::rename(a, b); }\n"),
        file(
            "pack/mod.rs",
            "// std::fs::write in a comment is fine\nfn f() {}\n#[cfg(test)]\nmod tests { fn t() { std::fs::write(p, b\"\"); } }\n",
        ),
    ];
    assert_eq!(
        misplaced(&files, WRITES, MAY_WRITE),
        ["src/pack/keystores.rs:1: `fs::write`"]
    );
    assert_eq!(
        misplaced(&files, PRINTS, MAY_PRINT),
        ["src/engine/mod.rs:1: `println!`"]
    );
    assert_eq!(
        misplaced(&files, &["clap"], MAY_SEE_CLAP),
        ["src/run/mod.rs:1: `clap`"]
    );
    assert_eq!(
        upward_imports(&files),
        ["src/change/apply.rs:1: `change` imports `report`, a later layer"]
    );
}
