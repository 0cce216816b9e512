//! `run_script` and `checkpoint` in site scripts: steps, nesting, errors, and `--continue`.

use crate::support::*;

#[test]
fn a_step_runs_a_script_from_the_calling_scripts_directory_with_the_packs_given() {
    let packs = Packs::standard();
    script(
        &packs,
        "keystores-only",
        "copy_keystores(old, new);\nremind(\"done\", `keystores for ${new.version}`);\n",
    );
    let outer = script(
        &packs,
        "outer",
        "run_script(\"keystores-only.rhai\", #{ old: old, new: new });\n",
    );
    let report = packs
        .test("run", &outer)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(
        bytes(packs.new.join(SECURITY).join("partner-truststore.jks")),
        bytes(packs.old.join(SECURITY).join("partner-truststore.jks"))
    );
    let marks = report["marks"].as_array().expect("marks");
    assert_eq!(marks.len(), 1, "{report}");
    assert_eq!(marks[0]["mark"], "step");
    assert_eq!(marks[0]["before"], 0);
    assert_eq!(marks[0]["script"]["name"], "keystores-only.rhai");
    assert_eq!(marks[0]["packs"]["new"], "new");
    // Reminders made inside a step are named after it.
    assert_eq!(report["reminders"][0]["id"], "keystores-only.rhai/done");
}

#[test]
fn step_errors_name_the_step_file_line_and_the_call_site() {
    let packs = Packs::standard();
    script(
        &packs,
        "broken",
        "copy_keystores(old, new);\nlet x = 1 +;\n",
    );
    script(
        &packs,
        "failing",
        "copy_keystores(old, new);\ncopy_file(old, \"../x\", new);\n",
    );
    let before = tree(&packs.new, true);
    for (inner, expected) in [("broken", "broken.rhai:2:"), ("failing", "failing.rhai:2:")] {
        let outer = script(
            &packs,
            &format!("outer-{inner}"),
            &format!("\nrun_script(\"{inner}.rhai\", #{{ old: old, new: new }});\n"),
        );
        let text = packs.test("run", &outer).run().code(2).stderr();
        assert!(text.contains(&format!("in step `{inner}.rhai`")), "{text}");
        assert!(text.contains(expected), "{text}");
        assert!(text.contains(&format!("outer-{inner}.rhai:2:1")), "{text}");
        assert_eq!(tree(&packs.new, true), before, "nothing changed");
    }
}

#[test]
fn run_script_refuses_bad_pack_maps_and_endless_nesting() {
    let packs = Packs::standard();
    let before = tree(&packs.new, true);
    for (name, source, expected) in [
        (
            "unknown-key",
            "run_script(\"3.0.0-to-4.1.0\", #{ old: old, target: new });",
            "`target` is not a pack name",
        ),
        (
            "not-a-pack",
            "run_script(\"3.0.0-to-4.1.0\", #{ old: old, new: \"/tmp\" });",
            "`new` must be a pack",
        ),
        (
            "unknown-script",
            "run_script(\"9.9.9-to-10.0.0\", #{ old: old, new: new });",
            "unknown script `9.9.9-to-10.0.0`",
        ),
        (
            "itself",
            "run_script(\"itself.rhai\", #{ old: old, new: new });",
            "steps nest more than 8 deep",
        ),
    ] {
        let path = script(&packs, name, source);
        let output = packs.test("run", &path).run();
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stdout(&output));
        assert!(
            stderr(&output).contains(expected),
            "{name}: {}",
            stderr(&output)
        );
        assert_eq!(tree(&packs.new, true), before, "{name}: nothing changed");
    }
}

#[test]
fn checkpoint_names_and_messages_are_checked() {
    let packs = Packs::standard();
    for (source, expected) in [
        (
            "checkpoint(\"has space\", \"do it\");",
            "use letters, digits",
        ),
        ("checkpoint(\"ok\", \"  \");", "needs a message"),
    ] {
        let path = script(&packs, "bad-checkpoint", source);
        packs
            .test("plan", &path)
            .run()
            .code(2)
            .stderr_contains(expected);
    }
}

#[test]
fn a_checkpoint_inside_a_step_is_resumed_inside_it() {
    let packs = Packs::standard();
    script(
        &packs,
        "inner",
        "copy_keystores(old, new);\ncheckpoint(\"inner-stop\", \"do the manual part\");\ncopy_tenant_userstores(old, new);\n",
    );
    let outer = script(
        &packs,
        "outer",
        "run_script(\"inner.rhai\", #{ old: old, new: new });\nplace_jdbc(old, new);\n",
    );
    let userstore = packs
        .new
        .join("repository/deployment/server/userstores/corp_example_com.xml");
    let driver = packs.new.join(LIB).join("mysql-connector-java-8.0.28.jar");

    let report = packs
        .test("run", &outer)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["outcome"], "checkpoint");
    assert!(packs
        .new
        .join(SECURITY)
        .join("partner-truststore.jks")
        .exists());
    assert!(
        !userstore.exists() && !driver.exists(),
        "stopped at the checkpoint"
    );

    // plan --continue shows what comes after, and nothing before it.
    let planned = packs
        .test("plan", &outer)
        .args(["--continue", "--json"])
        .run();
    planned.success();
    let planned = json(&planned.stdout);
    let primitives: Vec<&str> = planned["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|action| action["primitive"].as_str())
        .collect();
    assert!(!primitives.contains(&"copy_keystores"), "{primitives:?}");
    assert!(
        primitives.contains(&"copy_tenant_userstores"),
        "{primitives:?}"
    );
    assert!(primitives.contains(&"place_jdbc"), "{primitives:?}");
    assert!(!userstore.exists(), "plan --continue changes nothing");

    let second = packs
        .test("run", &outer)
        .args(["--continue", "--json"])
        .run();
    second.success();
    let second = json(&second.stdout);
    assert_eq!(second["outcome"], "done");
    assert_eq!(second["continues"]["checkpoint"], "inner-stop");
    assert!(userstore.exists() && driver.exists());

    // The chain is complete: a further --continue has nothing to go on from (exit 0).
    packs
        .test("run", &outer)
        .arg("--continue")
        .run()
        .success()
        .stdout_contains("already went on from the checkpoint");
}

#[test]
fn a_rolled_back_checkpoint_run_can_be_started_over() {
    let packs = Packs::standard();
    let path = script(
        &packs,
        "two-part",
        "copy_keystores(old, new);\ncheckpoint(\"half\", \"wait\");\ncopy_tenant_userstores(old, new);\n",
    );
    let original = tree(&packs.new, false);
    packs.test("run", &path).run().success();
    let again = packs.test("run", &path).run();
    assert_eq!(again.status.code(), Some(2), "a plain re-run is refused");
    assert!(
        stderr(&again).contains("checkpoint `half`"),
        "{}",
        stderr(&again)
    );

    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), original);
    let restart = packs.test("run", &path).run();
    restart.success();
    assert!(stdout(&restart).contains("stopped at checkpoint `half`"));
}

#[test]
fn run_script_refuses_a_step_that_links_out_of_the_script_directory() {
    let packs = Packs::standard();
    let site = packs.dir.path().join("site");
    let elsewhere = packs.dir.path().join("elsewhere");
    write_file(
        &elsewhere.join("step.rhai"),
        b"copy_keystores(old, new);\n",
        0o644,
    );
    std::fs::create_dir_all(&site).expect("site");
    std::os::unix::fs::symlink(elsewhere.join("step.rhai"), site.join("step.rhai")).expect("link");
    let main = site.join("main.rhai");
    write_file(
        &main,
        b"run_script(\"step.rhai\", #{ old: old, new: new });\n",
        0o644,
    );
    let message = packs
        .test("run", &main)
        .unchanged(&packs.new)
        .run()
        .code(2)
        .stderr();
    assert!(message.contains("leads out of"), "{message}");
    assert!(message.contains("through a link"), "{message}");
    // As `import` refuses the same link.
    write_file(
        &site.join("imports.rhai"),
        b"import \"step\" as step;\n",
        0o644,
    );
    packs
        .test("run", site.join("imports.rhai"))
        .unchanged(&packs.new)
        .run()
        .code(2)
        .stderr_contains("through a link");
}
