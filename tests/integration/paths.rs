//! Upgrade paths: `apim-migrate path FROM TO`, `run` and `plan` choosing the bundled script
//! when none is given, and the separate distributions of 4.5.0 and later (`detect` names
//! each; a node's profile follows from its distribution).

use crate::support::*;
use sample_packs::PackBuilder;

fn path(from: &str, to: &str) -> Test {
    Test::new().args(["path", from, to])
}

#[test]
fn path_says_the_route_the_script_and_what_is_special() {
    let text = path("3.2.0", "4.5.0").run().success().stdout();
    assert!(
        text.starts_with("API-M 3.2.0 to 4.5.0: directly, in one run\n"),
        "{text}"
    );
    assert!(text.contains("  script       to-4.x\n"), "{text}");
    assert!(
        text.contains(
            "  command      apim-migrate run to-4.x --old <3.2.0 pack> --new <4.5.0 pack>\n"
        ),
        "{text}"
    );
    let flat_text = flat(&text);
    for special in [
        "wso2am-universal-gw-4.5.0",
        "\"Production and Sandbox\" is \"Default\" in 4.x",
        "never `local-entries`",
        "--km is refused",
    ] {
        assert!(flat_text.contains(special), "{special}: {text}");
    }

    let text = path("1.9.0", "4.5.0").run().success().stdout();
    assert!(
        text.starts_with("API-M 1.9.0 to 4.5.0: through 2.0.0, in two steps with 2.0.0's data migration between\n"),
        "{text}"
    );
    assert!(
        text.contains("apim-migrate run 1.x-to-4.x --old <1.9.0 pack> --via <fresh 2.0.0 pack> --new <4.5.0 pack>"),
        "{text}"
    );
    assert!(
        text.contains("1. 1.x-to-2.0.0 (1.9.0 to 2.0.0)  2. to-4.x (2.0.0 to 4.5.0)"),
        "{text}"
    );

    let document = path("2.6.0", "4.1.0").arg("--json").run().success().json();
    assert_eq!(document["route"], "direct");
    assert_eq!(document["script"], "to-4.x");
    assert_eq!(document["key_manager"], "5.11.0");
    assert!(document["via"].is_null());
    let notes = document["notes"].as_array().expect("notes");
    assert!(notes
        .iter()
        .any(|note| note.as_str().expect("note").contains("no skip-list step")));
    let document = path("1.8.0", "4.0.0").arg("--json").run().success().json();
    assert_eq!(document["route"], "through");
    assert_eq!(document["via"], "2.0.0");
    assert_eq!(document["script"], "1.x-to-4.0.0");
    assert_eq!(document["key_manager"], "5.10.0");
    let steps: Vec<&str> = document["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|step| step["script"].as_str().expect("script"))
        .collect();
    assert_eq!(steps, ["1.x-to-2.0.0", "2.0.0-to-4.0.0"]);
}

#[test]
fn path_refuses_an_unknown_version_and_a_way_back() {
    path("3.5.0", "4.5.0")
        .run()
        .stderr_line("no bundled script migrates from API-M 3.5.0: they migrate from 1.8.0, 1.9.0, 1.9.1, 2.0.0, 2.6.0, 3.0.0, 3.1.0, 3.2.0, 4.0.0, 4.1.0, 4.2.0, 4.3.0, 4.4.0");
    path("3.2.0", "4.9.0")
        .run()
        .stderr_line("no bundled script migrates to API-M 4.9.0");
    path("4.4.0", "4.2.0")
        .run()
        .stderr_line("API-M 4.2.0 is not newer than 4.4.0");
    path("3.2.0", "3.2.0").run().code(2);
}

#[test]
fn without_a_script_the_one_made_for_the_packs_is_taken_and_named() {
    let packs = Packs::build(
        PackBuilder::api_manager("3.2.0").custom_sequence("audit_log"),
        PackBuilder::api_manager("4.5.0"),
        None,
    );
    let output = packs
        .test_without_script("plan")
        .arg("--json")
        .unchanged(&packs.new)
        .run();
    output.success();
    assert_eq!(output.json()["script"]["name"], "to-4.x");
    assert_eq!(
        output.stderr(),
        "note: no script given: `to-4.x` is the bundled script that takes API-M 3.2.0 as --old, API-M 4.5.0 as --new\n"
    );

    // 3.0.0 to 4.1.0: both `3.0.0-to-4.1.0` and `to-4.x` take it; the one made for it wins.
    let packs = Packs::standard();
    let report = packs
        .test_without_script("plan")
        .args(["--json", "--quiet"])
        .run()
        .success()
        .json();
    assert_eq!(report["script"]["name"], SCRIPT);
}

#[test]
fn without_a_script_packs_no_bundled_script_takes_are_refused_naming_what_is_missing() {
    let packs = Packs::chain(
        PackBuilder::api_manager("1.9.0"),
        PackBuilder::api_manager("2.0.0"),
        PackBuilder::api_manager("4.5.0"),
        None,
    );
    Test::new()
        .arg("run")
        .arg("--old")
        .arg(&packs.old)
        .arg("--new")
        .arg(&packs.new)
        .unchanged(&packs.new)
        .run()
        .stderr_line("no bundled script takes API-M 1.9.0 as --old, API-M 4.5.0 as --new as they are: `1.x-to-4.x` also needs --via (API-M 2.0.0); or name a script as SCRIPT (`apim-migrate path 1.9.0 4.5.0` tells the way)");
    let report = packs
        .test_without_script("plan")
        .args(["--json", "--quiet"])
        .run()
        .success()
        .json();
    assert_eq!(report["script"]["name"], "1.x-to-4.x");

    let packs = Packs::build(
        PackBuilder::api_manager("3.0.0"),
        PackBuilder::api_manager("3.2.0"),
        None,
    );
    packs
        .test_without_script("plan")
        .run()
        .stderr_line("no script given, and no bundled script takes API-M 3.0.0 as --old, API-M 3.2.0 as --new: `apim-migrate path 3.0.0 3.2.0` says which versions they take");
    Test::new()
        .args(["run", "--inventory", "fleet.toml"])
        .run()
        .stderr_line("--inventory needs SCRIPT");
}

#[test]
fn detect_names_each_distribution_of_4_5_0_and_its_profile_follows() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (builder, key, name, profile) in [
        (
            PackBuilder::api_control_plane("4.5.0"),
            "wso2am-acp",
            "WSO2 API Control Plane",
            "control-plane",
        ),
        (
            PackBuilder::universal_gateway("4.6.0"),
            "wso2am-universal-gw",
            "WSO2 Universal Gateway",
            "gateway-worker",
        ),
        (
            PackBuilder::traffic_manager("4.7.0"),
            "wso2am-tm",
            "WSO2 Traffic Manager",
            "traffic-manager",
        ),
    ] {
        let home = builder.write(&dir.path().join(key)).expect("pack");
        let output = Test::new().arg("detect").arg(&home).arg("--json").run();
        output.success();
        let detection = &output.json()["packs"][0];
        assert_eq!(detection["product"], "wso2am", "{key}");
        assert_eq!(detection["product_name"], name, "{key}");
        assert_eq!(detection["distribution"], key, "{key}");
        assert_eq!(detection["profile"]["name"], profile, "{key}");
        assert!(
            detection["profile"]["decided_by"]
                .as_str()
                .expect("decided_by")
                .contains("distribution"),
            "{key}"
        );
        assert!(detection["disagreements"]
            .as_array()
            .expect("list")
            .is_empty());
        let text = Test::new()
            .arg("detect")
            .arg(&home)
            .run()
            .success()
            .stdout();
        assert!(
            text.contains(&format!(
                "  distribution      `{key}`, a separate distribution"
            )),
            "{text}"
        );
    }
    // The all-in-one pack of the same release is no distribution of its own.
    let home = PackBuilder::api_manager("4.5.0")
        .write(&dir.path().join("all-in-one"))
        .expect("pack");
    let detection = Test::new()
        .arg("detect")
        .arg(&home)
        .arg("--json")
        .run()
        .json();
    assert!(detection["packs"][0].get("distribution").is_none());
    assert_eq!(detection["packs"][0]["profile"]["name"], "all-in-one");
}

/// 3.2.0 gateway, control plane and traffic manager nodes, each into its 4.5.0 distribution.
#[test]
fn each_distribution_takes_what_its_profile_needs() {
    let site = || {
        PackBuilder::api_manager("3.2.0")
            .custom_sequence("audit_log")
            .custom_synapse_artifact("endpoints", "BackendEP")
            .userstore(None, "corp.example.com")
            .keystore("partner-truststore.jks", "partner")
    };
    let sequence = "repository/deployment/server/synapse-configs/default/sequences/audit_log.xml";
    let userstore = "repository/deployment/server/userstores/corp_example_com.xml";
    for (new, key, sequences, users) in [
        (
            PackBuilder::universal_gateway("4.5.0"),
            "wso2am-universal-gw",
            true,
            false,
        ),
        (
            PackBuilder::api_control_plane("4.5.0"),
            "wso2am-acp",
            false,
            true,
        ),
        (
            PackBuilder::traffic_manager("4.5.0"),
            "wso2am-tm",
            false,
            false,
        ),
    ] {
        let packs = Packs::build(site(), new, None);
        let toml_before = read(packs.new.join(TOML));
        let report = packs
            .test("run", "to-4.x")
            .arg("--json")
            .run()
            .success()
            .json();
        assert_eq!(report["packs"]["new"]["distribution"], key);
        assert!(report["packs"]["old"].get("distribution").is_none());
        let what = report["packs"]["new"]["profile"]["name"].clone();
        assert_eq!(packs.new.join(sequence).is_file(), sequences, "{what}");
        assert_eq!(
            read(packs.new.join(TOML)) != toml_before,
            sequences,
            "{what}: the skip lists go where the sequences go"
        );
        assert_eq!(packs.new.join(userstore).is_file(), users, "{what}");
        assert!(
            packs
                .new
                .join(SECURITY)
                .join("partner-truststore.jks")
                .is_file(),
            "{what}: keystores go to every node"
        );
    }
}

#[test]
fn a_node_is_refused_a_distribution_that_runs_another_profile() {
    let packs = Packs::build(
        PackBuilder::api_manager("3.2.0").profile("gateway-worker"),
        PackBuilder::api_control_plane("4.5.0"),
        None,
    );
    packs
        .test("plan", "to-4.x")
        .unchanged(&packs.new)
        .run()
        .stderr_line("--new is to be a control-plane node (the API Control Plane distribution, by `bin/version.txt`), but the old pack is a gateway-worker node");
    packs
        .test("plan", "to-4.x")
        .run()
        .stderr_line("give the Universal Gateway pack (`wso2am-universal-gw-4.5.0`) as --new");
    packs
        .test("plan", "to-4.x")
        .args(["--profile", "gateway-worker"])
        .run()
        .stderr_line("--profile `gateway-worker`: `");
    packs
        .test("plan", "to-4.x")
        .args(["--profile", "gateway-worker"])
        .run()
        .stderr_line("is API-M 4.5.0 (API Control Plane), a distribution that runs control-plane only; a gateway-worker node runs the Universal Gateway distribution (`wso2am-universal-gw-4.5.0`)");
}

#[test]
fn a_1_x_pack_given_to_the_family_script_is_refused_naming_the_route_through_2_0_0() {
    let packs = Packs::build(
        PackBuilder::api_manager("1.9.1").without_version_txt(),
        PackBuilder::api_manager("4.6.0"),
        None,
    );
    packs
        .test("run", "to-4.x")
        .unchanged(&packs.new)
        .run()
        .stderr_line("is API-M 1.9.1, but `to-4.x` accepts API-M 2.0.0, 2.6.0, 3.0.0, 3.1.0, 3.2.0, 4.0.0, 4.1.0, 4.2.0, 4.3.0 or 4.4.0 as --old");
    packs
        .test("run", "to-4.x")
        .run()
        .stderr_line("; API-M 1.9.1 goes to 4.6.0 through 2.0.0: run `1.x-to-4.x` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `to-4.x` (`apim-migrate path 1.9.1 4.6.0` tells more)");
}
