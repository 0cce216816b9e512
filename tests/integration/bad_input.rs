//! A corpus of bad input and hostile or buggy scripts. Each case runs the real binary and
//! asserts: exit 2, no panic, a message on stderr that starts with `error: ` and whose first
//! line names the file or argument (and, for bad input, says what to do): one line for bad
//! input; for a script error the message, then `--> SCRIPT:LINE:COL`, the line and a caret.
//! Also: nothing on stdout, the command ending by itself in under 10 s, and every directory
//! involved (the packs, history included, the temp dir holding them, and whatever else the
//! case made) exactly as before. The numbers in the comments are the corpus's case numbers.

use crate::support::*;
use sample_packs::PackBuilder;
use std::path::{Path, PathBuf};
use std::time::Duration;

const BUNDLED_SOURCE: &str = include_str!("../../scripts/3.0.0-to-4.1.0.rhai");

/// Longest a refusal may take; the engine's own limits stop runaway scripts well before.
const TIME_LIMIT: Duration = Duration::from_secs(10);

/// What the refusal must look like beyond its first line.
enum Shape {
    /// Bad input: `error: ...` on one line and nothing else.
    OneLine,
    /// A script error: `error: <message>`, then `  --> <source>:<line>:<col>`, a gutter line,
    /// `<line> | <source line>` and a caret under the column. `line: None` accepts any line,
    /// still checked against `text`.
    Located {
        source: String,
        text: String,
        line: Option<usize>,
    },
    /// Bad input that the bundled script or one of its primitives finds: one line, or one line
    /// followed by its location in the bundled script.
    OneLineOrInBundled,
}

/// One refusal to check.
struct Case {
    test: Test,
    watch: Vec<PathBuf>,
    code: i32,
    fragments: Vec<String>,
    advice: Vec<String>,
    shape: Shape,
    kill_after: Duration,
}

impl Case {
    fn new(test: Test) -> Case {
        Case {
            test,
            watch: Vec::new(),
            code: 2,
            fragments: Vec::new(),
            advice: Vec::new(),
            shape: Shape::OneLine,
            kill_after: Duration::from_secs(30),
        }
    }

    /// Every pack of `packs` and the temp dir that holds them (scripts, stock, outside files).
    fn packs(packs: &Packs, test: Test) -> Case {
        let mut case = Case::new(test)
            .watch(&packs.old)
            .watch(&packs.new)
            .watch(packs.dir.path());
        if let Some(km) = &packs.km {
            case = case.watch(km);
        }
        case
    }

    /// `run SCRIPT` (a bundled script's name or a path) on the packs, watching them all.
    fn run(packs: &Packs, script: &str) -> Case {
        Case::packs(packs, packs.test("run", script))
    }

    /// Arguments after those `run` or `packs` gave.
    fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Case {
        self.test = self.test.arg(arg);
        self
    }

    fn args<const N: usize>(mut self, args: [&str; N]) -> Case {
        self.test = self.test.args(args);
        self
    }

    /// A directory that must be exactly as before (history included).
    fn watch(mut self, dir: impl AsRef<Path>) -> Case {
        self.watch.push(dir.as_ref().to_path_buf());
        self
    }

    /// A text the first line of stderr must contain.
    fn says(mut self, fragment: impl std::fmt::Display) -> Case {
        self.fragments.push(fragment.to_string());
        self
    }

    /// The first line must say what to do: it contains at least one of these. Required for
    /// bad input; a script error may leave it to the line it shows.
    fn advises(mut self, any_of: &[&str]) -> Case {
        self.advice = any_of.iter().map(|text| text.to_string()).collect();
        self
    }

    /// A script error located in a site script, at `line`.
    fn at_line(mut self, script: &SiteScript, line: usize) -> Case {
        self.shape = Shape::Located {
            source: script.path.clone(),
            text: script.source.clone(),
            line: Some(line),
        };
        self
    }

    /// A script error located at some line of a site script (a parse error at its end).
    fn somewhere_in(mut self, script: &SiteScript) -> Case {
        self.shape = Shape::Located {
            source: script.path.clone(),
            text: script.source.clone(),
            line: None,
        };
        self
    }

    /// A refusal that the bundled script (`require_version`) or a primitive it calls may
    /// raise: one line, or located in the bundled script.
    fn in_bundled_script(mut self) -> Case {
        self.shape = Shape::OneLineOrInBundled;
        self
    }

    /// How long the test waits before killing the command (a hang is reported as such).
    fn kill_after(mut self, limit: Duration) -> Case {
        self.kill_after = limit;
        self
    }

    fn check(self) {
        assert!(
            !self.fragments.is_empty(),
            "a case names what the message must say"
        );
        assert!(
            matches!(self.shape, Shape::Located { .. }) || !self.advice.is_empty(),
            "bad input is refused with advice: name what it must advise"
        );
        let before: Vec<_> = self.watch.iter().map(|dir| snapshot(dir)).collect();
        let output = self.test.timeout(self.kill_after).run();
        let elapsed = output.elapsed;
        let err = output.stderr();
        let out = output.stdout();

        let mut problems: Vec<String> = Vec::new();
        match output.status.code() {
            Some(code) if code == self.code => {}
            Some(code) => problems.push(format!("exit code {code}, expected {}", self.code)),
            None => problems.push(format!(
                "no exit code (killed by a signal, or by the test after {:?}): {:?}",
                self.kill_after, output.status
            )),
        }
        if elapsed > TIME_LIMIT {
            problems.push(format!("took {elapsed:?}, more than {TIME_LIMIT:?}"));
        }
        for sign in ["panicked", "RUST_BACKTRACE", "stack overflow"] {
            if err.contains(sign) {
                problems.push(format!("stderr shows {sign:?}"));
            }
        }
        if !err.starts_with("error: ") {
            problems.push("stderr does not start with `error: `".to_string());
        }
        if !out.is_empty() {
            problems.push("something was printed on stdout".to_string());
        }
        let first = err.lines().next().unwrap_or_default();
        for fragment in &self.fragments {
            if !first.contains(fragment.as_str()) {
                problems.push(format!("the first line does not contain {fragment:?}"));
            }
        }
        if !self.advice.is_empty()
            && !self
                .advice
                .iter()
                .any(|advice| first.contains(advice.as_str()))
        {
            problems.push(format!(
                "the first line does not say what to do (none of {:?})",
                self.advice
            ));
        }
        match &self.shape {
            Shape::OneLine => {
                let count = err.trim_end().lines().count();
                if count != 1 {
                    problems.push(format!("the message is {count} lines, not one"));
                }
            }
            Shape::Located { source, text, line } => {
                problems.extend(located_problems(&err, source, text, *line));
            }
            Shape::OneLineOrInBundled => {
                if err.trim_end().lines().count() != 1 {
                    problems.extend(located_problems(&err, SCRIPT, BUNDLED_SOURCE, None));
                }
            }
        }
        for (dir, before) in self.watch.iter().zip(&before) {
            let after = snapshot(dir);
            if &after != before {
                problems.push(format!(
                    "`{}` changed: {}",
                    dir.display(),
                    tree_difference(before, &after)
                ));
            }
        }
        assert!(
            problems.is_empty(),
            "{}\n--- exit status: {:?}, {elapsed:?}\n--- stderr:\n{err}--- stdout:\n{}",
            problems.join("\n"),
            output.status,
            clip(&out)
        );
    }
}

/// What is wrong with a located script error, if anything.
fn located_problems(err: &str, source: &str, text: &str, line: Option<usize>) -> Vec<String> {
    let lines: Vec<&str> = err.lines().collect();
    let mut problems = Vec::new();
    if !lines
        .get(1)
        .is_some_and(|second| second.starts_with("  --> "))
    {
        problems.push("the message is not followed by its `  --> FILE:LINE:COL`".to_string());
    }
    let prefix = format!("  --> {source}:");
    let found = lines.iter().enumerate().find_map(|(index, text_line)| {
        let rest = text_line.strip_prefix(prefix.as_str())?;
        let (at_line, at_column) = rest.split_once(':')?;
        let at_line: usize = at_line.parse().ok()?;
        let at_column: usize = at_column.trim_end().parse().ok()?;
        line.is_none_or(|wanted| wanted == at_line)
            .then_some((index, at_line, at_column))
    });
    let Some((index, at_line, at_column)) = found else {
        problems.push(match line {
            Some(wanted) => format!("no `--> {source}:{wanted}:COL`"),
            None => format!("no `--> {source}:LINE:COL`"),
        });
        return problems;
    };
    let shown = lines.get(index + 2).copied().unwrap_or_default();
    let expected_start = format!("{at_line} |");
    if !shown.starts_with(&expected_start) {
        problems.push(format!("line {at_line} of the script is not shown"));
    } else if let Some(source_line) = text.lines().nth(at_line - 1) {
        if shown.trim_end() != format!("{at_line} | {source_line}").trim_end() {
            problems.push(format!(
                "the shown line is not line {at_line} of the script: {shown:?}"
            ));
        }
    }
    let caret = lines.get(index + 3).copied().unwrap_or_default();
    let caret_column = caret
        .find("| ")
        .zip(caret.rfind('^'))
        .filter(|(bar, hat)| hat > bar && caret.trim_end().ends_with('^'))
        .map(|(bar, hat)| hat - (bar + 2) + 1);
    match caret_column {
        Some(column) if column == at_column => {}
        Some(column) => problems.push(format!(
            "the caret is under column {column}, the location says {at_column}"
        )),
        None => problems.push("no caret line under the shown line".to_string()),
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// setup helpers
// ---------------------------------------------------------------------------------------------

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// `run 3.0.0-to-4.1.0 --old OLD --new NEW --stock STOCK`, any paths.
fn run_with(packs: &Packs, old: &Path, new: &Path) -> Test {
    Test::new()
        .args(["run", SCRIPT, "--old"])
        .arg(old)
        .arg("--new")
        .arg(new)
        .arg("--stock")
        .arg(&packs.stock)
}

/// A site script written into the packs' temp dir.
struct SiteScript {
    path: String,
    source: String,
}

fn site_script(packs: &Packs, name: &str, source: &str) -> SiteScript {
    let path = packs.dir.path().join(format!("{name}.rhai"));
    std::fs::write(&path, source).expect("write script");
    SiteScript {
        path: shown(&path),
        source: source.to_string(),
    }
}

/// A directory beside the packs with a file in it, for links that lead out of a pack.
fn outside_dir(packs: &Packs) -> PathBuf {
    let outside = packs.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir outside");
    std::fs::write(
        outside.join("secret.xml"),
        "<secret>outside the packs</secret>\n",
    )
    .expect("write");
    std::fs::write(outside.join("site.toml"), "a = 0\n").expect("write");
    outside
}

/// Appends a line to a pack's deployment.toml; returns the file and the line's number.
fn break_deployment_toml(home: &Path, bad: &str) -> (PathBuf, usize) {
    let path = home.join(TOML);
    let mut text = read(&path);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let line = text.lines().count() + 1;
    text.push_str(bad);
    text.push('\n');
    std::fs::write(&path, text).expect("write toml");
    (path, line)
}

fn make_fifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("run mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Runs the standard script on the packs, then replaces a line in the middle of the new
/// pack's journal with garbage; returns the journal and the damaged line's number.
fn damaged_journal(packs: &Packs) -> (PathBuf, usize) {
    packs.test("run", SCRIPT).run().success();
    let runs = packs.new.join(".apim-migrate/runs");
    let run_dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .expect("runs dir")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(run_dirs.len(), 1, "{run_dirs:?}");
    let journal = run_dirs[0].join("journal.jsonl");
    let text = read(&journal);
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 5, "a real journal:\n{text}");
    let middle = lines.len() / 2;
    lines[middle] = "\u{1}garbage {{{ not json";
    std::fs::write(&journal, format!("{}\n", lines.join("\n"))).expect("damage journal");
    (journal, middle + 1)
}

// ---------------------------------------------------------------------------------------------
// packs given on the command line
// ---------------------------------------------------------------------------------------------

/// 1
#[test]
fn old_is_a_missing_directory() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-old");
    Case::packs(&packs, run_with(&packs, &missing, &packs.new))
        .watch(&missing)
        .says("--old")
        .says(shown(&missing))
        .says("does not exist")
        .advises(&["give"])
        .check();
}

/// 2
#[test]
fn new_is_a_missing_directory() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-new");
    Case::packs(&packs, run_with(&packs, &packs.old, &missing))
        .watch(&missing)
        .says("--new")
        .says(shown(&missing))
        .says("does not exist")
        .advises(&["give"])
        .check();
}

/// 2b: a link that leads nowhere cannot be read.
#[test]
fn new_is_a_dangling_link() {
    let packs = Packs::standard();
    let link = packs.dir.path().join("dangling");
    std::os::unix::fs::symlink(packs.dir.path().join("nowhere"), &link).expect("symlink");
    Case::packs(&packs, run_with(&packs, &packs.old, &link))
        .says("--new")
        .says(shown(&link))
        .advises(&["give"])
        .check();
}

/// 2c
#[test]
fn km_is_a_missing_directory() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-km");
    Case::run(&packs, SCRIPT)
        .arg("--km")
        .arg(&missing)
        .watch(&missing)
        .says("--km")
        .says(shown(&missing))
        .says("does not exist")
        .advises(&["give"])
        .check();
}

/// 3
#[test]
fn old_is_a_regular_file() {
    let packs = Packs::standard();
    let file = packs.dir.path().join("wso2am-3.0.0.zip");
    std::fs::write(&file, b"PK\x03\x04 not extracted").expect("write");
    Case::packs(&packs, run_with(&packs, &file, &packs.new))
        .says("--old")
        .says(shown(&file))
        .says("not a directory")
        .advises(&["give"])
        .check();
}

/// 4
#[test]
fn old_is_an_empty_directory() {
    let packs = Packs::standard();
    let empty = packs.dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    Case::packs(&packs, run_with(&packs, &empty, &packs.new))
        .says("--old")
        .says(shown(&empty))
        .says("not a WSO2 pack")
        .advises(&["give"])
        .check();
}

/// 5
#[test]
fn new_is_a_directory_with_random_content() {
    let packs = Packs::standard();
    let random = packs.dir.path().join("random");
    std::fs::create_dir_all(random.join("bin")).expect("mkdir");
    std::fs::create_dir_all(random.join("repository/conf")).expect("mkdir");
    std::fs::write(random.join("bin/version.txt"), "hello there\n").expect("write");
    std::fs::write(random.join("repository/conf/carbon.xml"), "<nope/>").expect("write");
    std::fs::write(random.join("notes.txt"), [0xde, 0xad, 0xbe, 0xef, 0x00]).expect("write");
    Case::packs(&packs, run_with(&packs, &packs.old, &random))
        .says("--new")
        .says(shown(&random))
        .says("not a WSO2 pack")
        .advises(&["give"])
        .check();
}

/// 5b
#[test]
fn via_is_not_a_pack() {
    let packs = Packs::standard();
    let empty = packs.dir.path().join("empty-via");
    std::fs::create_dir(&empty).expect("mkdir");
    Case::run(&packs, SCRIPT)
        .arg("--via")
        .arg(&empty)
        .says("--via")
        .says(shown(&empty))
        .says("not a WSO2 pack")
        .advises(&["give"])
        .check();
}

/// 6
#[test]
fn old_is_an_identity_server_pack() {
    let packs = Packs::build(PackBuilder::identity_server("5.11.0"), new_4_1_0(), None);
    Case::run(&packs, SCRIPT)
        .says(format!("--old (`{}`) is IS 5.11.0", shown(&packs.old)))
        .says(format!("`{SCRIPT}` accepts API-M 3.0.0 as --old"))
        .says(header_line(SCRIPT, "@accepts old wso2am 3.0.0"))
        .says("no bundled script takes IS 5.11.0 as --old")
        .advises(&["give an API-M 3.0.0 pack as --old"])
        .check();
}

/// 7
#[test]
fn old_is_the_wrong_version() {
    let packs = Packs::build(PackBuilder::api_manager("2.6.0"), new_4_1_0(), None);
    Case::run(&packs, SCRIPT)
        .says(format!("--old (`{}`) is API-M 2.6.0", shown(&packs.old)))
        .says(format!(
            "accepts API-M 3.0.0 as --old {}",
            header_line(SCRIPT, "@accepts old wso2am 3.0.0")
        ))
        .says("the bundled script `to-4.x` takes API-M 2.6.0 to 4.1.0 (`apim-migrate path 2.6.0 4.1.0` tells more)")
        .advises(&["give an API-M 3.0.0 pack as --old"])
        .check();
}

/// 8
#[test]
fn new_is_the_wrong_version() {
    let packs = Packs::build(old_3_0_0(), PackBuilder::api_manager("4.0.0"), None);
    Case::run(&packs, SCRIPT)
        .says(format!("--new (`{}`) is API-M 4.0.0", shown(&packs.new)))
        .says(format!(
            "accepts API-M 4.1.0 as --new {}",
            header_line(SCRIPT, "@accepts new wso2am 4.1.0")
        ))
        .advises(&["give an API-M 4.1.0 pack as --new"])
        .check();
}

/// 9
#[test]
fn the_same_pack_as_old_and_new() {
    let packs = Packs::standard();
    Case::packs(&packs, run_with(&packs, &packs.old, &packs.old))
        .says("--old")
        .says("--new")
        .says("same pack")
        .says(shown(&packs.old))
        .advises(&["give"])
        .check();
}

/// 9b: the same pack through a link to it.
#[test]
fn the_same_pack_as_old_and_new_through_a_link() {
    let packs = Packs::standard();
    let link = packs.dir.path().join("old-again");
    std::os::unix::fs::symlink(&packs.old, &link).expect("symlink");
    Case::packs(&packs, run_with(&packs, &packs.old, &link))
        .says("--old")
        .says("--new")
        .says("same pack")
        .advises(&["give"])
        .check();
}

/// 10
#[test]
fn new_nested_inside_old() {
    let packs = Packs::standard();
    let nested = new_4_1_0()
        .write(&packs.old.join("wso2am-4.1.0"))
        .expect("write nested pack");
    Case::packs(&packs, run_with(&packs, &packs.old, &nested))
        .says("--old")
        .says("--new")
        .says("nested")
        .advises(&["give"])
        .check();
}

/// 11
#[test]
fn old_and_new_swapped() {
    let packs = Packs::standard();
    Case::packs(&packs, run_with(&packs, &packs.new, &packs.old))
        .says("--old")
        .says("--new")
        .says("4.1.0")
        .says("3.0.0")
        .advises(&["swapped"])
        .check();
}

/// 12
#[test]
fn malformed_deployment_toml_in_new() {
    let packs = Packs::standard();
    let (file, line) = break_deployment_toml(&packs.new, "[broken");
    Case::run(&packs, SCRIPT)
        .says(shown(&file))
        .says(format!("line {line}, column 8"))
        .advises(&["fix"])
        .in_bundled_script()
        .check();
}

/// 13
#[test]
fn malformed_deployment_toml_in_old() {
    let packs = Packs::standard();
    let (file, line) = break_deployment_toml(&packs.old, "key = = 3");
    Case::run(&packs, SCRIPT)
        .says(shown(&file))
        .says(format!("line {line}, column 7"))
        .advises(&["fix"])
        .in_bundled_script()
        .check();
}

/// 12b: a deployment.toml that is not UTF-8 is malformed too, at a line.
#[test]
fn malformed_deployment_toml_that_is_not_utf8() {
    let packs = Packs::standard();
    let file = packs.new.join(TOML);
    let mut content = bytes(&file);
    if content.last() != Some(&b'\n') {
        content.push(b'\n');
    }
    let line = content.iter().filter(|byte| **byte == b'\n').count() + 1;
    content.extend_from_slice(b"label = \"caf\xe9\"\n");
    std::fs::write(&file, content).expect("write toml");
    Case::run(&packs, SCRIPT)
        .says(shown(&file))
        .says(format!("line {line}"))
        .advises(&["fix", "save it as UTF-8"])
        .in_bundled_script()
        .check();
}

/// 12c: a deployment.toml that cannot be read as a file (a FIFO nobody writes to) is refused,
/// not waited on.
#[test]
fn deployment_toml_that_is_a_fifo() {
    let packs = Packs::standard();
    let file = packs.new.join(TOML);
    std::fs::remove_file(&file).expect("remove toml");
    make_fifo(&file);
    Case::run(&packs, SCRIPT)
        .says(shown(&file))
        .advises(&["give", "fix", "remove", "replace"])
        .in_bundled_script()
        .kill_after(Duration::from_secs(20))
        .check();
}

/// 20
#[test]
fn api_manager_pack_as_km() {
    let packs = Packs::build(
        old_3_0_0(),
        new_4_1_0(),
        Some(PackBuilder::api_manager("4.0.0")),
    );
    let km = packs.km.clone().expect("km");
    Case::run(&packs, SCRIPT)
        .says(format!("--km (`{}`) is API-M 4.0.0", shown(&km)))
        .says(format!(
            "accepts IS 5.11.0 as --km {}",
            header_line(SCRIPT, "@accepts km wso2is 5.11.0 optional")
        ))
        .advises(&["give an IS 5.11.0 pack as --km"])
        .check();
}

/// 23: a pack whose only marker is garbage is no pack.
#[test]
fn version_txt_with_garbage_and_no_other_marker() {
    let packs = Packs::standard();
    let home = PackBuilder::api_manager("3.0.0")
        .write(&packs.dir.path().join("garbled"))
        .expect("write pack");
    std::fs::write(
        home.join("bin/version.txt"),
        b"\xff\xfe\x00\x13 ~~~ v3.0.0.x\n",
    )
    .expect("write");
    for marker in ["updates/product.txt", "repository/conf/carbon.xml"] {
        if home.join(marker).exists() {
            std::fs::remove_file(home.join(marker)).expect("remove marker");
        }
    }
    Case::packs(&packs, run_with(&packs, &home, &packs.new))
        .says("--old")
        .says(shown(&home))
        .says("not a WSO2 pack")
        .advises(&["give"])
        .check();
}

/// 23b: garbage in `bin/version.txt`, the marker that decides first, is not silently passed
/// over for the next marker: the pack is damaged or not what it seems.
#[test]
fn version_txt_with_garbage_beside_other_markers() {
    let packs = Packs::standard();
    std::fs::write(
        packs.old.join("bin/version.txt"),
        b"\xff\xfe\x00\x13 garbage \x80\x81\n",
    )
    .expect("write");
    Case::run(&packs, SCRIPT)
        .says("--old")
        .says("bin/version.txt")
        .advises(&["fix", "restore", "replace", "give"])
        .check();
}

/// 23c: a marker that cannot be read as a file (a FIFO nobody writes to) is refused, not
/// waited on.
#[test]
fn version_txt_that_is_a_fifo() {
    let packs = Packs::standard();
    let marker = packs.old.join("bin/version.txt");
    std::fs::remove_file(&marker).expect("remove version.txt");
    make_fifo(&marker);
    Case::run(&packs, SCRIPT)
        .says("--old")
        .says("bin/version.txt")
        .advises(&["give", "fix", "remove", "replace"])
        .kill_after(Duration::from_secs(20))
        .check();
}

// ---------------------------------------------------------------------------------------------
// scripts, parameters and catalogues
// ---------------------------------------------------------------------------------------------

/// 14
#[test]
fn unknown_bundled_script_name() {
    let packs = Packs::standard();
    Case::run(&packs, "3.0.0-to-9.9.9")
        .says("3.0.0-to-9.9.9")
        .says("unknown script")
        .says(SCRIPT)
        .advises(&["apim-migrate scripts", "give the path"])
        .check();
}

/// 15
#[test]
fn script_path_that_does_not_exist() {
    let packs = Packs::standard();
    let missing = shown(&packs.dir.path().join("no-such-site.rhai"));
    Case::run(&packs, &missing)
        .says(&missing)
        .says("script")
        .advises(&["give"])
        .check();
}

/// 16
#[test]
fn set_without_an_equals_sign() {
    let packs = Packs::standard();
    Case::run(&packs, SCRIPT)
        .args(["--set", "gateway"])
        .says("--set")
        .says("gateway")
        .advises(&["KEY=VALUE"])
        .check();
}

/// 16b
#[test]
fn set_with_a_key_that_is_not_a_name() {
    let packs = Packs::standard();
    Case::run(&packs, SCRIPT)
        .args(["--set", "a b;rm=1"])
        .says("--set")
        .says("a b;rm")
        .advises(&["must be letters"])
        .check();
}

/// 16c: the bundled scripts declare that they take no parameters.
#[test]
fn set_given_to_a_script_that_takes_no_parameters() {
    let packs = Packs::build(
        PackBuilder::api_manager("1.9.0"),
        PackBuilder::api_manager("2.0.0"),
        None,
    );
    Case::run(&packs, "1.x-to-2.0.0")
        .args(["--set", "gateway_only=true"])
        .says("--set `gateway_only`")
        .says("takes no parameters")
        .advises(&["leave --set out"])
        .check();
}

/// 16d: a typo in a parameter a site script declares.
#[test]
fn set_with_a_key_the_site_script_does_not_declare() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "declared",
        "//! Site copy.\n//! @param gateway_only=false  gateways only\n//! @param label=site  a label\ncopy_keystores(old, new);\n",
    );
    Case::run(&packs, &script.path)
        .args(["--set", "gateway-only=true"])
        .says("--set `gateway-only`")
        .says("declares gateway_only, label")
        .advises(&["see its header"])
        .check();
}

/// 16e: a header tag that is not known (a typo of `@param`).
#[test]
fn site_script_header_with_an_unknown_tag() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "typo",
        "//! Site copy.\n//! @parm gateway_only=false\ncopy_keystores(old, new);\n",
    );
    Case::run(&packs, &script.path)
        .says(&script.path)
        .says("line 2: unknown header tag `@parm`")
        .advises(&["known: `@accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`, `@param"])
        .check();
}

/// 21
#[test]
fn stock_catalogue_that_is_not_toml() {
    let packs = Packs::standard();
    let catalogue = packs.dir.path().join("site-stock.toml");
    std::fs::write(&catalogue, "[wso2am.\"3.0.0\"\n\"a.xml\" = [\"00\"]\n").expect("write");
    Case::run(&packs, SCRIPT)
        .arg("--stock")
        .arg(&catalogue)
        .says(shown(&catalogue))
        .says("line 1, column")
        .advises(&["fix"])
        .check();
}

/// 21b
#[test]
fn stock_catalogue_with_a_hash_that_is_not_sha256() {
    let packs = Packs::standard();
    let catalogue = packs.dir.path().join("site-stock.toml");
    std::fs::write(
        &catalogue,
        "[wso2am.\"3.0.0\"]\n\"repository/conf/carbon.xml\" = [\"xyz\"]\n",
    )
    .expect("write");
    Case::run(&packs, SCRIPT)
        .arg("--stock")
        .arg(&catalogue)
        .says(shown(&catalogue))
        .says("xyz")
        .says("SHA-256")
        .advises(&["fix", "give", "replace", "use"])
        .check();
}

/// 22
#[test]
fn stock_catalogue_that_does_not_exist() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-stock.toml");
    Case::run(&packs, SCRIPT)
        .arg("--stock")
        .arg(&missing)
        .watch(&missing)
        .says(shown(&missing))
        .advises(&["give", "check", "remove", "fix"])
        .check();
}

/// 24
#[test]
fn continue_when_no_run_stopped_at_a_checkpoint() {
    let packs = Packs::standard();
    Case::run(&packs, SCRIPT)
        .arg("--continue")
        .says("--continue")
        .says(SCRIPT)
        .advises(&["without --continue"])
        .check();
}

// ---------------------------------------------------------------------------------------------
// history and rollback
// ---------------------------------------------------------------------------------------------

/// 18
#[test]
fn rollback_on_a_missing_directory() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-pack");
    Case::packs(
        &packs,
        Test::new().args(["rollback", "--new"]).arg(&missing),
    )
    .watch(&missing)
    .says("--new")
    .says(shown(&missing))
    .advises(&["give"])
    .check();
}

/// 19
#[test]
fn history_on_a_missing_directory() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("no-such-pack");
    Case::packs(&packs, Test::new().arg("history").arg(&missing))
        .watch(&missing)
        .says(shown(&missing))
        .advises(&["give"])
        .check();
}

/// 19b
#[test]
fn history_on_a_regular_file() {
    let packs = Packs::standard();
    Case::packs(&packs, Test::new().arg("history").arg(&packs.stock))
        .says(shown(&packs.stock))
        .advises(&["give"])
        .check();
}

/// 42
#[test]
fn damaged_journal_stops_run() {
    let packs = Packs::standard();
    let (journal, line) = damaged_journal(&packs);
    Case::run(&packs, SCRIPT)
        .says(shown(&journal))
        .says("damaged")
        .says(format!("line {line}"))
        .advises(&["restore", "remove", "delete", "move", "repair"])
        .check();
}

/// 42b
#[test]
fn damaged_journal_stops_rollback() {
    let packs = Packs::standard();
    let (journal, line) = damaged_journal(&packs);
    Case::packs(
        &packs,
        Test::new().args(["rollback", "--new"]).arg(&packs.new),
    )
    .says(shown(&journal))
    .says("damaged")
    .says(format!("line {line}"))
    .advises(&["restore", "remove", "delete", "move", "repair"])
    .check();
}

/// 42c
#[test]
fn damaged_journal_stops_history() {
    let packs = Packs::standard();
    let (journal, line) = damaged_journal(&packs);
    Case::packs(&packs, Test::new().arg("history").arg(&packs.new))
        .says(shown(&journal))
        .says("damaged")
        .says(format!("line {line}"))
        .advises(&["restore", "remove", "delete", "move", "repair"])
        .check();
}

// ---------------------------------------------------------------------------------------------
// hostile site scripts: paths that leave a pack, writes outside the targets
// ---------------------------------------------------------------------------------------------

/// 26
#[test]
fn copy_file_to_dot_dot() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "escape",
        "// site script\ncopy_file(old, \"bin/version.txt\", new, \"../escape.txt\");\n",
    );
    Case::run(&packs, &script.path)
        .says("../escape.txt")
        .says("leaves the pack")
        .at_line(&script, 2)
        .check();
}

/// 27
#[test]
fn copy_file_to_an_absolute_path() {
    let packs = Packs::standard();
    let target = packs.dir.path().join("absolute.txt");
    let script = site_script(
        &packs,
        "absolute",
        &format!(
            "let dest = {:?};\ncopy_file(old, \"bin/version.txt\", new, dest);\n",
            shown(&target)
        ),
    );
    Case::run(&packs, &script.path)
        .watch(&target)
        .says(shown(&target))
        .says("absolute")
        .at_line(&script, 2)
        .check();
}

/// 28
#[test]
fn copy_file_reading_dot_dot_out_of_old() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "passwd",
        "copy_file(old, \"../../etc/passwd\", new, \"repository/conf/passwd\");\n",
    );
    Case::run(&packs, &script.path)
        .says("../../etc/passwd")
        .says("leaves the pack")
        .at_line(&script, 1)
        .check();
}

/// 29
#[test]
fn copy_file_into_old() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "into-old",
        "let from = new;\nlet to = old;\ncopy_file(from, \"bin/version.txt\", to, \"bin/version.txt\");\n",
    );
    Case::run(&packs, &script.path)
        .says("old")
        .says("only read")
        .at_line(&script, 3)
        .check();
}

/// 29b: `via` and `km` are `()` when not given; nothing can be written through them.
#[test]
fn copy_file_into_via_that_was_not_given() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "into-via",
        "copy_file(old, \"bin/version.txt\", via, \"bin/version.txt\");\n",
    );
    Case::run(&packs, &script.path)
        .says("copy_file")
        .at_line(&script, 1)
        .check();
}

/// 29c: steps get packs with their roles; renaming `old` to `new` in a step does not make
/// it writable.
#[test]
fn a_step_cannot_write_old_under_another_name() {
    let packs = Packs::standard();
    std::fs::write(
        packs.dir.path().join("step.rhai"),
        "copy_file(old, \"bin/version.txt\", new, \"x.txt\");\n",
    )
    .expect("write step");
    let script = site_script(
        &packs,
        "swap",
        "// the step's `new` is the old pack\nrun_script(\"step.rhai\", #{ old: new, new: old });\n",
    );
    Case::run(&packs, &script.path)
        .says("only read")
        .at_line(&script, 2)
        .check();
}

/// 29d: a pack's home cannot be pointed elsewhere.
#[test]
fn a_pack_handle_cannot_be_pointed_elsewhere() {
    let packs = Packs::standard();
    let outside = outside_dir(&packs);
    let script = site_script(
        &packs,
        "rehome",
        &format!(
            "let p = new;\np.home = {:?};\ncopy_file(old, \"bin/version.txt\", p, \"x.txt\");\n",
            shown(&outside)
        ),
    );
    Case::run(&packs, &script.path)
        .says("home")
        .at_line(&script, 2)
        .check();
}

/// 30
#[test]
fn copy_file_through_a_link_out_of_new() {
    let packs = Packs::standard();
    let outside = outside_dir(&packs);
    std::os::unix::fs::symlink(&outside, packs.new.join("repository/conf/link")).expect("symlink");
    let script = site_script(
        &packs,
        "through-link",
        "copy_file(old, \"repository/conf/deployment.toml\", new, \"repository/conf/link/x.xml\");\n",
    );
    Case::run(&packs, &script.path)
        .watch(&outside)
        .says("repository/conf/link")
        .at_line(&script, 1)
        .check();
}

/// 30b
#[test]
fn set_toml_through_a_link_out_of_new() {
    let packs = Packs::standard();
    let outside = outside_dir(&packs);
    std::os::unix::fs::symlink(
        outside.join("site.toml"),
        packs.new.join("repository/conf/site.toml"),
    )
    .expect("symlink");
    let script = site_script(
        &packs,
        "toml-link",
        "set_toml(new, \"repository/conf/site.toml\", \"b\", 1);\n",
    );
    Case::run(&packs, &script.path)
        .watch(&outside)
        .says("repository/conf/site.toml")
        .says("link")
        .at_line(&script, 1)
        .check();
}

/// 30c: `copy_file` names a file of `old` that is a link out of it: refused, like `..`.
#[test]
fn copy_file_reading_a_link_out_of_old() {
    let packs = Packs::standard();
    let outside = outside_dir(&packs);
    std::os::unix::fs::symlink(
        outside.join("secret.xml"),
        packs.old.join("repository/conf/secret.xml"),
    )
    .expect("symlink");
    let script = site_script(
        &packs,
        "read-link",
        "// bring the secret along\ncopy_file(old, \"repository/conf/secret.xml\", new, \"repository/conf/secret.xml\");\n",
    );
    Case::run(&packs, &script.path)
        .watch(&outside)
        .says("repository/conf/secret.xml")
        .says("link")
        .at_line(&script, 2)
        .check();
}

/// 30d: reading a TOML file through a link out of the pack is refused too.
#[test]
fn read_toml_through_a_link_out_of_old() {
    let packs = Packs::standard();
    let outside = outside_dir(&packs);
    std::os::unix::fs::symlink(
        outside.join("site.toml"),
        packs.old.join("repository/conf/site.toml"),
    )
    .expect("symlink");
    let script = site_script(
        &packs,
        "read-toml-link",
        "let a = read_toml(old, \"repository/conf/site.toml\", \"a\");\nprint(a);\n",
    );
    Case::run(&packs, &script.path)
        .watch(&outside)
        .says("repository/conf/site.toml")
        .says("link")
        .at_line(&script, 1)
        .check();
}

/// 31
#[test]
fn set_toml_on_the_tools_own_history() {
    let packs = Packs::standard();
    let state = packs.new.join(".apim-migrate");
    std::fs::create_dir_all(&state).expect("mkdir");
    std::fs::write(state.join("anything.toml"), "a = 0\n").expect("write");
    let script = site_script(
        &packs,
        "history-toml",
        "set_toml(new, \".apim-migrate/anything.toml\", \"a\", 1);\n",
    );
    Case::run(&packs, &script.path)
        .says(".apim-migrate/anything.toml")
        .says("history")
        .at_line(&script, 1)
        .check();
}

/// 31b
#[test]
fn copy_file_into_the_tools_own_history() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "history-copy",
        "copy_file(old, \"bin/version.txt\", new, \".apim-migrate/runs/x/journal.jsonl\");\n",
    );
    Case::run(&packs, &script.path)
        .says(".apim-migrate/runs/x/journal.jsonl")
        .says("history")
        .at_line(&script, 1)
        .check();
}

/// 38
#[test]
fn import_of_a_file_outside_the_bundled_library() {
    let packs = Packs::standard();
    let script = site_script(&packs, "import", "import \"/etc/passwd\" as p;\n");
    Case::run(&packs, &script.path)
        .says("/etc/passwd")
        .at_line(&script, 1)
        .check();
}

/// 35
#[test]
fn eval_is_refused() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "eval",
        "let code = \"copy_file(old, `bin/version.txt`, new, `x`)\";\nlet x = eval(code);\n",
    );
    Case::run(&packs, &script.path)
        .says("eval")
        .at_line(&script, 2)
        .check();
}

// ---------------------------------------------------------------------------------------------
// runaway scripts
// ---------------------------------------------------------------------------------------------

/// 32
#[test]
fn endless_loop() {
    let packs = Packs::standard();
    let script = site_script(&packs, "loop", "copy_keystores(old, new);\nloop {}\n");
    Case::run(&packs, &script.path)
        .says("endless loop")
        .kill_after(Duration::from_secs(60))
        .at_line(&script, 2)
        .check();
}

/// 33
#[test]
fn runaway_recursion() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "recursion",
        "fn deeper(n) { deeper(n + 1) }\ndeeper(0);\n",
    );
    Case::run(&packs, &script.path)
        .says("recursion")
        .at_line(&script, 2)
        .check();
}

/// 34
#[test]
fn string_doubling_loop() {
    let packs = Packs::standard();
    let script = site_script(&packs, "doubling", "let s = \"x\";\nloop { s += s; }\n");
    Case::run(&packs, &script.path)
        .says("string")
        .says("too large")
        .at_line(&script, 2)
        .check();
}

/// 34b
#[test]
fn array_doubling_loop() {
    let packs = Packs::standard();
    let script = site_script(&packs, "array", "let a = [old];\nloop { a += a; }\n");
    Case::run(&packs, &script.path)
        .says("too large")
        .at_line(&script, 2)
        .check();
}

/// 40
#[test]
fn run_script_of_itself() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "itself",
        "// a step that is this script\nrun_script(\"itself.rhai\", #{ old: old, new: new });\n",
    );
    Case::run(&packs, &script.path)
        .says("nest")
        .at_line(&script, 2)
        .check();
}

/// 41
#[test]
fn deeply_nested_parentheses() {
    let packs = Packs::standard();
    let source = format!("let x = {}1{};\n", "(".repeat(2000), ")".repeat(2000));
    let script = site_script(&packs, "parens", &source);
    Case::run(&packs, &script.path)
        .says("complexity")
        .at_line(&script, 1)
        .check();
}

/// 41b
#[test]
fn deeply_nested_blocks_and_arrays() {
    let packs = Packs::standard();
    let source = format!(
        "let a = 1;\n{}let y = {}{};{}\n",
        "if a == 1 { ".repeat(3000),
        "[".repeat(50_000),
        "]".repeat(50_000),
        " }".repeat(3000)
    );
    let script = site_script(&packs, "blocks", &source);
    Case::run(&packs, &script.path)
        .says("complexity")
        .at_line(&script, 2)
        .check();
}

// ---------------------------------------------------------------------------------------------
// broken scripts
// ---------------------------------------------------------------------------------------------

/// 36
#[test]
fn unclosed_brace() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "unclosed",
        "let a = 1;\nif a == 1 {\n    copy_keystores(old, new);\n",
    );
    Case::run(&packs, &script.path)
        .says("}")
        .somewhere_in(&script)
        .check();
}

/// 36b
#[test]
fn syntax_error_in_the_middle() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "syntax",
        "let a = 1;\nlet = 5;\ncopy_keystores(old, new);\n",
    );
    Case::run(&packs, &script.path)
        .says("variable")
        .at_line(&script, 2)
        .check();
}

/// 37
#[test]
fn throw_shows_its_line() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "throw",
        "copy_keystores(old, new);\nlet a = 1;\nthrow \"boom: stop here\";\n",
    );
    Case::run(&packs, &script.path)
        .says("boom")
        .at_line(&script, 3)
        .check();
}

/// 37b
#[test]
fn unknown_primitive() {
    let packs = Packs::standard();
    let script = site_script(
        &packs,
        "typo",
        "copy_keystores(old, new);\ncopy_fiel(old, \"bin/version.txt\", new);\n",
    );
    Case::run(&packs, &script.path)
        .says("copy_fiel")
        .at_line(&script, 2)
        .check();
}

/// 39
#[test]
fn script_that_is_not_utf8() {
    let packs = Packs::standard();
    let path = packs.dir.path().join("latin1.rhai");
    std::fs::write(
        &path,
        b"\xff\xfe// r\xe9sum\xe9\ncopy_keystores(old, new);\n\x80\x81\n",
    )
    .expect("write");
    Case::run(&packs, &shown(&path))
        .says(shown(&path))
        .says("UTF-8")
        .advises(&["give", "save", "convert"])
        .check();
}
