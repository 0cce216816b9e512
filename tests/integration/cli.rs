//! The commands other than `run`/`plan`: detect, scripts, docs, help, demo, history, rollback,
//! and the lock that keeps two runs off one pack.

use crate::support::*;
use sample_packs::PackBuilder;
use std::path::Path;

const PRIMITIVES: [&str; 5] = [
    "copy_keystores",
    "copy_tenant_userstores",
    "add_skip_sequences",
    "place_jdbc",
    "remind_ciphertool",
];

fn write_pack(builder: &PackBuilder, dir: &Path) -> std::path::PathBuf {
    builder.write(dir).expect("write pack")
}

// ---------------------------------------------------------------------------------------------
// detect
// ---------------------------------------------------------------------------------------------

#[test]
fn detect_shows_product_version_and_the_deciding_marker() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = write_pack(&PackBuilder::api_manager("3.0.0"), &dir.path().join("am"));
    let text = Test::new()
        .arg("detect")
        .arg(&home)
        .run()
        .success()
        .stdout();
    assert!(text.contains("WSO2 API Manager 3.0.0"), "{text}");
    assert!(text.contains("`bin/version.txt`"), "{text}");
    assert!(!text.contains("markers disagree"), "{text}");
}

#[test]
fn detect_falls_back_to_carbon_xml_when_there_is_no_version_txt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = write_pack(
        &PackBuilder::api_manager("1.9.0").without_version_txt(),
        &dir.path().join("am"),
    );
    assert!(!home.join("bin/version.txt").exists());
    let text = Test::new()
        .arg("detect")
        .arg(&home)
        .run()
        .success()
        .stdout();
    assert!(text.contains("WSO2 API Manager 1.9.0"), "{text}");
    assert!(text.contains("`repository/conf/carbon.xml`"), "{text}");

    let report = Test::new()
        .args(["detect", "--json"])
        .arg(&home)
        .run()
        .success()
        .json();
    assert_eq!(report["packs"][0]["version"], "1.9.0");
    assert_eq!(
        report["packs"][0]["decided_by"],
        "repository/conf/carbon.xml"
    );
}

#[test]
fn detect_json_has_the_documented_fields() {
    let packs = Packs::standard();
    let report = Test::new()
        .args(["detect", "--json"])
        .arg(&packs.old)
        .arg(&packs.new)
        .arg("--stock")
        .arg(&packs.stock)
        .run()
        .success()
        .json();
    assert_eq!(report["command"], "detect");
    let detections = report["packs"].as_array().expect("one entry per directory");
    assert_eq!(detections.len(), 2);
    let old = &detections[0];
    assert_eq!(old["product"], "wso2am");
    assert_eq!(old["version"], "3.0.0");
    assert_eq!(old["decided_by"], "bin/version.txt");
    assert_eq!(old["secure_vault"]["in_use"], true);
    assert_eq!(detections[1]["version"], "4.1.0");
    assert_eq!(detections[1]["secure_vault"]["in_use"], false);

    let userstores = old["userstores"].as_array().expect("userstores array");
    assert!(!userstores.is_empty());
    for group in userstores {
        assert!(
            group["tenant"].is_null() || group["tenant"].is_u64(),
            "{group}"
        );
        assert!(
            group["files"]
                .as_array()
                .is_some_and(|files| !files.is_empty() && files.iter().all(|f| f.is_string())),
            "{group}"
        );
    }
    assert!(userstores[0]["tenant"].is_null(), "super tenant first");
    assert!(userstores.iter().any(|group| group["tenant"] == 1
        && group["files"]
            .as_array()
            .expect("files")
            .iter()
            .any(|file| file == "repository/tenants/1/userstores/partner_example_com.xml")));

    let custom: Vec<&str> = old["custom_sequences"]
        .as_array()
        .expect("custom_sequences")
        .iter()
        .map(|name| name.as_str().expect("name"))
        .collect();
    assert_eq!(
        custom,
        vec![
            "audit_log.xml",
            "correlation_id.xml",
            "strip_internal_headers.xml"
        ]
    );
    assert_eq!(
        old["customised_stock_sequences"],
        serde_json::json!(["_auth_failure_handler_.xml"])
    );
    let drivers = old["jdbc_drivers"].as_array().expect("jdbc_drivers");
    assert!(
        drivers
            .iter()
            .any(|driver| driver["file_name"] == "mysql-connector-java-8.0.28.jar"),
        "{report}"
    );
    assert_eq!(
        detections[1]["custom_sequences"],
        serde_json::json!([]),
        "a fresh pack has no custom sequences"
    );
}

#[test]
fn detect_refuses_a_directory_that_is_not_a_pack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Test::new().arg("detect").arg(dir.path()).run();
    output
        .stderr_line("is not a WSO2 pack")
        .stderr_contains(&dir.path().display().to_string());
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn detect_refuses_a_missing_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-pack");
    Test::new()
        .arg("detect")
        .arg(&missing)
        .run()
        .stderr_line("does not exist")
        .stderr_contains(&missing.display().to_string());
}

#[test]
fn detect_reports_markers_that_disagree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = write_pack(&PackBuilder::api_manager("3.0.0"), &dir.path().join("am"));
    let version_txt = home.join("bin/version.txt");
    let text = read(&version_txt);
    assert!(text.contains("3.0.0"), "{text}");
    std::fs::write(&version_txt, text.replace("3.0.0", "3.1.0")).expect("write");

    let human = Test::new()
        .arg("detect")
        .arg(&home)
        .run()
        .success()
        .stdout();
    assert!(human.contains("markers disagree"), "{human}");
    assert!(
        human.contains("3.1.0") && human.contains("3.0.0"),
        "both versions named:\n{human}"
    );

    let report = Test::new()
        .args(["detect", "--json"])
        .arg(&home)
        .run()
        .success()
        .json();
    let disagreements = report["packs"][0]["disagreements"]
        .as_array()
        .expect("disagreements");
    assert!(!disagreements.is_empty(), "{report}");
    assert!(disagreements.iter().any(|item| item
        .as_str()
        .is_some_and(|text| text.contains("bin/version.txt"))));
}

// ---------------------------------------------------------------------------------------------
// scripts, docs, help
// ---------------------------------------------------------------------------------------------

#[test]
fn scripts_lists_the_bundled_script_with_its_description() {
    let text = Test::new().arg("scripts").run().success().stdout();
    assert!(text.contains(SCRIPT), "{text}");
    let source = include_str!("../../scripts/3.0.0-to-4.1.0.rhai");
    let first_description_line = source
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("//!"))
        .expect("a //! description")
        .trim();
    let first_words: String = first_description_line
        .split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains(&first_words),
        "description {first_words:?} not in:\n{text}"
    );
}

#[test]
fn scripts_show_prints_the_source() {
    let text = Test::new()
        .args(["scripts", "show", SCRIPT])
        .run()
        .success()
        .stdout();
    assert!(text.contains("copy_keystores(old, new)"), "{text}");
    assert_eq!(text, include_str!("../../scripts/3.0.0-to-4.1.0.rhai"));
}

#[test]
fn an_unknown_script_name_is_refused() {
    let packs = Packs::build(PackBuilder::api_manager("3.0.0"), new_4_1_0(), None);
    let before = tree(&packs.new, true);
    let output = packs.test("run", "no-such-script").run();
    output.stderr_line("unknown script");
    assert!(stderr(&output).contains("no-such-script"));
    assert!(stderr(&output).contains(SCRIPT), "names the bundled ones");
    assert_eq!(tree(&packs.new, true), before);

    Test::new()
        .args(["scripts", "show", "no-such-script"])
        .run()
        .stderr_line("unknown script");
}

#[test]
fn docs_lists_every_primitive_with_an_example() {
    let text = Test::new().arg("docs").run().success().stdout();
    for name in PRIMITIVES {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{name}("))),
            "{name} not documented:\n{text}"
        );
    }
    for helper in ["copy_file(", "set_toml(", "read_toml(", "param(", "remind("] {
        assert!(text.contains(helper), "{helper} not documented");
    }
    let entries = text.split("\n\n").count();
    assert!(entries >= PRIMITIVES.len(), "{text}");
    assert_eq!(
        text.matches("example:").count(),
        entries,
        "each entry has an example:\n{text}"
    );
}

#[test]
fn docs_with_a_name_shows_only_that_primitive() {
    let text = Test::new()
        .args(["docs", "place_jdbc"])
        .run()
        .success()
        .stdout();
    assert!(text.starts_with("place_jdbc("), "{text}");
    assert_eq!(text.matches("example:").count(), 1, "{text}");
    for other in PRIMITIVES.iter().filter(|name| **name != "place_jdbc") {
        assert!(
            !text.contains(&format!("{other}(")),
            "{other} shown:\n{text}"
        );
    }
}

#[test]
fn docs_with_an_unknown_name_is_refused() {
    let output = Test::new().args(["docs", "nope"]).run();
    output.stderr_line("nope");
    assert!(
        stderr(&output).contains("place_jdbc"),
        "lists the known ones"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn help_mentions_every_subcommand() {
    let text = Test::new().arg("--help").run().success().stdout();
    for command in [
        "run",
        "plan",
        "rollback",
        "history",
        "detect",
        "scripts",
        "demo",
        "docs",
        "check",
        "defs",
        "completions",
    ] {
        assert!(
            text.lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "{command} not in:\n{text}"
        );
    }
    assert!(text.contains("Exit codes"), "{text}");
}

#[test]
fn run_help_mentions_its_flags() {
    let text = Test::new().args(["run", "--help"]).run().success().stdout();
    for flag in ["--old", "--new", "--km", "--set", "--json", "--stock"] {
        assert!(text.contains(flag), "{flag} not in:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// demo
// ---------------------------------------------------------------------------------------------

#[test]
fn demo_builds_and_migrates_the_sample_packs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("demo");
    let text = Test::new()
        .arg("demo")
        .arg(&target)
        .run()
        .success()
        .stdout();
    assert!(
        text.contains("nothing to do") || text.contains("\n0 changed, "),
        "the second run changes nothing:\n{text}"
    );

    let new = target.join("wso2am-4.1.0");
    let old = target.join("wso2am-3.0.0");
    let names = [
        "audit_log.xml",
        "correlation_id.xml",
        "strip_internal_headers.xml",
    ];
    for name in names {
        assert_eq!(
            bytes(old.join(SEQUENCES).join(name)),
            bytes(new.join(SEQUENCES).join(name)),
            "{name}"
        );
    }
    let document: toml_edit::DocumentMut = read(new.join(TOML)).parse().expect("valid TOML");
    let skip: Vec<&str> = document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]
        ["sequences"]
        .as_array()
        .expect("skip list")
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    assert_eq!(skip, names);
}

#[test]
fn demo_refuses_a_non_empty_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("keep.txt"), "mine").expect("write");
    let before = tree(dir.path(), true);
    Test::new()
        .arg("demo")
        .arg(dir.path())
        .run()
        .code(2)
        .stderr_contains("not empty");
    assert_eq!(tree(dir.path(), true), before);
}

// ---------------------------------------------------------------------------------------------
// history, rollback, lock
// ---------------------------------------------------------------------------------------------

#[test]
fn history_without_runs_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = write_pack(&new_4_1_0(), &dir.path().join("new"));
    Test::new()
        .arg("history")
        .arg(&home)
        .run()
        .success()
        .stdout_contains("no runs recorded");
    let output = Test::new().args(["history", "--json"]).arg(&home).run();
    output.success();
    let document = json(&output.stdout);
    assert_eq!(document["runs"], serde_json::json!([]));
    assert_eq!(document["hidden_no_op_runs"], 0);
}

#[test]
fn rollback_without_history_has_nothing_to_do_and_exits_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = write_pack(&new_4_1_0(), &dir.path().join("new"));
    let before = tree(&home, true);
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&home)
        .run()
        .success()
        .stdout_contains("nothing to roll back");
    assert_eq!(tree(&home, true), before);
}

fn lock_path(packs: &Packs) -> std::path::PathBuf {
    packs.new.join(".apim-migrate").join("lock")
}

#[test]
fn a_stale_lock_of_a_dead_process_is_cleared() {
    let packs = Packs::standard();
    let lock = lock_path(&packs);
    std::fs::create_dir_all(lock.parent().expect("parent")).expect("mkdir");
    std::fs::write(&lock, "999999\nrun 19700101T000000000Z-1\n").expect("write lock");
    let output = packs.test("run", SCRIPT).arg("--json").run();
    output.success();
    assert_eq!(json(&output.stdout)["outcome"], "done");
    let message = stderr(&output);
    assert!(message.contains("cleared a stale lock"), "{message}");
    assert!(message.contains("process 999999"), "{message}");
    assert!(packs.new.join(SEQUENCES).join("audit_log.xml").is_file());
    assert!(!lock.exists(), "the run releases the lock it took");
}

#[test]
fn a_lock_held_by_a_live_process_refuses_the_run() {
    let packs = Packs::standard();
    let lock = lock_path(&packs);
    std::fs::create_dir_all(lock.parent().expect("parent")).expect("mkdir");
    // This test process plays the other apim-migrate: it holds the lock as a run does.
    let holder = format!("{}\nrun 19700101T000000000Z-1\n", std::process::id());
    std::fs::write(&lock, &holder).expect("write lock");
    let held = std::fs::File::open(&lock).expect("open lock");
    held.try_lock().expect("take the lock");
    let before = tree(&packs.new, true);

    for command in ["run", "rollback"] {
        let output = if command == "run" {
            packs.test("run", SCRIPT).run()
        } else {
            Test::new()
                .args(["rollback", "--new"])
                .arg(&packs.new)
                .run()
        };
        output.stderr_line("in use by another apim-migrate");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("run 19700101T000000000Z-1"), "{message}");
        assert_eq!(tree(&packs.new, true), before, "nothing changes");
        assert_eq!(read(&lock), holder, "the other process keeps its lock");
    }

    // Once the holder is gone, the lock is free and the run goes ahead.
    drop(held);
    std::fs::remove_file(&lock).expect("the holder removes its lock");
    packs.test("run", SCRIPT).run().success();
    assert!(!lock.exists());
}

#[test]
fn a_closed_stdout_pipe_ends_quietly_instead_of_panicking() {
    let mut child = Test::new()
        .arg("docs")
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the reading end before the program writes, as `| head` does once it has enough.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(!errors.contains("panicked"), "{errors}");
    assert_eq!(output.status.code(), Some(0), "{errors}");
}

#[test]
fn quiet_prints_only_the_error_line_when_a_run_fails() {
    let packs = Packs::standard();
    let output = packs
        .test("run", SCRIPT)
        .arg("-q")
        .env("APIM_MIGRATE_INJECT_FAILURE", "3")
        .run();
    output.code(1);
    assert_eq!(output.stdout(), "", "nothing but the error");
    let message = output.stderr();
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains("taken back"), "{message}");
}

#[test]
fn a_run_names_its_run_id_in_the_lock_and_a_refused_run_shows_it() {
    let packs = Packs::build(
        sample_packs::large_api_manager_3_0_0(400, 20, 2),
        new_4_1_0(),
        None,
    );
    let lock = lock_path(&packs);
    let mut first = packs
        .test("run", SCRIPT)
        .command()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start a run");
    let started = std::time::Instant::now();
    let holder = loop {
        let text = std::fs::read_to_string(&lock).unwrap_or_default();
        if text.lines().count() >= 3 {
            break text;
        }
        assert!(
            first.try_wait().expect("poll").is_none(),
            "the run ended before its lock was seen"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let purpose = holder.lines().nth(1).expect("purpose").to_string();
    let run_id = purpose.strip_prefix("run ").expect("a run").to_string();
    assert!(
        run_id.len() > 20 && run_id.contains('T') && run_id.contains('Z'),
        "a run id, not a process id: {purpose}"
    );
    let second = packs.test("run", SCRIPT).run();
    let refused = second.status.code() == Some(2);
    let message = second.stderr();
    assert!(first.wait().expect("wait").success());
    if refused {
        assert!(message.contains(&format!("run {run_id}")), "{message}");
    }
    // The run that held the lock is recorded under that id.
    assert!(packs
        .new
        .join(".apim-migrate/runs")
        .join(&run_id)
        .join("journal.jsonl")
        .is_file());
}
