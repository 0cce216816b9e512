//! `verify DIR`: a clean migrated pack exits 0; each problem it knows is found, with its
//! file and line where known and what to do, and exit 1; bad input exits 2. It never changes
//! the pack.

use crate::support::*;
use sample_packs::PackBuilder;
use std::path::{Path, PathBuf};

fn verify(pack: &Path) -> Test {
    Test::new().arg("verify").arg(pack).unchanged(pack)
}

/// A fresh 4.1.0 pack in its own temp dir.
fn fresh() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = PackBuilder::api_manager("4.1.0")
        .write(&dir.path().join("new"))
        .expect("pack");
    (dir, home)
}

fn append_toml(home: &Path, text: &str) {
    let path = home.join(TOML);
    let mut toml = read(&path);
    toml.push_str(text);
    std::fs::write(path, toml).expect("write");
}

/// The problems of a `verify --json` that exits 1.
fn problems(home: &Path) -> Vec<serde_json::Value> {
    let report = verify(home).arg("--json").run().code(1).json();
    assert_eq!(report["command"], "verify");
    assert_eq!(report["outcome"], "problems");
    report["problems"].as_array().expect("problems").clone()
}

fn find<'a>(problems: &'a [serde_json::Value], check: &str) -> &'a serde_json::Value {
    problems
        .iter()
        .find(|problem| problem["check"] == check)
        .unwrap_or_else(|| panic!("no `{check}` problem in {problems:?}"))
}

#[test]
fn a_pack_migrated_by_the_standard_script_is_clean() {
    let packs = Packs::standard();
    packs.test("run", "3.0.0-to-4.1.0").run().success();
    let output = verify(&packs.new)
        .arg("--stock")
        .arg(&packs.stock)
        .run()
        .success()
        .stdout();
    assert!(output.contains("no problems found"), "{output}");
    let report = verify(&packs.new).arg("--json").run().success().json();
    assert_eq!(report["outcome"], "clean");
    assert_eq!(report["problems"].as_array().map(Vec::len), Some(0));
    // -q prints nothing, the exit code says it.
    let quiet = verify(&packs.new).arg("-q").run().success().stdout();
    assert_eq!(quiet, "");
}

#[test]
fn a_deployment_toml_that_does_not_parse_is_named_with_its_line() {
    let (_dir, home) = fresh();
    append_toml(&home, "\n[apim.analytics\nenable = true\n");
    let problems = problems(&home);
    let problem = find(&problems, "toml");
    assert_eq!(problem["file"], TOML);
    assert!(problem["line"].as_u64().is_some(), "{problem}");
    let output = verify(&home).run().code(1).stdout();
    assert!(output.contains("1 problem found"), "{output}");
}

#[test]
fn a_key_the_templates_do_not_read_is_found_and_the_near_name_suggested() {
    let (_dir, home) = fresh();
    append_toml(
        &home,
        "\n[apim.sync_runtime_artifacts.gateway.skip_list]\nlocal-entries = [\"partner-config.xml\"]\n",
    );
    let problems = problems(&home);
    let problem = find(&problems, "unread-key");
    assert!(problem["message"]
        .as_str()
        .unwrap_or_default()
        .contains("local-entries"));
    assert!(
        problem["fix"]
            .as_str()
            .unwrap_or_default()
            .contains("`apim.sync_runtime_artifacts.gateway.skip_list.local_entries`"),
        "{problem}"
    );
    let lines = read(home.join(TOML)).lines().count() as u64;
    assert_eq!(problem["line"].as_u64(), Some(lines));
}

#[test]
fn skip_lists_naming_stock_or_missing_files_are_found() {
    let (_dir, home) = fresh();
    append_toml(
        &home,
        "\n[apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [\"main.xml\", \"ghost.xml\"]\n",
    );
    let problems = problems(&home);
    let skip: Vec<&serde_json::Value> = problems
        .iter()
        .filter(|problem| problem["check"] == "skip-list")
        .collect();
    assert_eq!(skip.len(), 2, "{problems:?}");
    assert!(skip.iter().any(|problem| problem["message"]
        .as_str()
        .unwrap_or_default()
        .contains("`main.xml`, a stock file")));
    assert!(skip.iter().any(|problem| problem["message"]
        .as_str()
        .unwrap_or_default()
        .contains("`ghost.xml`")));
}

#[test]
fn a_keystore_that_does_not_exist_is_found() {
    let (_dir, home) = fresh();
    append_toml(
        &home,
        "\n[keystore.primary]\nfile_name = \"signing.jks\"\npassword = \"x\"\n",
    );
    let problems = problems(&home);
    assert!(find(&problems, "keystore")["message"]
        .as_str()
        .unwrap_or_default()
        .contains("signing.jks"));
}

#[test]
fn a_database_without_its_jdbc_driver_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = PackBuilder::api_manager("4.1.0")
        .database("apim_db", "mysql", "jdbc:mysql://db:3306/apim")
        .write(&dir.path().join("new"))
        .expect("pack");
    let problems = problems(&home);
    assert!(find(&problems, "jdbc-driver")["message"]
        .as_str()
        .unwrap_or_default()
        .contains("mysql"));
    // With the driver in place the pack is clean.
    let with_driver = PackBuilder::api_manager("4.1.0")
        .database("apim_db", "mysql", "jdbc:mysql://db:3306/apim")
        .jdbc_driver("mysql-connector-j-8.0.33.jar", "com.mysql.cj.jdbc.Driver")
        .write(&dir.path().join("with-driver"))
        .expect("pack");
    verify(&with_driver).run().success();
}

#[test]
fn a_secret_without_its_entry_and_secrets_not_last_are_found() {
    let (_dir, home) = fresh();
    let path = home.join(TOML);
    let toml = read(&path).replace(
        "[super_admin]\nusername = \"admin\"\npassword = \"admin\"",
        "[super_admin]\nusername = \"admin\"\npassword = \"$secret{admin_password}\"",
    );
    std::fs::write(
        &path,
        format!("{toml}\n[secrets]\nother = \"abc\"\n\n[apim.devportal]\nenable_ratings = false\n"),
    )
    .expect("write");
    let problems = problems(&home);
    let secrets: Vec<&serde_json::Value> = problems
        .iter()
        .filter(|problem| problem["check"] == "secrets")
        .collect();
    assert!(
        secrets.iter().any(|problem| problem["message"]
            .as_str()
            .unwrap_or_default()
            .contains("not the last table")),
        "{secrets:?}"
    );
    let alias = secrets
        .iter()
        .find(|problem| {
            problem["message"]
                .as_str()
                .unwrap_or_default()
                .contains("admin_password")
        })
        .expect("the alias without an entry");
    let line = read(&path)
        .lines()
        .position(|line| line.contains("$secret{admin_password}"))
        .map(|n| n as u64 + 1);
    assert_eq!(alias["line"].as_u64(), line);
}

#[test]
fn a_1_x_log4j_file_and_the_tenant_loader_left_behind_are_found() {
    let (_dir, home) = fresh();
    write_file(
        &home.join("repository/conf/log4j.properties"),
        b"log4j.rootLogger=INFO\n",
        0o644,
    );
    write_file(
        &home.join("repository/components/dropins/tenantloader-1.0.jar"),
        b"PK",
        0o644,
    );
    let problems = problems(&home);
    assert_eq!(
        find(&problems, "log4j")["file"],
        "repository/conf/log4j.properties"
    );
    assert_eq!(
        find(&problems, "tenantloader")["file"],
        "repository/components/dropins/tenantloader-1.0.jar"
    );
}

#[test]
fn gateway_labels_that_deploy_none_of_the_environments_are_found() {
    let (_dir, home) = fresh();
    let path = home.join(TOML);
    let toml = read(&path).replacen("name = \"Default\"", "name = \"Production and Sandbox\"", 1);
    std::fs::write(&path, toml).expect("write");
    let problems = problems(&home);
    let problem = find(&problems, "gateway-environment");
    assert!(
        problem["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Production and Sandbox"),
        "{problem}"
    );
    assert!(problem["line"].as_u64().is_some());
}

#[test]
fn a_directory_that_is_no_3_x_or_4_x_pack_is_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = PackBuilder::api_manager("2.0.0")
        .write(&dir.path().join("old"))
        .expect("pack");
    let report = verify(&old).arg("--json").run().code(2).json();
    assert_eq!(report["outcome"], "error");
    assert!(report["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("3.0.0 and later"));
    Test::new()
        .arg("verify")
        .arg(dir.path().join("missing"))
        .run()
        .code(2)
        .stderr_contains("does not exist");
}
