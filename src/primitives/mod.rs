//! The primitives scripts call, one file per group. Each primitive is declared once, in a
//! `Registry`: its name, summary, example, and each form's parameters and function. That one
//! declaration registers the function (with its parameter names and documentation, for the
//! definition files of `defs`) and makes the documentation `docs`, `:help`, `scripts new` and
//! the reference page (docs/primitives.md) are generated from.

mod ciphertool;
mod config;
mod gateway;
mod helpers;
mod jdbc;
mod keystores;
mod packs;
mod sequences;
mod steps;
mod synapse;
mod userstores;

pub use steps::MAX_STEP_DEPTH;

use crate::change::planner::Planner;
use crate::engine::{self, PackHandle, PlanOptions, Session, SharedSession};
use crate::pack::stock::Catalogue;
use rhai::Engine;
use std::collections::BTreeMap;

/// Every group, in the order the documentation lists them.
const GROUPS: [fn(&mut Registry); 11] = [
    packs::declare,
    keystores::declare,
    userstores::declare,
    sequences::declare,
    gateway::declare,
    synapse::declare,
    jdbc::declare,
    config::declare,
    ciphertool::declare,
    steps::declare,
    helpers::declare,
];

/// The documentation of one primitive (or of the `Pack` type), made from its declaration.
#[derive(Debug, Clone)]
pub struct PrimitiveDoc {
    pub name: &'static str,
    /// Every form, `name(param, ...)`, joined by ` | `.
    pub signature: String,
    pub summary: &'static str,
    pub example: &'static str,
}

/// Registers every primitive into `engine`, sharing `session` (an `engine::Registrar`).
pub fn register_all(engine: &mut Engine, session: &SharedSession) {
    let mut registry = Registry {
        engine,
        session: session.clone(),
        docs: Vec::new(),
    };
    for declare in GROUPS {
        declare(&mut registry);
    }
}

/// The documentation of every primitive, in the order of the groups.
pub fn docs() -> Vec<PrimitiveDoc> {
    let session = Session::shared(
        Planner::new(Vec::new()),
        Catalogue::default(),
        BTreeMap::new(),
        PlanOptions::default(),
    );
    let mut engine = Engine::new_raw();
    let mut registry = Registry {
        engine: &mut engine,
        session,
        docs: Vec::new(),
    };
    for declare in GROUPS {
        declare(&mut registry);
    }
    registry.docs
}

/// An engine as a run builds it (sandbox and primitives), with no packs and nothing
/// planned: for what can be known of scripts without running them (`check`, `defs`).
pub fn engine_without_packs() -> Engine {
    engine::engine_without_packs(register_all)
}

/// One primitive's documentation as text: signature, summary, example (`docs NAME`, `:help`).
pub fn render_doc(doc: &PrimitiveDoc) -> String {
    let mut out = format!("{}\n", doc.signature);
    out.push_str(&crate::text::wrap(doc.summary, "    ", "    "));
    out.push_str("\n    example:\n");
    for line in doc.example.lines() {
        out.push_str(&format!("        {line}\n"));
    }
    out
}

/// The primitive reference as Markdown, for docs/primitives.md (kept fresh by a test).
pub fn reference_markdown() -> String {
    let mut out = String::new();
    for doc in docs() {
        out.push_str(&format!("#### `{}`\n\n", doc.signature));
        out.push_str(doc.summary);
        out.push_str("\n\n```rhai\n");
        out.push_str(doc.example);
        out.push_str("\n```\n\n");
    }
    out
}

/// What the groups declare their primitives into: the engine being built, the session its
/// functions share, and the documentation gathered on the way.
pub struct Registry<'a> {
    engine: &'a mut Engine,
    session: SharedSession,
    docs: Vec<PrimitiveDoc>,
}

impl Registry<'_> {
    /// Declares a primitive; its forms follow (`Declared::form`).
    pub fn primitive(
        &mut self,
        name: &'static str,
        summary: &'static str,
        example: &'static str,
    ) -> Declared<'_> {
        self.docs.push(PrimitiveDoc {
            name,
            signature: String::new(),
            summary,
            example,
        });
        Declared {
            engine: &mut *self.engine,
            session: &self.session,
            doc: self.docs.last_mut().unwrap_or_else(|| unreachable!()),
        }
    }

    /// Declares the `Pack` type, shown as `shown`; its properties follow.
    pub fn pack_type(
        &mut self,
        shown: &'static str,
        summary: &'static str,
        example: &'static str,
    ) -> DeclaredType<'_> {
        self.engine.register_type_with_name::<PackHandle>("Pack");
        self.docs.push(PrimitiveDoc {
            name: "Pack",
            signature: shown.to_string(),
            summary,
            example,
        });
        DeclaredType {
            engine: &mut *self.engine,
            doc: self.docs.last_mut().unwrap_or_else(|| unreachable!()),
            properties: Vec::new(),
        }
    }

    /// The engine, for what is not a documented primitive (how a `Pack` prints).
    pub fn engine(&mut self) -> &mut Engine {
        self.engine
    }
}

/// A primitive being declared.
pub struct Declared<'r> {
    engine: &'r mut Engine,
    session: &'r SharedSession,
    doc: &'r mut PrimitiveDoc,
}

impl Declared<'_> {
    /// A form of the primitive: its parameters' names and its function, made by `make` from
    /// the session the engine's functions share.
    pub fn form<
        A: 'static,
        const N: usize,
        const X: bool,
        R: rhai::Variant + Clone,
        const F: bool,
        FUNC: rhai::RhaiNativeFunc<A, N, X, R, F> + 'static,
    >(
        self,
        params: [&str; N],
        make: impl FnOnce(SharedSession) -> FUNC,
    ) -> Self {
        let name = self.doc.name;
        self.form_named(name, params, make)
    }

    /// A form under another name, documented in the same entry (`is_file` beside `exists`).
    pub fn form_named<
        A: 'static,
        const N: usize,
        const X: bool,
        R: rhai::Variant + Clone,
        const F: bool,
        FUNC: rhai::RhaiNativeFunc<A, N, X, R, F> + 'static,
    >(
        self,
        name: &str,
        params: [&str; N],
        make: impl FnOnce(SharedSession) -> FUNC,
    ) -> Self {
        if !self.doc.signature.is_empty() {
            self.doc.signature.push_str(" | ");
        }
        self.doc
            .signature
            .push_str(&format!("{name}({})", params.join(", ")));
        let mut info: Vec<String> = params
            .iter()
            .zip(FUNC::param_names())
            .map(|(param, type_name)| format!("{param}: {type_name}"))
            .collect();
        info.push(std::any::type_name::<R>().to_string());
        rhai::FuncRegistration::new(name)
            .with_params_info(info)
            .with_comments(Some(comment(self.doc)))
            .register_into_engine(self.engine, make(self.session.clone()));
        self
    }
}

/// The `Pack` type being declared.
pub struct DeclaredType<'r> {
    engine: &'r mut Engine,
    doc: &'r mut PrimitiveDoc,
    properties: Vec<&'static str>,
}

impl DeclaredType<'_> {
    /// A property of every pack, read by `get`.
    pub fn property<V: rhai::Variant + Clone>(
        mut self,
        name: &'static str,
        get: impl Fn(&mut PackHandle) -> V + 'static,
    ) -> Self {
        self.engine.register_get(name, get);
        let shown = self
            .doc
            .signature
            .split_once("  (")
            .map_or(self.doc.signature.as_str(), |(shown, _)| shown)
            .to_string();
        self.properties.push(name);
        self.doc.signature = format!("{shown}  (properties: {})", self.properties.join(", "));
        self
    }
}

/// The doc comment of a primitive for definition files: its summary and its example.
fn comment(doc: &PrimitiveDoc) -> String {
    let mut comment = crate::text::wrap(doc.summary, "/// ", "/// ");
    comment.push_str("\n///\n/// ```rhai");
    for line in doc.example.lines() {
        comment.push_str("\n/// ");
        comment.push_str(line);
    }
    comment.push_str("\n/// ```");
    comment
}
