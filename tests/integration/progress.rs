//! Progress on stderr: shown at a terminal, never in a pipe or with `--quiet`.

use crate::support::*;
use rexpect::session::spawn_command;

fn run_in_terminal(packs: &Packs, extra: &[&str]) -> String {
    let command = packs
        .test("run", "3.0.0-to-4.1.0")
        .arg("--yes")
        .args(extra)
        .env("TERM", "xterm")
        .command();
    let mut session = spawn_command(command, Some(30_000)).expect("spawn");
    session.exp_eof().expect("the run ends")
}

#[test]
fn a_run_at_a_terminal_shows_its_progress_and_a_quiet_one_does_not() {
    let packs = Packs::standard();
    let output = run_in_terminal(&packs, &[]);
    assert!(output.contains("applying ["), "{output}");
    assert!(output.contains(" changes, "), "{output}");
    assert!(
        output.contains(" changed, ") && output.contains(" unchanged, "),
        "the report follows: {output}"
    );

    let packs = Packs::standard();
    let output = run_in_terminal(&packs, &["--quiet"]);
    assert!(!output.contains("applying"), "{output}");
    assert!(!output.contains("planning"), "{output}");
}

#[test]
fn a_run_in_a_pipe_writes_no_progress() {
    let packs = Packs::standard();
    let errors = packs.test("run", "3.0.0-to-4.1.0").run().success().stderr();
    assert!(!errors.contains("applying"), "{errors}");
    assert!(!errors.contains("planning"), "{errors}");
    assert!(!errors.contains('\r'), "{errors}");
}
