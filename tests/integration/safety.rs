//! A failed run takes itself back; links never lead out of a pack; drift stops a rollback;
//! script limits and declared parameters. (Killed runs: crash.rs; the corpus of bad input and
//! hostile scripts: bad_input.rs.)

use crate::support::library::{apply_in_process, plan_in_process};
use crate::support::*;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// a failed run takes itself back
// ---------------------------------------------------------------------------------------------

#[test]
fn a_source_that_vanishes_after_planning_fails_the_run_and_everything_is_taken_back() {
    let packs = Packs::standard();
    write_file(&packs.old.join("site/a.xml"), b"<a/>", 0o640);
    write_file(&packs.old.join("site/b.xml"), b"<b/>", 0o600);
    let before = tree(&packs.new, false);
    let mut plan = plan_in_process(
        &packs,
        "copy_file(old, \"site/a.xml\", new);\ncopy_file(old, \"site/b.xml\", new);\n",
    );
    std::fs::remove_file(packs.old.join("site/b.xml")).expect("vanish");

    let failure = apply_in_process(&packs, &mut plan).expect_err("the run fails");
    assert_eq!(failure.exit_code(), 1);
    let message = failure.to_string();
    assert!(message.contains("new:site/b.xml"), "{message}");
    assert!(message.contains("site/b.xml`: No such file"), "{message}");
    assert!(message.contains("taken back"), "{message}");
    assert_eq!(tree(&packs.new, false), before, "site/a.xml is taken back");
    assert!(!packs.new.join("site").exists(), "its directory too");
}

#[test]
fn a_target_changed_after_planning_fails_the_run_and_everything_is_taken_back() {
    let packs = Packs::standard();
    write_file(&packs.old.join("site/a.xml"), b"<a/>", 0o644);
    write_file(&packs.old.join("site/b.xml"), b"<b/>", 0o644);
    write_file(&packs.new.join("site/b.xml"), b"<b version=\"4\"/>", 0o644);
    let mut plan = plan_in_process(
        &packs,
        "copy_file(old, \"site/a.xml\", new);\ncopy_file(old, \"site/b.xml\", new);\n",
    );
    // Someone edits the target between the plan and its application.
    write_file(&packs.new.join("site/b.xml"), b"<b edited=\"yes\"/>", 0o644);
    let before = tree(&packs.new, false);

    let message = apply_in_process(&packs, &mut plan)
        .expect_err("the run fails")
        .to_string();
    assert!(
        message.contains("changed after it was planned"),
        "{message}"
    );
    assert!(message.contains("site/b.xml"), "{message}");
    assert_eq!(tree(&packs.new, false), before);
    assert_eq!(read(packs.new.join("site/b.xml")), "<b edited=\"yes\"/>");
}

#[test]
fn a_write_that_fails_part_way_takes_back_every_change_and_exits_1() {
    let packs = Packs::standard();
    write_file(&packs.old.join("site/small.xml"), b"<small/>", 0o644);
    let large: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    write_file(&packs.old.join("site/large.bin"), &large, 0o600);
    let path = script(
        &packs,
        "two",
        "copy_file(old, \"site/small.xml\", new);\ncopy_keystores(old, new);\ncopy_file(old, \"site/large.bin\", new);\n",
    );
    let before = tree(&packs.new, false);

    let message = packs
        .test("run", &path)
        .file_size_limit(1000)
        .run()
        .code(1)
        .stderr();
    assert!(message.contains("site/large.bin"), "{message}");
    assert!(message.contains("File too large"), "{message}");
    assert!(message.contains("taken back"), "{message}");
    assert_eq!(tree(&packs.new, false), before, "nothing stays applied");
    assert!(
        !message.contains("panicked"),
        "no panic on a failed write: {message}"
    );

    // Without the limit the same run goes through.
    packs.test("run", &path).run().success();
    assert_eq!(bytes(packs.new.join("site/large.bin")), large);
    assert_eq!(mode(packs.new.join("site/large.bin")), 0o600);
}

// ---------------------------------------------------------------------------------------------
// links
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tenant_directory_linked_out_of_the_old_pack_is_reported_and_never_copied() {
    let packs = Packs::standard();
    let outside = packs.dir.path().join("elsewhere/tenant-9");
    let secret =
        b"<UserStoreManager><Property name=\"DomainName\">OUTSIDE</Property></UserStoreManager>";
    write_file(&outside.join("userstores/OUTSIDE.xml"), secret, 0o644);
    std::os::unix::fs::symlink(&outside, packs.old.join("repository/tenants/9")).expect("link");

    let report = packs
        .test("run", "3.0.0-to-4.1.0")
        .arg("--json")
        .run()
        .success()
        .json();
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("repository/tenants/9/userstores/OUTSIDE.xml"),
        "{warnings}"
    );
    assert!(warnings.contains("outside the `old` pack"), "{warnings}");
    assert!(!packs.new.join("repository/tenants/9").exists());
    assert_no_file_holds(&packs.new, secret, "the linked tenant's user store");
}

#[test]
fn reading_through_a_link_out_of_a_pack_is_refused_naming_the_link() {
    let packs = Packs::standard();
    let outside = packs.dir.path().join("elsewhere/site.toml");
    write_file(&outside, b"[secret]\nvalue = \"outside\"\n", 0o644);
    std::os::unix::fs::symlink(&outside, packs.old.join("repository/conf/site.toml"))
        .expect("link");
    let before = tree(&packs.new, true);
    let path = script(
        &packs,
        "exfiltrate",
        "let v = read_toml(old, \"repository/conf/site.toml\", \"secret.value\");\nset_toml(new, \"exfiltrated.value\", v);\n",
    );
    let message = packs.test("run", &path).run().code(2).stderr();
    assert!(
        message.contains("link that leads out of the pack"),
        "{message}"
    );
    assert!(message.contains("repository/conf/site.toml"), "{message}");
    assert!(message.contains(&format!("--> {path}:1:")), "{message}");
    assert_eq!(tree(&packs.new, true), before);
}

// ---------------------------------------------------------------------------------------------
// drift
// ---------------------------------------------------------------------------------------------

#[test]
fn rollback_stops_at_a_file_whose_mode_changed_after_the_run_and_force_restores_it() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    packs.test("run", "3.0.0-to-4.1.0").run().success();
    let toml = packs.new.join(TOML);
    std::fs::set_permissions(&toml, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let drifted = tree(&packs.new, true);

    let message = Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run()
        .code(2)
        .stderr();
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains("changed since the run"), "{message}");
    assert!(message.contains(&toml.display().to_string()), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_eq!(
        tree(&packs.new, true),
        drifted,
        "a refused rollback changes nothing"
    );

    Test::new()
        .args(["rollback", "--force", "--new"])
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), pristine);
}

#[test]
fn two_edits_of_one_file_in_one_run_roll_back_without_force() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    let path = script(
        &packs,
        "twice",
        "set_toml(new, \"site.first\", \"1\");\nset_toml(new, \"site.second\", \"2\");\n",
    );
    packs.test("run", &path).run().success();
    assert!(read(packs.new.join(TOML)).contains("second"));
    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), pristine);
}

// ---------------------------------------------------------------------------------------------
// script limits and declared parameters
// ---------------------------------------------------------------------------------------------

/// Runs a hostile script with `plan` and checks it ends by itself, with `expected`. A test of
/// a limit other than time raises the time limit, so that a slow (debug, busy) machine still
/// meets the limit under test first.
fn assert_stopped(source: &str, expected: &str) {
    assert_stopped_within(source, expected, 10)
}

fn assert_stopped_within(source: &str, expected: &str, time_limit: u64) {
    let packs = Packs::standard();
    let before = (tree(&packs.old, true), tree(&packs.new, true));
    let path = script(&packs, "hostile", source);
    let started = Instant::now();
    let output = packs
        .test("run", &path)
        .args(["--time-limit", &time_limit.to_string()])
        .timeout(Duration::from_secs(240))
        .run();
    let elapsed = started.elapsed();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{source}: {}",
        stderr(&output)
    );
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains(expected), "{source}: {message}");
    assert!(message.contains(&format!("--> {path}")), "{message}");
    // A limit met inside a native operation (a map's index setter) has no position in the
    // script: the file is named, without line and caret.
    if message.contains(&format!("--> {path}:")) {
        assert!(message.contains('^'), "a caret: {message}");
    }
    // A guard against a script that is never stopped; how fast each limit strikes is not
    // measured here (debug builds on a busy machine are many times slower than release).
    assert!(
        elapsed < Duration::from_secs(180),
        "{source}: took {elapsed:?}"
    );
    assert_eq!((tree(&packs.old, true), tree(&packs.new, true)), before);
}

#[test]
fn a_push_loop_meets_the_array_limit() {
    assert_stopped_within("let a = [];\nloop { a.push(1); }\n", "Size of array", 600);
}

#[test]
fn a_map_grown_by_index_meets_a_limit() {
    assert_stopped(
        "let m = #{};\nlet i = 0;\nloop { m[\"k\" + i] = i; i += 1; }\n",
        "was stopped",
    );
}

#[test]
fn fresh_large_strings_kept_in_a_map_meet_the_memory_ceiling() {
    assert_stopped_within(
        "let s = \"x\";\nwhile s.len() < 1000000 { s += s; }\nlet m = #{};\nlet i = 0;\nloop { m[\"k\" + i] = s + i; i += 1; }\n",
        "more than 256 MiB of memory",
        600,
    );
}

#[test]
fn an_endless_loop_over_a_primitive_meets_the_time_limit() {
    let packs = Packs::standard();
    // Each turn also spends some time of the script's own (a string of 100,000 characters
    // made, a few operations): the time in `list` does not count (it is bounded by the count
    // of file operations), and with the loop alone the two seconds took as many turns as the
    // operations limit allows, which then struck first or not with the machine's speed.
    let path = script(
        &packs,
        "slow",
        "loop { list(old, \"repository\"); let s = \"x\"; s.pad(100000, \"y\"); }\n",
    );
    let started = Instant::now();
    let message = packs
        .test("plan", &path)
        .args(["--time-limit", "2"])
        .timeout(Duration::from_secs(150))
        .run()
        .code(2)
        .stderr();
    assert!(message.contains("more than 2 seconds"), "{message}");
    assert!(message.contains("--time-limit"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(120));
}

#[test]
fn unknown_set_keys_are_refused_where_the_script_declares_its_parameters() {
    let packs = Packs::standard();
    let before = tree(&packs.new, true);
    let path = script(
        &packs,
        "declared",
        "//! A site script.\n//! @param gateway_only=false  copy only what a gateway needs\nprint(`gateway_only=${params.gateway_only}`);\nif param(\"gateway_only\", \"?\") == \"true\" { copy_keystores(old, new); }\n",
    );
    let message = packs
        .test("plan", &path)
        .args(["--set", "gateway-only=true"])
        .run()
        .code(2)
        .stderr();
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains("--set `gateway-only`"), "{message}");
    assert!(message.contains("declares gateway_only"), "{message}");

    // The default fills `params` when --set leaves it out.
    let output = packs.test("plan", &path).arg("--json").run();
    output.success();
    let report = json(&output.stdout);
    assert_eq!(report["params"]["gateway_only"], "false");
    assert!(report["output"].to_string().contains("gateway_only=false"));

    let output = Test::new()
        .args(["plan", "3.0.0-to-4.1.0", "--set", "x=1", "--old"])
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .run();
    output.code(2);
    assert!(
        stderr(&output).contains("`3.0.0-to-4.1.0` has no parameter `x`; it declares config"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tree(&packs.new, true), before);
}

// ---------------------------------------------------------------------------------------------
// an unfinished run
// ---------------------------------------------------------------------------------------------

#[test]
fn an_unfinished_run_is_shown_by_plan_refused_by_run_and_taken_back_by_rollback() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    packs.test("run", "3.0.0-to-4.1.0").run().success();
    // What a run killed before its last record leaves: a journal without its `end`.
    let runs = packs.new.join(".apim-migrate/runs");
    let run_dir = std::fs::read_dir(&runs)
        .expect("runs")
        .next()
        .expect("one run")
        .expect("entry")
        .path();
    let journal = run_dir.join("journal.jsonl");
    let text = read(&journal);
    let cut: Vec<&str> = text
        .lines()
        .filter(|line| !line.contains("\"kind\":\"end\""))
        .collect();
    assert_eq!(cut.len() + 1, text.lines().count(), "one end record");
    std::fs::write(&journal, format!("{}\n", cut.join("\n"))).expect("cut the end");
    // Nor had it sealed its journal, which comes after the end record.
    std::fs::remove_file(run_dir.join("sealed")).expect("no seal");
    let run_id = run_dir
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    let before = tree(&packs.new, true);

    let report = packs
        .test("plan", "3.0.0-to-4.1.0")
        .run()
        .success()
        .stdout();
    assert!(
        report.contains(&format!("an earlier run ({run_id})")),
        "{report}"
    );
    assert!(report.contains("did not finish"), "{report}");

    let message = packs.test("run", "3.0.0-to-4.1.0").run().code(2).stderr();
    assert_eq!(message.trim_end().lines().count(), 1, "{message}");
    assert!(message.contains("did not finish"), "{message}");
    assert!(
        message.contains(&format!(
            "apim-migrate rollback --new {}",
            packs.new.display()
        )),
        "{message}"
    );
    assert_eq!(
        tree(&packs.new, true),
        before,
        "the refusal changes nothing"
    );

    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), pristine);
    packs.test("run", "3.0.0-to-4.1.0").run().success();
}

/// Each tenant's `staff.tenantN.example.com` user store is in the new pack as in the old.
fn assert_staff_userstores_copied(packs: &Packs, tenants: impl IntoIterator<Item = u32>) {
    for tenant in tenants {
        let relative =
            format!("repository/tenants/{tenant}/userstores/staff_tenant{tenant}_example_com.xml");
        assert_eq!(
            bytes(packs.new.join(&relative)),
            bytes(packs.old.join(&relative)),
            "{relative}"
        );
    }
}

/// A batch of many changes is written on several threads; a failure in the middle of one
/// is taken back like any other, and the same run then goes through.
#[test]
fn a_failure_among_changes_written_in_parallel_is_taken_back() {
    let mut old = sample_packs::PackBuilder::api_manager("3.0.0");
    for tenant in 1..=150 {
        old = old
            .tenant(tenant)
            .userstore(Some(tenant), &format!("staff.tenant{tenant}.example.com"));
        if tenant % 2 == 0 {
            old = old.userstore(
                Some(tenant),
                &format!("partners.tenant{tenant}.example.com"),
            );
        }
    }
    let packs = Packs::build(old, new_4_1_0(), None);
    let before = tree(&packs.new, false);
    let report = packs
        .test("run", "3.0.0-to-4.1.0")
        .arg("--json")
        .env("APIM_MIGRATE_INJECT_FAILURE", "120")
        .run()
        .code(1)
        .json();
    let changes = changes_in(&report);
    assert!(
        changes > 200,
        "enough changes for parallel writing: {changes}"
    );
    assert_eq!(tree(&packs.new, false), before, "everything taken back");

    packs.test("run", "3.0.0-to-4.1.0").run().success();
    assert_staff_userstores_copied(&packs, [1, 75, 150]);
}

/// A run of several batches of changes that fails in its first batch, or in a later one, is
/// taken back whole: the batches written before it and the one failing. No change of a
/// batch after the failing one was journaled.
#[test]
fn a_failure_in_any_batch_of_a_long_run_is_taken_back_whole() {
    let old = with_tenant_userstores(sample_packs::PackBuilder::api_manager("3.0.0"), 1..=2200);
    let packs = Packs::build(old, new_4_1_0(), None);
    let before = tree(&packs.new, false);
    // Batches of 1,024 changes: the failure in the first batch, then in the second.
    for (failing, batch_end) in [(600, 1024), (1500, 2048)] {
        let report = packs
            .test("run", "3.0.0-to-4.1.0")
            .arg("--json")
            .env("APIM_MIGRATE_INJECT_FAILURE", failing.to_string())
            .run()
            .code(1)
            .json();
        let changes = changes_in(&report);
        assert!(changes > 2 * 1024, "three batches: {changes}");
        assert_eq!(
            tree(&packs.new, false),
            before,
            "everything taken back (failing at {failing})"
        );
        // The changes journaled are those of the batches up to the failing one.
        let runs = packs.new.join(".apim-migrate/runs");
        let latest = std::fs::read_dir(&runs)
            .expect("runs")
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.join("journal.jsonl").exists())
            .max()
            .expect("a run");
        let journal = read(latest.join("journal.jsonl"));
        let begun = journal
            .lines()
            .filter(|line| line.contains(r#""kind":"begin""#))
            .count();
        assert_eq!(
            begun, batch_end,
            "the batches up to the failing one were journaled (failing at {failing})"
        );
    }
    packs.test("run", "3.0.0-to-4.1.0").run().success();
    assert_staff_userstores_copied(&packs, [1, 1100, 2200]);
}

#[test]
fn a_chain_of_100000_closures_neither_crashes_nor_leaves_a_lock() {
    let packs = Packs::standard();
    let source = "let f = || 0;\nfor i in 0..100000 {\n    let g = f;\n    f = || g.call() + 1;\n}\nprint(\"built\");\n";
    let path = script(&packs, "closures", source);
    // `check` says the script is fine, and so does planning and running it: values that
    // nest deep no longer overflow the stack when they are dropped.
    Test::new().arg("check").arg(&path).run().success();
    let report = packs
        .test("run", &path)
        .args(["--time-limit", "600"])
        .timeout(Duration::from_secs(300))
        .run()
        .success()
        .stdout();
    assert!(report.contains("built"), "{report}");
    assert!(!packs.new.join(".apim-migrate/lock").exists());
}

#[test]
fn oversized_files_the_tool_parses_are_refused_naming_them() {
    let packs = Packs::standard();
    let big = |path: &std::path::Path, head: &[u8]| {
        let mut content = head.to_vec();
        content.resize(17 * 1024 * 1024, b' ');
        content.push(b'\n');
        write_file(path, &content, 0o644);
    };
    // A deployment.toml of 17 MiB in the old pack: named, and nothing read beyond the limit.
    let toml = packs.old.join(TOML);
    let mut original = bytes(&toml);
    original.extend(std::iter::repeat_n(b'#', 17 * 1024 * 1024));
    std::fs::write(&toml, &original).expect("grow deployment.toml");
    let message = packs
        .test("run", SCRIPT)
        .unchanged(&packs.new)
        .run()
        .code(2)
        .stderr();
    assert!(message.contains("deployment.toml"), "{message}");
    assert!(message.contains("16 MiB"), "{message}");
    assert!(!message.contains("256 MiB"), "{message}");

    let script_path = packs.dir.path().join("huge.rhai");
    big(&script_path, b"// a script\n");
    Test::new()
        .arg("check")
        .arg(&script_path)
        .run()
        .code(2)
        .stderr_contains("huge.rhai");
    let stock = packs.dir.path().join("huge-stock.toml");
    big(&stock, b"# a catalogue\n");
    Test::new()
        .arg("detect")
        .arg(&packs.new)
        .arg("--stock")
        .arg(&stock)
        .run()
        .stderr_line("huge-stock.toml");
    let inventory = packs.dir.path().join("huge-fleet.toml");
    big(&inventory, b"# an inventory\n");
    Test::new()
        .args(["plan", SCRIPT, "--inventory"])
        .arg(&inventory)
        .run()
        .stderr_line("huge-fleet.toml");
}

#[test]
fn time_spent_looking_at_the_packs_does_not_count_against_the_time_limit() {
    let packs = Packs::standard();
    // Hashing this keystore takes a debug build well over a second, as reading 100,000
    // tenants takes a release build well over ten: work that grows with the pack.
    let keystore: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    write_file(
        &packs.old.join(SECURITY).join("large.jks"),
        &keystore,
        0o600,
    );
    packs
        .test("plan", SCRIPT)
        .args(["--time-limit", "1"])
        .run()
        .success();
}
