//! The documentation is held to the code: the primitive reference (docs/primitives.md) is
//! generated from the docs in the code and README's table of paths from the bundled scripts'
//! headers (these tests fail when either is stale and rewrite it when `UPDATE_DOCS=1` is set),
//! every command README.md shows is run, and README stays short.

use crate::support::library::{
    path_table_markdown, primitive_docs, reference_markdown, BUNDLED, STDLIB,
};

/// Checks that the part of the page `file` (from the project's root) between `start` and `end`
/// is `generated`; rewrites it when `UPDATE_DOCS=1` is set (the tests run side by side: when
/// two parts of one page were stale, a second run makes sure both are written).
fn generated_part(file: &str, start: &str, end: &str, generated: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let page = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{file}: {error}"));
    let begin = page
        .find(start)
        .unwrap_or_else(|| panic!("{file} has the start marker"))
        + start.len();
    let finish = page[begin..]
        .find(end)
        .unwrap_or_else(|| panic!("{file} has the end marker"))
        + begin;
    if page[begin..finish] != *generated {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &page[..begin], generated, &page[finish..]);
            std::fs::write(&path, updated).unwrap_or_else(|error| panic!("{file}: {error}"));
        } else {
            panic!("{file} is stale: run `UPDATE_DOCS=1 cargo test --test integration readme`");
        }
    }
}

#[test]
fn primitive_reference_is_generated_from_the_code() {
    generated_part(
        "docs/primitives.md",
        "<!-- primitives:start (generated from the code: UPDATE_DOCS=1 cargo test --test integration readme) -->\n",
        "<!-- primitives:end -->",
        &reference_markdown(),
    );
}

#[test]
fn readme_table_of_paths_is_generated_from_the_scripts_headers() {
    let table = path_table_markdown();
    for row in [
        "| 3.0.0 | 4.1.0 | [`3.0.0-to-4.1.0`](docs/paths/3.0.0-to-4.1.0.md) | one run |",
        "| 2.0.0 | 4.0.0 | [`2.0.0-to-4.0.0`](docs/paths/2.0.0-to-4.0.0.md) | one run |",
        "| 4.4.0 | 4.5.0, 4.6.0, 4.7.0 | [`to-4.x`](docs/paths/to-4.x.md) | one run |",
    ] {
        assert!(table.contains(row), "{row}\n{table}");
    }
    assert!(
        table.contains("| 1.8.0, 1.9.0, 1.9.1 | 4.1.0, 4.2.0, 4.3.0, 4.4.0, 4.5.0, 4.6.0, 4.7.0 | [`1.x-to-4.x`](docs/paths/1.x-to-4.x.md) | through 2.0.0"),
        "{table}"
    );
    // Every bundled script has its guide.
    for (name, _) in BUNDLED {
        let guide = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/paths")
            .join(format!("{name}.md"));
        assert!(
            guide.is_file(),
            "no guide for `{name}`: {}",
            guide.display()
        );
    }
    generated_part(
        "README.md",
        "<!-- paths:start (generated from the scripts' headers: UPDATE_DOCS=1 cargo test --test integration readme) -->\n",
        "<!-- paths:end -->",
        &table,
    );
}

#[test]
fn every_primitive_has_an_example_that_compiles() {
    let engine = rhai::Engine::new();
    for doc in primitive_docs() {
        assert!(
            !doc.example.trim().is_empty(),
            "`{}` has no example",
            doc.name
        );
        assert!(
            !doc.summary.trim().is_empty(),
            "`{}` has no summary",
            doc.name
        );
        // Syntax only: the packs an example uses exist only in a run.
        let mut source = doc.example.replace("new", "new_pack");
        source.insert_str(
            0,
            "let old = (); let new_pack = (); let km = (); let via = ();\n",
        );
        engine
            .compile(&source)
            .unwrap_or_else(|error| panic!("example of `{}` does not compile: {error}", doc.name));
    }
}

#[test]
fn every_bundled_script_and_module_compiles() {
    for (name, source) in BUNDLED.iter().chain(STDLIB) {
        let source = source.replace("new", "new_pack");
        let mut engine = rhai::Engine::new();
        engine.set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new());
        engine
            .compile(&source)
            .unwrap_or_else(|error| panic!("`{name}` does not compile: {error}"));
    }
}

/// The shell commands of README.md's ```sh blocks, one per entry, comments and line
/// continuations taken off.
fn readme_commands() -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let mut commands = Vec::new();
    let mut in_block = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block {
            continue;
        }
        let code = match line.find(" #") {
            Some(comment) => &line[..comment],
            None => line,
        }
        .trim();
        if code.is_empty() || code.starts_with('#') {
            continue;
        }
        match code.strip_suffix('\\') {
            Some(start) => pending.push_str(start),
            None => {
                pending.push_str(code);
                commands.push(std::mem::take(&mut pending));
            }
        }
    }
    commands
}

/// Every command README.md shows is run here, on sample packs standing in for the `/opt`
/// packs, in order, and must succeed. `cargo run --release -- ARGS` runs the binary with ARGS;
/// `cargo test` is this suite; `cargo install --locked --path .` is checked to name what it
/// installs (a test does not install into the user's `~/.cargo`).
#[test]
fn every_command_in_the_readme_runs() {
    use crate::support::{Packs, Test};
    let packs = Packs::standard();
    let work = packs.dir.path().join("work");
    std::fs::create_dir_all(&work).expect("work dir");
    let home = packs.dir.path().join("home");
    let commands = readme_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    let mut ran = 0;
    for command in &commands {
        let command = command
            .replace("/opt/wso2am-3.0.0", &packs.old.display().to_string())
            .replace("/opt/wso2am-4.1.0", &packs.new.display().to_string())
            .replace('~', &home.display().to_string());
        // What a redirection would write to is the shell's business.
        let command = command.split(" > ").next().unwrap_or_default().to_string();
        let words: Vec<&str> = command.split_whitespace().collect();
        let args: Vec<&str> = match words.as_slice() {
            ["cargo", "run", "--release", "--", "demo"] => vec!["demo", "demo-packs"],
            ["cargo", "test"] => continue,
            ["cargo", "install", "--locked", "--path", "."] => {
                let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
                assert!(root.join("Cargo.lock").is_file());
                let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("manifest");
                assert!(manifest.contains("[[bin]]\nname = \"apim-migrate\""));
                continue;
            }
            ["apim-migrate", rest @ ..] => rest.to_vec(),
            _ => panic!("README shows a command this test does not know how to run: {command}"),
        };
        let output = Test::new()
            .args(&args)
            .env("APIM_MIGRATE_STOCK", &packs.stock)
            .current_dir(&work)
            .run();
        assert!(
            output.status.success(),
            "README's `{command}`:\n{}",
            output.describe()
        );
        ran += 1;
    }
    assert!(ran >= 9, "{ran} commands ran");
    let lines =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md")
            .lines()
            .count();
    assert!(
        lines < 250,
        "README.md has {lines} lines: move detail to docs/"
    );
    // The step-by-step section left the new pack as it found it (the last command takes the
    // run back) and its report where `show` found it.
    assert!(packs.new.join(".apim-migrate/runs").is_dir());
}

/// docs/json.md shows an example of each document; each has the fields the real one has.
#[test]
fn the_json_examples_in_the_docs_have_the_fields_of_the_real_documents() {
    use crate::support::{Packs, Test, SCRIPT};
    use std::collections::BTreeSet;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md");
    let page = std::fs::read_to_string(path).expect("docs/json.md");
    let mut examples = std::collections::BTreeMap::new();
    for block in page.split("<!-- json: ").skip(1) {
        let (name, rest) = block
            .split_once(" -->\n```json\n")
            .expect("an example block");
        let (text, _) = rest.split_once("\n```").expect("the end of the block");
        let value: serde_json::Value = serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("the `{name}` example is not JSON: {error}"));
        examples.insert(name.to_string(), value);
    }
    let packs = Packs::standard();
    let json = |test: Test| -> serde_json::Value {
        let output = test.arg("--json").run();
        serde_json::from_slice(&output.stdout).expect("one document")
    };
    let real = [
        ("run", json(packs.test("run", SCRIPT))),
        ("history", json(Test::new().arg("history").arg(&packs.new))),
        ("show", json(Test::new().arg("show").arg(&packs.new))),
        (
            "rollback",
            json(Test::new().args(["rollback", "--new"]).arg(&packs.new)),
        ),
        (
            "detect",
            json(
                Test::new()
                    .arg("detect")
                    .arg(&packs.old)
                    .arg("--stock")
                    .arg(&packs.stock),
            ),
        ),
        ("scripts", json(Test::new().arg("scripts"))),
        ("path", json(Test::new().args(["path", "2.6.0", "4.1.0"]))),
        ("verify", json(Test::new().arg("verify").arg(&packs.new))),
        (
            "error",
            json(
                Test::new()
                    .args(["run", SCRIPT, "--old"])
                    .arg(packs.dir.path().join("missing"))
                    .arg("--new")
                    .arg(&packs.new),
            ),
        ),
    ];
    let keys = |value: &serde_json::Value| -> BTreeSet<String> {
        value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(
        examples.keys().cloned().collect::<BTreeSet<_>>(),
        real.iter().map(|(name, _)| name.to_string()).collect(),
        "an example per document"
    );
    for (name, document) in &real {
        let example = &examples[*name];
        assert_eq!(keys(example), keys(document), "`{name}`: {document}");
        assert_eq!(example["command"], document["command"], "`{name}`");
    }
    let action = |document: &serde_json::Value| keys(&document["actions"][0]);
    assert!(action(&examples["run"]).is_subset(&action(&real[0].1)));
}
