//! A full disk under a run and a rollback: the new pack on a small tmpfs mounted for the test
//! (as root; without the privilege the tests say why and pass without running). Whatever
//! fills it (a copy, the journal, a rollback's records), the message names the file and the
//! space, nothing stays half-done, and once space is freed the next command completes with no
//! manual step.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// The packs with the new one moved onto a tmpfs of `extra_kib` KiB beyond what the pack
/// takes there; the packs (with `new` on the tmpfs) and the mount.
fn packs_on_tmpfs(tenants: u32, extra_kib: impl Fn(u64) -> u64) -> Option<(Packs, Tmpfs)> {
    let mut packs = Packs::build(
        sample_packs::large_api_manager_3_0_0(tenants, 40, 4),
        new_4_1_0(),
        None,
    );
    let tmpfs = match Tmpfs::mount(&packs.dir.path().join("small-disk"), 64 * 1024) {
        Ok(tmpfs) => tmpfs,
        Err(reason) => {
            eprintln!("skipped: a full disk is made by filling a small tmpfs: {reason}");
            return None;
        }
    };
    let new = tmpfs.dir.join("new");
    let status = Command::new("cp")
        .arg("-a")
        .arg(&packs.new)
        .arg(&new)
        .status()
        .expect("cp");
    assert!(status.success());
    packs.new = new;
    let used = tmpfs.used();
    tmpfs.resize(used + extra_kib(used));
    Some((packs, tmpfs))
}

/// How many KiB a complete run of the standard script writes into a fresh copy of the packs'
/// new pack (measured on a tmpfs large enough).
fn kib_a_run_writes(tenants: u32) -> Option<u64> {
    let (packs, tmpfs) = packs_on_tmpfs(tenants, |_| 64 * 1024)?;
    let before = tmpfs.used();
    packs.test("run", SCRIPT).run().success();
    Some(tmpfs.used() - before)
}

fn history(pack: &Path) -> String {
    Test::new()
        .arg("history")
        .arg(pack)
        .run()
        .success()
        .stdout()
}

#[test]
fn a_full_disk_while_copying_is_named_taken_back_and_the_next_run_completes() {
    let Some(needed) = kib_a_run_writes(200) else {
        return;
    };
    let Some((packs, tmpfs)) = packs_on_tmpfs(200, |_| needed / 2) else {
        return;
    };
    let pristine = tree(&packs.new, false);
    let message = packs.test("run", SCRIPT).run().code(1).stderr();
    assert!(message.contains("No space left on device"), "{message}");
    assert!(message.contains("free on its filesystem"), "{message}");
    assert!(message.contains("free some space"), "{message}");
    assert!(
        message.contains(&format!("`{}/", packs.new.display())),
        "{message}"
    );
    assert!(message.contains("taken back"), "{message}");
    assert_eq!(tree(&packs.new, false), pristine, "{message}");
    assert!(history(&packs.new).contains("taken back"));

    // Space freed: the same command completes, no rollback needed first.
    tmpfs.resize(tmpfs.used() + needed * 2);
    packs.test("run", SCRIPT).run().success();
}

#[test]
fn a_full_disk_while_the_journal_is_written_leaves_no_torn_record() {
    // Room for the backups of the few replaced files and the run's first record, not for the
    // first batch of records (about 600 bytes each).
    let Some((packs, tmpfs)) = packs_on_tmpfs(300, |_| 96) else {
        return;
    };
    let pristine = tree(&packs.new, false);
    let message = packs.test("run", SCRIPT).run().code(1).stderr();
    assert!(message.contains("journal.jsonl"), "{message}");
    assert!(message.contains("No space left on device"), "{message}");
    assert_eq!(tree(&packs.new, false), pristine, "{message}");
    // The journal holds only whole records: its history reads, and says the run was undone.
    assert!(history(&packs.new).contains("taken back"));
    Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run()
        .success()
        .stdout_contains("nothing to roll back");

    tmpfs.resize(tmpfs.used() + 64 * 1024);
    packs.test("run", SCRIPT).run().success();
    assert!(history(&packs.new).contains("complete"));
}

#[test]
fn a_rollback_on_a_full_disk_needs_no_space_to_restore_and_finishes_once_space_is_freed() {
    let Some((packs, tmpfs)) = packs_on_tmpfs(100, |_| 16 * 1024) else {
        return;
    };
    let pristine = tree(&packs.new, false);
    packs.test("run", SCRIPT).run().success();
    // Fill the disk to the last byte.
    let filler = tmpfs.dir.join("filler");
    let mut file = std::fs::File::create(&filler).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
    while std::io::Write::write_all(&mut file, &chunk[..1]).is_ok() {}
    drop(file);

    // Replaced files come back as second names of their backups, created files are
    // removed: no data is written. Only the rollback's own records need room in the
    // journal; if there is none left, the message names it and the rollback is recorded
    // as incomplete.
    let output = Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run();
    let message = output.stderr();
    match output.status.code() {
        Some(0) => assert_eq!(tree(&packs.new, false), pristine),
        Some(1) => {
            assert!(message.contains("No space left on device"), "{message}");
            assert!(message.contains("journal.jsonl"), "{message}");
            assert!(message.contains("run `apim-migrate rollback"), "{message}");
        }
        other => panic!("{other:?}: {message}"),
    }

    std::fs::remove_file(&filler).expect("free the space");
    if output.status.code() == Some(1) {
        Test::new()
            .args(["rollback", "--new"])
            .arg(&packs.new)
            .run()
            .success();
    }
    assert_eq!(tree(&packs.new, false), pristine);
    packs.test("run", SCRIPT).run().success();
}
