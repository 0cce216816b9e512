//! Tools for people who write and share site scripts: `check`, shell completions.

use crate::support::library::{body_of, bundled_script, primitive_docs, sha256, STDLIB};
use crate::support::*;
use sample_packs::PackBuilder;

fn write_script(dir: &std::path::Path, name: &str, source: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, source).expect("write script");
    path.display().to_string()
}

#[test]
fn check_passes_every_bundled_script() {
    let names: Vec<&str> = library::BUNDLED.iter().map(|(name, _)| *name).collect();
    for name in [
        "3.0.0-to-4.1.0",
        "to-4.x",
        "1.x-to-4.0.0",
        "1.x-to-4.x",
        "1.x-to-2.0.0",
        "2.0.0-to-4.0.0",
    ] {
        assert!(names.contains(&name), "{name} is bundled");
    }
    let output = Test::new().arg("check").args(&names).run();
    output.success();
    let lines: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    let expected: Vec<String> = names.iter().map(|name| format!("ok: {name}")).collect();
    assert_eq!(lines, expected);
}

#[test]
fn check_reports_every_problem_with_its_location_and_a_caret_and_runs_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = write_script(
        dir.path(),
        "good.rhai",
        "//! Fine.\n//! @params none\nimport \"apim\" as apim;\nimport \"site/common\" as common;\ncommon::read_when_run();\nfn twice(x) { x * 2 }\nlet n = twice(2);\nprint(apim::path_hint(\"3.0.0\"));\nlet names = list(old, \"repository\");\nprint(names.len());\n",
    );
    let bad = write_script(
        dir.path(),
        "bad.rhai",
        "//! Mistakes.\nimport \"apim\" as apim;\ncopy_keystore(old, new);\nlet hint = apim::no_such_helper(old.version);\nprint(gatewy);\nlet ok = param(\"x\", \"y\");\n",
    );
    let before = tree(dir.path(), true);
    let output = Test::new().args(["check", &good, &bad]).run();
    output.code(2);
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
    let message = Test::new()
        .args(["check", &syntax, &header, &missing])
        .run()
        .code(2)
        .stderr();
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
        let output = Test::new().args(["completions", shell]).run();
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
    let output = Test::new().args(["completions", "bash"]).run();
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

    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .code(2)
        .stderr_contains("possible values: bash");
}

// ---------------------------------------------------------------------------------------------
// imports
// ---------------------------------------------------------------------------------------------

#[test]
fn modules_come_from_the_bundled_library_the_scripts_directory_and_lib_and_the_journal_records_each_hash(
) {
    let packs = Packs::standard();
    let site = packs.dir.path().join("site");
    let lib = packs.dir.path().join("team-lib");
    std::fs::create_dir_all(site.join("common")).expect("mkdir");
    std::fs::create_dir_all(&lib).expect("mkdir");
    let common = "fn marker_name() { \"site-common\" }\n";
    let shared = "fn copy_marker(from, to) { copy_file(from, \"repository/conf/carbon.xml\", to, \"repository/conf/carbon.xml.old\"); }\n";
    std::fs::write(site.join("common/names.rhai"), common).expect("write");
    std::fs::write(lib.join("shared.rhai"), shared).expect("write");
    let main = "import \"apim\" as apim;\nimport \"common/names\" as names;\nimport \"shared\" as team;\nprint(names::marker_name());\nteam::copy_marker(old, new);\n";
    let script = site.join("main.rhai");
    std::fs::write(&script, main).expect("write");
    let script = script.display().to_string();

    let output = packs
        .test("run", &script)
        .arg("--lib")
        .arg(&lib)
        .arg("--json")
        .run();
    output.success();
    let report = json(&output.stdout);
    assert!(report["output"].to_string().contains("site-common"));
    assert!(packs.new.join("repository/conf/carbon.xml.old").is_file());
    let sources = report["sources"].as_array().expect("sources").clone();
    let names: Vec<(String, String)> = sources
        .iter()
        .map(|source| {
            (
                source["name"].as_str().expect("name").to_string(),
                source["sha256"].as_str().expect("sha256").to_string(),
            )
        })
        .collect();
    let bundled = STDLIB[0].1;
    assert_eq!(
        names,
        [
            ("apim".to_string(), sha256(bundled)),
            ("common/names".to_string(), sha256(common)),
            ("shared".to_string(), sha256(shared)),
        ]
    );
    assert_eq!(
        sources[2]["path"],
        lib.canonicalize()
            .expect("lib")
            .join("shared.rhai")
            .display()
            .to_string()
    );
    assert_eq!(sources[0]["path"], serde_json::Value::Null, "bundled");

    // The journal holds the same list.
    let runs = packs.new.join(".apim-migrate/runs");
    let run = std::fs::read_dir(&runs)
        .expect("runs")
        .next()
        .expect("a run")
        .expect("entry")
        .path();
    let header: serde_json::Value = serde_json::from_str(
        read(run.join("journal.jsonl"))
            .lines()
            .next()
            .expect("header"),
    )
    .expect("json");
    assert_eq!(
        header["record"]["sources"],
        serde_json::Value::Array(sources)
    );
}

#[test]
fn imports_from_anywhere_else_are_refused_at_the_script_line() {
    let packs = Packs::standard();
    let site = packs.dir.path().join("site");
    std::fs::create_dir_all(&site).expect("mkdir");
    std::fs::write(packs.dir.path().join("outside.rhai"), "fn f() { 1 }\n").expect("write");
    std::os::unix::fs::symlink(
        packs.dir.path().join("outside.rhai"),
        site.join("linked.rhai"),
    )
    .expect("link");
    let before = tree(packs.dir.path(), true);
    for (module, expected) in [
        ("../outside", "`..` is not allowed"),
        ("/etc/passwd", "is absolute"),
        ("linked", "leads out of"),
        (
            "nowhere",
            "not found: scripts import from the bundled modules (apim)",
        ),
    ] {
        let script = site.join("main.rhai");
        std::fs::write(&script, format!("let a = 1;\nimport \"{module}\" as m;\n")).expect("write");
        let script = script.display().to_string();
        let output = packs.test("plan", &script).run();
        assert_eq!(
            output.status.code(),
            Some(2),
            "{module}: {}",
            stderr(&output)
        );
        let message = stderr(&output);
        assert!(message.contains(expected), "{module}: {message}");
        assert!(
            message.contains(&format!("--> {script}:2:")),
            "{module}: {message}"
        );
    }
    std::fs::write(site.join("main.rhai"), "").expect("reset");
    let _ = std::fs::remove_file(site.join("main.rhai"));
    let mut after = tree(packs.dir.path(), true);
    after.retain(|path, _| !path.ends_with("main.rhai"));
    let mut before = before;
    before.retain(|path, _| !path.ends_with("main.rhai"));
    assert_eq!(after, before);

    let output = packs
        .test("plan", "3.0.0-to-4.1.0")
        .args(["--lib", "/no/such/dir"])
        .run();
    output.code(2);
    assert!(stderr(&output).contains("--lib: `/no/such/dir` is not a directory"));
}

// ---------------------------------------------------------------------------------------------
// @accepts
// ---------------------------------------------------------------------------------------------

/// A site script's header: it accepts 3.0.0 to 4.1.0, with an IS 5.11.0 Key Manager it needs.
const SITE_ACCEPTS: &str = "//! Site migration with the Key Manager.\n//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n//! @accepts km wso2is 5.11.0\n//! @params none\ncopy_keystores(old, new);\ncopy_keystores(old, km);\n";

/// Runs `test`, expects exit 2 and exactly `expected` on stderr, and every directory unchanged
/// (history included).
fn refused_with(test: Test, dirs: &[&std::path::Path], expected: &str) {
    dirs.iter()
        .fold(test, |test, dir| test.unchanged(dir))
        .run()
        .code(2)
        .stderr_is(&format!("error: {expected}\n"))
        .stdout_is("");
}

#[test]
fn a_declared_pack_that_was_not_given_is_refused_before_anything_changes() {
    let packs = Packs::standard();
    let site = script(&packs, "site", SITE_ACCEPTS);
    for command in ["run", "plan"] {
        refused_with(
            packs.test(command, &site),
            &[&packs.old, &packs.new, packs.dir.path()],
            &format!("`{site}` needs --km: it declares `@accepts km wso2is 5.11.0` (line 4); give an IS 5.11.0 pack with --km"),
        );
    }

    // With the Key Manager, it runs.
    let packs = Packs::build(
        old_3_0_0(),
        new_4_1_0(),
        Some(PackBuilder::identity_server("5.11.0")),
    );
    let site = script(&packs, "site", SITE_ACCEPTS);
    packs.test("run", &site).run().success();
    let km = packs.km.as_ref().expect("km");
    assert_eq!(
        bytes(km.join(SECURITY).join("wso2carbon.jks")),
        bytes(packs.old.join(SECURITY).join("wso2carbon.jks"))
    );
}

#[test]
fn a_pack_of_another_version_is_refused_naming_the_bundled_script_that_takes_it() {
    // A wrong pack is named before a missing one (--km): what is there says the most.
    let packs = Packs::build(
        PackBuilder::api_manager("1.9.0"),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let site = script(&packs, "site", SITE_ACCEPTS);
    for command in ["run", "plan"] {
        refused_with(
            packs.test(command, &site),
            &[&packs.old, &packs.new, packs.dir.path()],
            &format!(
                "--old (`{}`) is API-M 1.9.0, but `{site}` accepts API-M 3.0.0 as --old (line 2: `@accepts old wso2am 3.0.0`); give an API-M 3.0.0 pack as --old; API-M 1.9.0 goes to 4.0.0 through 2.0.0: run `1.x-to-4.0.0` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `2.0.0-to-4.0.0` (`apim-migrate path 1.9.0 4.0.0` tells more)",
                packs.old.display()
            ),
        );
    }

    // A pack of the wrong product names the flag, the pack and what it is.
    let packs = Packs::build(
        old_3_0_0(),
        new_4_1_0(),
        Some(PackBuilder::api_manager("4.1.0")),
    );
    let site = script(&packs, "site", SITE_ACCEPTS);
    let km = packs.km.clone().expect("km");
    refused_with(
        packs.test("plan", &site),
        &[&packs.old, &packs.new, &km, packs.dir.path()],
        &format!(
            "--km (`{}`) is API-M 4.1.0, but `{site}` accepts IS 5.11.0 as --km (line 4: `@accepts km wso2is 5.11.0`); give an IS 5.11.0 pack as --km",
            km.display()
        ),
    );
}

#[test]
fn a_pack_the_header_does_not_declare_is_refused_and_a_script_without_accepts_takes_any() {
    let packs = Packs::standard();
    let via = PackBuilder::api_manager("3.2.0")
        .write(&packs.dir.path().join("via"))
        .expect("write via");
    let site = script(&packs, "site", SITE_ACCEPTS);
    refused_with(
        packs.test("run", &site).arg("--via").arg(&via),
        &[&packs.old, &packs.new, &via, packs.dir.path()],
        &format!(
            "`{site}` takes no --via: its header accepts --old, --new, --km only; leave --via out"
        ),
    );

    // No @accepts: the packs are not checked against the header (the script's own checks decide).
    let free = script(
        &packs,
        "free",
        "//! Any packs.\n//! @params none\nprint(`${old.version} ${via.version} ${new.version}`);\n",
    );
    let output = packs
        .test("plan", &free)
        .arg("--via")
        .arg(&via)
        .arg("--json")
        .run();
    output.success();
    assert_eq!(json(&output.stdout)["output"][0], "3.0.0 3.2.0 4.1.0");
}

#[test]
fn a_malformed_accepts_line_is_refused_at_its_line() {
    let packs = Packs::standard();
    for (header, expected) in [
        (
            "//! Site.\n//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.x\n",
            "line 3: `@accepts new wso2am 4.1.x`: `4.1.x` is not an exact version; write each one in full, like 3.0.0, separated by commas",
        ),
        (
            "//! Site.\n//! @accepts old wso2am 3.0.0\n//! @accepts nwe wso2am 4.1.0\n",
            "line 3: `@accepts nwe wso2am 4.1.0`: unknown role `nwe`; the roles are old, new, km and via, as the flags name them",
        ),
        (
            "//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n//! @accepts new wso2am 4.2.0\n",
            "line 3: the role `new` is declared twice (first on line 2); list its versions on one line, separated by commas",
        ),
    ] {
        let site = script(&packs, "site", &format!("{header}print(1);\n"));
        refused_with(
            packs.test("run", &site),
            &[&packs.old, &packs.new, packs.dir.path()],
            &format!("script `{site}`: {expected}"),
        );
        Test::new().args(["check", &site]).run().code(2).stderr_contains(expected);
    }
}

// ---------------------------------------------------------------------------------------------
// scripts new
// ---------------------------------------------------------------------------------------------

/// `plan --json` of `script` on these packs (and `via`), which must succeed.
fn plan_json(packs: &Packs, script: &str, via: Option<&std::path::Path>) -> serde_json::Value {
    let mut test = packs.test("plan", script);
    if let Some(via) = via {
        test = test.arg("--via").arg(via);
    }
    let output = test.arg("--json").run();
    assert!(output.status.success(), "{script}: {}", stderr(&output));
    json(&output.stdout)
}

#[test]
fn scripts_new_from_a_standard_keeps_its_body_names_it_with_its_hash_passes_check_and_plans_the_same(
) {
    let am = PackBuilder::api_manager;
    let is = PackBuilder::identity_server;
    let cases = [
        (
            "3.0.0-to-4.1.0",
            old_3_0_0(),
            new_4_1_0(),
            Some(is("5.11.0")),
            None,
        ),
        (
            "2.0.0-to-4.0.0",
            am("2.0.0"),
            am("4.0.0"),
            Some(is("5.10.0")),
            None,
        ),
        ("1.x-to-2.0.0", am("1.9.0"), am("2.0.0"), None, None),
        (
            "1.x-to-4.0.0",
            am("1.9.0"),
            am("4.0.0"),
            None,
            Some(am("2.0.0")),
        ),
    ];
    for (standard, old, new, km, via) in cases {
        let packs = Packs::build(old, new, km);
        let via = via.map(|via| via.write(&packs.dir.path().join("via")).expect("via"));
        let dir = tempfile::tempdir().expect("temp dir");
        let output = Test::new()
            .current_dir(dir.path())
            .args(["scripts", "new", "site", "--from", standard])
            .run();
        assert!(output.status.success(), "{standard}: {}", stderr(&output));
        let written = dir.path().join("site.rhai");
        let source = read(&written);

        // The standard as `scripts show` prints it: its hash is in the header, its body follows.
        let standard_source = Test::new()
            .args(["scripts", "show", standard])
            .run()
            .stdout();
        let hash = sha256(&standard_source);
        let provenance = format!(
            "Based on {standard} (sha256 {hash}) from apim-migrate {}",
            env!("CARGO_PKG_VERSION")
        );
        assert!(
            source.starts_with(&format!("//! Site script based on {standard}: ")),
            "{source}"
        );
        assert!(
            source.contains(&format!("\n//! {provenance}\n")),
            "{source}"
        );
        assert!(
            source.ends_with(body_of(&standard_source)),
            "{standard}: the body is the standard's"
        );
        for line in standard_source
            .lines()
            .filter(|line| line.starts_with("//! @"))
        {
            assert!(
                source.contains(&format!("\n{line}\n")),
                "{standard}: {line}"
            );
        }
        let mut flags = String::from("--old /opt/wso2am-");
        flags.push_str(match standard {
            "3.0.0-to-4.1.0" => "3.0.0",
            "2.0.0-to-4.0.0" => "2.0.0",
            _ => "1.8.0",
        });
        assert_eq!(
            stdout(&output).lines().next().expect("first line"),
            format!("wrote site.rhai: {provenance} (the body unchanged; its header names the standard and its SHA-256)")
        );
        assert!(
            stdout(&output).contains("\n  apim-migrate check site.rhai\n"),
            "{}",
            stdout(&output)
        );
        assert!(
            stdout(&output).contains(&format!("\n  apim-migrate plan site.rhai {flags}")),
            "{}",
            stdout(&output)
        );

        // `check` passes it, and it plans exactly what the standard plans.
        let path = written.display().to_string();
        let output = Test::new().args(["check", &path]).run();
        assert!(output.status.success(), "{standard}: {}", stderr(&output));
        assert_eq!(stdout(&output), format!("ok: {path}\n"));
        let site = plan_json(&packs, &path, via.as_deref());
        let bundled = plan_json(&packs, standard, via.as_deref());
        assert!(
            !bundled["actions"].as_array().expect("actions").is_empty(),
            "{standard} plans something"
        );
        for key in ["actions", "reminders", "findings", "warnings", "marks"] {
            assert_eq!(site[key], bundled[key], "{standard}: {key}");
        }
        assert_eq!(site["script"]["name"], path);
    }
}

#[test]
fn scripts_new_without_a_standard_writes_a_skeleton_that_checks_and_refuses_other_packs() {
    let packs = Packs::standard();
    let dir = packs.dir.path().join("site-scripts");
    std::fs::create_dir(&dir).expect("mkdir");
    let output = Test::new()
        .current_dir(packs.dir.path())
        .args(["scripts", "new", "site-scripts/gateway.v2"])
        .run();
    output.success();
    assert_eq!(
        stdout(&output),
        "wrote site-scripts/gateway.v2.rhai: a skeleton for the packs of `3.0.0-to-4.1.0`, with a walk-through of the primitives\n\
         next: describe it in its header and change what your site needs, then\n  \
         apim-migrate check site-scripts/gateway.v2.rhai\n  \
         apim-migrate plan site-scripts/gateway.v2.rhai --old /opt/wso2am-3.0.0 --new /opt/wso2am-4.1.0 [--km /opt/wso2is-5.11.0]\n"
    );
    let path = dir.join("gateway.v2.rhai");
    let source = read(&path);
    assert!(
        source.starts_with("//! Describe this site script here"),
        "{source}"
    );
    assert!(!source.contains("Based on"), "{source}");
    for line in [
        "//! @accepts old wso2am 3.0.0",
        "//! @accepts new wso2am 4.1.0",
        "//! @accepts km wso2is 5.11.0 optional",
        "//! @params none",
        "//     //! @param gateway=yes  also remind about the load balancer in front of the gateways",
        "import \"apim\" as apim;",
        "require_version(old, \"wso2am\", [\"3.0.0\"], apim::path_hint(old.version));",
    ] {
        assert!(source.lines().any(|text| text == line), "{line}:\n{source}");
    }
    // The walk-through names every primitive, from the documentation.
    let docs = stdout(&Test::new().arg("docs").run());
    for signature in docs.lines().filter(|line| !line.starts_with(' ')) {
        if !signature.is_empty() {
            assert!(
                source.contains(&format!("\n// {signature}\n")),
                "{signature}"
            );
        }
    }

    let shown = path.display().to_string();
    Test::new().args(["check", &shown]).run().success();
    let plan = plan_json(&packs, &shown, None);
    assert_eq!(plan["actions"], serde_json::json!([]));

    // Its header refuses a pack of another version, before anything changes.
    let other = Packs::build(
        PackBuilder::api_manager("2.0.0"),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let output = other.test("plan", &shown).run();
    output.code(2);
    assert!(
        stderr(&output).starts_with(&format!(
            "error: --old (`{}`) is API-M 2.0.0, but `{shown}` accepts API-M 3.0.0 as --old (line 4: `@accepts old wso2am 3.0.0`)",
            other.old.display()
        )),
        "{}",
        stderr(&output)
    );
}

#[test]
fn scripts_new_never_overwrites_without_force_and_refuses_a_missing_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let existing = dir.path().join("site.rhai");
    std::fs::write(&existing, "// my work\n").expect("write");
    let new_in = |args: &[&str]| {
        Test::new()
            .current_dir(dir.path())
            .args(["scripts", "new"])
            .args(args)
            .run()
    };
    let before = tree(dir.path(), true);
    for (args, expected) in [
        (
            vec!["site"],
            "error: `site.rhai` exists; give another name, or add --force to overwrite it\n",
        ),
        (
            vec!["site.rhai", "--from", "3.0.0-to-4.1.0"],
            "error: `site.rhai` exists; give another name, or add --force to overwrite it\n",
        ),
        (
            vec!["team/site"],
            "error: `team/site.rhai`: the directory `team` does not exist; create it first (`mkdir -p team`) or give another path\n",
        ),
        (
            vec!["site2", "--from", "3.0.0-to-4.2.0"],
            "error: --from `3.0.0-to-4.2.0`: not a bundled script; give one of 3.0.0-to-4.1.0, to-4.x, 1.x-to-4.0.0, 1.x-to-4.x, 1.x-to-2.0.0, 2.0.0-to-4.0.0 (a site script of your own is copied with `cp`)\n",
        ),
        (
            vec!["team/"],
            "error: `team/`: give the new script's file name, like `site` or `scripts/site.rhai`\n",
        ),
    ] {
        let output = new_in(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&output), expected, "{args:?}");
        assert_eq!(stdout(&output), "", "{args:?}");
        assert_eq!(tree(dir.path(), true), before, "{args:?} changed nothing");
    }
    std::fs::create_dir(dir.path().join("dir.rhai")).expect("mkdir");
    let output = new_in(&["dir.rhai", "--force"]);
    output.code(2);
    assert_eq!(
        stderr(&output),
        "error: `dir.rhai` is a directory; give the new script's file name\n"
    );

    let output = new_in(&["site", "--from", "2.0.0-to-4.0.0", "--force"]);
    output.success();
    let source = read(&existing);
    assert!(
        source.starts_with("//! Site script based on 2.0.0-to-4.0.0: "),
        "{source}"
    );
    assert_eq!(mode(&existing), 0o644);
}

// ---------------------------------------------------------------------------------------------
// scripts (the listing)
// ---------------------------------------------------------------------------------------------

#[test]
fn scripts_lists_bundled_and_local_site_scripts_with_what_they_accept_and_take() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    Test::new()
        .current_dir(root)
        .args([
            "scripts",
            "new",
            "from-standard",
            "--from",
            "2.0.0-to-4.0.0",
        ])
        .run()
        .success();
    let standard_hash = sha256(bundled_script("2.0.0-to-4.0.0"));
    // A script begun from an older standard: its recorded hash is not today's.
    let older = read(root.join("from-standard.rhai")).replace(&standard_hash, &"a".repeat(64));
    std::fs::write(root.join("older.rhai"), &older).expect("write");
    std::fs::write(
        root.join("gateway.rhai"),
        "//! Gateway nodes only.\n//! @accepts old wso2am 3.0.0\n//! @accepts new wso2am 4.1.0\n//! @param gateway=yes  remind about the load balancer\n//! @param label=\nprint(1);\n",
    )
    .expect("write");
    std::fs::write(root.join("broken.rhai"), "//! Typo.\n//! @parm x=1\n").expect("write");
    std::fs::write(root.join("latin1.rhai"), b"//! caf\xe9\n").expect("write");
    std::fs::write(root.join("plain.rhai"), "print(1);\n").expect("write");
    // Not listed: definitions, other files, directories, scripts in subdirectories.
    std::fs::write(root.join("__static__.d.rhai"), "module static;\n").expect("write");
    std::fs::write(root.join("notes.txt"), "x").expect("write");
    std::fs::create_dir_all(root.join("lib.rhai")).expect("mkdir");
    std::fs::create_dir_all(root.join("common")).expect("mkdir");
    std::fs::write(root.join("common/names.rhai"), "fn a() { 1 }\n").expect("write");
    let before = tree(root, true);

    let document = Test::new()
        .args(["scripts", "--dir"])
        .arg(root)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(document["modules"], serde_json::json!(["apim"]));
    let scripts = document["scripts"].as_array().expect("scripts");
    let names: Vec<&str> = scripts
        .iter()
        .map(|script| script["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        [
            "3.0.0-to-4.1.0",
            "to-4.x",
            "1.x-to-4.0.0",
            "1.x-to-4.x",
            "1.x-to-2.0.0",
            "2.0.0-to-4.0.0",
            "broken.rhai",
            "from-standard.rhai",
            "gateway.rhai",
            "latin1.rhai",
            "older.rhai",
            "plain.rhai",
        ]
    );
    let by_name = |name: &str| {
        scripts
            .iter()
            .find(|script| script["name"] == name)
            .expect("listed")
    };
    let bundled = by_name("3.0.0-to-4.1.0");
    assert_eq!(bundled["path"], serde_json::Value::Null);
    assert_eq!(
        bundled["accepts"],
        serde_json::json!([
            {"role": "old", "product": "wso2am", "versions": ["3.0.0"], "optional": false},
            {"role": "new", "product": "wso2am", "versions": ["4.1.0"], "optional": false},
            {"role": "km", "product": "wso2is", "versions": ["5.11.0"], "optional": true},
        ])
    );
    assert_eq!(
        bundled["params"],
        serde_json::json!([{
            "name": "config",
            "default": "true",
            "description": "carry the site's settings into the new deployment.toml (`false`: leave that to the operator)"
        }])
    );
    assert_eq!(bundled["error"], serde_json::Value::Null);
    assert!(bundled["description"]
        .as_str()
        .expect("description")
        .starts_with("WSO2 API-M 3.0.0 to 4.1.0: keystores"));

    let gateway = by_name("gateway.rhai");
    assert_eq!(
        gateway["path"],
        root.join("gateway.rhai").display().to_string()
    );
    assert_eq!(gateway["description"], "Gateway nodes only.");
    assert_eq!(
        gateway["params"],
        serde_json::json!([
            {"name": "gateway", "default": "yes", "description": "remind about the load balancer"},
            {"name": "label", "default": "", "description": ""},
        ])
    );
    assert_eq!(
        gateway["accepts"][1]["versions"],
        serde_json::json!(["4.1.0"])
    );

    let from_standard = by_name("from-standard.rhai");
    assert_eq!(from_standard["based_on"]["script"], "2.0.0-to-4.0.0");
    assert_eq!(from_standard["based_on"]["sha256"], standard_hash);
    assert_eq!(from_standard["standard_unchanged"], true);
    assert_eq!(
        from_standard["accepts"],
        by_name("2.0.0-to-4.0.0")["accepts"]
    );
    assert_eq!(by_name("older.rhai")["based_on"]["sha256"], "a".repeat(64));
    assert_eq!(by_name("older.rhai")["standard_unchanged"], false);

    assert_eq!(
        by_name("broken.rhai")["error"],
        "line 2: unknown header tag `@parm` (known: `@accepts ROLE PRODUCT VERSION[,VERSION...] [optional]`, `@param NAME=DEFAULT  text`, `@params none`)"
    );
    assert_eq!(by_name("broken.rhai")["description"], "Typo.");
    assert!(by_name("latin1.rhai")["error"]
        .as_str()
        .expect("error")
        .contains("is not UTF-8 text"));
    let plain = by_name("plain.rhai");
    assert_eq!(plain["accepts"], serde_json::json!([]));
    assert_eq!(plain["params"], serde_json::Value::Null);
    assert_eq!(plain["error"], serde_json::Value::Null);

    // The human listing, from the current directory by default, says the same.
    let text = Test::new()
        .current_dir(root)
        .arg("scripts")
        .run()
        .success()
        .stdout();
    for expected in [
        "\nsite scripts in `.` (run one with `apim-migrate run PATH ...`):\n",
        "\n  gateway.rhai  (./gateway.rhai)\n      Gateway nodes only.\n      accepts:  --old API-M 3.0.0; --new API-M 4.1.0\n      params:   gateway=yes  remind about the load balancer\n                label=\n",
        "\n  broken.rhai  (./broken.rhai)\n      Typo.\n      error: line 2: unknown header tag `@parm`",
        "\n  plain.rhai  (./plain.rhai)\n      accepts:  not declared (the script's own checks decide)\n      params:   not declared (any --set is passed on)\n",
        &format!("      based on: 2.0.0-to-4.0.0 (sha256 {standard_hash}) from apim-migrate {}; the bundled one is still the same\n", env!("CARGO_PKG_VERSION")),
        "; the bundled one has changed since\n",
        "\n  1.x-to-4.0.0\n",
        "      accepts:  --old API-M 1.8.0, 1.9.0 or 1.9.1; --via API-M 2.0.0; --new API-M 4.0.0; --km IS 5.10.0 (optional)\n",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    assert!(
        !text.contains("names.rhai") && !text.contains("__static__"),
        "{text}"
    );
    assert_eq!(tree(root, true), before, "listing changes nothing");

    // An empty directory says how to start; a missing one is refused.
    let empty = tempfile::tempdir().expect("temp dir");
    let output = Test::new()
        .args(["scripts", "--dir"])
        .arg(empty.path())
        .run();
    assert!(stdout(&output).contains(&format!(
        "\nno site scripts (`*.rhai`) in `{}`; `apim-migrate scripts new NAME --from STANDARD` starts one\n",
        empty.path().display()
    )));
    let missing = root.join("nowhere");
    let output = Test::new().args(["scripts", "--dir"]).arg(&missing).run();
    output.code(2);
    assert!(
        stderr(&output).starts_with(&format!(
            "error: --dir `{}`: cannot read it (give the directory that holds your site scripts): ",
            missing.display()
        )),
        "{}",
        stderr(&output)
    );
    assert_eq!(stderr(&output).lines().count(), 1);
}

// ---------------------------------------------------------------------------------------------
// defs
// ---------------------------------------------------------------------------------------------

#[test]
fn defs_writes_definition_files_naming_every_primitive_the_same_bytes_each_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join(".rhai/definitions");
    let output = Test::new().arg("defs").arg(&first).run();
    output.success();
    let files = [
        "__builtin__.d.rhai",
        "__builtin-operators__.d.rhai",
        "__static__.d.rhai",
        "__scope__.d.rhai",
        "apim.d.rhai",
    ];
    let mut expected = format!(
        "wrote {} Rhai definition files into `{}`, for the Rhai language server of your editor:\n",
        files.len(),
        first.display()
    );
    for file in files {
        let path = first.join(file);
        expected.push_str(&format!(
            "  {} ({} bytes)\n",
            path.display(),
            bytes(&path).len()
        ));
        assert!(!bytes(&path).is_empty(), "{file} is empty");
    }
    assert_eq!(stdout(&output), expected);
    let written: Vec<String> = std::fs::read_dir(&first)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    assert_eq!(written.len(), files.len(), "{written:?}");

    // Every primitive `docs` lists is defined, with its parameters, and documented.
    let statics = read(first.join("__static__.d.rhai"));
    let docs = stdout(&Test::new().arg("docs").run());
    let mut names = 0;
    for signature in docs
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with(' '))
    {
        for alternative in signature.split(" | ") {
            let Some((name, _)) = alternative.split_once('(') else {
                continue;
            };
            if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                names += 1;
                assert!(
                    statics.contains(&format!("\nfn {name}(")),
                    "`{name}` is not defined"
                );
            }
        }
    }
    assert!(names >= 25, "{names} names in:\n{docs}");
    for name in primitive_docs()
        .iter()
        .map(|doc| doc.name)
        .filter(|name| *name != "Pack")
    {
        assert!(statics.contains(&format!("fn {name}(")), "{name}");
    }
    assert!(statics.contains(
        "/// ```rhai\n/// copy_keystores(old, new);\n/// if km != () { copy_keystores(old, km); }\n/// ```\nfn copy_keystores(from: Pack, to: Pack);\n"
    ));
    assert!(statics.contains("fn get version(_: Pack) -> string;"));
    let scope = read(first.join("__scope__.d.rhai"));
    assert_eq!(
        scope,
        "module static;\n\nconst old: Pack;\n\nconst new: Pack;\n\nconst km: Pack;\n\nconst via: Pack;\n\nconst params: map;\n"
    );
    let apim = read(first.join("apim.d.rhai"));
    assert!(apim.contains("fn path_hint(version: ?) -> ?;"), "{apim}");

    // A second run, elsewhere and over the first, writes the same bytes.
    let second = dir.path().join("again");
    Test::new().arg("defs").arg(&second).run().success();
    Test::new().arg("defs").arg(&first).run().success();
    for file in files {
        assert_eq!(bytes(first.join(file)), bytes(second.join(file)), "{file}");
    }

    // A file where the directory should be is refused, and left alone.
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").expect("write");
    let output = Test::new().arg("defs").arg(&file).run();
    output.code(2);
    assert_eq!(
        stderr(&output),
        format!(
            "error: `{}` is not a directory; give the directory to write the definition files into (it is created if missing)\n",
            file.display()
        )
    );
    assert_eq!(read(&file), "x");
}
