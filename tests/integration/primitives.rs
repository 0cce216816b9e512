//! The primitives, one behaviour at a time, through small site scripts written into the temp
//! dir and run with `plan`/`run` on packs built there.

use crate::support::library::bundled_script;
use crate::support::*;
use sample_packs::PackBuilder;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A Rhai string literal for a path.
fn rhai_string(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn plain() -> Packs {
    Packs::build(PackBuilder::api_manager("3.0.0"), new_4_1_0(), None)
}

/// Snapshots of both packs, history included.
fn snapshot(
    packs: &Packs,
) -> (
    impl PartialEq + std::fmt::Debug,
    impl PartialEq + std::fmt::Debug,
) {
    (tree(&packs.old, true), tree(&packs.new, true))
}

/// The string values of `[apim.sync_runtime_artifacts.gateway.skip_list] sequences`.
fn skip_list(toml_text: &str) -> Vec<String> {
    let document: toml_edit::DocumentMut = toml_text.parse().expect("valid TOML");
    document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]["sequences"]
        .as_array()
        .expect("skip list array")
        .iter()
        .map(|value| value.as_str().expect("string").to_string())
        .collect()
}

/// The table headers of a TOML text, in order.
fn table_headers(toml_text: &str) -> Vec<String> {
    toml_text
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with('['))
        .map(str::to_string)
        .collect()
}

fn messages(report: &serde_json::Value, field: &str) -> Vec<String> {
    report[field]
        .as_array()
        .unwrap_or_else(|| panic!("{field} array in {report}"))
        .iter()
        .map(|item| item["message"].as_str().expect("message").to_string())
        .collect()
}

fn script_output(report: &serde_json::Value) -> Vec<String> {
    report["output"]
        .as_array()
        .expect("output array")
        .iter()
        .map(|line| line.as_str().expect("string").to_string())
        .collect()
}

/// Asserts a located script error: the message, `--> SCRIPT:LINE:COL` and a caret line.
fn assert_located(stderr_text: &str, script_path: &str, line: usize) {
    assert!(
        stderr_text.starts_with("error: "),
        "the error comes first:\n{stderr_text}"
    );
    assert!(
        stderr_text.contains(&format!("--> {script_path}:{line}:")),
        "no `--> {script_path}:{line}:` in:\n{stderr_text}"
    );
    assert!(
        stderr_text
            .lines()
            .any(|text| text.contains('|') && text.trim_end().ends_with('^')),
        "no caret line in:\n{stderr_text}"
    );
    assert!(
        stderr_text
            .lines()
            .any(|text| text.trim_start().starts_with(&format!("{line} | "))),
        "the script line is not shown in:\n{stderr_text}"
    );
}

fn files_below(root: &Path) -> Vec<String> {
    if !root.exists() {
        return Vec::new();
    }
    tree(root, false)
        .into_iter()
        .filter(|(_, (kind, _, _))| kind == "file")
        .map(|(path, _)| path)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// copy_keystores
// ---------------------------------------------------------------------------------------------

/// A 3.0.0 pack whose `[keystore.tls]` names a keystore under `repository/conf/site-tls`,
/// whose `[truststore]` names one outside the pack, and whose security dir holds a link out of
/// the pack and a link inside it.
struct KeystoreSetup {
    packs: Packs,
    outside_truststore: PathBuf,
    outside_link_target: PathBuf,
}

const SITE_TLS: &str = "repository/conf/site-tls/tls.jks";
const OUTSIDE_SECRET: &[u8] = b"OUTSIDE-THE-PACK secret bytes that must never be copied";
const OUTSIDE_TRUST: &[u8] = b"OUTSIDE-THE-PACK truststore bytes";

fn keystore_setup() -> KeystoreSetup {
    let outside_placeholder = "__OUTSIDE_TRUSTSTORE__";
    let old = PackBuilder::api_manager("3.0.0").deployment_toml_extra(&format!(
        "[truststore]\nfile_name = \"{outside_placeholder}\"\ntype = \"JKS\"\npassword = \"wso2carbon\"\n"
    ));
    let packs = Packs::build(old, new_4_1_0(), None);
    let outside_dir = packs.dir.path().join("outside");
    let outside_truststore = outside_dir.join("trust.jks");
    let outside_link_target = outside_dir.join("linked.jks");
    write_file(&outside_truststore, OUTSIDE_TRUST, 0o600);
    write_file(&outside_link_target, OUTSIDE_SECRET, 0o600);

    // `[keystore.tls] file_name` names a keystore elsewhere in the pack.
    let toml_path = packs.old.join(TOML);
    let text = read(&toml_path);
    let stock_tls = "[keystore.tls]\nfile_name = \"wso2carbon.jks\"";
    assert!(text.contains(stock_tls), "stock [keystore.tls]:\n{text}");
    let text = text
        .replace(
            stock_tls,
            &format!("[keystore.tls]\nfile_name = \"${{carbon.home}}/{SITE_TLS}\""),
        )
        .replace(
            outside_placeholder,
            &outside_truststore.display().to_string(),
        );
    std::fs::write(&toml_path, text).expect("write toml");
    write_file(
        &packs.old.join(SITE_TLS),
        b"site TLS keystore bytes \x00\x01\x02",
        0o600,
    );

    // A keystore of sslprofiles.xml that differs from the new pack's, to see it is left alone.
    let old_profiles = packs.old.join(SECURITY).join("sslprofiles.xml");
    let mut profiles = bytes(&old_profiles);
    profiles.extend_from_slice(b"\n<!-- site edit -->\n");
    std::fs::write(&old_profiles, profiles).expect("write sslprofiles");

    let security = packs.old.join(SECURITY);
    std::os::unix::fs::symlink(&outside_link_target, security.join("out-link.jks"))
        .expect("symlink out");
    std::os::unix::fs::symlink("../../conf/site-tls/tls.jks", security.join("in-link.jks"))
        .expect("symlink in");
    KeystoreSetup {
        packs,
        outside_truststore,
        outside_link_target,
    }
}

#[test]
fn copy_keystores_copies_a_keystore_configured_elsewhere_in_the_pack_to_the_same_path() {
    let setup = keystore_setup();
    let packs = &setup.packs;
    let path = script(packs, "keystores", "copy_keystores(old, new);\n");
    let output = packs.test("run", &path).run();
    output.success();
    let from = packs.old.join(SITE_TLS);
    let to = packs.new.join(SITE_TLS);
    assert_eq!(bytes(&from), bytes(&to));
    assert_eq!(mode(&to), 0o600);
    assert!(
        stdout(&output).contains(&format!("new:{SITE_TLS}")),
        "{}",
        stdout(&output)
    );
}

#[test]
fn copy_keystores_warns_about_a_keystore_configured_outside_the_pack_and_does_not_copy_it() {
    let setup = keystore_setup();
    let packs = &setup.packs;
    let path = script(packs, "keystores", "copy_keystores(old, new);\n");
    let report = packs
        .test("run", &path)
        .arg("--json")
        .run()
        .success()
        .json();
    let outside = setup.outside_truststore.display().to_string();
    assert!(
        messages(&report, "warnings")
            .iter()
            .any(|message| message.contains(&outside) && message.contains("outside the pack")),
        "no warning naming {outside}: {report}"
    );
    assert_no_file_holds(&packs.new, OUTSIDE_TRUST, "the outside keystore");
}

#[test]
fn copy_keystores_leaves_sslprofiles_xml_alone() {
    let setup = keystore_setup();
    let packs = &setup.packs;
    let new_profiles = packs.new.join(SECURITY).join("sslprofiles.xml");
    let before = bytes(&new_profiles);
    assert_ne!(
        bytes(packs.old.join(SECURITY).join("sslprofiles.xml")),
        before,
        "the test needs differing sslprofiles.xml"
    );
    let path = script(packs, "keystores", "copy_keystores(old, new);\n");
    let output = packs.test("run", &path).run();
    output.success();
    assert_eq!(bytes(&new_profiles), before);
    assert!(
        !stdout(&output).contains("sslprofiles.xml"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn copy_keystores_skips_a_link_out_of_the_pack_with_a_warning_and_never_copies_its_target() {
    let setup = keystore_setup();
    let packs = &setup.packs;
    let path = script(packs, "keystores", "copy_keystores(old, new);\n");
    let report = packs
        .test("run", &path)
        .arg("--json")
        .run()
        .success()
        .json();
    assert!(
        messages(&report, "warnings")
            .iter()
            .any(|message| message.contains("out-link.jks") && message.contains("outside")),
        "no warning about the link: {report}"
    );
    assert!(report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .any(|action| action["status"] == "skipped"
            && action["path"]
                .as_str()
                .is_some_and(|path| path.ends_with("out-link.jks"))));
    let link_in_new = packs.new.join(SECURITY).join("out-link.jks");
    assert!(
        std::fs::symlink_metadata(&link_in_new).is_err(),
        "nothing is created for the link"
    );
    let secret = bytes(&setup.outside_link_target);
    assert_no_file_holds(&packs.new, &secret, "the link's target");
}

#[test]
fn copy_keystores_copies_a_link_inside_the_pack_as_a_regular_file_with_the_targets_bytes() {
    let setup = keystore_setup();
    let packs = &setup.packs;
    let path = script(packs, "keystores", "copy_keystores(old, new);\n");
    packs.test("run", &path).run().success();
    let copied = packs.new.join(SECURITY).join("in-link.jks");
    let metadata = std::fs::symlink_metadata(&copied).expect("in-link.jks copied");
    assert!(metadata.file_type().is_file(), "a regular file, not a link");
    assert_eq!(bytes(&copied), bytes(packs.old.join(SITE_TLS)));
}

// ---------------------------------------------------------------------------------------------
// copy_tenant_userstores
// ---------------------------------------------------------------------------------------------

#[test]
fn copy_tenant_userstores_ignores_non_numeric_tenant_dirs_and_other_tenant_content() {
    let old = PackBuilder::api_manager("3.0.0")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .tenant(1)
        .tenant(2);
    let packs = Packs::build(old, new_4_1_0(), None);
    let tenants = packs.old.join("repository/tenants");
    write_file(
        &tenants.join("backup/userstores/stale_example_com.xml"),
        b"<UserStoreManager/>",
        0o644,
    );
    write_file(
        &tenants.join("1/notes/site-notes.xml"),
        b"<notes>not a user store</notes>",
        0o644,
    );
    assert!(
        files_below(&tenants.join("1"))
            .iter()
            .any(|path| !path.starts_with("userstores/")),
        "tenant 1 holds other content"
    );
    let path = script(&packs, "userstores", "copy_tenant_userstores(old, new);\n");
    let output = packs.test("run", &path).run();
    output.success();

    assert_eq!(
        files_below(&packs.new.join("repository/tenants")),
        vec!["1/userstores/partner_example_com.xml"]
    );
    let super_tenant = "repository/deployment/server/userstores/corp_example_com.xml";
    assert_eq!(
        bytes(packs.old.join(super_tenant)),
        bytes(packs.new.join(super_tenant))
    );
    let tenant_store = "repository/tenants/1/userstores/partner_example_com.xml";
    assert_eq!(
        bytes(packs.old.join(tenant_store)),
        bytes(packs.new.join(tenant_store))
    );
    assert!(!stdout(&output).contains("backup"), "{}", stdout(&output));
}

// ---------------------------------------------------------------------------------------------
// add_skip_sequences
// ---------------------------------------------------------------------------------------------

fn two_custom_sequences() -> PackBuilder {
    PackBuilder::api_manager("3.0.0")
        .custom_sequence("audit_log")
        .custom_sequence("cors_override")
}

#[test]
fn add_skip_sequences_with_names_copies_and_lists_only_those() {
    let packs = Packs::build(two_custom_sequences(), new_4_1_0(), None);
    let original = read(packs.new.join(TOML));
    let path = script(
        &packs,
        "only",
        "add_skip_sequences(old, new, [\"audit_log\"]);\n",
    );
    packs.test("run", &path).run().success();
    assert_eq!(
        bytes(packs.old.join(SEQUENCES).join("audit_log.xml")),
        bytes(packs.new.join(SEQUENCES).join("audit_log.xml"))
    );
    assert!(!packs.new.join(SEQUENCES).join("cors_override.xml").exists());
    let edited = read(packs.new.join(TOML));
    assert_eq!(skip_list(&edited), vec!["audit_log.xml"]);
    assert_lines_kept(&original, &edited);
}

#[test]
fn add_skip_sequences_with_an_unknown_name_is_refused_naming_it_and_the_custom_ones() {
    let packs = Packs::build(two_custom_sequences(), new_4_1_0(), None);
    let before = snapshot(&packs);
    let path = script(
        &packs,
        "unknown",
        "// only some\nadd_skip_sequences(old, new, [\"audit_log\", \"nosuch_sequence\"]);\n",
    );
    let message = packs.test("run", &path).run().code(2).stderr();
    let first = message.lines().next().expect("a message");
    assert!(first.contains("nosuch_sequence"), "{message}");
    assert!(
        first.contains("is not a custom global sequence"),
        "{message}"
    );
    assert!(first.contains("audit_log.xml"), "{message}");
    assert!(first.contains("cors_override.xml"), "{message}");
    assert_located(&message, &path, 2);
    assert_eq!(snapshot(&packs), before, "nothing changes");
}

#[test]
fn add_skip_sequences_keeps_an_existing_skip_list_first_and_appends() {
    let new = new_4_1_0().deployment_toml_extra(
        "[apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [\"x.xml\"]\n",
    );
    let packs = Packs::build(two_custom_sequences(), new, None);
    let original = read(packs.new.join(TOML));
    assert_eq!(skip_list(&original), vec!["x.xml"]);
    let path = script(&packs, "append", "add_skip_sequences(old, new);\n");
    packs.test("run", &path).run().success();
    let edited = read(packs.new.join(TOML));
    assert_eq!(
        skip_list(&edited),
        vec!["x.xml", "audit_log.xml", "cors_override.xml"]
    );
    assert_lines_kept(&original.replace("sequences = [\"x.xml\"]\n", ""), &edited);
    assert_eq!(
        edited
            .matches("[apim.sync_runtime_artifacts.gateway.skip_list]")
            .count(),
        1,
        "{edited}"
    );
}

#[test]
fn add_skip_sequences_refuses_a_malformed_deployment_toml_naming_file_line_and_column() {
    let packs = Packs::build(two_custom_sequences(), new_4_1_0(), None);
    let toml_path = packs.new.join(TOML);
    let mut text = read(&toml_path);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let bad_line = text.lines().count() + 1;
    text.push_str("this line is not toml\n");
    std::fs::write(&toml_path, &text).expect("write toml");
    let before = snapshot(&packs);

    let path = script(&packs, "malformed", "add_skip_sequences(old, new);\n");
    // The file is the pack's, not the script's: one line naming it, no caret into the script.
    let output = packs.test("run", &path).arg("--json").run();
    output.stderr_line(&toml_path.display().to_string());
    let message = output.stderr();
    assert!(message.contains(&format!("line {bad_line}")), "{message}");
    assert!(message.contains("column"), "{message}");
    let error = &output.json()["error"];
    assert_eq!(error["file"], toml_path.display().to_string());
    assert_eq!(error["exit_code"], 2);
    assert_eq!(snapshot(&packs), before, "nothing changes");

    // Through the bundled script too.
    let output = packs.test("plan", SCRIPT).run();
    output.stderr_line(&format!("line {bad_line}"));
}

#[test]
fn add_skip_sequences_does_not_copy_a_custom_sequence_named_like_a_new_stock_one() {
    let old = PackBuilder::api_manager("3.0.0")
        .custom_sequence("audit_log")
        .custom_sequence("_opa_policy_failure_handler_");
    let packs = Packs::build(old, new_4_1_0(), None);
    let stock_opa = packs
        .new
        .join(SEQUENCES)
        .join("_opa_policy_failure_handler_.xml");
    let stock_bytes = bytes(&stock_opa);
    assert_ne!(
        bytes(
            packs
                .old
                .join(SEQUENCES)
                .join("_opa_policy_failure_handler_.xml")
        ),
        stock_bytes
    );
    let path = script(&packs, "opa", "add_skip_sequences(old, new);\n");
    let report = packs
        .test("run", &path)
        .arg("--json")
        .run()
        .success()
        .json();
    assert!(
        messages(&report, "warnings")
            .iter()
            .any(|message| message.contains("_opa_policy_failure_handler_")),
        "{report}"
    );
    assert_eq!(bytes(&stock_opa), stock_bytes, "the stock file is kept");
    assert_eq!(
        skip_list(&read(packs.new.join(TOML))),
        vec!["audit_log.xml"]
    );
}

#[test]
fn add_skip_sequences_keeps_secrets_the_last_table() {
    let new = new_4_1_0().secure_vault(&["super_admin_password"]);
    let packs = Packs::build(two_custom_sequences(), new, None);
    let original = read(packs.new.join(TOML));
    assert_eq!(
        table_headers(&original).last().map(String::as_str),
        Some("[secrets]")
    );
    let path = script(&packs, "secrets", "add_skip_sequences(old, new);\n");
    packs.test("run", &path).run().success();
    let edited = read(packs.new.join(TOML));
    assert_eq!(
        skip_list(&edited),
        vec!["audit_log.xml", "cors_override.xml"]
    );
    assert_eq!(
        table_headers(&edited).last().map(String::as_str),
        Some("[secrets]"),
        "{edited}"
    );
    assert_lines_kept(&original, &edited);
}

#[test]
fn add_skip_sequences_keeps_secrets_last_even_without_the_gateway_table() {
    // The template reads the skip lists when `apim.sync_runtime_artifacts.gateway` is defined:
    // the pack's defaults define it (org.wso2.carbon.apimgt.core.default.json), so a
    // deployment.toml without the table is fine; a pack without those defaults is warned of.
    for (new, warned) in [
        (new_4_1_0(), false),
        (new_4_1_0().without_resources_conf(), true),
    ] {
        let new = new.secure_vault(&["super_admin_password"]);
        let packs = Packs::build(two_custom_sequences(), new, None);
        let toml_path = packs.new.join(TOML);
        let gateway = "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n";
        let text = read(&toml_path);
        assert!(text.contains(gateway), "{text}");
        let original = text.replace(gateway, "");
        std::fs::write(&toml_path, &original).expect("write toml");

        let path = script(&packs, "secrets", "add_skip_sequences(old, new);\n");
        let report = packs
            .test("run", &path)
            .arg("--json")
            .run()
            .success()
            .json();
        assert_eq!(
            messages(&report, "warnings")
                .iter()
                .any(|message| message.contains("[apim.sync_runtime_artifacts.gateway]")),
            warned,
            "{report}"
        );
        let edited = read(&toml_path);
        assert_eq!(
            skip_list(&edited),
            vec!["audit_log.xml", "cors_override.xml"]
        );
        assert_eq!(
            table_headers(&edited).last().map(String::as_str),
            Some("[secrets]"),
            "{edited}"
        );
        assert_lines_kept(&original, &edited);
    }
}

// ---------------------------------------------------------------------------------------------
// place_jdbc
// ---------------------------------------------------------------------------------------------

/// Writes a pack holding `jar` in `components/lib` under `dir` and returns the jar's path.
fn jar_from(builder: PackBuilder, dir: &Path, jar: &str) -> PathBuf {
    let home = builder.write(&dir.join("jar-source")).expect("write pack");
    let path = home.join(LIB).join(jar);
    assert!(path.is_file(), "{} written", path.display());
    path
}

#[test]
fn place_jdbc_warns_about_a_postgresql_database_without_a_driver() {
    let old = PackBuilder::api_manager("3.0.0").database(
        "apim_db",
        "postgresql",
        "jdbc:postgresql://db.example.com:5432/apim_db",
    );
    let packs = Packs::build(old, new_4_1_0(), None);
    let before = snapshot(&packs);
    let path = script(&packs, "jdbc", "place_jdbc(old, new);\n");
    let report = packs
        .test("plan", &path)
        .arg("--json")
        .run()
        .success()
        .json();
    assert!(
        messages(&report, "warnings")
            .iter()
            .any(|message| message.contains("postgresql") && message.contains("driver")),
        "{report}"
    );
    assert_eq!(snapshot(&packs), before);
}

#[test]
fn place_jdbc_places_a_driver_jar_given_by_path() {
    let packs = plain();
    let drivers = tempfile::tempdir().expect("temp dir");
    let jar = jar_from(
        PackBuilder::api_manager("3.0.0")
            .jdbc_driver("postgresql-42.5.0.jar", "org.postgresql.Driver"),
        drivers.path(),
        "postgresql-42.5.0.jar",
    );
    let path = script(
        &packs,
        "jar",
        &format!("place_jdbc(new, {});\n", rhai_string(&jar)),
    );
    packs.test("run", &path).run().success();
    let placed = packs.new.join(LIB).join("postgresql-42.5.0.jar");
    assert_eq!(bytes(&placed), bytes(&jar));
    assert_eq!(mode(&placed), mode(&jar));
}

#[test]
fn place_jdbc_refuses_a_jar_that_is_not_a_driver() {
    let packs = plain();
    let jars = tempfile::tempdir().expect("temp dir");
    let jar = jar_from(
        PackBuilder::api_manager("3.0.0").plain_jar("acme-handler-1.0.jar"),
        jars.path(),
        "acme-handler-1.0.jar",
    );
    let before = snapshot(&packs);
    let path = script(
        &packs,
        "notdriver",
        &format!("place_jdbc(new, {});\n", rhai_string(&jar)),
    );
    let output = packs.test("run", &path).run();
    output.code(2).stderr_contains("not a JDBC 4 driver");
    assert_located(&stderr(&output), &path, 1);
    assert_eq!(snapshot(&packs), before);
}

#[test]
fn place_jdbc_does_not_copy_an_old_driver_when_the_new_pack_has_another_version() {
    let old = PackBuilder::api_manager("3.0.0").jdbc_driver(
        "mysql-connector-java-5.1.49.jar",
        "com.mysql.cj.jdbc.Driver",
    );
    let new = new_4_1_0().jdbc_driver("mysql-connector-j-8.0.33.jar", "com.mysql.cj.jdbc.Driver");
    let packs = Packs::build(old, new, None);
    let new_driver = packs.new.join(LIB).join("mysql-connector-j-8.0.33.jar");
    let new_driver_bytes = bytes(&new_driver);
    let path = script(&packs, "jdbc", "place_jdbc(old, new);\n");
    let output = packs.test("run", &path).arg("--json").run();
    output.success();
    assert!(!packs
        .new
        .join(LIB)
        .join("mysql-connector-java-5.1.49.jar")
        .exists());
    assert_eq!(bytes(&new_driver), new_driver_bytes);
    let report = json(&output.stdout);
    assert!(
        messages(&report, "warnings").iter().any(|message| {
            message.contains("mysql-connector-java-5.1.49.jar")
                && message.contains("mysql-connector-j-8.0.33.jar")
        }),
        "{report}"
    );
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

#[test]
fn copy_file_copies_by_relative_path_keeping_the_mode() {
    let packs = plain();
    let source = packs.old.join("a/b");
    write_file(&source, b"#!/bin/sh\necho site helper\n", 0o750);
    let path = script(&packs, "copy", "copy_file(old, \"a/b\", new, \"c/d\");\n");
    packs.test("run", &path).run().success();
    let copied = packs.new.join("c/d");
    assert_eq!(bytes(&copied), bytes(&source));
    assert_eq!(mode(&copied), 0o750);
    assert!(!packs.new.join("a/b").exists());
}

#[test]
fn copy_file_refuses_paths_out_of_the_pack_and_writing_into_old() {
    let cases = [
        ("copy_file(old, \"../x\", new);", ".."),
        ("copy_file(old, \"/etc/passwd\", new);", "absolute"),
        ("copy_file(new, \"x\", old);", "only read"),
    ];
    for (index, (call, expected)) in cases.iter().enumerate() {
        let packs = plain();
        std::fs::write(packs.dir.path().join("x"), "outside").expect("write x");
        let before = snapshot(&packs);
        let path = script(
            &packs,
            &format!("refused{index}"),
            &format!("// refused\nlet ok = true;\n{call}\n"),
        );
        let output = packs.test("run", &path).run();
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{call}: {message}");
        let first = message.lines().next().expect("a message");
        assert!(first.contains(expected), "{call}: {message}");
        assert_located(&message, &path, 3);
        assert!(message.contains(call), "{call}: {message}");
        assert_eq!(snapshot(&packs), before, "{call} changed a pack");
    }
}

#[test]
fn set_toml_shows_a_diff_in_plan_and_run_adds_the_table_keeping_every_line() {
    let packs = plain();
    let original = read(packs.new.join(TOML));
    assert!(!original.contains("[indexing]"));
    let path = script(
        &packs,
        "set",
        "set_toml(new, \"indexing.re_indexing\", 1);\n",
    );
    let before = snapshot(&packs);
    let plan = packs.test("plan", &path).run();
    plan.success();
    let text = stdout(&plan);
    for expected in [
        "edit     new:repository/conf/deployment.toml",
        "+[indexing]",
        "+re_indexing = 1",
    ] {
        assert!(text.contains(expected), "plan lacks {expected:?}:\n{text}");
    }
    assert_eq!(snapshot(&packs), before, "plan changes nothing");

    packs.test("run", &path).run().success();
    let edited = read(packs.new.join(TOML));
    assert_lines_kept(&original, &edited);
    assert!(edited.contains("[indexing]"), "{edited}");
    let document: toml_edit::DocumentMut = edited.parse().expect("valid TOML");
    assert_eq!(
        document["indexing"]["re_indexing"].as_integer(),
        Some(1),
        "{edited}"
    );
}

#[test]
fn read_toml_returns_the_array_and_print_shows_it_in_the_report_and_json() {
    let packs = plain();
    let path = script(
        &packs,
        "read",
        "let labels = read_toml(new, \"apim.sync_runtime_artifacts.gateway.gateway_labels\");\n\
         print(labels);\n\
         print(labels.len());\n\
         print(labels[0]);\n\
         print(read_toml(new, \"no.such.key\") == ());\n",
    );
    let text = packs.test("plan", &path).run().success().stdout();
    let section = text
        .split("\nscript output\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no script output section:\n{text}"));
    assert!(section.starts_with("  [\"Default\"]\n"), "{text}");

    let output = packs.test("plan", &path).arg("--json").run();
    output.success();
    assert_eq!(
        script_output(&json(&output.stdout)),
        vec!["[\"Default\"]", "1", "Default", "true"]
    );
}

#[test]
fn list_exists_is_file_and_is_dir_see_the_pack() {
    let packs = plain();
    let path = script(
        &packs,
        "paths",
        "print(list(new, \"bin\"));\n\
         print(list(new, \"no/such/dir\"));\n\
         print(exists(new, \"bin/version.txt\"));\n\
         print(exists(new, \"bin/nope.txt\"));\n\
         print(is_file(new, \"bin/version.txt\"));\n\
         print(is_file(new, \"bin\"));\n\
         print(is_dir(new, \"bin\"));\n\
         print(is_dir(new, \"bin/version.txt\"));\n",
    );
    let mut names: Vec<String> = std::fs::read_dir(packs.new.join("bin"))
        .expect("read bin")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    names.sort();
    let listing = format!(
        "[{}]",
        names
            .iter()
            .map(|name| format!("{name:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let output = packs.test("plan", &path).arg("--json").run();
    output.success();
    assert_eq!(
        script_output(&json(&output.stdout)),
        vec![
            listing.as_str(),
            "[]",
            "true",
            "false",
            "true",
            "false",
            "true",
            "false"
        ]
    );
}

#[test]
fn remind_and_warn_appear_in_the_json_report() {
    let packs = plain();
    let path = script(
        &packs,
        "notes",
        "remind(\"load-balancer\", \"point the load balancer at the 4.1.0 gateways\");\n\
         warn(\"no log4j2.properties in the old pack\");\n",
    );
    let report = packs
        .test("plan", &path)
        .arg("--json")
        .run()
        .success()
        .json();
    let reminders = report["reminders"].as_array().expect("reminders");
    assert!(
        reminders
            .iter()
            .any(|reminder| reminder["id"] == "load-balancer"
                && reminder["message"] == "point the load balancer at the 4.1.0 gateways"),
        "{report}"
    );
    assert_eq!(
        messages(&report, "warnings"),
        vec!["no log4j2.properties in the old pack"]
    );
    assert_eq!(report["summary"]["reminders"], 1);
    assert_eq!(report["summary"]["warnings"], 1);
}

#[test]
fn param_reads_set_values_and_falls_back_to_the_default() {
    let packs = plain();
    let path = script(
        &packs,
        "params",
        "print(param(\"x\", \"d\"));\nprint(param(\"y\", \"fallback\"));\nprint(params.x);\n",
    );
    let report = packs
        .test("plan", &path)
        .args(["--set", "x=1", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(script_output(&report), vec!["1", "fallback", "1"]);
    assert_eq!(report["params"]["x"], "1");

    let without = packs.test("plan", &path).arg("--json").run();
    without.success();
    assert_eq!(
        script_output(&json(&without.stdout))[0],
        "d",
        "the default without --set"
    );
}

#[test]
fn set_without_an_equals_sign_is_refused() {
    let packs = plain();
    let before = snapshot(&packs);
    let path = script(&packs, "params", "print(param(\"x\", \"d\"));\n");
    let output = packs.test("run", &path).args(["--set", "x"]).run();
    output.code(2).stderr_contains("KEY=VALUE");
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert_eq!(snapshot(&packs), before);
}

// ---------------------------------------------------------------------------------------------
// sandbox and errors
// ---------------------------------------------------------------------------------------------

#[test]
fn an_endless_loop_is_stopped_with_an_error_and_changes_nothing() {
    let packs = plain();
    write_file(&packs.old.join("a/b"), b"planned before the loop", 0o644);
    let before = snapshot(&packs);
    let path = script(
        &packs,
        "loop",
        "copy_file(old, \"a/b\", new, \"e/f\");\nloop {}\n",
    );
    let started = Instant::now();
    let output = packs
        .test("run", &path)
        .timeout(Duration::from_secs(60))
        .run();
    let elapsed = started.elapsed();
    let code = output.status.code();
    assert!(
        code.is_some_and(|code| code != 0),
        "stopped by the tool, not by the test's timeout: {:?}\n{}",
        output.status,
        stderr(&output)
    );
    assert!(elapsed < Duration::from_secs(40), "took {elapsed:?}");
    let message = stderr(&output);
    assert!(message.starts_with("error: "), "{message}");
    assert!(message.contains("endless loop?"), "{message}");
    assert!(message.contains(&format!("--> {path}:2:")), "{message}");
    assert!(!packs.new.join("e/f").exists());
    assert_eq!(snapshot(&packs), before);
}

#[test]
fn eval_is_refused() {
    let packs = plain();
    let before = snapshot(&packs);
    let path = script(&packs, "eval", "let x = eval(\"1\");\nprint(x);\n");
    let output = packs.test("plan", &path).run();
    output.code(2);
    let message = stderr(&output);
    assert!(message.contains("eval"), "{message}");
    assert_located(&message, &path, 1);
    assert!(!stdout(&output).contains("script output"));
    assert_eq!(snapshot(&packs), before);
}

#[test]
fn a_runtime_error_is_shown_at_its_script_line_with_a_caret() {
    let packs = plain();
    let before = snapshot(&packs);
    let path = script(
        &packs,
        "throw",
        "let a = 1;\nlet b = a + 1;\nthrow \"boom\";\n",
    );
    let message = packs.test("run", &path).run().code(2).stderr();
    assert!(message.starts_with("error: boom"), "{message}");
    assert_located(&message, &path, 3);
    assert!(message.contains("throw \"boom\";"), "{message}");
    assert_eq!(snapshot(&packs), before);
}

#[test]
fn the_standard_script_refuses_an_api_manager_pack_as_key_manager_even_without_its_header() {
    let packs = Packs::build(
        old_3_0_0(),
        new_4_1_0(),
        Some(PackBuilder::api_manager("4.0.0")),
    );
    let km = packs.km.clone().expect("km");
    let before = snapshot(&packs);
    let km_before = tree(&km, true);
    // The header's `@accepts` refuses it first.
    let output = packs.test("run", "3.0.0-to-4.1.0").run();
    output.code(2);
    assert_eq!(
        stderr(&output),
        format!(
            "error: --km (`{}`) is API-M 4.0.0, but `3.0.0-to-4.1.0` accepts IS 5.11.0 as --km {}; give an IS 5.11.0 pack as --km\n",
            km.display(),
            header_line("3.0.0-to-4.1.0", "@accepts km wso2is 5.11.0 optional")
        )
    );
    assert_eq!(snapshot(&packs), before);
    assert_eq!(tree(&km, true), km_before);

    // A copy that lost its header still refuses it, by `require_version`, at the script line.
    let source = bundled_script("3.0.0-to-4.1.0");
    let body: String = source
        .lines()
        .filter(|line| !line.starts_with("//!"))
        .map(|line| format!("{line}\n"))
        .collect();
    let line = body
        .lines()
        .position(|line| line.starts_with("    require_version(km,"))
        .expect("require_version(km, ...)")
        + 1;
    let path = script(&packs, "headless", &body);
    let message = packs.test("run", &path).run().code(2).stderr();
    let first = message.lines().next().expect("a message");
    assert_eq!(
        first,
        format!(
            "error: `--km` ({}) is WSO2 API Manager 4.0.0, but this script expects WSO2 Identity Server 5.11.0; the Key Manager for API-M 4.1.0 is WSO2 IS 5.11.0",
            km.display()
        )
    );
    assert_located(&message, &path, line);
    assert_eq!(snapshot(&packs), before);
    assert_eq!(tree(&km, true), km_before);
}

/// Many user stores are looked up on all cores, then planned in order: the same actions,
/// statuses and warnings as one by one, including a store reached through a link that leaves
/// the pack, and targets that already hold the same or other content.
#[test]
fn many_user_stores_plan_as_one_by_one() {
    let mut old = sample_packs::PackBuilder::api_manager("3.0.0");
    for tenant in 1..=80 {
        old = old
            .tenant(tenant)
            .userstore(Some(tenant), &format!("staff.tenant{tenant}.example.com"));
    }
    let packs = Packs::build(old, new_4_1_0(), None);
    let store = |tenant: u32| {
        format!("repository/tenants/{tenant}/userstores/staff_tenant{tenant}_example_com.xml")
    };
    let outside = packs.dir.path().join("outside.xml");
    write_file(&outside, b"<UserStoreManager/>", 0o644);
    std::fs::remove_file(packs.old.join(store(7))).expect("remove");
    std::os::unix::fs::symlink(&outside, packs.old.join(store(7))).expect("link");
    for (tenant, content) in [(3, bytes(packs.old.join(store(3)))), (5, b"other".to_vec())] {
        let path = packs.new.join(store(tenant));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        write_file(&path, &content, 0o644);
    }
    let script = script(&packs, "stores.rhai", "copy_tenant_userstores(old, new);\n");
    let report = packs
        .test("plan", &script)
        .arg("--json")
        .run()
        .success()
        .json();
    let actions = report["actions"].as_array().expect("actions");
    let find = |tenant: u32| {
        actions
            .iter()
            .find(|action| action["path"] == store(tenant))
            .unwrap_or_else(|| panic!("no action for tenant {tenant}"))
    };
    assert_eq!(actions.len(), 80);
    assert_eq!(find(1)["effect"], "create");
    assert_eq!(find(1)["source"], format!("old:{}", store(1)));
    assert_eq!(find(3)["status"], "unchanged");
    assert_eq!(find(5)["effect"], "replace");
    assert_eq!(find(7)["status"], "skipped");
    assert!(find(7)["reason"]
        .as_str()
        .is_some_and(|reason| reason.contains("outside the `old` pack")));
    assert!(messages(&report, "warnings")
        .iter()
        .any(|warning| warning.contains("outside the `old` pack")));
    let seqs: Vec<u64> = actions
        .iter()
        .map(|action| action["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=80).collect::<Vec<u64>>(), "planned in order");
}

/// A copy to another path shows where it comes from, in the report and in `--json`.
#[test]
fn a_copy_to_another_path_names_its_origin() {
    let packs = Packs::standard();
    let script = script(
        &packs,
        "origin.rhai",
        "copy_file(old, \"bin/version.txt\", new, \"docs/old-version.txt\");\n",
    );
    let text = packs.test("plan", &script).run().success().stdout();
    assert!(
        text.contains("new:docs/old-version.txt  <- old:bin/version.txt"),
        "{text}"
    );
    let report = packs
        .test("plan", &script)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["actions"][0]["source"], "old:bin/version.txt");
}

/// A report longer than what is printed at a time (64 KiB) comes out whole: every planned
/// file once, in order, then the summary.
#[test]
fn a_long_report_is_printed_whole_and_in_order() {
    let tenants = 1200;
    let mut old = sample_packs::PackBuilder::api_manager("3.0.0");
    for tenant in 1..=tenants {
        old = old
            .tenant(tenant)
            .userstore(Some(tenant), &format!("staff.tenant{tenant}.example.com"));
    }
    let packs = Packs::build(old, new_4_1_0(), None);
    let script = script(&packs, "stores.rhai", "copy_tenant_userstores(old, new);\n");
    let text = packs.test("plan", &script).run().success().stdout();
    assert!(text.len() > 64 * 1024, "{} bytes", text.len());
    let planned: Vec<u32> = text
        .lines()
        .filter(|line| line.trim_start().starts_with("create "))
        .map(|line| {
            let path = line
                .split("new:repository/tenants/")
                .nth(1)
                .expect("a tenant path");
            path.split('/')
                .next()
                .expect("id")
                .parse()
                .expect("a tenant id")
        })
        .collect();
    assert_eq!(
        planned,
        (1..=tenants).collect::<Vec<u32>>(),
        "each once, in order"
    );
    assert_eq!(
        text.lines().rfind(|line| !line.trim().is_empty()),
        Some(
            format!(
                "{tenants} planned, 0 unchanged, 0 skipped; 0 reminders, 0 warnings, 0 findings"
            )
            .as_str()
        ),
        "the summary last:\n{}",
        &text[text.len() - 300..]
    );
}

#[test]
fn a_jar_linked_into_the_old_lib_directory_from_outside_is_reported_and_skipped() {
    let packs = Packs::standard();
    let outside = packs.dir.path().join("outside-driver.jar");
    let driver = std::fs::read_dir(packs.old.join(LIB))
        .expect("lib")
        .filter_map(Result::ok)
        .find(|entry| entry.file_name().to_string_lossy().starts_with("mysql"))
        .expect("a driver")
        .path();
    std::fs::copy(&driver, &outside).expect("copy the driver out");
    std::os::unix::fs::symlink(&outside, packs.old.join(LIB).join("linked.jar")).expect("link");
    let report = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let skipped = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|action| action["path"] == format!("{LIB}/linked.jar"))
        .expect("the linked jar is reported");
    assert_eq!(skipped["status"], "skipped");
    assert!(skipped["reason"]
        .as_str()
        .expect("reason")
        .contains("outside the `old` pack"));
    assert!(!packs.new.join(LIB).join("linked.jar").exists());
    // The real driver is still placed.
    assert!(packs
        .new
        .join(LIB)
        .join(driver.file_name().expect("name"))
        .is_file());
}
