//! What a rollback finds changed since the run: a journal cut short, edited, or naming paths
//! outside the pack; a backup missing or edited; a target turned into a directory. Each is
//! refused before anything changes (exit 2, the file named). A rollback that still stops
//! part-way is recorded as incomplete and finishes when run again; the undo of a failed run
//! that fails too says what is still in place.

use crate::support::*;
use std::path::{Path, PathBuf};

/// Runs the standard script and returns the run's directory in the new pack.
fn complete_run(packs: &Packs) -> PathBuf {
    packs.test("run", SCRIPT).run().success();
    let runs = packs.new.join(".apim-migrate/runs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .expect("runs")
        .map(|entry| entry.expect("entry").path())
        .collect();
    dirs.sort();
    dirs.pop().expect("a run")
}

fn rollback(packs: &Packs) -> Test {
    Test::new().args(["rollback", "--new"]).arg(&packs.new)
}

/// The journal's lines, as records: `(sum, record)`.
fn records(journal: &Path) -> Vec<serde_json::Value> {
    read(journal)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a journal line"))
        .collect()
}

/// Writes the records back, each with a checksum as the tool computes it: what someone who
/// knows the format could write.
fn write_records(journal: &Path, records: &[serde_json::Value]) {
    use sha2::Digest;
    let mut text = String::new();
    for line in records {
        let record = serde_json::to_string(&line["record"]).expect("record");
        let digest = sha2::Sha256::digest(record.as_bytes());
        let sum: String = digest[..8]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        text.push_str(&format!("{{\"sum\":\"{sum}\",\"record\":{record}}}\n"));
    }
    std::fs::write(journal, text).expect("write the journal");
}

#[test]
fn a_journal_path_out_of_the_pack_is_refused_and_nothing_outside_is_removed() {
    let packs = Packs::standard();
    let victim = packs.dir.path().join("victim/file.txt");
    write_file(&victim, b"victim", 0o644);
    let run = complete_run(&packs);
    let journal = run.join("journal.jsonl");
    let mut lines = records(&journal);
    let begin = lines
        .iter_mut()
        .find(|line| line["record"]["kind"] == "begin" && line["record"]["effect"] == "create")
        .expect("a created file");
    // A path that leads to the victim, with the victim's own hash: the drift check alone
    // would not stop it.
    begin["record"]["path"] = serde_json::json!("../../victim/file.txt");
    begin["record"]["created_dirs"] = serde_json::json!([]);
    begin["record"]["after"]["sha256"] = serde_json::json!(library::sha256_file(&victim));
    write_records(&journal, &lines);
    // The seal no longer matches either; without it, the path alone is refused.
    std::fs::remove_file(run.join("sealed")).expect("seal");
    let message = rollback(&packs)
        .arg("--force")
        .unchanged(&packs.new)
        .run()
        .stderr_line("leaves the pack")
        .stderr();
    assert!(message.contains("journal.jsonl"), "{message}");
    assert!(message.contains("line "), "{message}");
    assert_eq!(read(&victim), "victim");
}

#[test]
fn created_directories_outside_the_pack_are_refused() {
    let packs = Packs::standard();
    std::fs::create_dir_all(packs.dir.path().join("victim-dir")).expect("dir");
    let run = complete_run(&packs);
    let journal = run.join("journal.jsonl");
    let mut lines = records(&journal);
    let begin = lines
        .iter_mut()
        .find(|line| line["record"]["kind"] == "begin")
        .expect("a change");
    begin["record"]["created_dirs"] = serde_json::json!(["../victim-dir"]);
    write_records(&journal, &lines);
    std::fs::remove_file(run.join("sealed")).expect("seal");
    rollback(&packs)
        .unchanged(&packs.new)
        .run()
        .stderr_line("leaves the pack");
    assert!(packs.dir.path().join("victim-dir").is_dir());
}

#[test]
fn a_journal_cut_short_is_refused_naming_the_file_and_line() {
    let packs = Packs::standard();
    let run = complete_run(&packs);
    let journal = run.join("journal.jsonl");
    let whole = bytes(&journal);
    for percent in [30, 45, 60, 75, 90] {
        let cut = whole.len() * percent / 100;
        std::fs::write(&journal, &whole[..cut]).expect("cut");
        let message = rollback(&packs)
            .unchanged(&packs.new)
            .run()
            .stderr_line("ends early")
            .stderr();
        assert!(message.contains("journal.jsonl"), "{percent}%: {message}");
        assert!(message.contains("lines"), "{percent}%: {message}");
        // A run is refused too: the history cannot be trusted.
        packs
            .test("run", SCRIPT)
            .unchanged(&packs.new)
            .run()
            .stderr_line("ends early");
    }
    // Put back whole, the journal rolls back.
    std::fs::write(&journal, &whole).expect("restore");
    rollback(&packs).run().success();
}

#[test]
fn a_missing_or_edited_backup_refuses_the_rollback_with_nothing_changed() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    let run = complete_run(&packs);
    let backup = run.join("backup/000001");
    let kept = bytes(&backup);

    std::fs::remove_file(&backup).expect("remove the backup");
    let message = rollback(&packs)
        .unchanged(&packs.new)
        .run()
        .stderr_line("is missing")
        .stderr();
    assert!(message.contains("backup/000001"), "{message}");
    assert!(message.contains("changed nothing"), "{message}");

    std::fs::write(&backup, b"edited").expect("edit the backup");
    rollback(&packs)
        .unchanged(&packs.new)
        .run()
        .stderr_line("was changed");

    std::fs::write(&backup, &kept).expect("put it back");
    rollback(&packs).run().success();
    assert_eq!(tree(&packs.new, false), pristine);
}

#[test]
fn a_target_turned_into_a_directory_refuses_the_rollback_with_nothing_changed() {
    let packs = Packs::standard();
    complete_run(&packs);
    let target = packs.new.join(SECURITY).join("wso2carbon.jks");
    std::fs::remove_file(&target).expect("remove");
    std::fs::create_dir(&target).expect("a directory in its place");
    rollback(&packs)
        .arg("--force")
        .unchanged(&packs.new)
        .run()
        .stderr_line("is now a directory");
}

#[test]
fn a_rollback_that_stops_part_way_is_recorded_and_finishes_when_run_again() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    complete_run(&packs);
    let message = rollback(&packs)
        .env("APIM_MIGRATE_INJECT_UNDO_FAILURE", "5")
        .run()
        .code(1)
        .stderr();
    assert!(message.contains("4 of 14 changes taken back"), "{message}");
    assert!(
        message.contains("run `apim-migrate rollback --new"),
        "{message}"
    );
    Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .success()
        .stdout_contains("rollback incomplete");
    // A run is refused until the rollback is finished.
    packs
        .test("run", SCRIPT)
        .run()
        .stderr_line("did not finish");
    rollback(&packs).run().success();
    assert_eq!(tree(&packs.new, false), pristine);
    Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .stdout_contains("rolled back");
}

#[test]
fn the_undo_of_a_failed_run_that_fails_too_says_what_is_still_in_place() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    let output = packs
        .test("run", SCRIPT)
        .arg("--json")
        .env("APIM_MIGRATE_INJECT_FAILURE", "10")
        // The undo goes newest first: the changes after the failed one were never made
        // (nothing to take back); of the nine made, the newest four are taken back before
        // the eighth step of the undo fails.
        .env("APIM_MIGRATE_INJECT_UNDO_FAILURE", "8")
        .run();
    output.code(1);
    let message = output.stderr();
    assert!(message.contains("taking it back also failed"), "{message}");
    assert!(
        message.contains("5 of the 9 changes it made are still in place"),
        "{message}"
    );
    let report = output.json();
    let actions = report["actions"].as_array().expect("actions");
    let taken_back = actions
        .iter()
        .filter(|action| {
            action["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains("taken back"))
        })
        .count();
    let in_place = actions
        .iter()
        .filter(|action| action["status"] == "changed")
        .count();
    assert_eq!(taken_back, 4, "{report:#}");
    assert_eq!(in_place, 5, "{report:#}");
    assert!(actions.iter().any(|action| action["reason"]
        .as_str()
        .is_some_and(|reason| reason.contains("still in place"))));
    Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .stdout_contains("failed, not taken back");
    packs
        .test("run", SCRIPT)
        .run()
        .stderr_line("could not be taken back");
    rollback(&packs).run().success();
    assert_eq!(tree(&packs.new, false), pristine);
    packs.test("run", SCRIPT).run().success();
}

#[test]
fn rollback_says_the_history_is_gone_when_the_state_directory_was_deleted() {
    let packs = Packs::standard();
    complete_run(&packs);
    std::fs::remove_dir_all(packs.new.join(".apim-migrate")).expect("delete the history");
    rollback(&packs)
        .unchanged(&packs.new)
        .run()
        .success()
        .stdout_contains("no `.apim-migrate` directory")
        .stdout_contains("deleted");
}
