//! `apim-migrate repl` as a person uses it, in a pseudo-terminal (rexpect): completion, hints,
//! a statement applied and undone, `:help`, a multi-line block, errors with a caret, history
//! after a restart. And with piped input, as a script of statements.

use crate::support::*;
use rexpect::session::{spawn_command, PtySession};
use std::path::{Path, PathBuf};

const KEYSTORE: &str = "repository/resources/security/partner-truststore.jks";

/// A REPL on the packs, in a pseudo-terminal, keeping its line history in `history`.
fn repl(packs: &Packs, history: &Path, extra: &[&str]) -> PtySession {
    let command = Test::new()
        .arg("repl")
        .arg("--old")
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .args(extra)
        .env("APIM_MIGRATE_HISTORY", history)
        .env("TERM", "xterm")
        .env_remove("RUST_LOG")
        .command();
    let mut session = spawn_command(command, Some(20_000)).expect("spawn the REPL");
    session
        .exp_string("Tab completes names and paths")
        .expect("banner");
    ready(&mut session);
    session
}

fn send(session: &mut PtySession, keys: &str) {
    session.send(keys).expect("send keys");
    session.flush().expect("flush");
}

fn expect(session: &mut PtySession, text: &str) -> String {
    session
        .exp_string(text)
        .unwrap_or_else(|error| panic!("expected `{text}`: {error}"))
}

/// Waits until the REPL reads the next line. The prompt text alone will not do: the editor
/// redraws it with every key. rustyline turns bracketed paste on each time it starts reading a
/// line, and input typed before that is dropped when it sets the terminal up.
fn ready(session: &mut PtySession) {
    expect(session, "\x1b[?2004h");
}

fn quit(mut session: PtySession) {
    send(&mut session, ":quit\r");
    session.exp_eof().expect("the REPL ends");
}

/// A REPL on the packs reading `input` from a pipe.
fn piped(packs: &Packs, history: &Path, input: &str) -> Output {
    Test::new()
        .arg("repl")
        .arg("--old")
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .env("APIM_MIGRATE_HISTORY", history)
        .stdin(input)
        .run()
}

fn packs() -> (Packs, tempfile::TempDir, PathBuf) {
    let packs = Packs::standard();
    let home = tempfile::tempdir().expect("temp dir");
    let history = home.path().join("history");
    (packs, home, history)
}

#[test]
fn tab_completes_a_primitive_then_the_statement_is_applied_and_undone() {
    let (packs, _home, history) = packs();
    let pristine = tree(&packs.new, false);
    let mut session = repl(&packs, &history, &[]);

    // The hint shows the rest of the name and the signature; Tab completes it.
    send(&mut session, "copy_keys");
    expect(&mut session, "copy_keystores(from, to)");
    send(&mut session, "\t");
    send(&mut session, "(old, new);\r");
    expect(&mut session, "copy_keystores");
    expect(
        &mut session,
        "create   new:repository/resources/security/partner-truststore.jks",
    );
    let applied = expect(&mut session, "`:undo` takes it back");
    assert!(applied.contains("applied as run "), "{applied}");
    ready(&mut session);
    assert_eq!(
        bytes(packs.new.join(KEYSTORE)),
        bytes(packs.old.join(KEYSTORE)),
        "the statement was applied at once"
    );

    send(&mut session, ":undo\r");
    expect(&mut session, "took back statement 1");
    ready(&mut session);
    assert!(!packs.new.join(KEYSTORE).exists());
    assert_eq!(
        tree(&packs.new, false),
        pristine,
        "undo restores the pack byte for byte"
    );

    send(&mut session, ":history\r");
    expect(&mut session, "undone  run");
    quit(session);

    // The journal has the run, rolled back, with the statement itself.
    let text = Test::new()
        .args(["history", packs.new.to_str().expect("utf-8")])
        .run()
        .stdout();
    assert!(text.contains("repl"), "{text}");
    assert!(text.contains("rolled back"), "{text}");
    assert!(text.contains("> copy_keystores(old, new);"), "{text}");
}

#[test]
fn completes_paths_inside_the_packs_and_module_functions() {
    let (packs, _home, history) = packs();
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, "list(old, \"repository/resources/secu\t");
    expect(&mut session, "repository/resources/security/");
    send(&mut session, "\")\r");
    expect(&mut session, "partner-truststore.jks");
    ready(&mut session);

    send(&mut session, "import \"apim\" as apim;\r");
    ready(&mut session);
    send(&mut session, "apim::path_h\t");
    send(&mut session, "(");
    // The hint shows the module function's signature.
    expect(&mut session, "apim::path_hint(    apim::path_hint(version)");
    send(&mut session, "\"2.0.0\")\r");
    expect(&mut session, "=> \"2.0.0 upgrades to 4.0.0");
    quit(session);
}

#[test]
fn help_comes_from_the_primitive_documentation() {
    let (packs, _home, history) = packs();
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, ":help\r");
    expect(&mut session, ":undo");
    expect(&mut session, "copy_tenant_userstores");
    ready(&mut session);
    send(&mut session, ":help add_skip_sequences\r");
    expect(
        &mut session,
        "add_skip_sequences(from, to) | add_skip_sequences(from, to, names)",
    );
    expect(&mut session, "example:");
    ready(&mut session);
    send(&mut session, ":help copy_keystore\r");
    expect(&mut session, "did you mean `copy_keystores`?");
    quit(session);
}

#[test]
fn a_block_left_open_continues_on_the_next_line_and_stays_defined() {
    let (packs, _home, history) = packs();
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, "fn stores(pack) {\r");
    send(
        &mut session,
        "  list(pack, \"repository/resources/security\")\r",
    );
    send(&mut session, "}\r");
    ready(&mut session);
    send(&mut session, "let names = stores(old);\r");
    ready(&mut session);
    send(&mut session, "names.len()\r");
    let count = std::fs::read_dir(packs.old.join("repository/resources/security"))
        .expect("security dir")
        .count();
    expect(&mut session, &format!("=> {count}\r"));
    ready(&mut session);
    // A multi-line string (backticks) continues too.
    send(&mut session, "let note = `first\r");
    send(&mut session, "second`;\r");
    ready(&mut session);
    send(&mut session, "note.len()\r");
    expect(&mut session, "=> 12");
    quit(session);
}

#[test]
fn an_error_shows_a_caret_and_the_session_goes_on() {
    let (packs, _home, history) = packs();
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, "let x = 1 +* 2;\r");
    expect(&mut session, "--> repl:1:");
    expect(&mut session, "^");
    ready(&mut session);
    send(&mut session, "copy_keystore(old, new);\r");
    expect(&mut session, "did you mean `copy_keystores`?");
    ready(&mut session);
    send(&mut session, "copy_keystores(old);\r");
    expect(&mut session, "it is called as copy_keystores(from, to)");
    ready(&mut session);
    send(&mut session, "40 + 2\r");
    expect(&mut session, "=> 42");
    quit(session);
}

#[test]
fn dry_run_and_plan_show_without_writing() {
    let (packs, _home, history) = packs();
    let pristine = tree(&packs.new, true);
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, ":plan copy_keystores(old, new);\r");
    expect(&mut session, "not applied");
    ready(&mut session);
    send(&mut session, ":dry-run on\r");
    expect(&mut session, "apim (dry run)> ");
    send(&mut session, "copy_tenant_userstores(old, new);\r");
    expect(&mut session, "4 planned");
    expect(&mut session, "not applied (dry run");
    expect(&mut session, "apim (dry run)> ");
    quit(session);
    assert_eq!(
        tree(&packs.new, true),
        pristine,
        "nothing written, not even a journal"
    );
}

#[test]
fn the_line_history_survives_a_restart() {
    let (packs, _home, history) = packs();
    let mut session = repl(&packs, &history, &[]);
    send(&mut session, "let marker = \"kept across sessions\";\r");
    ready(&mut session);
    quit(session);
    assert!(read(&history).contains("kept across sessions"));

    let mut session = repl(&packs, &history, &[]);
    // Up arrow twice (past `:quit`), then Enter, runs the line of the earlier session again.
    send(&mut session, "\x1b[A\x1b[A");
    expect(&mut session, "let marker = \"kept across sessions\";");
    send(&mut session, "\r");
    ready(&mut session);
    send(&mut session, "marker\r");
    expect(&mut session, "=> \"kept across sessions\"");
    quit(session);
}

#[test]
fn the_session_holds_its_target_packs() {
    let (packs, _home, history) = packs();
    let session = repl(&packs, &history, &[]);
    packs
        .test("run", "3.0.0-to-4.1.0")
        .run()
        .code(2)
        .stderr_contains("repl");
    quit(session);
    packs.test("plan", "3.0.0-to-4.1.0").run().success();
}

/// Piped input: statements one after another, no prompt; the first failure ends the session
/// with its exit code, and what was applied before it stays, each statement a run.
#[test]
fn piped_statements_run_in_order_and_stop_at_the_first_failure() {
    let (packs, _home, history) = packs();
    let run = |input: &str| piped(&packs, &history, input);
    let output = run(
        "copy_keystores(old, new);\nif true {\n  copy_tenant_userstores(old, new);\n}\nno_such_thing(old);\nplace_jdbc(old, new);\n",
    );
    output.code(2);
    let message = stderr(&output);
    assert!(message.contains("input line 5"), "{message}");
    assert!(message.contains("no_such_thing"), "{message}");
    assert!(
        !stdout(&output).contains("apim>"),
        "no prompt when not a terminal"
    );
    assert!(packs.new.join(KEYSTORE).exists());
    assert!(packs
        .new
        .join("repository/tenants/1/userstores/partner_example_com.xml")
        .exists());
    assert!(
        !packs
            .new
            .join("repository/components/lib/mysql-connector-java-8.0.28.jar")
            .exists(),
        "nothing after the failure ran"
    );
    let runs = json(
        &Test::new()
            .args(["history", "--json", packs.new.to_str().expect("utf-8")])
            .run()
            .stdout,
    );
    let runs = runs["runs"].as_array().expect("runs");
    assert_eq!(
        runs.len(),
        2,
        "one run per statement that changed something"
    );
    assert_eq!(runs[0]["statement"], "copy_keystores(old, new);");
    assert_eq!(
        runs[1]["statement"],
        "if true {\n  copy_tenant_userstores(old, new);\n}"
    );
    assert!(!history.exists(), "piped input is not line history");

    // A statement left open at the end of the input is not run.
    let output = run("copy_dir(old, \"repository/conf\", new, \"conf-3.0.0\"\n");
    output.code(2);
    assert!(stderr(&output).contains("ended inside a statement"));
    assert!(!packs.new.join("conf-3.0.0").exists());
}

/// `:load` checks a script's header as `run` does: declared parameters, accepted packs.
#[test]
fn load_checks_the_header_and_keeps_the_scripts_functions() {
    let (packs, _home, history) = packs();
    let site = packs.dir.path().join("site");
    std::fs::create_dir_all(&site).expect("site dir");
    write_file(
        &site.join("names.rhai"),
        b"fn team() { \"platform\" }\n",
        0o644,
    );
    write_file(
        &site.join("site.rhai"),
        b"//! A site script.\n//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n//! @param who=ops  who runs it\nimport \"names\" as names;\nfn owner() { `${names::team()}/${params.who}` }\ncopy_keystores(old, new);\n",
        0o644,
    );
    write_file(
        &site.join("old-only.rhai"),
        b"//! For 2.0.0 only.\n//! @accepts old wso2am 2.0.0\n//! @accepts new wso2am 4.0.0\ncopy_keystores(old, new);\n",
        0o644,
    );
    let run = |input: &str| piped(&packs, &history, input);
    let before = tree(&packs.new, true);
    let output = run(&format!(":load {}\n", site.join("old-only.rhai").display()));
    output.code(2);
    assert!(
        stderr(&output).contains("is API-M 3.0.0, but"),
        "{}",
        stderr(&output)
    );
    let output = run(&format!(
        ":load {} wh0=me\n",
        site.join("site.rhai").display()
    ));
    output.code(2);
    assert!(
        stderr(&output).contains("has no parameter `wh0`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        tree(&packs.new, true),
        before,
        "refused before anything changed"
    );

    let output = run(&format!(
        ":load {} who=me\nowner()\nnames::team()\n",
        site.join("site.rhai").display()
    ));
    output.success();
    let text = stdout(&output);
    assert!(text.contains("applied as run"), "{text}");
    assert!(text.contains("=> \"platform/me\""), "{text}");
    assert!(text.contains("=> \"platform\""), "imports stay: {text}");
    assert!(packs.new.join(KEYSTORE).exists());
}
