//! The primitive reference (docs/primitives.md) is generated from the docs in the code; this
//! test fails when it is stale and rewrites it when `UPDATE_DOCS=1` is set.

use crate::support::library::{primitive_docs, reference_markdown, BUNDLED, STDLIB};

const START: &str = "<!-- primitives:start (generated from the code: UPDATE_DOCS=1 cargo test --test integration readme) -->\n";
const END: &str = "<!-- primitives:end -->";

#[test]
fn primitive_reference_is_generated_from_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/primitives.md");
    let page = std::fs::read_to_string(&path).expect("docs/primitives.md");
    let start = page.find(START).expect("the page has the start marker") + START.len();
    let end = page[start..].find(END).expect("the page has the end marker") + start;
    let generated = reference_markdown();
    if page[start..end] != generated {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &page[..start], generated, &page[end..]);
            std::fs::write(&path, updated).expect("write docs/primitives.md");
        } else {
            panic!("docs/primitives.md is stale: run `UPDATE_DOCS=1 cargo test --test integration readme`");
        }
    }
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
