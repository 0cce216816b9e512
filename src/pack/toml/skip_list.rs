//! The gateway skip lists of `[apim.sync_runtime_artifacts.gateway.skip_list]` and merging names into them.

use anyhow::{anyhow, bail};
use toml_edit::{Array, DocumentMut, Item, Value};

use super::array::push_string;
use super::edit::insert_missing;
use super::key::{dotted, get, get_mut, not_a_table, walk, Reach};
use super::{parse, with_article};

/// The path of the table that holds the gateway skip lists, without the list name.
const SKIP_LIST_TABLE: [&str; 4] = ["apim", "sync_runtime_artifacts", "gateway", "skip_list"];

/// How many segments of the skip list path lead to the gateway table.
const GATEWAY_DEPTH: usize = 3;

/// Which skip list of `[apim.sync_runtime_artifacts.gateway.skip_list]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipKind {
    Apis,
    Endpoints,
    Sequences,
    LocalEntries,
}

impl SkipKind {
    /// Every kind, in the order of the template's `<SkipList>`.
    pub const ALL: [SkipKind; 4] = [
        SkipKind::Apis,
        SkipKind::Endpoints,
        SkipKind::Sequences,
        SkipKind::LocalEntries,
    ];

    /// The key of this list inside the skip list table.
    pub fn key(self) -> &'static str {
        match self {
            SkipKind::Apis => "apis",
            SkipKind::Endpoints => "endpoints",
            SkipKind::Sequences => "sequences",
            SkipKind::LocalEntries => "local_entries",
        }
    }

    /// The kind of a key of the skip list table; `local-entries` (a spelling some WSO2 docs
    /// use) is no key of 4.x, so it is no kind either.
    pub fn from_key(key: &str) -> Option<SkipKind> {
        SkipKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The folder under `synapse-configs/default` whose files this list protects.
    pub fn dir(self) -> &'static str {
        match self {
            SkipKind::Apis => "api",
            SkipKind::Endpoints => "endpoints",
            SkipKind::Sequences => "sequences",
            SkipKind::LocalEntries => "local-entries",
        }
    }

    /// What the list holds, in the plural: `custom endpoints`.
    pub fn noun(self) -> &'static str {
        match self {
            SkipKind::Apis => "APIs",
            SkipKind::Endpoints => "endpoints",
            SkipKind::Sequences => "sequences",
            SkipKind::LocalEntries => "local entries",
        }
    }
}

/// The skip list table of a deployment.toml as it stands: every key it holds with its
/// names (strings only; other values are left out), in the file's order.
pub fn read_skip_lists(document: &DocumentMut) -> Vec<(String, Vec<String>)> {
    let path: Vec<String> = SKIP_LIST_TABLE
        .iter()
        .map(|segment| (*segment).to_owned())
        .collect();
    let Some(table) = get(document, &path).and_then(Item::as_table_like) else {
        return Vec::new();
    };
    table
        .iter()
        .map(|(key, item)| {
            let names = item
                .as_array()
                .map(|array| {
                    array
                        .iter()
                        .filter_map(|value| value.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            (key.to_owned(), names)
        })
        .collect()
}

/// The outcome of [`merge_skip_list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkipListMerge {
    /// The whole new document text.
    pub text: String,
    /// Names appended, in the order given (deduplicated).
    pub added: Vec<String>,
    /// Names that were already in the list, in the order given (deduplicated).
    pub already_present: Vec<String>,
    /// True when `[apim.sync_runtime_artifacts.gateway.skip_list]` had to be created.
    pub created_table: bool,
    /// Whether `[apim.sync_runtime_artifacts.gateway]` existed before (WSO2 reads the skip list only when it does).
    pub gateway_table_present: bool,
}

/// Merges `names` into the skip list `kind`. Errors (anyhow, one line, naming the dotted key and `file`) when a key on the way exists but is not a table, or the list exists but is not an array of strings.
pub fn merge_skip_list(
    text: &str,
    file: &str,
    kind: SkipKind,
    names: &[String],
) -> anyhow::Result<SkipListMerge> {
    let mut doc = parse(text, file)?;
    let path: Vec<String> = SKIP_LIST_TABLE
        .iter()
        .map(|segment| (*segment).to_owned())
        .chain(std::iter::once(kind.key().to_owned()))
        .collect();

    let (existing, current) = match walk(doc.as_item(), &path) {
        Reach::Found(item) => (path.len(), string_list(Some(item), &path, file)?),
        Reach::Missing { depth } => (depth, Vec::new()),
        Reach::NotATable { depth, type_name } => bail!(
            "cannot add to `{}` in `{file}`: {}",
            dotted(&path),
            not_a_table(&path[..depth], type_name)
        ),
    };
    // The gateway table counts as present in any form (header, implicit, dotted or inline),
    // because WSO2 sees the same nested map for all of them.
    let gateway_table_present = existing > GATEWAY_DEPTH - 1;

    let mut added: Vec<String> = Vec::new();
    let mut already_present: Vec<String> = Vec::new();
    for name in names {
        if current.contains(name) {
            if !already_present.contains(name) {
                already_present.push(name.clone());
            }
        } else if !added.contains(name) {
            added.push(name.clone());
        }
    }

    if added.is_empty() {
        // Nothing to add: hand the input back byte for byte rather than a re-rendered copy.
        return Ok(SkipListMerge {
            text: text.to_owned(),
            added,
            already_present,
            created_table: false,
            gateway_table_present,
        });
    }

    let mut created_table = existing < SKIP_LIST_TABLE.len();
    if existing == path.len() {
        let array = get_mut(&mut doc, &path)
            .and_then(Item::as_array_mut)
            .ok_or_else(|| anyhow!("`{}` in `{file}` could not be edited", dotted(&path)))?;
        for name in &added {
            push_string(array, name);
        }
    } else {
        let array: Array = added.iter().map(String::as_str).collect();
        let wrote_header = insert_missing(
            &mut doc,
            &path,
            existing,
            Value::Array(array),
            &path[..GATEWAY_DEPTH],
        )?;
        created_table |= wrote_header;
    }

    let new_text = render(&doc, text);
    check_merge(&new_text, file, &path, &current, &added)?;

    Ok(SkipListMerge {
        text: new_text,
        added,
        already_present,
        created_table,
        gateway_table_present,
    })
}

/// Reads the strings of the skip list at `path`, or explains why the item is not a list of strings.
fn string_list(item: Option<&Item>, path: &[String], file: &str) -> anyhow::Result<Vec<String>> {
    let Some(item) = item else {
        return Ok(Vec::new());
    };
    let Some(array) = item.as_array() else {
        bail!(
            "`{}` in `{file}` is {}, not an array of strings",
            dotted(path),
            with_article(item.type_name())
        );
    };
    array
        .iter()
        .map(|value| {
            value.as_str().map(str::to_owned).ok_or_else(|| {
                anyhow!(
                    "`{}` in `{file}` holds {}, but it must be an array of strings",
                    dotted(path),
                    with_article(value.type_name())
                )
            })
        })
        .collect()
}

/// Re-reads the edited text as a last line of defence, so that a bug here can never lead to a
/// corrupt or wrong file being written.
fn check_merge(
    new_text: &str,
    file: &str,
    path: &[String],
    before: &[String],
    added: &[String],
) -> anyhow::Result<()> {
    let reparsed = parse(new_text, file).map_err(|err| {
        anyhow!(
            "internal error: the edited `{file}` would not be valid TOML ({})",
            err.message
        )
    })?;
    let after = string_list(get(&reparsed, path), path, file)?;
    let expected: Vec<String> = before.iter().chain(added).cloned().collect();
    if after != expected {
        bail!(
            "internal error: the edited `{}` in `{file}` does not hold the expected names",
            dotted(path)
        );
    }
    Ok(())
}

/// The document's text, with the byte order mark and CRLF line endings of the original kept,
/// because `toml_edit` drops the one and writes LF for the other.
fn render(doc: &DocumentMut, original: &str) -> String {
    let mut out = doc.to_string();
    let crlf_only = original.contains("\r\n")
        && original.matches('\n').count() == original.matches("\r\n").count();
    if crlf_only {
        out = out.replace("\r\n", "\n").replace('\n', "\r\n");
    }
    if original.starts_with('\u{feff}') && !out.starts_with('\u{feff}') {
        out.insert(0, '\u{feff}');
    }
    out
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::pack::toml::fixtures::*;
    use crate::pack::toml::{parse, TomlError};

    #[test]
    fn skip_kind_keys() {
        assert_eq!(SkipKind::Apis.key(), "apis");
        assert_eq!(SkipKind::Endpoints.key(), "endpoints");
        assert_eq!(SkipKind::Sequences.key(), "sequences");
        assert_eq!(SkipKind::LocalEntries.key(), "local_entries");
        assert_eq!(SkipKind::LocalEntries.dir(), "local-entries");
        assert_eq!(SkipKind::from_key("local-entries"), None);
        for kind in SkipKind::ALL {
            assert_eq!(SkipKind::from_key(kind.key()), Some(kind));
        }
    }

    #[test]
    fn existing_skip_lists_are_read_in_the_file_order_whatever_their_form() {
        let text = "[apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [\"a.xml\"]\n\"local-entries\" = [\"e.xml\", 3]\napis = \"x\"\n";
        let document = parse(text, FILE).unwrap();
        assert_eq!(
            read_skip_lists(&document),
            vec![
                ("sequences".to_string(), strings(&["a.xml"])),
                ("local-entries".to_string(), strings(&["e.xml"])),
                ("apis".to_string(), Vec::new()),
            ]
        );
        let inline = parse(
            "[apim.sync_runtime_artifacts]\ngateway = { skip_list = { endpoints = [\"ep.xml\"] } }\n",
            FILE,
        )
        .unwrap();
        assert_eq!(
            read_skip_lists(&inline),
            vec![("endpoints".to_string(), strings(&["ep.xml"]))]
        );
        assert!(read_skip_lists(&parse("[server]\n", FILE).unwrap()).is_empty());
    }

    // ---- merge_skip_list: rule 1 ----

    #[test]
    fn merging_names_already_present_returns_the_input_unchanged() {
        let text = "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
                    [apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [ 'a.xml' ,\"b.xml\"]";
        let result = merge(text, SkipKind::Sequences, &["b.xml", "a.xml", "b.xml"]);
        assert_eq!(result.text, text);
        assert!(result.added.is_empty());
        assert_eq!(result.already_present, strings(&["b.xml", "a.xml"]));
        assert!(!result.created_table);
        assert!(result.gateway_table_present);
    }

    #[test]
    fn merging_an_empty_list_returns_the_input_unchanged() {
        let result = merge(STOCK, SkipKind::Apis, &[]);
        assert_eq!(result.text, STOCK);
        assert!(result.added.is_empty() && result.already_present.is_empty());
        assert!(!result.created_table);
    }

    #[test]
    fn merging_twice_equals_merging_once() {
        let names = ["_cors_request_handler_.xml", "custom seq.xml", "a\"b.xml"];
        let once = merge(STOCK, SkipKind::Sequences, &names);
        let twice = merge(&once.text, SkipKind::Sequences, &names);
        assert_eq!(twice.text, once.text);
        assert!(twice.added.is_empty());
        assert_eq!(twice.already_present, strings(&names));
    }

    #[test]
    fn new_names_are_deduplicated_and_compared_as_strings() {
        let text = skip_table("apis = ['a.xml', \"b.xml\"]");
        let result = merge(
            &text,
            SkipKind::Apis,
            &["c.xml", "a.xml", "c.xml", "d.xml", "b.xml"],
        );
        assert_eq!(result.added, strings(&["c.xml", "d.xml"]));
        assert_eq!(result.already_present, strings(&["a.xml", "b.xml"]));
        assert_eq!(
            result.text,
            skip_table("apis = ['a.xml', \"b.xml\", \"c.xml\", \"d.xml\"]")
        );
    }

    // ---- rule 3: missing list, table present ----

    #[test]
    fn a_missing_list_is_added_at_the_end_of_the_skip_list_table() {
        let text = skip_table("apis = [\"a.xml\"]\n# endpoints = []");
        let result = merge(&text, SkipKind::Sequences, &["s.xml"]);
        assert_eq!(
            result.text,
            skip_table("apis = [\"a.xml\"]\nsequences = [\"s.xml\"]\n# endpoints = []")
        );
        assert!(!result.created_table);
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn a_missing_list_in_an_empty_skip_list_table() {
        let text = "[apim.sync_runtime_artifacts.gateway.skip_list]\n\n[server]\nx = 1\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n[server]\nx = 1\n"
        );
        assert!(result.gateway_table_present);
    }

    #[test]
    fn an_implicit_skip_list_table_gets_its_header_before_its_sub_tables() {
        let text = "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n[server]\nx = 1\n\n\
                    [apim.sync_runtime_artifacts.gateway.skip_list.extra]\ny = 2\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n[server]\nx = 1\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list.extra]\ny = 2\n"
        );
        assert!(result.created_table);
        assert!(result.gateway_table_present);
    }

    // ---- rule 4: missing skip_list table ----

    #[test]
    fn the_skip_list_table_is_created_right_after_the_gateway_table() {
        let result = merge(
            STOCK,
            SkipKind::Sequences,
            &["_cors_request_handler_.xml", "x.xml"],
        );
        assert!(result.created_table);
        assert!(result.gateway_table_present);
        assert_eq!(
            result.added,
            strings(&["_cors_request_handler_.xml", "x.xml"])
        );
        assert!(
            result.text.contains(
                "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
                 [apim.sync_runtime_artifacts.gateway.skip_list]\n\
                 sequences = [\"_cors_request_handler_.xml\", \"x.xml\"]\n\n\
                 #[apim.cache.gateway_token]\n"
            ),
            "{}",
            result.text
        );
        assert_all_lines_kept(STOCK, &result.text);
        assert_eq!(result.text.lines().count(), STOCK.lines().count() + 3);
        assert_eq!(
            list(&result.text, SkipKind::Sequences).unwrap(),
            strings(&["_cors_request_handler_.xml", "x.xml"])
        );
        // The array tables and their sub-tables keep their order after the shift.
        let events = result.text.find("[[event_listener]]").unwrap();
        let properties = result.text.find("[event_listener.properties]").unwrap();
        assert!(events < properties);
    }

    #[test]
    fn the_skip_list_table_goes_after_gateway_sub_tables_only_when_the_gateway_has_no_header() {
        let text = "[server]\nx = 1\n\n[apim.sync_runtime_artifacts.gateway.other]\ny = 2\n\n[apim.analytics]\nenable = false\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[server]\nx = 1\n\n[apim.sync_runtime_artifacts.gateway.other]\ny = 2\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n[apim.analytics]\nenable = false\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    #[test]
    fn without_a_gateway_table_the_skip_list_goes_at_the_end() {
        let text = "# WSO2 API Manager\n[server]\nhostname = \"localhost\"\n\n[apim.analytics]\nenable = false\n\n# trailing notes\n#[apim.cache.tags]\n";
        let result = merge(text, SkipKind::Apis, &["PizzaShackAPI.xml"]);
        assert_eq!(
            result.text,
            "# WSO2 API Manager\n[server]\nhostname = \"localhost\"\n\n[apim.analytics]\nenable = false\n\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"PizzaShackAPI.xml\"]\n\n# trailing notes\n#[apim.cache.tags]\n"
        );
        assert!(!result.gateway_table_present);
        assert!(result.created_table);
        // No empty `[apim]` or `[apim.sync_runtime_artifacts]` headers appear.
        assert!(!result.text.contains("[apim]"));
        assert!(!result.text.contains("[apim.sync_runtime_artifacts]"));
    }

    #[test]
    fn without_a_gateway_table_the_skip_list_goes_before_secrets() {
        let text = format!(
            "{}\n# Secrets must stay last.\n[secrets]\nadmin_password = \"[admin]\"\n",
            STOCK.replace(
                "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n",
                ""
            )
        );
        let result = merge(&text, SkipKind::LocalEntries, &["entry.xml"]);
        assert!(!result.gateway_table_present);
        assert!(result.text.contains(
            "iat_validity_period = \"1h\"\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\n\
             local_entries = [\"entry.xml\"]\n\n#[apim.token.revocation]\n"
        ));
        assert!(result
            .text
            .ends_with("# Secrets must stay last.\n[secrets]\nadmin_password = \"[admin]\"\n"));
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn with_a_gateway_table_and_secrets_the_skip_list_still_follows_the_gateway() {
        let text = format!("{STOCK}\n[secrets]\nadmin_password = \"[admin]\"\n");
        let result = merge(&text, SkipKind::Apis, &["a.xml"]);
        assert!(result.text.contains(
            "gateway_labels =[\"Default\"]\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n\n#[apim.cache.gateway_token]"
        ));
        assert!(result
            .text
            .ends_with("[secrets]\nadmin_password = \"[admin]\"\n"));
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn an_empty_document_gets_just_the_skip_list_table() {
        let result = merge("", SkipKind::Endpoints, &["ep.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\nendpoints = [\"ep.xml\"]\n"
        );
    }

    // ---- rule 5: inline tables and dotted keys ----

    fn gateway_body(body: &str) -> String {
        format!(
            "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n{body}\n\n#[apim.cache.gateway_token]\n#enable = true\n\n[apim.analytics]\nenable = false\n"
        )
    }

    #[test]
    fn inline_skip_lists_are_appended_in_place() {
        let text = gateway_body("skip_list = { sequences = [\"a.xml\"] }");
        let result = merge(&text, SkipKind::Sequences, &["b.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { sequences = [\"a.xml\", \"b.xml\"] }")
        );
        assert!(!result.created_table);

        let result = merge(&text, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { sequences = [\"a.xml\"], apis = [\"api.xml\"] }")
        );
        assert!(!result.created_table);

        let compact = gateway_body("skip_list = {sequences=[\"a.xml\"]}");
        let result = merge(&compact, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = {sequences=[\"a.xml\"],apis=[\"api.xml\"]}")
        );

        let empty = gateway_body("skip_list = {}");
        let result = merge(&empty, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list = { apis = [\"api.xml\"] }")
        );
    }

    #[test]
    fn an_inline_gateway_gets_an_inline_skip_list() {
        let text = "[apim.sync_runtime_artifacts]\ngateway = { gateway_labels = [\"Default\"] }\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts]\ngateway = { gateway_labels = [\"Default\"], skip_list = { apis = [\"a.xml\"] } }\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    #[test]
    fn dotted_skip_lists_are_appended_in_place() {
        let text = gateway_body("skip_list.sequences = [\"a.xml\"]");
        let result = merge(&text, SkipKind::Sequences, &["b.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list.sequences = [\"a.xml\", \"b.xml\"]")
        );

        let result = merge(&text, SkipKind::Apis, &["api.xml"]);
        assert_eq!(
            result.text,
            gateway_body("skip_list.sequences = [\"a.xml\"]\nskip_list.apis = [\"api.xml\"]")
        );
        assert!(!result.created_table);
        assert_all_lines_kept(&text, &result.text);
    }

    #[test]
    fn dotted_gateway_keys_get_a_dotted_skip_list() {
        let text = "[apim.sync_runtime_artifacts]\n  gateway.gateway_labels = [\"Default\"]\n\n[server]\nx = 1\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts]\n  gateway.gateway_labels = [\"Default\"]\n  gateway.skip_list.apis = [\"a.xml\"]\n\n[server]\nx = 1\n"
        );
        assert!(result.gateway_table_present);
        assert!(result.created_table);
    }

    // ---- rule 6: no final newline ----

    #[test]
    fn a_document_without_a_final_newline_stays_valid() {
        let text = "[server]\nhostname = \"localhost\"\n\n[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            format!(
                "{text}\n\n[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\n"
            )
        );

        let text = "[server]\nhostname = \"localhost\"\n# the end";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        parse(&result.text, FILE).unwrap();
        assert_all_lines_kept(text, &result.text);

        let text = skip_table("apis = [\"a.xml\"]").trim_end().to_owned();
        let result = merge(&text, SkipKind::Apis, &["b.xml"]);
        parse(&result.text, FILE).unwrap();
        assert_eq!(
            list(&result.text, SkipKind::Apis).unwrap(),
            strings(&["a.xml", "b.xml"])
        );

        let text = "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]";
        let result = merge(text, SkipKind::Endpoints, &["e.xml"]);
        assert_eq!(
            result.text,
            "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\"]\nendpoints = [\"e.xml\"]\n"
        );
    }

    // ---- line endings and byte order mark ----

    #[test]
    fn crlf_line_endings_and_a_byte_order_mark_are_kept() {
        let text = "\u{feff}[server]\r\nhostname = \"localhost\"\r\n\r\n[apim.sync_runtime_artifacts.gateway]\r\ngateway_labels =[\"Default\"]\r\n\r\n# end\r\n";
        let result = merge(text, SkipKind::Apis, &["a.xml"]);
        assert_eq!(
            result.text,
            "\u{feff}[server]\r\nhostname = \"localhost\"\r\n\r\n[apim.sync_runtime_artifacts.gateway]\r\ngateway_labels =[\"Default\"]\r\n\r\n\
             [apim.sync_runtime_artifacts.gateway.skip_list]\r\napis = [\"a.xml\"]\r\n\r\n# end\r\n"
        );
    }

    // ---- errors ----

    #[test]
    fn merge_errors_name_the_key_and_the_file() {
        let cases = [
            (
                "[apim]\nsync_runtime_artifacts = \"off\"\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts` is a string, not a table",
            ),
            (
                "[[apim.sync_runtime_artifacts.gateway]]\ngateway_labels = [\"Default\"]\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts.gateway` is an array of tables, not a table",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway]\nskip_list = [\"a.xml\"]\n",
                "cannot add to `apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml`: `apim.sync_runtime_artifacts.gateway.skip_list` is an array, not a table",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = \"a.xml\"\n",
                "`apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml` is a string, not an array of strings",
            ),
            (
                "[apim.sync_runtime_artifacts.gateway.skip_list]\napis = [\"a.xml\", 3]\n",
                "`apim.sync_runtime_artifacts.gateway.skip_list.apis` in `/pack/repository/conf/deployment.toml` holds an integer, but it must be an array of strings",
            ),
        ];
        for (text, expected) in cases {
            let err = merge_skip_list(text, FILE, SkipKind::Apis, &strings(&["x.xml"]))
                .unwrap_err()
                .to_string();
            assert_eq!(err, expected);
        }
    }

    #[test]
    fn merge_reports_invalid_toml_with_line_and_column() {
        let err = merge_skip_list(
            "[server]\nhostname = localhost\n",
            FILE,
            SkipKind::Apis,
            &strings(&["x"]),
        )
        .unwrap_err();
        let parse_error = err.downcast_ref::<TomlError>().unwrap();
        assert_eq!((parse_error.line, parse_error.column), (2, 12));
        assert!(err.to_string().starts_with(
            "`/pack/repository/conf/deployment.toml` is not valid TOML: line 2, column 12: "
        ));
    }
}
