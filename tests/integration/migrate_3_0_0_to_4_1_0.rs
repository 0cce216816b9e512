//! The standard 3.0.0 -> 4.1.0 script, end to end, on packs built in a temp dir.

use crate::support::*;
use sample_packs::PackBuilder;

#[test]
fn plan_changes_nothing_and_lists_every_change() {
    let packs = Packs::standard();
    let old_before = tree(&packs.old, true);
    let new_before = tree(&packs.new, true);
    let output = packs.test("plan", SCRIPT).run();
    output.success();
    assert_eq!(tree(&packs.old, true), old_before);
    assert_eq!(
        tree(&packs.new, true),
        new_before,
        "plan must not even create the history"
    );
    let text = stdout(&output);
    for expected in [
        "create   new:repository/resources/security/partner-truststore.jks",
        "replace  new:repository/resources/security/wso2carbon.jks",
        "create   new:repository/deployment/server/userstores/corp_example_com.xml",
        "create   new:repository/tenants/1/userstores/partner_example_com.xml",
        "create   new:repository/tenants/2/userstores/retail_example_com.xml",
        "create   new:repository/deployment/server/synapse-configs/default/sequences/audit_log.xml",
        "edit     new:repository/conf/deployment.toml",
        "+[apim.sync_runtime_artifacts.gateway.skip_list]",
        "create   new:repository/components/lib/mysql-connector-java-8.0.28.jar",
        "[ciphertool]",
        "[data-migration]",
    ] {
        assert!(text.contains(expected), "plan lacks {expected:?}:\n{text}");
    }
    assert!(text.contains(" planned, "), "{text}");
}

#[test]
fn run_copies_exactly_the_right_files_with_their_bytes_and_modes() {
    let packs = Packs::standard();
    let old_before = tree(&packs.old, true);
    let original_toml = read(packs.new.join(TOML));
    let stock_ssl_profiles = bytes(packs.new.join(SECURITY).join("sslprofiles.xml"));
    let new_auth_handler = bytes(packs.new.join(SEQUENCES).join("_auth_failure_handler_.xml"));

    let output = packs.test("run", SCRIPT).run();
    output.success();
    assert_eq!(
        tree(&packs.old, true),
        old_before,
        "the old pack is never written"
    );

    // Keystores: every keystore, same bytes, same mode; other files of the directory untouched.
    for name in [
        "wso2carbon.jks",
        "client-truststore.jks",
        "partner-truststore.jks",
        "gateway-tls.p12",
    ] {
        let from = packs.old.join(SECURITY).join(name);
        let to = packs.new.join(SECURITY).join(name);
        assert_eq!(bytes(&from), bytes(&to), "{name}");
        assert_eq!(mode(&from), mode(&to), "{name}");
    }
    assert_eq!(
        mode(packs.new.join(SECURITY).join("partner-truststore.jks")),
        0o600
    );
    assert_eq!(
        bytes(packs.new.join(SECURITY).join("sslprofiles.xml")),
        stock_ssl_profiles
    );

    // User stores: super tenant and each tenant, and nothing else of a tenant directory.
    for path in [
        "repository/deployment/server/userstores/corp_example_com.xml",
        "repository/tenants/1/userstores/partner_example_com.xml",
        "repository/tenants/1/userstores/suppliers_example_com.xml",
        "repository/tenants/2/userstores/retail_example_com.xml",
    ] {
        assert_eq!(
            bytes(packs.old.join(path)),
            bytes(packs.new.join(path)),
            "{path}"
        );
    }
    let copied_tenant_files: Vec<String> = tree(&packs.new.join("repository/tenants"), false)
        .into_iter()
        .filter(|(_, (kind, _, _))| kind == "file")
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        copied_tenant_files,
        vec![
            "1/userstores/partner_example_com.xml",
            "1/userstores/suppliers_example_com.xml",
            "2/userstores/retail_example_com.xml",
        ]
    );
    assert!(
        !packs.new.join("repository/tenants/3").exists(),
        "a tenant without user stores gets nothing"
    );

    // Sequences: custom ones copied; the customised stock one and API sequences not.
    for name in [
        "audit_log.xml",
        "correlation_id.xml",
        "strip_internal_headers.xml",
    ] {
        assert_eq!(
            bytes(packs.old.join(SEQUENCES).join(name)),
            bytes(packs.new.join(SEQUENCES).join(name))
        );
    }
    assert_eq!(
        bytes(packs.new.join(SEQUENCES).join("_auth_failure_handler_.xml")),
        new_auth_handler
    );
    assert!(!packs
        .new
        .join(SEQUENCES)
        .join("admin--PizzaShackAPI:v1.0.0--In.xml")
        .exists());

    // deployment.toml: every original line kept, in order, but those the configuration step
    // replaced, plus the skip list.
    let edited = read(packs.new.join(TOML));
    assert_lines_kept(&lines_config_kept(&original_toml, &packs.new), &edited);
    let document: toml_edit::DocumentMut = edited.parse().expect("valid TOML");
    let sequences = document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]["sequences"]
        .as_array()
        .expect("skip list array");
    let names: Vec<&str> = sequences
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    assert_eq!(
        names,
        vec![
            "audit_log.xml",
            "correlation_id.xml",
            "strip_internal_headers.xml"
        ]
    );

    // JDBC: the driver, not the extension jar.
    let driver = "mysql-connector-java-8.0.28.jar";
    assert_eq!(
        bytes(packs.old.join(LIB).join(driver)),
        bytes(packs.new.join(LIB).join(driver))
    );
    assert!(!packs
        .new
        .join(LIB)
        .join("acme-custom-handler-1.2.jar")
        .exists());

    let text = stdout(&output);
    assert!(text.contains(" changed, "), "{text}");
    assert!(
        text.contains("_auth_failure_handler_.xml"),
        "customised stock sequence reported:\n{text}"
    );
    assert!(
        text.contains("acme-custom-handler-1.2.jar"),
        "extension jar reminded:\n{text}"
    );
}

#[test]
fn a_second_run_changes_nothing_and_says_so() {
    let packs = Packs::standard();
    packs.test("run", SCRIPT).run().success();
    let after_first = tree(&packs.new, false);
    let report = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["summary"]["changed"], 0);
    assert_eq!(report["outcome"], "nothing to do");
    for action in report["actions"].as_array().expect("actions") {
        let status = action["status"].as_str().expect("status");
        assert!(["unchanged", "skipped"].contains(&status), "{action}");
    }
    assert_eq!(tree(&packs.new, false), after_first);
    packs
        .test("run", SCRIPT)
        .run()
        .stdout_contains("nothing to do: 0 changed");
}

#[test]
fn rollback_restores_the_packs_byte_for_byte_and_mode_for_mode() {
    let packs = Packs::build(
        old_3_0_0(),
        new_4_1_0(),
        Some(PackBuilder::identity_server("5.11.0")),
    );
    let km = packs.km.clone().expect("km");
    let new_before = tree(&packs.new, false);
    let km_before = tree(&km, false);
    packs.test("run", SCRIPT).run().success();
    assert_ne!(tree(&packs.new, false), new_before);
    assert_ne!(tree(&km, false), km_before);
    // The Key Manager got keystores and user stores too.
    assert!(km.join(SECURITY).join("partner-truststore.jks").is_file());
    assert!(km
        .join("repository/tenants/1/userstores/partner_example_com.xml")
        .is_file());

    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .success()
        .stdout_contains("rolled back run");
    assert_eq!(tree(&packs.new, false), new_before);
    assert_eq!(
        tree(&km, false),
        km_before,
        "the run's other target pack is restored too"
    );

    // Nothing left to roll back: said so, exit 0, nothing changed.
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .unchanged(&packs.new)
        .run()
        .success()
        .stdout_contains("nothing to roll back");
}

#[test]
fn rollback_refuses_to_overwrite_files_changed_after_the_run_unless_forced() {
    let packs = Packs::standard();
    let before = tree(&packs.new, false);
    packs.test("run", SCRIPT).run().success();
    let toml = packs.new.join(TOML);
    let mut edited = read(&toml);
    edited.push_str("\n# changed by hand after the run\n");
    std::fs::write(&toml, &edited).expect("write");
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .code(2)
        .stderr_contains("deployment.toml");
    assert_eq!(read(&toml), edited, "nothing restored while refusing");
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .arg("--force")
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), before);
}

#[test]
fn json_report_has_the_documented_fields() {
    let packs = Packs::standard();
    let plan = packs.test("plan", SCRIPT).arg("--json").run();
    plan.success();
    let plan = json(&plan.stdout);
    assert!(plan["run_id"].is_null());
    assert_eq!(plan["script"]["name"], SCRIPT);
    assert_eq!(plan["packs"]["old"]["version"], "3.0.0");
    assert_eq!(plan["packs"]["new"]["version"], "4.1.0");
    assert!(plan["packs"]["km"].is_null());
    let actions = plan["actions"].as_array().expect("actions");
    assert!(actions.iter().any(|action| action["status"] == "planned"));
    for action in actions {
        for field in ["primitive", "action", "path", "status"] {
            assert!(action[field].is_string(), "{field} in {action}");
        }
    }
    for reminder in plan["reminders"].as_array().expect("reminders") {
        assert!(reminder["id"].is_string() && reminder["message"].is_string());
    }
    assert!(plan["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .all(|warning| warning["message"].is_string()));

    let run = packs.test("run", SCRIPT).arg("--json").run();
    run.success();
    let run = json(&run.stdout);
    assert!(run["run_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(run["outcome"], "done");
    assert!(run["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .any(|action| action["status"] == "changed"));
    assert!(!run["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .any(|action| action["status"] == "planned"));
}

#[test]
fn wrong_versions_are_refused_before_anything_changes() {
    // (old, new, the refusal without its pack directory, after `error: --ROLE (`DIR`) is`)
    let cases = [
        (
            PackBuilder::api_manager("2.0.0"),
            new_4_1_0(),
            "--old",
            format!(
                "API-M 2.0.0, but `{SCRIPT}` accepts API-M 3.0.0 as --old {}; give an API-M 3.0.0 pack as --old; the bundled script `to-4.x` takes API-M 2.0.0 to 4.1.0 (`apim-migrate path 2.0.0 4.1.0` tells more)",
                header_line(SCRIPT, "@accepts old wso2am 3.0.0")
            ),
        ),
        (
            old_3_0_0(),
            PackBuilder::api_manager("4.0.0"),
            "--new",
            format!(
                "API-M 4.0.0, but `{SCRIPT}` accepts API-M 4.1.0 as --new {}; give an API-M 4.1.0 pack as --new",
                header_line(SCRIPT, "@accepts new wso2am 4.1.0")
            ),
        ),
        (
            PackBuilder::api_manager("1.9.0").without_version_txt(),
            new_4_1_0(),
            "--old",
            format!(
                "API-M 1.9.0, but `{SCRIPT}` accepts API-M 3.0.0 as --old {}; give an API-M 3.0.0 pack as --old; API-M 1.9.0 goes to 4.1.0 through 2.0.0: run `1.x-to-4.x` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `to-4.x` (`apim-migrate path 1.9.0 4.1.0` tells more)",
                header_line(SCRIPT, "@accepts old wso2am 3.0.0")
            ),
        ),
    ];
    for (old, new, flag, refusal) in cases {
        let packs = Packs::build(old, new, None);
        let old_before = tree(&packs.old, true);
        let new_before = tree(&packs.new, true);
        let output = packs.test("run", SCRIPT).run();
        output.code(2);
        let home = if flag == "--old" {
            &packs.old
        } else {
            &packs.new
        };
        assert_eq!(
            stderr(&output),
            format!("error: {flag} (`{}`) is {refusal}\n", home.display())
        );
        assert_eq!(tree(&packs.old, true), old_before);
        assert_eq!(tree(&packs.new, true), new_before);
    }
}

#[test]
fn swapped_or_equal_packs_are_refused() {
    let packs = Packs::standard();
    let before = tree(&packs.new, true);
    Test::new()
        .args(["run", SCRIPT, "--old"])
        .arg(&packs.new)
        .arg("--new")
        .arg(&packs.old)
        .run()
        .code(2)
        .stderr_contains("swapped");
    Test::new()
        .args(["run", SCRIPT, "--old"])
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.old)
        .run()
        .code(2)
        .stderr_contains("same pack");
    assert_eq!(tree(&packs.new, true), before);
}

#[test]
fn a_failure_while_applying_takes_back_everything_and_exits_1() {
    let packs = Packs::standard();
    let before = tree(&packs.new, false);
    packs
        .test("run", SCRIPT)
        .env("APIM_MIGRATE_INJECT_FAILURE", "5")
        .run()
        .code(1)
        .stderr_contains("taken back");
    assert_eq!(tree(&packs.new, false), before);
    Test::new()
        .arg("history")
        .arg(&packs.new)
        .run()
        .stdout_contains("taken back");
}

#[test]
fn secure_vault_gives_the_cipher_tool_reminder_and_its_absence_is_recorded() {
    let packs = Packs::standard();
    let report = packs.test("plan", SCRIPT).arg("--json").run().json();
    let reminder = report["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .find(|reminder| reminder["id"] == "ciphertool")
        .expect("ciphertool reminder")
        .clone();
    let message = reminder["message"].as_str().expect("message");
    assert!(
        message.contains(&format!(
            "{}/bin/ciphertool.sh -Dconfigure",
            packs.new.display()
        )),
        "{message}"
    );
    assert!(message.contains("ciphertool.bat -Dconfigure"), "{message}");
    assert!(message.contains("apim_db_password"), "{message}");

    let plain = Packs::build(PackBuilder::api_manager("3.0.0"), new_4_1_0(), None);
    let report = plain.test("plan", SCRIPT).arg("--json").run().json();
    assert!(!report["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .any(|r| r["id"] == "ciphertool"));
    assert!(report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .any(|action| {
            action["primitive"] == "remind_ciphertool"
                && action["reason"]
                    .as_str()
                    .is_some_and(|reason| reason.contains("not in use"))
        }));
}

#[test]
fn history_lists_runs_and_rollbacks() {
    let packs = Packs::standard();
    packs.test("run", SCRIPT).run().success();
    packs.test("run", SCRIPT).run().success();
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .success();
    // The second run changed nothing: listed with `--all` only.
    let text = Test::new().arg("history").arg(&packs.new).run().stdout();
    assert!(text.contains("rolled back"), "{text}");
    assert_eq!(text.matches(SCRIPT).count(), 1, "{text}");
    assert!(
        text.contains("1 run that changed nothing is not shown (`--all` lists it)"),
        "{text}"
    );
    let text = Test::new()
        .args(["history", "--all"])
        .arg(&packs.new)
        .run()
        .stdout();
    assert!(text.contains("complete     0 changes"), "{text}");
    assert!(text.contains("rolled back  14 changes"), "{text}");
    assert_eq!(text.matches(SCRIPT).count(), 2, "{text}");
}
