//! `run SCRIPT --inventory FILE`: a distributed deployment's nodes, checked as a whole,
//! planned, then run in order with one report.

use crate::support::*;
use sample_packs::PackBuilder;
use std::path::{Path, PathBuf};

/// A temp dir with, per node, an old 3.0.0 pack of the node's old profile and a fresh 4.1.0
/// pack, and an inventory that lists them (paths relative to the inventory).
struct Fleet {
    dir: tempfile::TempDir,
    inventory: PathBuf,
}

impl Fleet {
    /// `nodes`: (name, old profile, new profile, old pack builder).
    fn build(nodes: &[(&str, &str, &str, PackBuilder)], extra: &str) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut text = String::from("[deployment]\nname = \"production\"\n");
        let mut builders = Vec::new();
        for (name, old_profile, new_profile, old) in nodes {
            let old = old.clone().profile(old_profile);
            old.write(&dir.path().join(name).join("wso2am-3.0.0"))
                .expect("write old");
            let new = PackBuilder::api_manager("4.1.0");
            new.write(&dir.path().join(name).join("wso2am-4.1.0"))
                .expect("write new");
            text.push_str(&format!(
                "\n[[node]]\nname = \"{name}\"\nold_profile = \"{old_profile}\"\nnew_profile = \"{new_profile}\"\nold = \"{name}/wso2am-3.0.0\"\nnew = \"{name}/wso2am-4.1.0\"\n"
            ));
            builders.push(old);
            builders.push(new);
        }
        text.push_str(extra);
        let inventory = dir.path().join("fleet.toml");
        std::fs::write(&inventory, text).expect("write inventory");
        let refs: Vec<&PackBuilder> = builders.iter().collect();
        std::fs::write(
            dir.path().join("stock.toml"),
            sample_packs::stock_catalogue(&refs),
        )
        .expect("write catalogue");
        Fleet { dir, inventory }
    }

    fn new_pack(&self, node: &str) -> PathBuf {
        self.dir.path().join(node).join("wso2am-4.1.0")
    }

    fn old_pack(&self, node: &str) -> PathBuf {
        self.dir.path().join(node).join("wso2am-3.0.0")
    }

    /// `COMMAND 3.0.0-to-4.1.0 --inventory FILE --stock STOCK`.
    fn test(&self, command: &str) -> Test {
        self.test_with(command, SCRIPT)
    }

    /// `COMMAND SCRIPT --inventory FILE --stock STOCK`.
    fn test_with(&self, command: &str, script: &str) -> Test {
        Test::new()
            .args([command, script, "--inventory"])
            .arg(&self.inventory)
            .arg("--stock")
            .arg(self.dir.path().join("stock.toml"))
    }

    fn trees(&self) -> Vec<Tree> {
        let mut trees = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("list") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                trees.push(tree(&path, true));
            }
        }
        trees
    }
}

/// 2 gateways, 1 traffic manager, 1 control plane (from the old key manager), listed out of
/// order.
fn standard_fleet(extra: &str) -> Fleet {
    Fleet::build(
        &[
            ("gw-1", "gateway-worker", "gateway-worker", old_3_0_0()),
            ("tm-1", "traffic-manager", "traffic-manager", old_3_0_0()),
            ("cp-1", "api-key-manager", "control-plane", old_3_0_0()),
            ("gw-2", "gateway-worker", "gateway-worker", old_3_0_0()),
        ],
        extra,
    )
}

fn node<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|node| node["name"] == name)
        .unwrap_or_else(|| panic!("no node {name} in {report}"))
}

#[test]
fn a_fleet_is_planned_then_run_control_plane_first_and_a_second_run_has_nothing_to_do() {
    let fleet = standard_fleet("");
    let before = fleet.trees();
    let output = fleet.test("plan").arg("--json").run();
    output.success();
    assert_eq!(fleet.trees(), before, "plan changes nothing");
    let report = json(&output.stdout);
    assert_eq!(report["outcome"], "planned");
    assert_eq!(report["deployment"], "production");
    assert_eq!(report["migration_client"], "cp-1");
    let order: Vec<&str> = report["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["name"].as_str().expect("name"))
        .collect();
    assert_eq!(order, ["cp-1", "tm-1", "gw-1", "gw-2"]);

    let report = fleet.test("run").arg("--json").run().success().json();
    assert_eq!(report["outcome"], "done");
    for name in ["cp-1", "tm-1", "gw-1", "gw-2"] {
        let node = node(&report, name);
        assert_eq!(node["outcome"], "done", "{name}");
        assert_eq!(
            bytes(
                fleet
                    .new_pack(name)
                    .join(SECURITY)
                    .join("partner-truststore.jks")
            ),
            bytes(
                fleet
                    .old_pack(name)
                    .join(SECURITY)
                    .join("partner-truststore.jks")
            ),
            "{name}: keystores go to every node"
        );
        assert!(
            fleet
                .new_pack(name)
                .join("repository/components/lib/mysql-connector-java-8.0.28.jar")
                .is_file(),
            "{name}: drivers go to every node"
        );
        // The gateways; not the traffic manager, nor the control plane, whose gateway
        // artifact sync is off.
        let gateway = name.starts_with("gw-");
        assert_eq!(
            fleet
                .new_pack(name)
                .join(SEQUENCES)
                .join("audit_log.xml")
                .is_file(),
            gateway,
            "{name}: sequences where a gateway runs"
        );
        let users = name == "cp-1";
        assert_eq!(
            fleet
                .new_pack(name)
                .join(USERSTORES)
                .join("corp_example_com.xml")
                .is_file(),
            users,
            "{name}: user stores where users are managed"
        );
        let reminders = reminder_ids(&node["report"]);
        assert_eq!(
            reminders.contains(&"data-migration".to_string()),
            name == "cp-1",
            "{name}: {reminders:?}"
        );
        assert_eq!(
            node["report"]["packs"]["new"]["profile"]["name"],
            node["new_profile"]
        );
    }
    // Each node's run is in its own pack's history.
    let output = Test::new()
        .args(["history", "--json"])
        .arg(fleet.new_pack("gw-2"))
        .run();
    assert!(stdout(&output).contains("3.0.0-to-4.1.0"));

    let after = fleet.trees();
    let text = fleet.test("run").run().success().stdout();
    assert!(
        text.contains("== deployment\n  cp-1  nothing to do"),
        "{text}"
    );
    assert!(text.contains("  gw-2  nothing to do"), "{text}");
    assert_eq!(fleet.trees().len(), after.len());
}

#[test]
fn the_human_report_lists_the_nodes_then_each_report_then_the_deployment() {
    let fleet = standard_fleet(
        "\n[[node]]\nname = \"gw-3\"\nold_profile = \"gateway-worker\"\nnew_profile = \"gateway-worker\"\nold = \"/nowhere/wso2am-3.0.0\"\nnew = \"/nowhere/wso2am-4.1.0\"\n",
    );
    let text = fleet.test("plan").run().success().stdout();
    assert!(
        text.starts_with(&format!(
            "plan 3.0.0-to-4.1.0 on {} (deployment production): 5 nodes, 4 on this machine\n",
            fleet.inventory.display()
        )),
        "{text}"
    );
    assert!(
        text.contains("  cp-1  api-key-manager -> control-plane"),
        "{text}"
    );
    assert!(
        flat(&text).contains(
            "gw-3 gateway-worker -> gateway-worker elsewhere (not this host, or its packs are not on this machine)"
        ),
        "{text}"
    );
    assert!(
        text.contains("  the API-M migration client runs on `cp-1`"),
        "{text}"
    );
    let cp = text
        .find("== node cp-1: api-key-manager -> control-plane")
        .expect("cp");
    let gw = text
        .find("== node gw-1: gateway-worker -> gateway-worker")
        .expect("gw");
    assert!(cp < gw);
    assert!(text.contains("\n== deployment\n"), "{text}");
    assert!(text.contains("  gw-3  elsewhere\n"), "{text}");
}

#[test]
fn a_second_control_plane_leaves_the_migration_client_to_the_first() {
    let fleet = Fleet::build(
        &[
            ("cp-1", "api-publisher", "control-plane", old_3_0_0()),
            ("cp-2", "api-devportal", "control-plane", old_3_0_0()),
            ("gw-1", "gateway-worker", "gateway-worker", old_3_0_0()),
        ],
        "",
    );
    let report = fleet.test("plan").arg("--json").run().success().json();
    let first = reminder_ids(&node(&report, "cp-1")["report"]);
    assert!(first.contains(&"data-migration".to_string()));
    let second = &node(&report, "cp-2")["report"];
    assert!(!reminder_ids(second).contains(&"data-migration".to_string()));
    let reasons: Vec<&str> = second["skipped_for_profile"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|skip| skip["reason"].as_str().expect("reason"))
        .collect();
    assert!(
        reasons.contains(&"the deployment runs the API-M migration client once, on node `cp-1`"),
        "{reasons:?}"
    );
    // Both control planes take the user stores: what the second skips is the migration
    // client and the gateway artifacts, which no control plane syncs.
    let capabilities: Vec<&str> = second["skipped_for_profile"]
        .as_array()
        .expect("skips")
        .iter()
        .map(|skip| skip["capability"].as_str().expect("capability"))
        .collect();
    assert_eq!(capabilities, ["gateway", "migration-client"]);
}

#[test]
fn a_failure_on_one_node_is_taken_back_there_and_stops_the_nodes_after_it() {
    // gw-1's old pack has many more sequences than cp-1's, so the injected failure at change
    // 30 strikes gw-1 only.
    let mut busy_gateway = old_3_0_0();
    for index in 0..40 {
        busy_gateway = busy_gateway.custom_sequence(&format!("extra_{index:02}"));
    }
    let fleet = Fleet::build(
        &[
            ("cp-1", "api-key-manager", "control-plane", old_3_0_0()),
            ("gw-1", "gateway-worker", "gateway-worker", busy_gateway),
            ("gw-2", "gateway-worker", "gateway-worker", old_3_0_0()),
        ],
        "",
    );
    let gw1_before = tree(&fleet.new_pack("gw-1"), false);
    let gw2_before = tree(&fleet.new_pack("gw-2"), true);
    let output = fleet
        .test("run")
        .env("APIM_MIGRATE_INJECT_FAILURE", "30")
        .run();
    output.code(1);
    let text = stdout(&output);
    assert!(text.contains("  cp-1  done"), "{text}");
    assert!(text.contains("  gw-1  failed"), "{text}");
    assert!(text.contains("  gw-2  not run"), "{text}");
    assert!(
        flat(&text).contains(&format!(
            "The nodes before it stay migrated; to take them back too: `apim-migrate rollback --new {}`",
            fleet.new_pack("cp-1").display()
        )),
        "{text}"
    );
    assert!(
        stderr(&output).contains("node `gw-1`"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tree(&fleet.new_pack("gw-1"), false), gw1_before);
    assert_eq!(tree(&fleet.new_pack("gw-2"), true), gw2_before);
    assert!(fleet
        .new_pack("cp-1")
        .join(SECURITY)
        .join("partner-truststore.jks")
        .is_file());
    // The control plane keeps the gateway's artifact sync off: no sequences there.
    assert!(!fleet
        .new_pack("cp-1")
        .join(SEQUENCES)
        .join("audit_log.xml")
        .exists());
}

/// Runs `plan --inventory` on an inventory of `text` and returns the error line.
fn refused(fleet: &Fleet, text: &str) -> String {
    std::fs::write(&fleet.inventory, text).expect("write inventory");
    let before = fleet.trees();
    let output = fleet.test("run").run();
    output.code(2);
    assert_eq!(fleet.trees(), before);
    let error = stderr(&output);
    assert_eq!(error.trim().lines().count(), 1, "{error}");
    error
}

fn entry(name: &str, old_profile: &str, new_profile: &str, dir: &str) -> String {
    format!(
        "[[node]]\nname = \"{name}\"\nold_profile = \"{old_profile}\"\nnew_profile = \"{new_profile}\"\nold = \"{dir}/wso2am-3.0.0\"\nnew = \"{dir}/wso2am-4.1.0\"\n\n"
    )
}

#[test]
fn a_deployment_that_cannot_be_right_is_refused_before_anything_changes() {
    let fleet = standard_fleet("");
    let shown = fleet.inventory.display().to_string();

    let error = refused(
        &fleet,
        &[
            entry("cp-1", "api-key-manager", "control-plane", "cp-1"),
            entry("gw-1", "gateway-worker", "control-plane", "gw-1"),
        ]
        .concat(),
    );
    assert!(
        error.contains(&format!("--inventory `{shown}`: node `gw-1`: a gateway-worker node of API-M 3.x becomes gateway-worker in API-M 4.x, not control-plane")),
        "{error}"
    );

    let error = refused(
        &fleet,
        &[
            entry("gw-1", "gateway-worker", "gateway-worker", "gw-1"),
            entry("tm-1", "traffic-manager", "traffic-manager", "tm-1"),
        ]
        .concat(),
    );
    assert!(
        error.contains("no node becomes control-plane in the new deployment: API-M 4.x needs one"),
        "{error}"
    );

    let error = refused(
        &fleet,
        &[
            entry("cp-1", "api-key-manager", "control-plane", "cp-1"),
            entry("gw-1", "all-in-one", "all-in-one", "gw-1"),
        ]
        .concat(),
    );
    assert!(
        error.contains("node `gw-1` is to be all-in-one beside `cp-1`, a control-plane node"),
        "{error}"
    );

    let error = refused(
        &fleet,
        &[
            entry("cp-1", "api-key-manager", "control-plane", "cp-1"),
            entry("gw-1", "gateway-worker", "gateway-worker", "cp-1"),
        ]
        .concat(),
    );
    assert!(
        error.contains("nodes `cp-1` and `gw-1` both migrate into"),
        "{error}"
    );

    let error = refused(
        &fleet,
        &[
            entry("cp-1", "api-key-manager", "control-plane", "cp-1"),
            entry("cp-1", "gateway-worker", "gateway-worker", "gw-1"),
        ]
        .concat(),
    );
    assert!(error.contains("two nodes are named `cp-1`"), "{error}");

    let error = refused(
        &fleet,
        &entry("cp-1", "api-key-manager", "kontrol-plane", "cp-1"),
    );
    assert!(
        error.contains("new_profile `kontrol-plane` is no profile of API-M 4.x: give one of all-in-one, control-plane"),
        "{error}"
    );

    let error = refused(
        &fleet,
        "[[node]]\nname = \"cp-1\"\nold_profile = \"api-key-manager\"\nnew_profle = \"control-plane\"\n",
    );
    assert!(
        error.contains(&format!("--inventory `{shown}`: ")),
        "{error}"
    );
    assert!(error.contains("new_profle"), "{error}");

    let error = refused(&fleet, "[[node]\nname = ");
    assert!(
        error.contains(&format!("--inventory `{shown}`: ")),
        "{error}"
    );

    let error = refused(&fleet, "[deployment]\nname = \"x\"\n");
    assert!(error.contains("lists no nodes"), "{error}");

    let error = refused(
        &fleet,
        &(entry("cp-1", "api-key-manager", "control-plane", "cp-1")
            + "[[node]]\nname = \"gw-1\"\nold_profile = \"gateway-worker\"\nnew_profile = \"gateway-worker\"\nold = \"gw-1/wso2am-3.0.0\"\nnew = \"gw-1/wso2am-4.1.0-typo\"\n"),
    );
    assert!(
        error.contains("node `gw-1`: its new pack") && error.contains("does not exist"),
        "{error}"
    );

    let error = refused(
        &fleet,
        &entry("cp-1", "api-key-manager", "control-plane", "/nowhere"),
    );
    assert!(
        error.contains("none of its 1 nodes has its packs on this machine"),
        "{error}"
    );

    // A node whose pack is the wrong version: named with the node.
    let error = refused(
        &fleet,
        &(entry("cp-1", "api-key-manager", "control-plane", "cp-1")
            + "[[node]]\nname = \"gw-1\"\nold_profile = \"gateway-worker\"\nnew_profile = \"gateway-worker\"\nold = \"gw-1/wso2am-4.1.0\"\nnew = \"gw-2/wso2am-4.1.0\"\n"),
    );
    assert!(error.contains("node `gw-1`: "), "{error}");

    Test::new()
        .args(["run", SCRIPT, "--inventory"])
        .arg(&fleet.inventory)
        .args(["--old", "/x"])
        .run()
        .code(2)
        .stderr_contains("cannot be used with");
}

#[test]
fn relative_pack_paths_are_read_from_the_inventory_s_directory() {
    let fleet = standard_fleet("");
    let report = Test::new()
        .current_dir(Path::new("/"))
        .args(["plan", SCRIPT, "--json", "--inventory"])
        .arg(&fleet.inventory)
        .arg("--stock")
        .arg(fleet.dir.path().join("stock.toml"))
        .run()
        .success()
        .json();
    assert_eq!(
        node(&report, "gw-1")["new"],
        fleet.new_pack("gw-1").display().to_string()
    );
}

#[test]
fn on_a_two_step_path_only_the_migration_client_s_node_waits_at_the_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::new();
    for (name, profile, new_profile) in [
        ("pub-1", "api-publisher", "control-plane"),
        ("gw-1", "gateway-worker", "gateway-worker"),
    ] {
        for (pack, builder) in [
            (
                "old",
                PackBuilder::api_manager("1.9.0")
                    .keystore("partner.jks", "partner")
                    .custom_sequence("audit_log"),
            ),
            ("via", PackBuilder::api_manager("2.0.0")),
            ("new", PackBuilder::api_manager("4.0.0")),
        ] {
            builder
                .write(&dir.path().join(name).join(pack))
                .expect("write");
        }
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nold_profile = \"{profile}\"\nnew_profile = \"{new_profile}\"\nold = \"{name}/old\"\nvia = \"{name}/via\"\nnew = \"{name}/new\"\n\n"
        ));
    }
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(&inventory, text).expect("write");
    let run = |resume: bool| {
        let test = Test::new()
            .args(["run", "1.x-to-4.0.0", "--json", "--inventory"])
            .arg(&inventory);
        if resume {
            test.arg("--continue").run()
        } else {
            test.run()
        }
    };
    let output = run(false);
    output.success();
    let report = json(&output.stdout);
    assert_eq!(report["outcome"], "checkpoint");
    assert_eq!(node(&report, "pub-1")["outcome"], "checkpoint");
    assert_eq!(
        node(&report, "pub-1")["report"]["stopped_at"]["continue_with"],
        format!(
            "apim-migrate run 1.x-to-4.0.0 --inventory {} --continue",
            inventory.canonicalize().expect("canonical").display()
        )
    );
    assert_eq!(node(&report, "gw-1")["outcome"], "done");
    let sequence = "repository/deployment/server/synapse-configs/default/sequences/audit_log.xml";
    assert!(dir.path().join("gw-1/new").join(sequence).is_file());
    assert!(dir
        .path()
        .join("pub-1/via/repository/resources/security/partner.jks")
        .is_file());
    assert!(!dir
        .path()
        .join("pub-1/new/repository/resources/security/partner.jks")
        .exists());

    let output = run(true);
    output.success();
    let report = json(&output.stdout);
    assert_eq!(node(&report, "pub-1")["outcome"], "done");
    assert_eq!(node(&report, "gw-1")["outcome"], "nothing to continue");
    assert!(dir
        .path()
        .join("pub-1/new/repository/resources/security/partner.jks")
        .is_file());
}

#[test]
fn a_node_with_a_host_runs_on_that_host_only() {
    // The same paths on every host, as a playbook lays packs out.
    let fleet = standard_fleet("");
    let mut text = String::new();
    for (name, host, old_profile, new_profile) in [
        (
            "cp-1",
            "cp1.example.com",
            "api-key-manager",
            "control-plane",
        ),
        (
            "gw-1",
            "gw1.example.com",
            "gateway-worker",
            "gateway-worker",
        ),
        (
            "gw-2",
            "gw2.example.com",
            "gateway-worker",
            "gateway-worker",
        ),
    ] {
        text.push_str(&format!(
            "[[node]]\nname = \"{name}\"\nhost = \"{host}\"\nold_profile = \"{old_profile}\"\nnew_profile = \"{new_profile}\"\nold = \"gw-1/wso2am-3.0.0\"\nnew = \"gw-1/wso2am-4.1.0\"\n\n"
        ));
    }
    std::fs::write(&fleet.inventory, &text).expect("write");
    let report = fleet
        .test("run")
        .arg("--json")
        .env("APIM_MIGRATE_HOSTNAME", "gw1")
        .run()
        .success()
        .json();
    assert_eq!(node(&report, "cp-1")["outcome"], "elsewhere");
    assert_eq!(node(&report, "gw-1")["outcome"], "done");
    assert_eq!(node(&report, "gw-2")["outcome"], "elsewhere");
    assert!(!fleet
        .new_pack("gw-1")
        .join(USERSTORES)
        .join("corp_example_com.xml")
        .exists());

    // Without hosts, the same packs for two nodes on one machine are refused.
    let text = text.replace("host = ", "# host = ");
    let error = refused(&fleet, &text);
    assert!(
        error.contains("nodes `cp-1` and `gw-1` both migrate into"),
        "{error}"
    );
}

#[test]
fn the_family_script_checks_a_deployment_of_any_generation_it_takes() {
    // `to-4.x` takes 2.x, 3.x and 4.x packs as old: a node's old profile is checked against
    // the generations whose profile it names.
    let fleet = Fleet::build(
        &[
            ("cp-1", "api-publisher", "control-plane", old_3_0_0()),
            ("gw-1", "gateway-worker", "gateway-worker", old_3_0_0()),
        ],
        "",
    );
    let report = fleet
        .test_with("plan", "to-4.x")
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(node(&report, "cp-1")["outcome"], "planned");
    assert_eq!(node(&report, "gw-1")["outcome"], "planned");

    std::fs::write(
        &fleet.inventory,
        read(&fleet.inventory).replace(
            "old_profile = \"gateway-worker\"",
            "old_profile = \"gateway\"",
        ),
    )
    .expect("write inventory");
    let output = fleet.test_with("plan", "to-4.x").run();
    output.stderr_line("node `gw-1`: old_profile `gateway` is no profile of API-M 1.x/2.x or API-M 3.x or API-M 4.x: give one of all-in-one, api-publisher, api-store, api-key-manager, gateway-manager, gateway-worker, traffic-manager, api-devportal, control-plane");
}

/// An inventory keeps the packs of every node it planned until it applies them, each with
/// the directory handles it walked with: all packs together keep no more than half the
/// open files a process may have, so six nodes of 300 tenants plan, run and run again under
/// a hard limit of 160 open files (which each node alone would pass).
#[test]
fn the_nodes_of_an_inventory_share_the_open_files_a_process_may_have() {
    let old = with_tenant_userstores(old_3_0_0(), 100..400);
    let names = ["n1", "n2", "n3", "n4", "n5", "n6"];
    let nodes: Vec<(&str, &str, &str, PackBuilder)> = names
        .iter()
        .map(|name| (*name, "all-in-one", "all-in-one", old.clone()))
        .collect();
    let fleet = Fleet::build(&nodes, "");
    fleet
        .test("plan")
        .open_files_limit(160, true)
        .run()
        .success();
    let report = fleet
        .test("run")
        .arg("--json")
        .open_files_limit(160, true)
        .run()
        .success()
        .json();
    let store = "repository/tenants/399/userstores/staff_tenant399_example_com.xml";
    for name in names {
        assert_eq!(node(&report, name)["outcome"], "done", "{name}");
        assert_eq!(
            bytes(fleet.new_pack(name).join(store)),
            bytes(fleet.old_pack(name).join(store)),
            "{name}"
        );
    }
    let again = fleet
        .test("run")
        .arg("--json")
        .open_files_limit(160, true)
        .run()
        .success()
        .json();
    for name in names {
        assert_eq!(node(&again, name)["outcome"], "nothing to do", "{name}");
    }
}
