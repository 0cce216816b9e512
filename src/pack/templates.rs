//! What a pack's configuration templates read: the `.j2` files under
//! `repository/resources/conf/templates/` render the XML configuration from deployment.toml
//! at start-up, so the keys a template reads are the keys the pack understands. Here: the
//! keys of a template, and the gateway skip lists of `api-manager.xml.j2` (which lists it
//! reads, and which names it already exempts itself), with built-in facts for a pack that
//! lacks the template.
//!
//! The built-in facts, from `api-manager.xml.j2` of carbon-apimgt at the version each API-M
//! release pins (see `UPGRADE-PATHS.md`, B.1 and B.3): 3.x reads no skip list; every 4.x
//! release reads `apis`, `endpoints`, `sequences` and `local_entries`; the template exempts
//! `_OpenService_.xml` and the stock sequences, a list that grew with 4.1.0
//! (`_opa_policy_failure_handler_`) and 4.6.0 (`_extension_fault_handler_`,
//! `guardrail_fault`, `_mcp_failure_handler_`).

use super::toml::SkipKind;
use super::{compare_versions, Pack, Product};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// The template that renders `repository/conf/api-manager.xml`.
pub const API_MANAGER_TEMPLATE: &str =
    "repository/resources/conf/templates/repository/conf/api-manager.xml.j2";

/// The dotted key prefix of the gateway skip lists.
pub const SKIP_LIST_KEY: &str = "apim.sync_runtime_artifacts.gateway.skip_list";

/// Where a piece of knowledge about a pack came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file of the pack (pack-relative path).
    Pack(String),
    /// Built-in facts; the text says for which version and why.
    BuiltIn(String),
}

impl Source {
    /// `read from `repository/…/api-manager.xml.j2``, `built-in facts for API-M 4.7.0 …`.
    pub fn describe(&self) -> String {
        match self {
            Source::Pack(path) => format!("read from `{path}`"),
            Source::BuiltIn(why) => why.clone(),
        }
    }
}

/// Every configuration key a template reads: the dotted names inside its `{{ … }}` and
/// `{% … %}` blocks (`apim.sync_runtime_artifacts.gateway.enable`), loop variables and
/// filters included, sorted.
pub fn keys_read(template: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let Some(end) = after.find(close) else {
            break;
        };
        collect_dotted(&after[1..end], &mut keys);
        rest = &after[end + close.len()..];
    }
    keys
}

/// The dotted names (two parts at least) of one template expression.
fn collect_dotted(expression: &str, keys: &mut BTreeSet<String>) {
    let mut word = String::new();
    let mut in_string: Option<char> = None;
    for c in expression.chars().chain(std::iter::once(' ')) {
        if let Some(quote) = in_string {
            if c == quote {
                in_string = None;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            in_string = Some(c);
            word.clear();
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
            word.push(c);
            continue;
        }
        let trimmed = word.trim_matches(|c| c == '.' || c == '-');
        let starts_with_letter = trimmed
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if starts_with_letter && trimmed.contains('.') {
            keys.insert(trimmed.to_string());
        }
        word.clear();
    }
}

/// The gateway skip lists a pack understands.
#[derive(Debug, Clone)]
pub struct SkipListRules {
    /// The lists the template reads (`apis`, `endpoints`, `sequences`, `local_entries`).
    pub kinds: Vec<SkipKind>,
    /// The names the template lists itself, by kind: they never need listing again.
    pub exempt: BTreeMap<SkipKind, BTreeSet<String>>,
    /// Keys under the skip list table the template reads that are no known kind.
    pub other_keys: Vec<String>,
    pub source: Source,
}

impl SkipListRules {
    /// What `pack`'s own `api-manager.xml.j2` says, or the built-in facts for its version
    /// when it has none (or it cannot be read).
    pub fn of(pack: &Pack) -> SkipListRules {
        match pack.read_to_string(API_MANAGER_TEMPLATE) {
            Ok(text) => SkipListRules::from_template(&text, API_MANAGER_TEMPLATE),
            Err(_) => SkipListRules::builtin(pack.product, &pack.version),
        }
    }

    /// Reads a template's text.
    pub fn from_template(text: &str, path: &str) -> SkipListRules {
        let prefix = format!("{SKIP_LIST_KEY}.");
        let mut kinds = Vec::new();
        let mut other_keys = Vec::new();
        for key in keys_read(text) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                continue;
            };
            let list = rest.split('.').next().unwrap_or(rest).to_string();
            match SkipKind::from_key(&list) {
                Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
                Some(_) => {}
                None if !other_keys.contains(&list) => other_keys.push(list),
                None => {}
            }
        }
        kinds.sort();
        SkipListRules {
            kinds,
            exempt: exempt_names(text),
            other_keys,
            source: Source::Pack(path.to_string()),
        }
    }

    /// The built-in facts for an API-M version.
    pub fn builtin(product: Product, version: &str) -> SkipListRules {
        let label = format!("{} {version}", product.short_name());
        let at_least = |known: &str| compare_versions(version, known) != Ordering::Less;
        if product != Product::ApiManager || !at_least("4.0.0") {
            return SkipListRules {
                kinds: Vec::new(),
                exempt: BTreeMap::new(),
                other_keys: Vec::new(),
                source: Source::BuiltIn(format!(
                    "built-in facts for {label} (the pack has no `{API_MANAGER_TEMPLATE}`): it reads no gateway skip list"
                )),
            };
        }
        let mut sequences: Vec<&str> = vec![
            "_auth_failure_handler_",
            "_backend_failure_handler_",
            "_block_api_handler_",
            "_build_",
            "_cors_request_handler_",
            "_graphql_failure_handler_",
            "_production_key_error_",
            "_resource_mismatch_handler_",
            "_sandbox_key_error_",
            "_threat_fault_",
            "_throttle_out_handler_",
            "_token_fault_",
            "dispatchSeq",
            "fault",
            "main",
            "outDispatchSeq",
            "webhooksFaultSequence",
        ];
        if at_least("4.1.0") {
            sequences.push("_opa_policy_failure_handler_");
        }
        if at_least("4.6.0") {
            sequences.extend([
                "_extension_fault_handler_",
                "_mcp_failure_handler_",
                "guardrail_fault",
            ]);
        }
        let mut exempt = BTreeMap::new();
        exempt.insert(
            SkipKind::Apis,
            BTreeSet::from(["_OpenService_.xml".to_string()]),
        );
        exempt.insert(
            SkipKind::Sequences,
            sequences.iter().map(|name| format!("{name}.xml")).collect(),
        );
        SkipListRules {
            kinds: SkipKind::ALL.to_vec(),
            exempt,
            other_keys: Vec::new(),
            source: Source::BuiltIn(format!(
                "built-in facts for {label} (the pack has no `{API_MANAGER_TEMPLATE}`)"
            )),
        }
    }

    /// Whether the template already exempts `name` from the list `kind`.
    pub fn exempts(&self, kind: SkipKind, name: &str) -> bool {
        self.exempt
            .get(&kind)
            .is_some_and(|names| names.contains(name))
    }

    pub fn reads(&self, kind: SkipKind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// The literal names inside `<SkipList>`: `<API>_OpenService_.xml</API>`, `<Sequence>…`,
/// `<Endpoint>…`, `<LocalEntry>…`; entries filled from the configuration (`{{api}}`) are not
/// names.
fn exempt_names(text: &str) -> BTreeMap<SkipKind, BTreeSet<String>> {
    let mut exempt: BTreeMap<SkipKind, BTreeSet<String>> = BTreeMap::new();
    let Some(start) = text.find("<SkipList>") else {
        return exempt;
    };
    let section = &text[start..];
    let section = &section[..section.find("</SkipList>").unwrap_or(section.len())];
    for (element, kind) in [
        ("API", SkipKind::Apis),
        ("Endpoint", SkipKind::Endpoints),
        ("Sequence", SkipKind::Sequences),
        ("LocalEntry", SkipKind::LocalEntries),
    ] {
        let open = format!("<{element}>");
        let close = format!("</{element}>");
        let mut rest = section;
        while let Some(at) = rest.find(&open) {
            let after = &rest[at + open.len()..];
            let Some(end) = after.find(&close) else {
                break;
            };
            let name = after[..end].trim();
            if !name.is_empty() && !name.contains("{{") && !name.contains("{%") {
                exempt.entry(kind).or_default().insert(name.to_string());
            }
            rest = &after[end + close.len()..];
        }
    }
    exempt
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A template in the shape of the 4.x `<SkipList>`, in this project's own words.
    const TEMPLATE: &str = r#"<Config>
    {% if apim.sync_runtime_artifacts.gateway is defined %}
    <Enable>{{apim.sync_runtime_artifacts.gateway.enable}}</Enable>
        <SkipList>
        <APIS>
            <API>_Health_.xml</API>
        {% if apim.sync_runtime_artifacts.gateway.skip_list.apis is defined %}
            {%- for api in apim.sync_runtime_artifacts.gateway.skip_list.apis -%}
            <API>{{api}}</API>
            {% endfor %}
        {% endif %}
        </APIS>
        <Sequences>
            <Sequence>main.xml</Sequence>
            <Sequence>fault.xml</Sequence>
            {%- for sequence in apim.sync_runtime_artifacts.gateway.skip_list.sequences -%}
            <Sequence>{{sequence}}</Sequence>
            {% endfor %}
        </Sequences>
        <LocalEntries>
            {%- for entry in apim.sync_runtime_artifacts.gateway.skip_list.local_entries -%}
            <LocalEntry>{{ entry }}</LocalEntry>
            {% endfor %}
        </LocalEntries>
        </SkipList>
    {% endif %}
    <Other>{{ apim.skip_list_note | default("a.b") }}</Other>
    <Sequence>outside.xml</Sequence>
</Config>
"#;

    #[test]
    fn a_template_says_which_lists_it_reads_and_what_it_exempts() {
        let rules = SkipListRules::from_template(TEMPLATE, API_MANAGER_TEMPLATE);
        assert_eq!(
            rules.kinds,
            vec![SkipKind::Apis, SkipKind::Sequences, SkipKind::LocalEntries]
        );
        assert!(!rules.reads(SkipKind::Endpoints));
        assert!(rules.exempts(SkipKind::Apis, "_Health_.xml"));
        assert!(rules.exempts(SkipKind::Sequences, "main.xml"));
        assert!(rules.exempts(SkipKind::Sequences, "fault.xml"));
        assert!(
            !rules.exempts(SkipKind::Sequences, "outside.xml"),
            "only names inside <SkipList> are exempt"
        );
        assert!(!rules.exempts(SkipKind::LocalEntries, "{{ entry }}"));
        assert_eq!(rules.source, Source::Pack(API_MANAGER_TEMPLATE.to_string()));
    }

    #[test]
    fn keys_are_the_dotted_names_of_expressions_and_statements() {
        let keys = keys_read(TEMPLATE);
        for key in [
            "apim.sync_runtime_artifacts.gateway",
            "apim.sync_runtime_artifacts.gateway.enable",
            "apim.sync_runtime_artifacts.gateway.skip_list.apis",
            "apim.sync_runtime_artifacts.gateway.skip_list.local_entries",
            "apim.skip_list_note",
        ] {
            assert!(keys.contains(key), "{key} in {keys:?}");
        }
        assert!(!keys.contains("a.b"), "a string is no key: {keys:?}");
        assert!(!keys.contains("main.xml"), "text outside blocks is no key");
    }

    #[test]
    fn built_in_facts_follow_the_versions() {
        let three = SkipListRules::builtin(Product::ApiManager, "3.2.0");
        assert!(three.kinds.is_empty());
        let four = SkipListRules::builtin(Product::ApiManager, "4.0.0");
        assert_eq!(four.kinds, SkipKind::ALL.to_vec());
        assert!(four.exempts(SkipKind::Apis, "_OpenService_.xml"));
        assert!(four.exempts(SkipKind::Sequences, "webhooksFaultSequence.xml"));
        assert!(!four.exempts(SkipKind::Sequences, "_opa_policy_failure_handler_.xml"));
        let one = SkipListRules::builtin(Product::ApiManager, "4.1.0");
        assert!(one.exempts(SkipKind::Sequences, "_opa_policy_failure_handler_.xml"));
        assert!(!one.exempts(SkipKind::Sequences, "guardrail_fault.xml"));
        let seven = SkipListRules::builtin(Product::ApiManager, "4.7.0");
        for name in [
            "_extension_fault_handler_.xml",
            "guardrail_fault.xml",
            "_mcp_failure_handler_.xml",
        ] {
            assert!(seven.exempts(SkipKind::Sequences, name), "{name}");
        }
        assert!(matches!(seven.source, Source::BuiltIn(_)));
    }
}
