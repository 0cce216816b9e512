//! Property tests of the skip-list merge: generated WSO2 files, mutated ones, and the promises the merge keeps for both.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use toml_edit::Value;

use crate::pack::toml::fixtures::*;
use crate::pack::toml::{merge_skip_list, parse, SkipKind};

const KINDS: [SkipKind; 4] = [
    SkipKind::Apis,
    SkipKind::Endpoints,
    SkipKind::Sequences,
    SkipKind::LocalEntries,
];

/// Tables of a WSO2 file that have nothing to do with the skip list, in any order.
const POOL: &[&[&str]] = &[
    &[
        "[server]",
        "hostname = \"localhost\"",
        "#offset=0",
        "base_path = \"${carbon.protocol}://${carbon.host}:${carbon.management.port}\"",
        "server_role = \"default\"",
    ],
    &[
        "[database.apim_db]",
        "type = \"h2\"",
        "url = \"jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE\"",
        "username = \"wso2carbon\"",
    ],
    &[
        "[[apim.gateway.environment]]",
        "name = \"Default\"",
        "type = \"hybrid\"",
        "display_in_api_console = true",
    ],
    &[
        "[[apim.gateway.environment]]",
        "name = \"Internal\"",
        "  # an indented comment",
        "  type = \"production\"",
    ],
    &["[apim.analytics]", "enable = false", "auth_token = \"\""],
    &[
        "[transport.https.properties]",
        "proxyPort = 443",
        "#[apim.cache.tags]",
    ],
    &[
        "[[event_listener]]",
        "id = \"token_revocation\"",
        "[event_listener.properties]",
        "'header.X-WSO2-KEY-MANAGER' = \"default\"",
    ],
];

/// Comment and blank lines that may stand between tables.
const GAPS: &[&str] = &[
    "",
    "",
    "# comment",
    "\n",
    "#[apim.cache.gateway_token]\n#enable = true\n#expiry_time = \"900s\"",
    "\n# ---- section ----\n",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Absent,
    Header,
    Inline,
    Dotted,
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    Compact,
    Spaced,
    Padded,
    Multi {
        trailing_comma: bool,
        comments: bool,
        indent: usize,
    },
}

/// Which lines of a sample a merge may rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Kept,
    List(usize),
    AnyList,
}

#[derive(Debug, Clone)]
struct Sample {
    lines: Vec<(String, Tag)>,
    final_newline: bool,
    form: Form,
    gateway: bool,
    lists: Vec<Option<Vec<String>>>,
}

impl Sample {
    fn text(&self) -> String {
        let mut text = self
            .lines
            .iter()
            .map(|(line, _)| line.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if self.final_newline {
            text.push('\n');
        }
        text
    }

    fn push(&mut self, text: &str, tag: Tag) {
        for line in text.split('\n') {
            self.lines.push((line.to_owned(), tag));
        }
    }
}

fn quoted(name: &str) -> String {
    Value::from(name).to_string()
}

fn array_lines(key: &str, names: &[String], layout: Layout) -> Vec<String> {
    let items: Vec<String> = names.iter().map(|name| quoted(name)).collect();
    match layout {
        Layout::Compact => vec![format!("{key} = [{}]", items.join(","))],
        Layout::Spaced => vec![format!("{key} = [{}]", items.join(", "))],
        Layout::Padded if items.is_empty() => vec![format!("{key} = [ ]")],
        Layout::Padded => vec![format!("{key} = [ {} ]", items.join(" , "))],
        Layout::Multi {
            trailing_comma,
            comments,
            indent,
        } => {
            let pad = " ".repeat(indent);
            let mut lines = vec![format!("{key} = [")];
            for (index, item) in items.iter().enumerate() {
                let last = index + 1 == items.len();
                let comma = if !last || trailing_comma { "," } else { "" };
                let comment = if comments && index % 2 == 0 {
                    " # note"
                } else {
                    ""
                };
                lines.push(format!("{pad}{item}{comma}{comment}"));
            }
            if comments {
                lines.push(format!("{pad}# \"retired.xml\","));
            }
            lines.push("]".to_owned());
            lines
        }
    }
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_ .'\"\\\\-]{1,8}(\\.xml)?"
}

fn layout_strategy() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Compact),
        Just(Layout::Spaced),
        Just(Layout::Padded),
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![Just(2_usize), Just(4)]
        )
            .prop_map(|(trailing_comma, comments, indent)| Layout::Multi {
                trailing_comma,
                comments,
                indent,
            }),
    ]
}

type Lists = Vec<Option<(Vec<String>, Layout)>>;

#[allow(clippy::too_many_arguments)]
fn build_sample(
    gateway: bool,
    form: usize,
    lists: Lists,
    order: Vec<usize>,
    gaps: Vec<usize>,
    secrets: bool,
    final_newline: bool,
) -> Sample {
    let form = match (form, gateway) {
        (0, _) => Form::Absent,
        (1, _) | (_, false) => Form::Header,
        (2, true) => Form::Inline,
        _ => Form::Dotted,
    };
    let lists: Lists = if form == Form::Absent {
        vec![None; 4]
    } else {
        lists
    };
    let mut sample = Sample {
        lines: Vec::new(),
        final_newline,
        form,
        gateway,
        lists: lists
            .iter()
            .map(|list| list.as_ref().map(|(names, _)| names.clone()))
            .collect(),
    };
    sample.push("# WSO2 API Manager deployment configuration", Tag::Kept);
    let mut gaps = gaps.into_iter();
    for block in order {
        let gap = GAPS[gaps.next().unwrap_or(0)];
        if !gap.is_empty() {
            sample.push(gap, Tag::Kept);
        }
        if let Some(lines) = POOL.get(block) {
            for line in *lines {
                sample.push(line, Tag::Kept);
            }
        } else if block == POOL.len() && gateway {
            sample.push("[apim.sync_runtime_artifacts.gateway]", Tag::Kept);
            sample.push("gateway_labels =[\"Default\"]", Tag::Kept);
            if form == Form::Dotted {
                for (index, list) in lists.iter().enumerate() {
                    if let Some((names, layout)) = list {
                        let key = format!("skip_list.{}", KINDS[index].key());
                        for line in array_lines(&key, names, *layout) {
                            sample.push(&line, Tag::List(index));
                        }
                    }
                }
            }
            if form == Form::Inline {
                let entries: Vec<String> = lists
                    .iter()
                    .enumerate()
                    .filter_map(|(index, list)| {
                        let (names, layout) = list.as_ref()?;
                        let layout = match layout {
                            Layout::Multi { .. } => Layout::Spaced,
                            other => *other,
                        };
                        array_lines(KINDS[index].key(), names, layout).pop()
                    })
                    .collect();
                let line = if entries.is_empty() {
                    "skip_list = {}".to_owned()
                } else {
                    format!("skip_list = {{ {} }}", entries.join(", "))
                };
                sample.push(&line, Tag::AnyList);
            }
        } else if block == POOL.len() + 1 && form == Form::Header {
            sample.push("[apim.sync_runtime_artifacts.gateway.skip_list]", Tag::Kept);
            sample.push("# artifacts the gateway must not redeploy", Tag::Kept);
            for (index, list) in lists.iter().enumerate() {
                if let Some((names, layout)) = list {
                    for line in array_lines(KINDS[index].key(), names, *layout) {
                        sample.push(&line, Tag::List(index));
                    }
                }
            }
        }
    }
    if secrets {
        let gap = GAPS[gaps.next().unwrap_or(0)];
        if !gap.is_empty() {
            sample.push(gap, Tag::Kept);
        }
        sample.push("[secrets]", Tag::Kept);
        sample.push("admin_password = \"[admin]\"", Tag::Kept);
    }
    sample
}

fn sample_strategy() -> impl Strategy<Value = (Sample, usize, Vec<String>)> {
    (
        any::<bool>(),
        0..4_usize,
        prop::collection::vec(
            prop::option::of((
                prop::collection::vec(name_strategy(), 0..4),
                layout_strategy(),
            )),
            4,
        ),
        Just((0..POOL.len() + 2).collect::<Vec<usize>>()).prop_shuffle(),
        prop::collection::vec(0..GAPS.len(), POOL.len() + 3),
        any::<bool>(),
        any::<bool>(),
        0..4_usize,
        prop::collection::vec(name_strategy(), 0..4),
        prop::collection::vec(any::<prop::sample::Index>(), 0..3),
    )
        .prop_map(
            |(gateway, form, lists, order, gaps, secrets, final_newline, kind, fresh, picks)| {
                let sample =
                    build_sample(gateway, form, lists, order, gaps, secrets, final_newline);
                // Mix names already in the target list (and repeats) in with new ones.
                let existing = sample.lists[kind].clone().unwrap_or_default();
                let mut names = fresh.clone();
                for pick in picks {
                    if !existing.is_empty() {
                        names.push(pick.get(&existing).clone());
                    } else if !fresh.is_empty() {
                        names.push(pick.get(&fresh).clone());
                    }
                }
                (sample, kind, names)
            },
        )
}

/// A generated document with random edits from TOML's own alphabet: mostly invalid, some
/// valid in ways the generator never writes.
fn mutated_strategy() -> impl Strategy<Value = (String, usize, Vec<String>)> {
    const ALPHABET: &[&str] = &[
        "[",
        "]",
        "[[",
        "]]",
        "=",
        "\"",
        "'",
        "\"\"\"",
        "{",
        "}",
        ",",
        ".",
        "#",
        "\n",
        " ",
        "\r\n",
        "\\",
        "skip_list",
        "gateway",
        "apim",
        "sequences",
        "x",
        "1",
        "true",
        "\u{feff}",
        "é",
    ];
    (
        sample_strategy(),
        prop::collection::vec(
            (any::<prop::sample::Index>(), 0..ALPHABET.len(), 0..3u8),
            1..6,
        ),
    )
        .prop_map(|((sample, kind, names), edits)| {
            let mut text = sample.text();
            for (at, piece, how) in edits {
                let mut index = at.index(text.len() + 1);
                while !text.is_char_boundary(index) {
                    index -= 1;
                }
                match how {
                    0 => text.insert_str(index, ALPHABET[piece]),
                    1 => {
                        let end = (index + 1..=text.len())
                            .find(|end| text.is_char_boundary(*end))
                            .unwrap_or(index);
                        text.replace_range(index..end, "");
                    }
                    _ => text.replace_range(index.., ALPHABET[piece]),
                }
            }
            (text, kind, names)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever the input, the merge either refuses it with a located error or returns a
    /// document that parses and that a second merge leaves alone. It never panics.
    #[test]
    fn merge_never_corrupts_or_panics((text, kind_index, names) in mutated_strategy()) {
        let kind = KINDS[kind_index];
        match merge_skip_list(&text, FILE, kind, &names) {
            Ok(result) => {
                prop_assert!(parse(&text, FILE).is_ok(), "accepted invalid input:\n{}", text);
                prop_assert!(parse(&result.text, FILE).is_ok(), "invalid output:\n{}", result.text);
                let again = merge_skip_list(&result.text, FILE, kind, &names)
                    .map_err(|err| TestCaseError::fail(err.to_string()))?;
                prop_assert_eq!(&again.text, &result.text);
                let after = list(&result.text, kind).unwrap_or_default();
                for name in &names {
                    prop_assert!(after.contains(name), "{} missing:\n{}", name, result.text);
                }
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.contains(FILE), "{}", message);
                prop_assert!(!message.contains('\n'), "one line: {}", message);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn merge_properties((sample, kind_index, names) in sample_strategy()) {
        let kind = KINDS[kind_index];
        let text = sample.text();
        prop_assert!(parse(&text, FILE).is_ok(), "the generated sample is not valid:\n{}", text);

        let result = merge_skip_list(&text, FILE, kind, &names)
            .map_err(|err| TestCaseError::fail(format!("{err}\n{text}")))?;
        prop_assert!(parse(&result.text, FILE).is_ok(), "invalid output:\n{}", result.text);

        // Merging twice equals merging once.
        let again = merge_skip_list(&result.text, FILE, kind, &names)
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        prop_assert_eq!(&again.text, &result.text);
        prop_assert!(again.added.is_empty());

        // Every line outside the edited array survives, in order.
        let mut remaining = result.text.split('\n');
        for (line, tag) in &sample.lines {
            let may_change = match tag {
                Tag::Kept => false,
                Tag::List(index) => *index == kind_index,
                Tag::AnyList => true,
            };
            if !may_change {
                prop_assert!(
                    remaining.any(|candidate| candidate == line),
                    "line {:?} lost or moved:\n--- input\n{}\n--- output\n{}", line, text, result.text
                );
            }
        }

        // The list holds exactly the union: the original order first, then the new names.
        let before = sample.lists[kind_index].clone().unwrap_or_default();
        let mut expected = before.clone();
        for name in &names {
            if !expected.contains(name) {
                expected.push(name.clone());
            }
        }
        let after = list(&result.text, kind).unwrap_or_default();
        prop_assert_eq!(&after, &expected);
        prop_assert_eq!(&result.added, &expected[before.len()..].to_vec());
        for name in &result.already_present {
            prop_assert!(before.contains(name));
        }
        if result.added.is_empty() {
            prop_assert_eq!(&result.text, &text);
        }

        prop_assert_eq!(
            result.gateway_table_present,
            sample.gateway || sample.form == Form::Header
        );
        let skip_list_existed = match sample.form {
            Form::Absent => false,
            Form::Header | Form::Inline => true,
            Form::Dotted => sample.lists.iter().any(Option::is_some),
        };
        prop_assert_eq!(result.created_table, !result.added.is_empty() && !skip_list_existed);
    }
}
