//! File names as Unix has them: bytes, not always UTF-8 (a Latin-1 `café.xml` from an old
//! system), sometimes with control characters. A run copies them byte for byte, the report
//! shows them escaped on one line, and rollback takes them back.

use crate::support::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// `dir/<bytes>` as a path.
fn named(dir: &std::path::Path, bytes: &[u8]) -> PathBuf {
    dir.join(OsStr::from_bytes(bytes))
}

#[test]
fn names_that_are_not_utf8_are_copied_byte_for_byte_and_shown_escaped() {
    let packs = Packs::standard();
    let pristine = tree(&packs.new, false);
    let store = b"<UserStoreManager class=\"latin-1\"/>".to_vec();
    let keystore = b"\xfe\xed\xfe\xed keystore bytes".to_vec();
    // A tenant's user store, the super tenant's, and a keystore, named in Latin-1.
    write_file(
        &named(
            &packs.old.join("repository/tenants/1/userstores"),
            b"caf\xe9.xml",
        ),
        &store,
        0o640,
    );
    write_file(
        &named(&packs.old.join(USERSTORES), b"na\xefve.xml"),
        &store,
        0o644,
    );
    write_file(
        &named(&packs.old.join(SECURITY), b"k\xff.jks"),
        &keystore,
        0o600,
    );

    let output = packs.test("run", SCRIPT).run();
    output.success();
    let report = output.stdout();
    for shown in [
        "repository/tenants/1/userstores/caf\\xe9.xml",
        "repository/deployment/server/userstores/na\\xefve.xml",
        "repository/resources/security/k\\xff.jks",
    ] {
        assert!(
            report.contains(&format!("create   new:{shown}")),
            "{shown}:\n{report}"
        );
    }
    // Byte for byte, mode for mode, under the very same name.
    let copied = named(
        &packs.new.join("repository/tenants/1/userstores"),
        b"caf\xe9.xml",
    );
    assert_eq!(bytes(&copied), store);
    assert_eq!(mode(&copied), 0o640);
    assert_eq!(
        bytes(named(&packs.new.join(USERSTORES), b"na\xefve.xml")),
        store
    );
    let copied = named(&packs.new.join(SECURITY), b"k\xff.jks");
    assert_eq!(bytes(&copied), keystore);
    assert_eq!(mode(&copied), 0o600);

    // The JSON report shows them escaped as well (JSON holds only text).
    let rollback = Test::new()
        .args(["rollback", "--new"])
        .arg(&packs.new)
        .run();
    rollback.success();
    let json = packs
        .test("plan", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let paths: Vec<String> = json["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|action| action["path"].as_str().map(str::to_string))
        .collect();
    assert!(
        paths.contains(&"repository/tenants/1/userstores/caf\\xe9.xml".to_string()),
        "{paths:?}"
    );

    // Rollback took them back: the new pack is as it was.
    assert_eq!(tree(&packs.new, false), pristine);
}

#[test]
fn a_name_with_a_newline_stays_on_one_line_of_the_report() {
    let packs = Packs::standard();
    write_file(
        &packs.old.join(USERSTORES).join("two\nlines.xml"),
        b"<UserStoreManager/>",
        0o644,
    );
    let report = packs.test("run", SCRIPT).run().success().stdout();
    assert!(
        report.contains(
            "create   new:repository/deployment/server/userstores/two\\nlines.xml  <- old"
        ),
        "{report}"
    );
    assert!(
        !report.lines().any(|line| line.starts_with("lines.xml")),
        "{report}"
    );
    assert_eq!(
        bytes(packs.new.join(USERSTORES).join("two\nlines.xml")),
        b"<UserStoreManager/>"
    );
}

#[test]
fn a_custom_sequence_whose_name_is_not_utf8_is_not_copied_and_says_why() {
    let packs = Packs::standard();
    write_file(
        &named(&packs.old.join(SEQUENCES), b"audit\xe9.xml"),
        b"<sequence name=\"audit\"/>",
        0o644,
    );
    let report = packs.test("run", SCRIPT).run().success().stdout();
    let flat = flat(&report);
    assert!(
        flat.contains("the name of `audit\\xe9.xml` is not UTF-8"),
        "{report}"
    );
    assert!(!named(&packs.new.join(SEQUENCES), b"audit\xe9.xml").exists());
    // The skip list holds the other custom sequences, and nothing of that name.
    let toml = read(packs.new.join(TOML));
    assert!(toml.contains("audit_log.xml"), "{toml}");
    assert!(!toml.contains("audit\u{e9}"), "{toml}");
    assert!(!toml.chars().any(|c| u32::from(c) >= 0x10_FF80), "{toml}");
}
