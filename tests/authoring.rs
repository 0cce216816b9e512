//! Tools for people who write and share site scripts: `check`, shell completions.

mod common;

use common::*;

fn write_script(dir: &std::path::Path, name: &str, source: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write script");
    path.display().to_string()
}

#[test]
fn check_passes_every_bundled_script() {
    let output = bin()
        .args([
            "check",
            "3.0.0-to-4.1.0",
            "1.x-to-4.0.0",
            "1.x-to-2.0.0",
            "2.0.0-to-4.0.0",
        ])
        .output()
        .expect("check");
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "ok: 3.0.0-to-4.1.0",
            "ok: 1.x-to-4.0.0",
            "ok: 1.x-to-2.0.0",
            "ok: 2.0.0-to-4.0.0"
        ]
    );
}

#[test]
fn check_reports_every_problem_with_its_location_and_a_caret_and_runs_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = write_script(
        dir.path(),
        "good.rhai",
        "//! Fine.\n//! @params none\nimport \"apim\" as apim;\nfn twice(x) { x * 2 }\nlet n = twice(2);\nprint(apim::path_hint(\"3.0.0\"));\nlet names = list(old, \"repository\");\nprint(names.len());\n",
    );
    let bad = write_script(
        dir.path(),
        "bad.rhai",
        "//! Mistakes.\nimport \"apim\" as apim;\ncopy_keystore(old, new);\nlet hint = apim::no_such_helper(old.version);\nprint(gatewy);\nlet ok = param(\"x\", \"y\");\n",
    );
    let before = tree(dir.path(), true);
    let output = bin().args(["check", &good, &bad]).output().expect("check");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("ok: {good}\n"));
    let message = stderr(&output);
    let expected = [
        (
            "unknown function `copy_keystore` (did you mean `copy_keystores`?)",
            3,
            1,
            "copy_keystore(old, new);",
        ),
        (
            "unknown function `no_such_helper`",
            4,
            18,
            "let hint = apim::no_such_helper(old.version);",
        ),
        ("Undefined variable: gatewy", 5, 7, "print(gatewy);"),
    ];
    let mut from = 0;
    for (text, line, column, source) in expected {
        let at = message[from..]
            .find(&format!("error: {text}"))
            .unwrap_or_else(|| panic!("{text:?} (in order) in:\n{message}"))
            + from;
        let block: Vec<&str> = message[at..].lines().take(5).collect();
        assert_eq!(
            block[1],
            format!("  --> {bad}:{line}:{column}"),
            "{message}"
        );
        assert_eq!(block[3], format!("{line} | {source}"), "{message}");
        assert_eq!(
            block[4],
            format!(
                "{} | {}^",
                " ".repeat(line.to_string().len()),
                " ".repeat(column - 1)
            ),
            "{message}"
        );
        from = at + 1;
    }
    assert!(
        message
            .trim_end()
            .ends_with("error: 3 problems in 1 of 2 scripts; nothing was run"),
        "{message}"
    );
    assert_eq!(tree(dir.path(), true), before, "check writes nothing");
}

#[test]
fn check_reports_a_syntax_error_a_bad_header_and_a_missing_script() {
    let dir = tempfile::tempdir().expect("temp dir");
    let syntax = write_script(
        dir.path(),
        "syntax.rhai",
        "let a = 1;\nif a == 1 {\n    copy_keystores(old, new);\n",
    );
    let header = write_script(
        dir.path(),
        "header.rhai",
        "//! Typo in a tag.\n//! @parm x=1\nprint(1);\n",
    );
    let missing = dir.path().join("missing.rhai").display().to_string();
    let output = bin()
        .args(["check", &syntax, &header, &missing])
        .output()
        .expect("check");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains(&format!("  --> {syntax}:4:1\n  |\n4 | \n  | ^")),
        "{message}"
    );
    assert!(
        message.contains("line 2: unknown header tag `@parm`"),
        "{message}"
    );
    assert!(
        message.contains(&format!("cannot read script `{missing}`")),
        "{message}"
    );
    assert!(
        message.contains("3 problems in 3 of 3 scripts"),
        "{message}"
    );
}

#[test]
fn completions_cover_every_subcommand_and_flag_and_the_bash_script_parses() {
    for shell in ["bash", "zsh", "fish"] {
        let output = bin()
            .args(["completions", shell])
            .output()
            .expect("completions");
        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for word in [
            "rollback",
            "check",
            "completions",
            "time-limit",
            "continue",
            "via",
        ] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
    }
    let output = bin()
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    let path = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(path.path(), &output.stdout).expect("write");
    let parsed = std::process::Command::new("bash")
        .arg("-n")
        .arg(path.path())
        .output()
        .expect("bash -n");
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );

    let output = bin()
        .args(["completions", "tcsh"])
        .output()
        .expect("completions");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("possible values: bash"),
        "{}",
        stderr(&output)
    );
}
