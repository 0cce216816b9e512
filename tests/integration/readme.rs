//! README.md's primitive reference is generated from the docs in the code, and its table of
//! supported paths from the bundled scripts' headers; these tests fail when either is stale
//! and rewrite it when `UPDATE_README=1` is set.

use crate::support::library::{
    path_table_markdown, primitive_docs, reference_markdown, BUNDLED, STDLIB,
};

/// Checks that README's part between `start` and `end` is `generated`; rewrites it when
/// `UPDATE_README=1` is set (the tests run side by side: when both parts were stale, a second
/// run makes sure both are written).
fn generated_part(start: &str, end: &str, generated: &str, what: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let begin = readme.find(start).expect("README has the start marker") + start.len();
    let finish = readme[begin..]
        .find(end)
        .expect("README has the end marker")
        + begin;
    if readme[begin..finish] != *generated {
        if std::env::var_os("UPDATE_README").is_some() {
            let updated = format!("{}{}{}", &readme[..begin], generated, &readme[finish..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!("README.md's {what} is stale: run `UPDATE_README=1 cargo test --test integration readme`");
        }
    }
}

#[test]
fn readme_primitive_reference_is_generated_from_the_code() {
    generated_part(
        "<!-- primitives:start (generated from the code: UPDATE_README=1 cargo test --test integration readme) -->\n",
        "<!-- primitives:end -->",
        &reference_markdown(),
        "primitive reference",
    );
}

#[test]
fn readme_table_of_paths_is_generated_from_the_scripts_headers() {
    let table = path_table_markdown();
    for row in [
        "| 3.0.0 | 4.1.0 | `3.0.0-to-4.1.0` | one run |",
        "| 2.0.0 | 4.0.0 | `2.0.0-to-4.0.0` | one run |",
        "| 4.4.0 | 4.5.0, 4.6.0, 4.7.0 | `to-4.x` | one run |",
    ] {
        assert!(table.contains(row), "{row}\n{table}");
    }
    assert!(
        table.contains("| 1.8.0, 1.9.0, 1.9.1 | 4.1.0, 4.2.0, 4.3.0, 4.4.0, 4.5.0, 4.6.0, 4.7.0 | `1.x-to-4.x` | through 2.0.0"),
        "{table}"
    );
    generated_part(
        "<!-- paths:start (generated from the scripts' headers: UPDATE_README=1 cargo test --test integration readme) -->\n",
        "<!-- paths:end -->",
        &table,
        "table of paths",
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
