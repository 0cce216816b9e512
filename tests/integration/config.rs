//! Configuration migration (`migrate_config` and the standard scripts' step 0), end to end on
//! packs of the sample builder, whose deployment.toml files carry the real keys and stock
//! values of 3.0.0, 3.2.0, 4.0.0 and 4.1.0: settings carried, renamed, dropped (reported),
//! conflicts (kept and reported), the gateway environment name, `[secrets]` last, comments
//! kept, rollback byte for byte, a second run that changes nothing; and the XML source of
//! 2.0.0 (a MySQL datasource, a host name, a port offset).

use crate::support::*;
use sample_packs::PackBuilder;

const MIGRATE: &str = "migrate_config(old, new);\n";

/// The messages of the run's findings.
fn findings(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn toml_of(packs: &Packs) -> toml_edit::DocumentMut {
    read(packs.new.join(TOML))
        .parse()
        .expect("new deployment.toml is TOML")
}

fn value(document: &toml_edit::DocumentMut, path: &[&str]) -> String {
    let mut item = document.as_item();
    for key in path {
        item = item
            .get(key)
            .unwrap_or_else(|| panic!("`{}` missing in:\n{document}", path.join(".")));
    }
    item.as_value()
        .map(|value| {
            let mut value = value.clone();
            value.decor_mut().clear();
            value.to_string()
        })
        .unwrap_or_default()
}

/// A run, then a second run with nothing to do, then the rollback restoring every byte.
fn run_rerun_rollback(packs: &Packs, script: &str) -> serde_json::Value {
    let before = tree(&packs.new, false);
    let report = packs
        .test("run", script)
        .arg("--json")
        .run()
        .success()
        .json();
    again_nothing_to_do_then_taken_back(packs, script, &before);
    report
}

#[test]
fn a_stock_3_x_pack_carries_only_its_gateway_environment_name() {
    for old in ["3.0.0", "3.2.0"] {
        let packs = Packs::build(
            PackBuilder::api_manager(old),
            PackBuilder::api_manager("4.1.0"),
            None,
        );
        let original = read(packs.new.join(TOML));
        let script = crate::support::script(&packs, "config", MIGRATE);
        let report = run_rerun_rollback(&packs, &script);
        packs.test("run", &script).run().success();
        let edited = read(packs.new.join(TOML));
        let kept: Vec<&str> = original
            .lines()
            .filter(|line| *line != "name = \"Default\"" && !line.starts_with("gateway_labels"))
            .collect();
        assert_lines_kept(&kept.join("\n"), &edited);
        let document = toml_of(&packs);
        let environment = document["apim"]["gateway"]["environment"]
            .as_array_of_tables()
            .expect("environments");
        assert_eq!(
            environment.get(0).and_then(|table| table["name"].as_str()),
            Some("Production and Sandbox"),
            "{old}: the old environment name stays, as WSO2's guide asks"
        );
        assert_eq!(
            value(
                &document,
                &[
                    "apim",
                    "sync_runtime_artifacts",
                    "gateway",
                    "gateway_labels"
                ]
            ),
            "[\"Production and Sandbox\"]",
            "{old}"
        );
        let messages = findings(&report);
        assert!(
            messages
                .iter()
                .all(|message| !message.starts_with("configuration dropped")),
            "{old}: a stock pack drops nothing: {messages:?}"
        );
    }
}

#[test]
fn a_stock_4_0_0_pack_leaves_the_4_1_0_file_as_it_is() {
    let packs = Packs::build(
        PackBuilder::api_manager("4.0.0"),
        PackBuilder::api_manager("4.1.0"),
        None,
    );
    let script = crate::support::script(&packs, "config", MIGRATE);
    let before = tree(&packs.new, false);
    packs.test("run", &script).run().success();
    assert_eq!(tree(&packs.new, false), before);
}

/// A 3.0.0 site: host name, offset, a MySQL database, a renamed key, keys 4.x no longer
/// reads, a table of its own, secure vault.
fn site_3_0_0() -> PackBuilder {
    PackBuilder::api_manager("3.0.0")
        .hostname("am.example.com")
        .offset(2)
        .database("apim_db", "mysql", "jdbc:mysql://db.example.com:3306/apim_db")
        .deployment_toml_extra(
            "[apim.oauth_config]\nwhite_listed_scopes = [\"^device_.*\", \"openid\", \"^custom_.*\"]\n\n\
             [apim.analytics]\nenable = true\nurl_group = [{analytics_url = [\"tcp://analytics:7612\"], type = \"failover\"}]\n\n\
             [transport.http]\nsocket_timeout = 180000\n\n\
             [apim.throttling]\nenable_advanced_throttling = false\n\n\
             [[apim.gateway.environment]]\nname = \"Partner Gateway\"\ntype = \"production\"\ndisplay_in_api_console = false\n",
        )
        .secure_vault(&["admin_password"])
}

#[test]
fn site_settings_of_3_0_0_are_carried_renamed_or_dropped_and_the_operators_own_kept() {
    let new = PackBuilder::api_manager("4.1.0").hostname("apim.example.net");
    let packs = Packs::build(site_3_0_0(), new, None);
    let original = read(packs.new.join(TOML));
    let script = crate::support::script(&packs, "config", MIGRATE);

    let plan = packs.test("plan", &script).run().success().stdout();
    assert!(plan.contains("+offset = 2"), "plan shows the diff:\n{plan}");

    let report = run_rerun_rollback(&packs, &script);
    let messages = findings(&report);
    packs.test("run", &script).run().success();
    let text = read(packs.new.join(TOML));
    let document = toml_of(&packs);

    // Carried: the offset, the database, the admin password's alias and its secret.
    assert_eq!(value(&document, &["server", "offset"]), "2");
    assert_eq!(
        value(&document, &["database", "apim_db", "type"]),
        "\"mysql\""
    );
    assert_eq!(
        value(&document, &["database", "apim_db", "url"]),
        "\"jdbc:mysql://db.example.com:3306/apim_db\""
    );
    assert_eq!(
        value(&document, &["super_admin", "password"]),
        "\"$secret{admin_password}\""
    );
    assert!(document["secrets"]["admin_password"].is_value());
    // A table and an environment of the site's own.
    let environments = document["apim"]["gateway"]["environment"]
        .as_array_of_tables()
        .expect("environments");
    assert_eq!(environments.len(), 2, "{text}");
    assert_eq!(
        environments.get(1).and_then(|table| table["name"].as_str()),
        Some("Partner Gateway")
    );
    assert_eq!(
        value(
            &document,
            &[
                "apim",
                "sync_runtime_artifacts",
                "gateway",
                "gateway_labels"
            ]
        ),
        "[\"Production and Sandbox\", \"Partner Gateway\"]"
    );
    // Renamed: by the built-in facts (3.2.0) and by the new pack's key-mappings.json.
    assert_eq!(
        value(&document, &["apim", "oauth_config", "allowed_scopes"]),
        "[\"^device_.*\", \"openid\", \"^custom_.*\"]"
    );
    assert!(!text.contains("white_listed_scopes"), "{text}");
    assert_eq!(
        value(&document, &["passthru_http", "http.socket.timeout"]),
        "180000"
    );
    // Dropped, and reported with the value and why.
    assert!(
        document["apim"]["analytics"].get("url_group").is_none(),
        "{text}"
    );
    assert!(document["apim"].get("throttling").is_none(), "{text}");
    for key in [
        "apim.analytics.url_group",
        "apim.throttling.enable_advanced_throttling",
    ] {
        assert!(
            messages.iter().any(
                |message| message.starts_with("configuration dropped") && message.contains(key)
            ),
            "{key} in {messages:?}"
        );
    }
    // Conflict: the operator's host name of the new file stays, both values reported.
    assert_eq!(
        value(&document, &["server", "hostname"]),
        "\"apim.example.net\""
    );
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("configuration conflict")
                && message.contains("am.example.com")
                && message.contains("apim.example.net")),
        "{messages:?}"
    );
    // [secrets] last, the new file's comments kept.
    let last_header = text.lines().rfind(|line| line.starts_with('['));
    assert_eq!(last_header, Some("[secrets]"), "{text}");
    assert_lines_kept(
        &original
            .lines()
            .filter(|line| line.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
        &text,
    );
}

#[test]
fn the_standard_script_migrates_the_configuration_first_and_config_false_turns_it_off() {
    let packs = Packs::build(
        site_3_0_0().custom_sequence("audit_log"),
        PackBuilder::api_manager("4.1.0"),
        None,
    );
    let report = packs
        .test("plan", "3.0.0-to-4.1.0")
        .arg("--json")
        .run()
        .success()
        .json();
    let actions = report["actions"].as_array().expect("actions");
    assert_eq!(actions[0]["primitive"], "migrate_config", "{report}");
    assert!(reminder_ids(&report).contains(&"verify".to_string()));

    let off = packs
        .test("plan", "3.0.0-to-4.1.0")
        .args(["--set", "config=false", "--json"])
        .run()
        .success()
        .json();
    assert!(off["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .all(|action| action["primitive"] != "migrate_config"));
    packs
        .test("plan", "3.0.0-to-4.1.0")
        .args(["--set", "config=maybe"])
        .run()
        .code(2)
        .stderr_contains("config=maybe");

    // The skip lists the gateway step adds go before `[secrets]`.
    packs.test("run", "3.0.0-to-4.1.0").run().success();
    let text = read(packs.new.join(TOML));
    let last_header = text.lines().rfind(|line| line.starts_with('['));
    assert_eq!(last_header, Some("[secrets]"), "{text}");
    assert!(text.contains("skip_list"), "{text}");
}

#[test]
fn a_stock_pack_of_the_old_release_given_with_old_stock_decides_what_changed() {
    let old = PackBuilder::api_manager("3.2.0").deployment_toml_extra(
        "[apim.devportal]\nurl = \"https://portal.example.com/devportal\"\n",
    );
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    let stock_home = PackBuilder::api_manager("3.2.0")
        .write(&packs.dir.path().join("stock-3.2.0"))
        .expect("stock pack");
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = packs
        .test("run", &script)
        .arg("--old-stock")
        .arg(&stock_home)
        .arg("--json")
        .run()
        .success()
        .json();
    let document = toml_of(&packs);
    assert!(
        findings(&report)
            .iter()
            .any(|message| message.contains("apim.devportal.url")),
        "4.1.0's templates do not read `apim.devportal.url`: dropped, reported: {report}"
    );
    assert!(document
        .get("apim")
        .and_then(|apim| apim.get("devportal"))
        .is_none());

    // A stock pack of another release is refused, nothing changed.
    let wrong = PackBuilder::api_manager("3.1.0")
        .write(&packs.dir.path().join("stock-3.1.0"))
        .expect("stock pack");
    let packs2 = Packs::build(
        PackBuilder::api_manager("3.2.0"),
        PackBuilder::api_manager("4.1.0"),
        None,
    );
    let script2 = crate::support::script(&packs2, "config", MIGRATE);
    packs2
        .test("run", &script2)
        .arg("--old-stock")
        .arg(&wrong)
        .unchanged(&packs2.new)
        .run()
        .code(2)
        .stderr_contains("give an extracted stock pack of the same release");
}

#[test]
fn the_xml_configuration_of_2_0_0_becomes_toml_keys() {
    let old = PackBuilder::api_manager("2.0.0")
        .hostname("gw.example.com")
        .offset(3)
        .database(
            "apim_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/apim_db?useSSL=false",
        );
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = run_rerun_rollback(&packs, &script);
    packs.test("run", &script).run().success();
    let document = toml_of(&packs);
    assert_eq!(
        value(&document, &["server", "hostname"]),
        "\"gw.example.com\""
    );
    assert_eq!(value(&document, &["server", "offset"]), "3");
    assert_eq!(
        value(&document, &["database", "apim_db", "type"]),
        "\"mysql\""
    );
    assert_eq!(
        value(&document, &["database", "apim_db", "url"]),
        "\"jdbc:mysql://db.example.com:3306/apim_db?useSSL=false\""
    );
    assert_eq!(
        value(&document, &["database", "apim_db", "username"]),
        "\"apim_admin\""
    );
    assert_eq!(
        document["apim"]["gateway"]["environment"]
            .as_array_of_tables()
            .and_then(|environments| environments.get(0))
            .and_then(|table| table["name"].as_str()),
        Some("Production and Sandbox")
    );
    let messages = findings(&report);
    assert!(
        messages
            .iter()
            .any(|message| message.contains("WSO2_MB_STORE_DB")),
        "the broker's datasource is named, not dropped silently: {messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("configuration not compared")
                && message.contains("--old-stock")),
        "XML files without a known stock copy are named: {messages:?}"
    );
}

#[test]
fn with_a_stock_2_0_0_pack_each_customised_xml_file_is_a_finding_with_its_diff() {
    let old = PackBuilder::api_manager("2.0.0")
        .hostname("gw.example.com")
        .offset(3);
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    let stock = PackBuilder::api_manager("2.0.0")
        .write(&packs.dir.path().join("stock-2.0.0"))
        .expect("stock pack");
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = packs
        .test("run", &script)
        .arg("--old-stock")
        .arg(&stock)
        .arg("--json")
        .run()
        .success()
        .json();
    let all = report["findings"].as_array().expect("findings");
    let carbon = all
        .iter()
        .find(|finding| finding["id"] == "config:customised:repository/conf/carbon.xml")
        .unwrap_or_else(|| panic!("carbon.xml is customised: {report}"));
    assert!(carbon["diff"]
        .as_str()
        .is_some_and(|diff| diff.contains("+    <HostName>gw.example.com</HostName>")));
    // Files equal to the stock pack's are no finding, and none is left uncompared.
    assert!(all.iter().all(|finding| finding["id"]
        != "config:customised:repository/conf/user-mgt.xml"
        && finding["id"] != "config:uncompared"));
    let document = toml_of(&packs);
    assert_eq!(value(&document, &["server", "offset"]), "3");
}

#[test]
fn a_4_0_0_site_keeps_its_encryption_key_and_its_analytics_endpoint_under_the_4_1_0_name() {
    let old = PackBuilder::api_manager("4.0.0").deployment_toml_extra(
        "[encryption]\nkey = \"3f1a5c9e0b7d2468ace13579bdf02468\"\n\n\
         [[apim.gateway.environment]]\nname = \"Internal\"\ntype = \"production\"\n",
    );
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    // The site pointed analytics elsewhere, in the 4.0.0 key.
    let path = packs.old.join(TOML);
    let text = read(&path).replace(
        "config_endpoint = \"https://localhost:8080/auth/v1\"",
        "config_endpoint = \"https://analytics.example.com/auth/v1\"",
    );
    std::fs::write(&path, text).expect("write");
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = run_rerun_rollback(&packs, &script);
    packs.test("run", &script).run().success();
    let document = toml_of(&packs);
    assert_eq!(
        value(&document, &["encryption", "key"]),
        "\"3f1a5c9e0b7d2468ace13579bdf02468\"",
        "the 4.0.0 to 4.1.0 guide asks to keep it"
    );
    assert_eq!(
        value(
            &document,
            &["apim", "analytics", "properties", "auth.api.url"]
        ),
        "\"https://analytics.example.com/auth/v1\"",
        "renamed by the new pack's key-mappings.json"
    );
    assert!(document["apim"]["analytics"]
        .get("config_endpoint")
        .is_none());
    assert_eq!(
        value(
            &document,
            &[
                "apim",
                "sync_runtime_artifacts",
                "gateway",
                "gateway_labels"
            ]
        ),
        "[\"Default\"]",
        "a 4.0.0 file has its own labels: they are the site's to change"
    );
    let names: Vec<&str> = document["apim"]["gateway"]["environment"]
        .as_array_of_tables()
        .expect("environments")
        .iter()
        .filter_map(|table| table["name"].as_str())
        .collect();
    assert_eq!(names, ["Default", "Internal"]);
    let check = report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|action| action["primitive"] == "migrate_config" && action["action"] == "check")
        .expect("the summary");
    assert!(
        check["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("1 renamed")),
        "{check}"
    );
}

#[test]
fn a_3_2_0_site_carries_an_event_listener_change_and_drops_the_old_analytics() {
    let old = PackBuilder::api_manager("3.2.0").deployment_toml_extra(
        "[apim.analytics]\nenable = true\nstore_api_url = \"https://analytics.example.com:7444\"\n",
    );
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    let path = packs.old.join(TOML);
    let text = read(&path).replace(
        "'header.X-WSO2-KEY-MANAGER' = \"default\"",
        "'header.X-WSO2-KEY-MANAGER' = \"Resident Key Manager\"",
    );
    std::fs::write(&path, text).expect("write");
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = run_rerun_rollback(&packs, &script);
    packs.test("run", &script).run().success();
    let document = toml_of(&packs);
    let listener = document["event_listener"]
        .as_array_of_tables()
        .and_then(|listeners| listeners.get(0))
        .expect("listener");
    assert_eq!(
        listener["properties"]["header.X-WSO2-KEY-MANAGER"].as_str(),
        Some("Resident Key Manager")
    );
    assert_eq!(value(&document, &["apim", "analytics", "enable"]), "true");
    assert!(document["apim"]["analytics"].get("store_api_url").is_none());
    let messages = findings(&report);
    assert!(
        messages
            .iter()
            .any(|message| message.starts_with("configuration dropped")
                && message.contains("apim.analytics.store_api_url")
                && message.contains("https://analytics.example.com:7444")),
        "{messages:?}"
    );
}

#[test]
fn a_2_0_0_password_in_secure_vault_becomes_a_secret_reference_that_asks_for_its_entry() {
    let old =
        PackBuilder::api_manager("2.0.0").secure_vault(&["Carbon.Security.KeyStore.Password"]);
    let packs = Packs::build(old, PackBuilder::api_manager("4.1.0"), None);
    let script = crate::support::script(&packs, "config", MIGRATE);
    let report = packs
        .test("run", &script)
        .arg("--json")
        .run()
        .success()
        .json();
    let document = toml_of(&packs);
    assert_eq!(
        value(&document, &["keystore", "tls", "password"]),
        "\"$secret{Carbon.Security.KeyStore.Password}\""
    );
    let messages = findings(&report);
    assert!(
        messages.iter().any(
            |message| message.starts_with("configuration missing-secret")
                && message
                    .contains("add `\"Carbon.Security.KeyStore.Password\" = \"[plain text]\"`")
        ),
        "the alias, quoted as TOML needs it: {messages:?}"
    );
    // verify finds the same, with the line.
    let problems = Test::new()
        .arg("verify")
        .arg(&packs.new)
        .arg("--json")
        .run()
        .code(1)
        .json();
    assert!(problems["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .any(|problem| problem["check"] == "secrets" && problem["line"].is_u64()));
}
