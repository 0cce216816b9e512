//! What an operator meets around the migration itself, as terraform, cargo and ripgrep users
//! expect it: the question before a run on a terminal, saved plans, `plan`'s detailed exit
//! codes, the reports stored beside the journal and `show`, `history`'s states, endings that
//! are idempotent, one JSON document whatever happens, `-q`, `--color`, man pages and
//! completions.

use crate::support::*;
use rexpect::session::spawn_command;
use sample_packs::PackBuilder;
use serde_json::Value;
use std::path::Path;

/// `run` in a pseudo-terminal, as an operator types it.
fn spawn_run(packs: &Packs, extra: &[&str]) -> rexpect::session::PtySession {
    let command = packs
        .test("run", SCRIPT)
        .args(extra)
        .env("TERM", "xterm")
        .command();
    spawn_command(command, Some(30_000)).expect("spawn the run")
}

fn history(home: &Path, extra: &[&str]) -> Value {
    Test::new()
        .arg("history")
        .arg(home)
        .args(extra)
        .arg("--json")
        .run()
        .success()
        .json()
}

// ----- the question on a terminal -----

#[test]
fn on_a_terminal_run_shows_the_plan_and_applies_nothing_unless_the_answer_is_yes() {
    let packs = Packs::standard();
    let before = tree(packs.dir.path(), true);
    let mut session = spawn_run(&packs, &[]);
    session
        .exp_string("create   new:repository/resources/security/gateway-tls.p12")
        .expect("the plan is shown");
    session
        .exp_string("apply 14 changes to")
        .expect("the question");
    session.send_line("n").expect("answer");
    let rest = session.exp_eof().expect("the run ends");
    assert!(rest.contains("not applied"), "{rest}");
    assert_eq!(
        tree(packs.dir.path(), true),
        before,
        "nothing changed, the tool's history included"
    );

    // `y` applies; the plan is not shown twice, only how the run ended.
    let mut session = spawn_run(&packs, &[]);
    session.exp_string("[y/N] ").expect("the question");
    session.send_line("y").expect("answer");
    let rest = session.exp_eof().expect("the run ends");
    assert!(rest.contains("applied as run"), "{rest}");
    assert!(rest.contains("14 changed"), "{rest}");
    assert!(!rest.contains("copy_keystores"), "{rest}");
    assert!(packs.new.join(SECURITY).join("gateway-tls.p12").is_file());
}

#[test]
fn with_yes_a_run_on_a_terminal_does_not_ask() {
    let packs = Packs::standard();
    let mut session = spawn_run(&packs, &["--yes"]);
    let output = session.exp_eof().expect("the run ends without a question");
    assert!(!output.contains("[y/N]"), "{output}");
    assert!(output.contains("14 changed"), "{output}");
    assert!(packs.new.join(SECURITY).join("gateway-tls.p12").is_file());

    // A second run has nothing to change and nothing to ask.
    let mut session = spawn_run(&packs, &[]);
    let output = session.exp_eof().expect("the run ends");
    assert!(!output.contains("[y/N]"), "{output}");
    assert!(output.contains("nothing to do"), "{output}");
}

#[test]
fn json_on_a_terminal_needs_yes_and_changes_nothing_without_it() {
    let packs = Packs::standard();
    let before = tree(packs.dir.path(), true);
    let mut session = spawn_run(&packs, &["--json"]);
    let output = session.exp_eof().expect("the run ends");
    assert!(output.contains("\"outcome\": \"error\""), "{output}");
    assert!(output.contains("needs --yes"), "{output}");
    assert_eq!(tree(packs.dir.path(), true), before);
}

// ----- saved plans -----

#[test]
fn a_saved_plan_is_applied_exactly() {
    let packs = Packs::standard();
    let plan_file = packs.dir.path().join("upgrade.plan");
    let before = tree(packs.dir.path().join("new").as_path(), true);
    let planned = packs
        .test("plan", SCRIPT)
        .args(["--out", plan_file.to_str().expect("utf-8")])
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(planned["outcome"], "planned");
    assert_eq!(tree(&packs.new, true), before, "plan --out changes no pack");
    assert_eq!(mode(&plan_file), 0o600, "diffs may hold secrets");

    // Applied from another directory, with no other argument: the file has them all.
    let ran = Test::new()
        .args(["run", "--plan"])
        .arg(&plan_file)
        .arg("--json")
        .current_dir(std::env::temp_dir())
        .run()
        .success()
        .json();
    assert_eq!(ran["outcome"], "done");
    let paths = |report: &Value| -> Vec<(Value, Value)> {
        report["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .map(|action| (action["path"].clone(), action["after"].clone()))
            .collect()
    };
    assert_eq!(paths(&ran), paths(&planned));
    assert_eq!(ran["summary"]["changed"], planned["summary"]["planned"]);

    // Applied once; a second time its packs have changed (by the plan itself).
    let after = tree(&packs.new, true);
    let output = Test::new().args(["run", "--plan"]).arg(&plan_file).run();
    output.stderr_line("changed since the plan was saved");
    assert_eq!(tree(&packs.new, true), after);
}

#[test]
fn a_saved_plan_is_refused_when_a_pack_changed_since() {
    for changed in ["new", "old"] {
        let packs = Packs::standard();
        let plan_file = packs.dir.path().join("upgrade.plan");
        packs
            .test("plan", SCRIPT)
            .arg("--out")
            .arg(&plan_file)
            .run()
            .success()
            .stdout_contains("saved the plan to");
        // Someone edits a file the run does not even copy.
        let home = if changed == "new" {
            &packs.new
        } else {
            &packs.old
        };
        let edited = home.join("repository/conf/carbon.xml");
        let mut text = read(&edited);
        text.push_str("# edited after the plan\n");
        write_file(&edited, text.as_bytes(), 0o644);

        let output = Test::new()
            .args(["run", "--plan"])
            .arg(&plan_file)
            .arg("--json")
            .unchanged(packs.dir.path())
            .run();
        output.stderr_line(&format!(
            "--{changed} `{}` changed since the plan was saved (in `repository/conf`)",
            home.display()
        ));
        let document = output.json();
        assert_eq!(document["outcome"], "error");
        assert_eq!(document["error"]["file"], plan_file.display().to_string());
    }
}

#[test]
fn a_saved_plan_is_refused_when_its_script_changed() {
    let packs = Packs::standard();
    let site = script(&packs, "site", "copy_keystores(old, new);\n");
    let plan_file = packs.dir.path().join("site.plan");
    packs
        .test("plan", &site)
        .arg("--out")
        .arg(&plan_file)
        .run()
        .success();
    write_file(
        Path::new(&site),
        b"copy_keystores(old, new);\ncopy_tenant_userstores(old, new);\n",
        0o644,
    );
    Test::new()
        .args(["run", "--plan"])
        .arg(&plan_file)
        .unchanged(packs.dir.path().join("new"))
        .run()
        .stderr_line("changed since the plan was saved: plan again");
    // Not a plan file at all.
    Test::new()
        .args(["run", "--plan"])
        .arg(&site)
        .run()
        .stderr_line("is not a plan file");
}

// ----- plan --detailed-exitcode -----

#[test]
fn plan_detailed_exitcode_says_whether_changes_are_pending() {
    let packs = Packs::standard();
    packs
        .test("plan", SCRIPT)
        .arg("--detailed-exitcode")
        .run()
        .code(2)
        .stdout_contains("14 planned");
    packs.test("run", SCRIPT).run().success();
    packs
        .test("plan", SCRIPT)
        .arg("--detailed-exitcode")
        .run()
        .success()
        .stdout_contains("nothing to do");
    // Any error is 1, bad input and bad usage alike; the JSON document says which.
    let output = Test::new()
        .args(["plan", SCRIPT, "--detailed-exitcode", "--json", "--old"])
        .arg(packs.dir.path().join("missing"))
        .arg("--new")
        .arg(&packs.new)
        .run();
    output.code(1);
    assert_eq!(output.json()["error"]["exit_code"], 2);
    Test::new()
        .args(["plan", "--detailed-exitcode", "--no-such-flag"])
        .run()
        .code(1);
    // Without it, pending changes are a success.
    packs
        .test("plan", SCRIPT)
        .arg("--set")
        .arg("x")
        .run()
        .code(2);
}

// ----- stored reports, show, history -----

#[test]
fn show_prints_a_run_again_after_the_run_and_after_its_rollback() {
    let packs = Packs::standard();
    let ran = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let run_id = ran["run_id"].as_str().expect("run id").to_string();
    let stored = packs
        .new
        .join(".apim-migrate/runs")
        .join(&run_id)
        .join("report.json");
    assert_eq!(json(read(&stored).as_bytes()), ran, "stored as printed");

    let text = Test::new()
        .arg("show")
        .arg(&packs.new)
        .run()
        .success()
        .stdout();
    assert!(
        text.contains(&format!("run {run_id} of {SCRIPT}")),
        "{text}"
    );
    assert!(text.contains(": complete"), "{text}");
    for part in [
        "create   new:repository/resources/security/gateway-tls.p12",
        "reminders",
        "[ciphertool]",
        "findings (to port by hand)",
        "14 changed",
    ] {
        assert!(text.contains(part), "{part:?} in:\n{text}");
    }
    // A no-op run afterwards is not what `show` shows by default; its id is.
    let again = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let again_id = again["run_id"].as_str().expect("run id");
    let shown = Test::new()
        .args(["show", "--json"])
        .arg(&packs.new)
        .run()
        .success()
        .json();
    assert_eq!(shown["run_id"], run_id.as_str());
    assert_eq!(shown["report"], ran);
    Test::new()
        .arg("show")
        .arg(&packs.new)
        .arg(&again_id[..again_id.len() - 2])
        .run()
        .success()
        .stdout_contains("nothing to do");

    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run()
        .success();
    let shown = Test::new()
        .args(["show", "--json"])
        .arg(&packs.new)
        .arg(&run_id)
        .run()
        .success()
        .json();
    assert_eq!(shown["state"], "rolled back");
    assert_eq!(shown["rollback"]["outcome"], "done");
    // Two keystores, and deployment.toml twice: the skip lists' edit, then the configuration's,
    // each taken back.
    assert_eq!(
        shown["rollback"]["restored"].as_array().map(Vec::len),
        Some(4)
    );
    let text = Test::new()
        .arg("show")
        .arg(&packs.new)
        .arg(&run_id)
        .run()
        .success()
        .stdout();
    assert!(text.contains(": rolled back"), "{text}");
    assert!(text.contains("4 restored, 10 removed"), "{text}");

    Test::new()
        .arg("show")
        .arg(&packs.new)
        .arg("2099")
        .run()
        .stderr_line("no run `2099`");
}

#[test]
fn show_after_a_checkpoint_gives_the_work_to_do_and_the_command_that_goes_on() {
    let packs = Packs::chain(
        PackBuilder::api_manager("1.9.0"),
        PackBuilder::api_manager("2.0.0"),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let via = packs.via.clone().expect("via");
    packs.test("run", "1.x-to-4.0.0").run().success();
    let text = Test::new().arg("show").arg(&via).run().success().stdout();
    assert!(text.contains(": checkpoint"), "{text}");
    assert!(
        text.contains("stopped at checkpoint `2.0.0-data-migration`"),
        "{text}"
    );
    assert!(text.contains("-DmigrateDB=true"), "{text}");
    assert!(text.contains("--continue"), "{text}");
    let runs = history(&packs.new, &[]);
    assert_eq!(runs["runs"][0]["state"], "checkpoint");
    assert_eq!(runs["chain"]["state"], "waiting");

    packs
        .test("run", "1.x-to-4.0.0")
        .arg("--continue")
        .run()
        .success();
    let runs = history(&packs.new, &[]);
    assert_eq!(runs["runs"][1]["state"], "complete");
    assert_eq!(runs["chain"]["state"], "complete");
    // The finished chain run again: nothing to do, exit 0, no run recorded.
    let again = packs
        .test("run", "1.x-to-4.0.0")
        .arg("--json")
        .unchanged(packs.dir.path())
        .run()
        .success()
        .json();
    assert_eq!(again["outcome"], "nothing to do");
    assert!(again["run_id"].is_null());
}

#[test]
fn history_gives_each_run_its_state_and_lists_no_op_runs_with_all() {
    let packs = Packs::standard();
    packs
        .test("run", SCRIPT)
        .env("APIM_MIGRATE_INJECT_FAILURE", "3")
        .run()
        .code(1);
    packs.test("run", SCRIPT).run().success();
    packs.test("run", SCRIPT).run().success();
    packs.test("run", SCRIPT).run().success();
    let shown = history(&packs.new, &[]);
    let states: Vec<&str> = shown["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|run| run["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["taken back", "complete"]);
    assert_eq!(shown["hidden_no_op_runs"], 2);
    let all = history(&packs.new, &["--all"]);
    assert_eq!(all["runs"].as_array().map(Vec::len), Some(4));
    assert_eq!(all["runs"][3]["no_op"], true);
    let text = Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .success()
        .stdout();
    assert!(text.contains(" 14 changes"), "{text}");
    assert!(
        text.contains("2 runs that changed nothing are not shown"),
        "{text}"
    );
}

#[test]
fn a_site_script_is_recorded_by_its_absolute_path() {
    let packs = Packs::standard();
    let site = script(&packs, "site", "copy_keystores(old, new);\n");
    let name = Path::new(&site)
        .file_name()
        .expect("name")
        .to_str()
        .expect("utf-8")
        .to_string();
    let dir = Path::new(&site).parent().expect("dir");
    packs.test("run", &name).current_dir(dir).run().success();
    let runs = history(&packs.new, &[]);
    assert_eq!(runs["runs"][0]["script"], name.as_str());
    assert_eq!(
        runs["runs"][0]["script_path"],
        Path::new(&site)
            .canonicalize()
            .expect("canonical")
            .display()
            .to_string()
    );
    let text = Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .success()
        .stdout();
    assert!(
        text.contains(
            &Path::new(&site)
                .canonicalize()
                .expect("c")
                .display()
                .to_string()
        ),
        "{text}"
    );
}

// ----- one JSON document, whatever happens -----

#[test]
fn every_json_command_prints_one_document_on_exit_2() {
    let packs = Packs::standard();
    let missing = packs.dir.path().join("missing");
    let missing_text = missing.display().to_string();
    let cases: Vec<(&str, Test)> = vec![
        (
            "run",
            Test::new()
                .args(["run", SCRIPT, "--old"])
                .arg(&missing)
                .arg("--new")
                .arg(&packs.new),
        ),
        (
            "plan",
            Test::new()
                .args(["plan", SCRIPT, "--old"])
                .arg(&missing)
                .arg("--new")
                .arg(&packs.new),
        ),
        (
            "rollback",
            Test::new().args(["rollback", "--new"]).arg(&missing),
        ),
        ("history", Test::new().arg("history").arg(&missing)),
        ("show", Test::new().arg("show").arg(&missing)),
        ("detect", Test::new().arg("detect").arg(&missing)),
        (
            "scripts",
            Test::new().args(["scripts", "--dir"]).arg(&missing),
        ),
    ];
    for (command, test) in cases {
        let output = test.arg("--json").run();
        output.code(2);
        let document = output.json();
        assert_eq!(document["schema"], 1, "{command}: {document}");
        assert_eq!(document["command"], command, "{document}");
        assert_eq!(document["outcome"], "error", "{document}");
        assert_eq!(document["error"]["exit_code"], 2, "{document}");
        assert!(
            document["error"]["message"]
                .as_str()
                .is_some_and(|message| message.contains(&missing_text)),
            "{document}"
        );
        if command != "scripts" {
            assert_eq!(
                document["error"]["file"],
                missing_text.as_str(),
                "{document}"
            );
        }
        assert!(
            output.stderr().starts_with("error: "),
            "{}",
            output.stderr()
        );
    }
    // A command line clap refuses.
    let output = Test::new()
        .args(["history", "--json", "--no-such-flag"])
        .run();
    output.code(2);
    let document = output.json();
    assert_eq!(document["command"], "history");
    assert_eq!(document["outcome"], "error");
    assert!(output.stderr().contains("--no-such-flag"));
}

#[test]
fn a_failed_run_prints_its_report_with_the_error_and_the_file_on_exit_1() {
    let packs = Packs::standard();
    let output = packs
        .test("run", SCRIPT)
        .arg("--json")
        .env("APIM_MIGRATE_INJECT_FAILURE", "2")
        .run();
    output.code(1);
    let document = output.json();
    assert_eq!(document["outcome"], "failed");
    assert_eq!(document["error"]["exit_code"], 1);
    assert_eq!(
        document["error"]["file"],
        packs
            .new
            .join(SECURITY)
            .join("client-truststore.jks")
            .display()
            .to_string(),
        "the second change, after the configuration's"
    );
    assert!(document["actions"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
    // The report of the failed run is stored too.
    let run_id = document["run_id"].as_str().expect("run id");
    let shown = Test::new()
        .args(["show", "--json"])
        .arg(&packs.new)
        .arg(run_id)
        .run()
        .success()
        .json();
    assert_eq!(shown["state"], "taken back");
    assert_eq!(shown["report"], document);
}

#[test]
fn a_script_error_names_the_script_and_the_line_in_json() {
    let packs = Packs::standard();
    let site = script(&packs, "broken", "copy_keystores(old, new);\nlet x = ;\n");
    let document = packs.test("plan", &site).arg("--json").run().code(2).json();
    assert_eq!(document["error"]["file"], site.as_str());
    assert_eq!(document["error"]["line"], 2);
}

// ----- -q and --color -----

#[test]
fn quiet_prints_nothing_but_errors_for_every_command() {
    let packs = Packs::standard();
    let work = packs.dir.path();
    let plan_file = work.join("q.plan");
    let site = work.join("site.rhai");
    let quiet = |test: Test| {
        let output = test.arg("-q").current_dir(work).run();
        output.success();
        assert_eq!(output.stdout(), "", "{}", output.describe());
        assert_eq!(output.stderr(), "", "{}", output.describe());
    };
    quiet(packs.test("plan", SCRIPT));
    quiet(packs.test("plan", SCRIPT).arg("--out").arg(&plan_file));
    quiet(Test::new().args(["run", "--plan"]).arg(&plan_file));
    quiet(packs.test("run", SCRIPT));
    quiet(Test::new().arg("history").arg(&packs.new));
    quiet(Test::new().arg("show").arg(&packs.new));
    quiet(Test::new().args(["rollback", "--new"]).arg(&packs.new));
    quiet(Test::new().args(["rollback", "--new"]).arg(&packs.new));
    quiet(Test::new().arg("detect").arg(&packs.old));
    quiet(Test::new().arg("scripts"));
    quiet(Test::new().args(["scripts", "show", SCRIPT]));
    quiet(
        Test::new()
            .args(["scripts", "new"])
            .arg(&site)
            .args(["--from", SCRIPT]),
    );
    quiet(Test::new().arg("check").arg(&site));
    quiet(Test::new().arg("defs").arg(work.join("defs")));
    quiet(Test::new().arg("manpages").arg(work.join("man")));
    quiet(Test::new().arg("docs"));
    quiet(Test::new().args(["completions", "bash"]));
    quiet(Test::new().arg("demo").arg(work.join("demo")));
    quiet(
        Test::new()
            .arg("repl")
            .arg("--old")
            .arg(&packs.old)
            .arg("--new")
            .arg(&packs.new)
            .stdin("copy_file(old, \"repository/conf/carbon.xml\", new, \"carbon.xml.old\");\n"),
    );
    assert!(packs.new.join("carbon.xml.old").is_file());

    // Errors still show, and the JSON document asked for is still printed.
    let output = Test::new()
        .args(["history", "-q"])
        .arg(work.join("missing"))
        .run();
    output.stderr_line("missing");
    let output = Test::new()
        .args(["history", "-q", "--json"])
        .arg(&packs.new)
        .run();
    assert_eq!(output.success().json()["command"], "history");
}

#[test]
fn color_always_never_and_auto() {
    let packs = Packs::standard();
    const ESCAPE: &str = "\u{1b}[";
    let always = packs
        .test("plan", SCRIPT)
        .args(["--color", "always"])
        .run()
        .success()
        .stdout();
    assert!(always.contains(&format!("{ESCAPE}32mcreate")), "{always}");
    assert!(
        always.contains(&format!("{ESCAPE}1m{ESCAPE}33mwarnings")),
        "{always}"
    );
    assert!(
        always.contains(&format!("{ESCAPE}1m{ESCAPE}35mfindings")),
        "{always}"
    );
    // `always` wins over NO_COLOR (which the tests set), `never` over CLICOLOR_FORCE.
    let never = packs
        .test("plan", SCRIPT)
        .args(["--color", "never"])
        .env("CLICOLOR_FORCE", "1")
        .run()
        .success()
        .stdout();
    assert!(!never.contains(ESCAPE), "{never}");
    assert_eq!(never, strip(&always));
    // auto: not a terminal here, so no colour even without NO_COLOR.
    let auto = packs
        .test("plan", SCRIPT)
        .env_remove("NO_COLOR")
        .run()
        .success()
        .stdout();
    assert!(!auto.contains(ESCAPE), "{auto}");
    // Errors on stderr too.
    let error = Test::new()
        .args(["history", "--color=always", "/no/such/pack"])
        .run()
        .code(2)
        .stderr();
    assert!(
        error.starts_with(&format!("{ESCAPE}1m{ESCAPE}31merror")),
        "{error:?}"
    );

    // auto on a terminal: colour, unless NO_COLOR.
    let mut session = spawn_command(
        packs
            .test("plan", SCRIPT)
            .env_remove("NO_COLOR")
            .env("TERM", "xterm")
            .command(),
        Some(30_000),
    )
    .expect("spawn");
    let shown = session.exp_eof().expect("plan ends");
    assert!(shown.contains(ESCAPE), "{shown}");
    let mut session = spawn_command(
        packs.test("plan", SCRIPT).env("TERM", "xterm").command(),
        Some(30_000),
    )
    .expect("spawn");
    let shown = session.exp_eof().expect("plan ends");
    assert!(!shown.contains(&format!("{ESCAPE}32m")), "{shown}");
}

/// `text` without its SGR escape sequences.
fn strip(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('\u{1b}') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        match rest.find('m') {
            Some(end) => rest = &rest[end + 1..],
            None => break,
        }
    }
    out.push_str(rest);
    out
}

// ----- man pages and completions -----

#[test]
fn manpages_are_written_for_the_tool_and_each_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let man = dir.path().join("man1");
    Test::new()
        .arg("manpages")
        .arg(&man)
        .run()
        .success()
        .stdout_contains("apim-migrate-run.1");
    for page in [
        "apim-migrate.1",
        "apim-migrate-run.1",
        "apim-migrate-plan.1",
        "apim-migrate-show.1",
        "apim-migrate-scripts-new.1",
    ] {
        let text = read(man.join(page));
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"),
            "{page}: {text}"
        );
    }
    let run = read(man.join("apim-migrate-run.1"));
    assert!(run.contains("\\-\\-plan"), "{run}");
    assert!(run.contains("\\-\\-yes"), "{run}");
}

#[test]
fn bash_completion_offers_the_bundled_scripts_and_the_profiles() {
    let script = Test::new()
        .args(["completions", "bash"])
        .run()
        .success()
        .stdout();
    for name in [
        "3.0.0-to-4.1.0",
        "1.x-to-4.0.0",
        "control-plane",
        "gateway-worker",
        "api-devportal",
        "--detailed-exitcode",
        "show",
        "manpages",
    ] {
        assert!(script.contains(name), "{name}");
    }
    // bash itself reads it, and offers the names for `run`.
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            "source /dev/stdin; COMP_WORDS=(apim-migrate run 3.0); COMP_CWORD=2; \
             _apim__migrate apim-migrate 3.0 run; printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .expect("bash");
    assert_eq!(stdout(&output).trim(), "3.0.0-to-4.1.0");
}

// ----- error messages -----

#[test]
fn via_given_to_a_one_step_script_says_it_takes_none() {
    let packs = Packs::chain(
        old_3_0_0(),
        PackBuilder::api_manager("2.0.0"),
        new_4_1_0(),
        None,
    );
    packs
        .test("run", SCRIPT)
        .unchanged(packs.dir.path())
        .run()
        .stderr_line("`3.0.0-to-4.1.0` takes no --via");
}

#[test]
fn piped_repl_errors_are_located_in_the_input_and_point_to_rollback() {
    let packs = Packs::standard();
    let output = Test::new()
        .arg("repl")
        .arg("--old")
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .env("APIM_MIGRATE_HISTORY", "")
        .stdin("copy_keystores(old, new);\nlet total = 1 +\n  2;\n\nno_such_thing(old);\n")
        .run();
    output.code(2);
    let stdout = output.stdout();
    assert!(
        stdout.contains(&format!(
            "`apim-migrate rollback --new {}` takes it back",
            packs.new.display()
        )),
        "{stdout}"
    );
    assert!(!stdout.contains(":undo"), "{stdout}");
    let stderr = output.stderr();
    assert!(stderr.contains("--> stdin:5:1"), "{stderr}");
    assert!(!stderr.contains("repl:1:1"), "{stderr}");
    assert!(stderr.contains("input line 5"), "{stderr}");
    // The statement's run kept its report, as a run does.
    let shown = Test::new()
        .args(["show", "--json"])
        .arg(&packs.new)
        .run()
        .success()
        .json();
    assert_eq!(
        shown["report"]["script"]["source"],
        "copy_keystores(old, new);"
    );
    assert_eq!(shown["report"]["summary"]["changed"], 4);
}

// ----- the commands the demo prints -----

#[test]
fn the_commands_the_demo_prints_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = Test::new()
        .arg("demo")
        .arg(dir.path().join("demo"))
        .run()
        .success()
        .stdout();
    let commands: Vec<&str> = text
        .split("Try next")
        .nth(1)
        .expect("the demo says what to try next")
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("apim-migrate "))
        .collect();
    assert_eq!(commands.len(), 6, "{text}");
    for command in commands {
        let words: Vec<&str> = command.split_whitespace().skip(1).collect();
        Test::new().args(&words).run().success();
    }
}

/// Past a few hundred tenants a run, its no-op and its rollback hold more directories open
/// than many systems let a process have (a soft limit of 1,024 open files is the default of
/// systemd, `sshd` and so Ansible): the tool raises the soft limit as far as the hard limit
/// allows, and under a hard limit it cannot pass keeps fewer directories open.
#[test]
fn a_low_limit_of_open_files_stops_no_run_no_op_plan_or_rollback() {
    let packs = Packs::standard();
    let template = std::fs::read_to_string(
        packs
            .old
            .join("repository/tenants/1/userstores/partner_example_com.xml"),
    )
    .expect("read a user store");
    let store = |id: u32| format!("repository/tenants/{id}/userstores/site_example_com.xml");
    // 300 more tenants with a user store each: both packs' folders of them are walked.
    for id in 100..400 {
        let path = packs.old.join(store(id));
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, template.replace("partner", &format!("site{id}"))).expect("write");
    }
    let pristine = tree(&packs.new, false);

    // A soft limit of 128 under the tests' hard limit: raised, and said so with -vvv.
    let first = packs
        .test("run", SCRIPT)
        .arg("-vvv")
        .open_files_limit(128, false)
        .run();
    first
        .success()
        .stderr_contains("open files: soft limit 4096 (was 128)");
    for id in [100, 250, 399] {
        assert_eq!(
            std::fs::read(packs.new.join(store(id))).expect("read the copy"),
            std::fs::read(packs.old.join(store(id))).expect("read the source"),
            "tenant {id}"
        );
    }
    let noop = packs.test("run", SCRIPT).open_files_limit(128, false).run();
    noop.success().stdout_contains("nothing to do");

    // A hard limit of 128 as well: nothing to raise; each pack keeps 32 directories open,
    // all of them 64.
    let hard = packs
        .test("run", SCRIPT)
        .arg("-vvv")
        .open_files_limit(128, true)
        .run();
    hard.success().stdout_contains("nothing to do");
    hard.stderr_contains(
        "open files: soft limit 128 (was 128), 32 directory handles kept per pack and 64 by all",
    );
    packs
        .test("plan", SCRIPT)
        .open_files_limit(128, true)
        .unchanged(&packs.new)
        .run()
        .success();
    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .open_files_limit(128, true)
        .run()
        .success();
    assert_eq!(
        tree(&packs.new, false),
        pristine,
        "the rollback restores every byte"
    );
}
