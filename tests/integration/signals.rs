//! Ctrl-C (SIGINT) and SIGTERM: a run stops at the next change boundary, takes back what it
//! applied and exits 130 saying so; a rollback finishes the file in hand, records how far
//! it got and says to run it again; a second Ctrl-C ends the process at once, leaving what
//! `rollback` handles; Ctrl-C while a script is planned changes nothing. (Random moments are
//! `crash.rs`'s.)

use crate::support::*;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A pack large enough that a run and a rollback last a while.
fn large_packs() -> Packs {
    Packs::build(
        sample_packs::large_api_manager_3_0_0(300, 40, 4),
        new_4_1_0(),
        None,
    )
}

fn start(test: Test) -> Child {
    test.command()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apim-migrate")
}

/// Waits until `ready` (polled) or the child ended; whether it is still running.
fn wait_for(child: &mut Child, ready: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().expect("poll").is_some() {
            return false;
        }
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(300));
    }
    panic!("the command neither got there nor ended in 60 s");
}

fn signal(child: &Child, signal: Signal) {
    let _ = kill(Pid::from_raw(child.id() as i32), signal);
}

/// How the child ended: exit code, stderr.
fn finish(child: Child) -> (Option<i32>, String) {
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}

/// The journals' text of the new pack.
fn journals(pack: &Path) -> String {
    let Ok(runs) = std::fs::read_dir(pack.join(".apim-migrate/runs")) else {
        return String::new();
    };
    runs.filter_map(Result::ok)
        .map(|run| std::fs::read_to_string(run.path().join("journal.jsonl")).unwrap_or_default())
        .collect()
}

fn history(pack: &Path) -> String {
    Test::new()
        .arg("history")
        .arg(pack)
        .run()
        .success()
        .stdout()
}

fn rollback(packs: &Packs) -> Test {
    Test::new().args(["rollback", "--new"]).arg(&packs.new)
}

#[test]
fn ctrl_c_during_a_run_takes_back_what_it_applied_and_exits_130() {
    let packs = large_packs();
    let pristine = tree(&packs.new, false);
    for attempt in 0..5 {
        let mut child = start(packs.test("run", SCRIPT));
        // Once some changes are journaled, the run is applying.
        let applying = wait_for(&mut child, || {
            journals(&packs.new).matches("\"begin\"").count() > 50
        });
        if applying {
            signal(&child, Signal::SIGINT);
        }
        let (code, stderr) = finish(child);
        if code == Some(0) {
            // It ended first: take it back and try again.
            rollback(&packs).run().success();
            continue;
        }
        assert_eq!(code, Some(130), "attempt {attempt}: {stderr}");
        assert!(stderr.contains("interrupted (SIGINT)"), "{stderr}");
        assert!(stderr.contains("taken back"), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert_eq!(tree(&packs.new, false), pristine, "{stderr}");
        assert!(history(&packs.new).contains("interrupted, taken back"));
        // Taken back, so a run needs nothing else first.
        packs.test("run", SCRIPT).run().success();
        return;
    }
    panic!("the run always ended before Ctrl-C");
}

#[test]
fn sigterm_during_a_rollback_finishes_the_file_and_says_to_run_it_again() {
    let packs = large_packs();
    let pristine = tree(&packs.new, false);
    for attempt in 0..5 {
        packs.test("run", SCRIPT).run().success();
        let mut child = start(rollback(&packs));
        let rolling = wait_for(&mut child, || {
            journals(&packs.new).contains("rollback_begin")
        });
        if rolling {
            signal(&child, Signal::SIGTERM);
        }
        let (code, stderr) = finish(child);
        if code == Some(0) {
            continue;
        }
        assert_eq!(code, Some(130), "attempt {attempt}: {stderr}");
        assert!(stderr.contains("interrupted (SIGTERM)"), "{stderr}");
        assert!(stderr.contains("again to finish"), "{stderr}");
        assert!(history(&packs.new).contains("rollback incomplete"));
        packs
            .test("run", SCRIPT)
            .run()
            .stderr_line("did not finish");
        rollback(&packs).run().success();
        assert_eq!(tree(&packs.new, false), pristine);
        packs.test("run", SCRIPT).run().success();
        return;
    }
    panic!("the rollback always ended before SIGTERM");
}

#[test]
fn a_second_ctrl_c_ends_the_run_at_once_and_rollback_restores_the_pack() {
    let packs = large_packs();
    let pristine = tree(&packs.new, false);
    let mut child = start(packs.test("run", SCRIPT));
    if wait_for(&mut child, || {
        journals(&packs.new).matches("\"begin\"").count() > 50
    }) {
        signal(&child, Signal::SIGINT);
        signal(&child, Signal::SIGINT);
    }
    let (code, stderr) = finish(child);
    assert!(matches!(code, Some(0 | 130)), "{code:?}: {stderr}");
    // The documented recovery: `rollback` (nothing to roll back when the first Ctrl-C's
    // undo had finished), then a run completes.
    let output = rollback(&packs).run();
    assert!(
        output.status.success() || output.stderr().contains("nothing to roll back"),
        "{}",
        output.describe()
    );
    assert_eq!(tree(&packs.new, false), pristine);
    packs.test("run", SCRIPT).run().success();
}

#[test]
fn ctrl_c_while_a_script_is_planned_changes_nothing() {
    let packs = Packs::standard();
    let path = script(
        &packs,
        "busy",
        "loop { let found = exists(old, \"bin/version.txt\"); }\n",
    );
    let child = start(packs.test("run", &path).args(["--time-limit", "600"]));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, Signal::SIGINT);
    let started = Instant::now();
    let (code, stderr) = finish(child);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it stopped late"
    );
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(!packs.new.join(".apim-migrate").exists());
}
