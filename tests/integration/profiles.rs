//! Profiles: detection from deployment.toml and the templates, `--profile`/`--old-profile`,
//! and the standard scripts acting per profile, with the report saying what was skipped.

use crate::support::*;
use sample_packs::PackBuilder;

/// The realistic 3.0.0 pack, as a node of `profile`.
fn old_node(profile: &str) -> PackBuilder {
    old_3_0_0().profile(profile)
}

fn fresh_4_1_0() -> PackBuilder {
    new_4_1_0()
}

fn skipped(report: &serde_json::Value) -> Vec<(String, String)> {
    report["skipped_for_profile"]
        .as_array()
        .expect("skipped_for_profile")
        .iter()
        .map(|skip| {
            (
                skip["capability"].as_str().expect("capability").to_string(),
                skip["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

#[test]
fn detect_tells_the_profile_from_server_role_and_the_templates() {
    let packs = Packs::build(old_node("gateway-worker"), fresh_4_1_0(), None);
    let text = Test::new()
        .arg("detect")
        .arg(&packs.old)
        .arg(&packs.new)
        .run()
        .success()
        .stdout();
    assert!(
        text.contains(
            "profile           gateway-worker (server_role = \"gateway-worker\" in repository/conf/deployment.toml, as in deployment-templates/gateway-worker.toml)"
        ),
        "{text}"
    );
    assert!(
        text.contains("profile           all-in-one (server_role = \"default\" in repository/conf/deployment.toml)"),
        "{text}"
    );

    // `profileSetup.sh` copies the template over deployment.toml.
    let template = bytes(
        packs
            .new
            .join("repository/resources/conf/deployment-templates/traffic-manager.toml"),
    );
    write_file(&packs.new.join(TOML), &template, 0o644);
    let detected = Test::new()
        .args(["detect", "--json"])
        .arg(&packs.new)
        .run()
        .json();
    assert_eq!(
        detected["packs"][0]["profile"]["name"], "traffic-manager",
        "{detected}"
    );
    assert_eq!(
        detected["packs"][0]["profile"]["decided_by"],
        "repository/conf/deployment.toml is deployment-templates/traffic-manager.toml"
    );

    // A server_role no template has: all-in-one, and the report says why.
    let text = read(packs.old.join(TOML)).replace(
        "server_role = \"gateway-worker\"",
        "server_role = \"edge-gateway\"",
    );
    write_file(&packs.old.join(TOML), text.as_bytes(), 0o644);
    let detected = Test::new()
        .args(["detect", "--json"])
        .arg(&packs.old)
        .run()
        .json();
    assert_eq!(detected["packs"][0]["profile"]["name"], "all-in-one");
    assert_eq!(
        detected["packs"][0]["profile"]["decided_by"],
        "server_role = \"edge-gateway\" in repository/conf/deployment.toml, which is no profile of API-M 3.x: all-in-one assumed"
    );

    // 2.x packs have no deployment.toml: nothing to tell from.
    let dir = tempfile::tempdir().expect("temp dir");
    let old_2 = PackBuilder::api_manager("2.0.0")
        .write(&dir.path().join("am2"))
        .expect("write");
    let detected = Test::new()
        .args(["detect", "--json"])
        .arg(&old_2)
        .run()
        .json();
    assert_eq!(detected["packs"][0]["profile"]["name"], "all-in-one");
    assert!(detected["packs"][0]["profile"]["decided_by"]
        .as_str()
        .expect("decided_by")
        .contains("-Dprofile"));
}

#[test]
fn a_gateway_node_takes_keystores_drivers_and_sequences_but_no_user_stores() {
    // The new pack is fresh (all-in-one by its stock deployment.toml): it becomes what the
    // old node's profile becomes, a gateway-worker.
    let packs = Packs::build(old_node("gateway-worker"), fresh_4_1_0(), None);
    let report = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["packs"]["new"]["profile"]["name"], "gateway-worker");
    assert!(report["packs"]["new"]["profile"]["decided_by"]
        .as_str()
        .expect("decided_by")
        .starts_with("the old pack's profile"));
    assert_eq!(report["packs"]["old"]["profile"]["name"], "gateway-worker");

    assert_eq!(
        bytes(packs.new.join(SECURITY).join("partner-truststore.jks")),
        bytes(packs.old.join(SECURITY).join("partner-truststore.jks"))
    );
    assert!(packs.new.join(SEQUENCES).join("audit_log.xml").is_file());
    assert!(read(packs.new.join(TOML)).contains("skip_list"));
    assert!(packs
        .new
        .join(LIB)
        .join("mysql-connector-java-8.0.28.jar")
        .is_file());
    assert!(!packs
        .new
        .join(USERSTORES)
        .join("corp_example_com.xml")
        .exists());
    assert!(!packs.new.join("repository/tenants/1").exists());

    let skips = skipped(&report);
    assert_eq!(
        skips,
        [
            (
                "users".to_string(),
                "`new` is a gateway-worker node, which does not manage users".to_string()
            ),
            (
                "migration-client".to_string(),
                "`new` is a gateway-worker node, which does not run the API-M migration client"
                    .to_string()
            ),
        ]
    );
    let reminders = reminder_ids(&report);
    assert!(reminders.contains(&"config-migration".to_string()));
    assert!(
        !reminders.contains(&"data-migration".to_string()),
        "{reminders:?}"
    );
    assert!(!reminders.contains(&"reindex".to_string()));

    // The human report says the same.
    let packs = Packs::build(old_node("gateway-worker"), fresh_4_1_0(), None);
    let text = packs.test("plan", SCRIPT).run().stdout();
    assert!(text.contains("API-M 4.1.0, gateway-worker"), "{text}");
    assert!(
        flat(&text).contains("skipped for the profile - secondary user stores (super tenant and tenants): `new` is a gateway-worker node, which does not manage users - the data migration"),
        "{text}"
    );
}

#[test]
fn a_traffic_manager_takes_only_what_every_node_needs() {
    let packs = Packs::build(old_node("traffic-manager"), fresh_4_1_0(), None);
    let toml_before = bytes(packs.new.join(TOML));
    let report = packs
        .test("run", SCRIPT)
        .args(["--profile", "traffic-manager", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(report["packs"]["new"]["profile"]["decided_by"], "--profile");
    assert_eq!(
        only_configured(&report, &toml_before, &packs.new),
        "",
        "no skip list: deployment.toml changed by the configuration step only"
    );
    assert!(!packs.new.join(SEQUENCES).join("audit_log.xml").exists());
    assert!(!packs
        .new
        .join(USERSTORES)
        .join("corp_example_com.xml")
        .exists());
    assert!(packs.new.join(SECURITY).join("gateway-tls.p12").is_file());
    assert!(packs
        .new
        .join(LIB)
        .join("mysql-connector-java-8.0.28.jar")
        .is_file());
    let capabilities: Vec<String> = skipped(&report).into_iter().map(|(key, _)| key).collect();
    assert_eq!(capabilities, ["users", "gateway", "migration-client"]);
}

#[test]
fn a_key_manager_becomes_the_control_plane_and_takes_all_but_the_gateway_artifacts() {
    let packs = Packs::build(old_node("api-key-manager"), fresh_4_1_0(), None);
    let report = packs
        .test("run", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["packs"]["new"]["profile"]["name"], "control-plane");
    assert!(report["packs"]["new"]["profile"]["decided_by"]
        .as_str()
        .expect("decided_by")
        .contains("api-key-manager"));
    // The new pack's own infer.json turns the control plane's gateway artifact sync off.
    let skips = skipped(&report);
    assert_eq!(skips.len(), 1, "{skips:?}");
    assert_eq!(skips[0].0, "gateway");
    assert!(
        skips[0].1.contains("`apim.sync_runtime_artifacts.gateway.enable = false` by `server_role = \"control-plane\"` in `repository/resources/conf/infer.json`"),
        "{skips:?}"
    );
    assert!(packs
        .new
        .join(USERSTORES)
        .join("corp_example_com.xml")
        .is_file());
    assert!(packs
        .new
        .join("repository/tenants/2/userstores/retail_example_com.xml")
        .is_file());
    assert!(!packs.new.join(SEQUENCES).join("audit_log.xml").exists());
    let reminders = reminder_ids(&report);
    assert!(reminders.contains(&"data-migration".to_string()));
    assert!(reminders.contains(&"reindex".to_string()));
}

#[test]
fn an_all_in_one_pack_migrates_as_before() {
    let packs = Packs::standard();
    let report = packs.test("plan", SCRIPT).arg("--json").run().json();
    assert_eq!(report["packs"]["new"]["profile"]["name"], "all-in-one");
    assert_eq!(skipped(&report), []);
    assert!(stdout(&packs.test("plan", SCRIPT).run()).contains("API-M 4.1.0, all-in-one"));
}

#[test]
fn a_profile_the_old_node_cannot_become_is_refused_before_anything_changes() {
    let packs = Packs::build(old_node("gateway-worker"), fresh_4_1_0(), None);
    let before = tree(&packs.new, true);
    let error = packs
        .test("run", SCRIPT)
        .args(["--profile", "control-plane"])
        .run()
        .code(2)
        .stderr();
    assert!(
        error.contains("--new is to be a control-plane node (--profile), but the old pack is a gateway-worker node (server_role = \"gateway-worker\""),
        "{error}"
    );
    assert!(
        error.contains("which becomes gateway-worker in API-M 4.x"),
        "{error}"
    );
    assert_eq!(error.trim().lines().count(), 1, "{error}");
    assert_eq!(tree(&packs.new, true), before);

    // `--old-profile` corrects a misread old node.
    packs
        .test("plan", SCRIPT)
        .args([
            "--profile",
            "control-plane",
            "--old-profile",
            "api-publisher",
        ])
        .run()
        .success();
}

#[test]
fn an_unknown_profile_lists_the_profiles_of_the_pack() {
    let packs = Packs::standard();
    let output = packs
        .test("plan", SCRIPT)
        .args(["--profile", "api-publisher"])
        .run();
    output.code(2);
    assert!(stderr(&output).contains("--profile `api-publisher` is no profile of API-M 4.1.0"));
    assert!(stderr(&output)
        .contains("give one of all-in-one, control-plane, gateway-worker, traffic-manager"));
    let output = packs
        .test("plan", SCRIPT)
        .args(["--old-profile", "control-plane"])
        .run();
    output.code(2);
    assert!(stderr(&output).contains("--old-profile `control-plane` is no profile of API-M 3.0.0"));
}

#[test]
fn a_profile_given_against_the_new_pack_s_own_is_noted() {
    let packs = Packs::build(old_3_0_0(), new_4_1_0().profile("gateway-worker"), None);
    let output = packs
        .test("plan", SCRIPT)
        .args(["--profile", "traffic-manager"])
        .run();
    output.success();
    let text = flat(&stdout(&output));
    assert!(
        text.contains("--new says its profile is gateway-worker"),
        "{text}"
    );
    assert!(
        text.contains("planned for traffic-manager as --profile says"),
        "{text}"
    );
}

#[test]
fn profile_has_refuses_an_unknown_capability() {
    let packs = Packs::standard();
    let path = script(
        &packs,
        "site.rhai",
        r#"if profile_has(new, "gatway", "sequences") { add_skip_sequences(old, new); }"#,
    );
    packs.test("plan", &path).run().code(2).stderr_contains(
        "profile_has: no capability `gatway`; one of gateway, users, migration-client",
    );
}

#[test]
fn only_the_node_that_runs_the_migration_client_stops_for_the_2_0_0_data_migration() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = PackBuilder::api_manager("1.9.0")
        .keystore("partner.jks", "partner")
        .custom_sequence("audit_log")
        .write(&dir.path().join("old"))
        .expect("write");
    let via = PackBuilder::api_manager("2.0.0")
        .write(&dir.path().join("via"))
        .expect("write");
    let new = PackBuilder::api_manager("4.0.0")
        .write(&dir.path().join("new"))
        .expect("write");
    let run = |profile: &str| {
        Test::new()
            .args(["run", "1.x-to-4.0.0", "--json"])
            .arg("--old")
            .arg(&old)
            .arg("--via")
            .arg(&via)
            .arg("--new")
            .arg(&new)
            .args(["--old-profile", "gateway-worker", "--profile", profile])
            .run()
    };
    let output = run("gateway-worker");
    output.success();
    let report = json(&output.stdout);
    assert_eq!(
        report["outcome"], "done",
        "a gateway goes through both steps"
    );
    assert_eq!(report["packs"]["via"]["profile"]["name"], "gateway-worker");
    assert!(new
        .join("repository/deployment/server/synapse-configs/default/sequences/audit_log.xml")
        .is_file());
    let what: Vec<&str> = report["skipped_for_profile"]
        .as_array()
        .expect("skips")
        .iter()
        .map(|skip| skip["what"].as_str().expect("what"))
        .collect();
    assert!(
        what.contains(&"the checkpoint for the 2.0.0 data migration"),
        "{what:?}"
    );
}

#[test]
fn the_repl_takes_a_profile_and_scripts_see_it() {
    let packs = Packs::build(old_node("api-publisher"), fresh_4_1_0(), None);
    let history = packs.dir.path().join("history");
    let input = "print(`${old.profile} -> ${new.profile} by ${new.profile_decided_by}`);\nprint(profile_has(new, \"gateway\", \"sequences\"));\n";
    let text = Test::new()
        .arg("repl")
        .arg("--old")
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .args(["--profile", "control-plane"])
        .env("APIM_MIGRATE_HISTORY", &history)
        .stdin(input)
        .run()
        .success()
        .stdout();
    assert!(
        text.contains("api-publisher -> control-plane by --profile"),
        "{text}"
    );
    assert!(
        text.contains("false"),
        "a control plane syncs no gateway artifacts: {text}"
    );

    let output = Test::new()
        .arg("repl")
        .arg("--old")
        .arg(&packs.old)
        .args(["--profile", "control-plane"])
        .run();
    output.code(2);
    assert!(
        stderr(&output).contains("--profile is the new pack's profile: give the pack with --new")
    );
}

/// A 3.2.0 node with the four kinds of custom gateway artifacts.
fn artifacts_3_2_0(profile: &str) -> PackBuilder {
    PackBuilder::api_manager("3.2.0")
        .profile(profile)
        .custom_sequence("audit_log")
        .custom_synapse_artifact("endpoints", "BackendEP")
        .custom_synapse_artifact("local-entries", "partner-config")
        .custom_synapse_artifact("api", "HealthCheckAPI")
}

#[test]
fn only_the_nodes_that_run_a_gateway_get_the_custom_artifacts_and_the_skip_lists() {
    let carried = [
        "repository/deployment/server/synapse-configs/default/sequences/audit_log.xml",
        "repository/deployment/server/synapse-configs/default/endpoints/BackendEP.xml",
        "repository/deployment/server/synapse-configs/default/local-entries/partner-config.xml",
        "repository/deployment/server/synapse-configs/default/api/HealthCheckAPI.xml",
    ];
    // (old node, --profile, whether the new node gets them)
    for (old_profile, new_profile, gateway) in [
        ("default", None, true),
        ("gateway-worker", None, true),
        ("api-publisher", Some("control-plane"), false),
        ("api-key-manager", None, false),
    ] {
        let packs = Packs::build(
            artifacts_3_2_0(old_profile),
            PackBuilder::api_manager("4.5.0"),
            None,
        );
        let toml_before = read(packs.new.join(TOML));
        let mut test = packs.test("run", "to-4.x").arg("--json");
        if let Some(profile) = new_profile {
            test = test.args(["--profile", profile]);
        }
        let report = test.run().success().json();
        let node = report["packs"]["new"]["profile"]["name"]
            .as_str()
            .expect("profile")
            .to_string();
        for path in carried {
            assert_eq!(packs.new.join(path).is_file(), gateway, "{node}: {path}");
        }
        let edited = read(packs.new.join(TOML));
        assert_eq!(
            edited.contains("[apim.sync_runtime_artifacts.gateway.skip_list]"),
            gateway,
            "{node}"
        );
        if !gateway {
            assert_eq!(
                only_configured(&report, toml_before.as_bytes(), &packs.new),
                "",
                "{node}: deployment.toml changed by the configuration step only"
            );
            assert_eq!(node, "control-plane");
            assert!(skipped(&report)
                .iter()
                .any(|(capability, reason)| capability == "gateway"
                    && reason.contains("gateway artifact sync is off")));
        }
    }
}

#[test]
fn a_3_x_publisher_may_stay_apart_where_the_new_pack_keeps_its_deprecated_profile() {
    let packs = Packs::build(
        old_node("api-publisher"),
        PackBuilder::api_manager("4.1.0"),
        None,
    );
    let report = packs
        .test("plan", SCRIPT)
        .args(["--profile", "api-publisher-deprecated", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(
        report["packs"]["new"]["profile"]["name"],
        "api-publisher-deprecated"
    );
    // A publisher authenticates users but runs no gateway and no migration client.
    let capabilities: Vec<String> = skipped(&report).into_iter().map(|(key, _)| key).collect();
    assert_eq!(capabilities, ["gateway", "migration-client"]);

    // 4.2.0 ships no api-publisher-deprecated profile: refused, naming the ones it has.
    let packs = Packs::build(
        old_node("api-publisher"),
        PackBuilder::api_manager("4.2.0"),
        None,
    );
    packs
        .test("plan", "to-4.x")
        .args(["--profile", "api-publisher-deprecated"])
        .unchanged(&packs.new)
        .run()
        .stderr_line("--profile `api-publisher-deprecated` is no profile of API-M 4.2.0");
    packs
        .test("plan", "to-4.x")
        .args(["--profile", "api-devportal"])
        .run()
        .stderr_line("give one of all-in-one, control-plane, gateway-worker, traffic-manager, api-key-manager-deprecated");
    // A gateway is not a publisher: `an api-publisher node` in the refusal.
    packs
        .test("plan", "to-4.x")
        .args(["--profile", "gateway-worker"])
        .run()
        .stderr_line("but the old pack is an api-publisher node");
}

/// What changed deployment.toml besides `migrate_config`: empty when only the configuration
/// step edited it (its lines aside, the file is as before) and no other step wrote it.
fn only_configured(report: &serde_json::Value, before: &[u8], new: &std::path::Path) -> String {
    let others: Vec<String> = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|action| action["path"] == TOML && action["status"] != "unchanged")
        .filter(|action| action["action"] != "check" && action["primitive"] != "migrate_config")
        .map(|action| action["primitive"].as_str().unwrap_or_default().to_string())
        .collect();
    let before = String::from_utf8_lossy(before).to_string();
    let kept = lines_config_kept(&before, new);
    let edited = read(new.join(TOML));
    let mut rest = edited.lines();
    let lost: Vec<&str> = kept
        .lines()
        .filter(|line| !rest.any(|candidate| candidate == *line))
        .collect();
    if others.is_empty() && lost.is_empty() {
        String::new()
    } else {
        format!("written by {others:?}; lines lost: {lost:?}")
    }
}
