//! The 1.x -> 4.0.0 path through 2.0.0, end to end, on packs built in a temp dir: the chain
//! `1.x-to-4.0.0` (step 1, checkpoint, `--continue`, step 2), each step on its own
//! (`1.x-to-2.0.0`, `2.0.0-to-4.0.0`), the refusals, and a site script's own checkpoint.

use crate::support::*;
use sample_packs::PackBuilder;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const CHAIN: &str = "1.x-to-4.0.0";
const STEP_1: &str = "1.x-to-2.0.0";
const STEP_2: &str = "2.0.0-to-4.0.0";
const CHECKPOINT: &str = "2.0.0-data-migration";
const SYNAPSE: &str = "repository/deployment/server/synapse-configs/default";
const TENANT_SYNAPSE: &str = "repository/tenants/1/synapse-configs/default";
/// A tenant's own global sequence, which step 1 carries into 2.0.0 and step 2 into 4.0.0.
const TENANT_SEQUENCE: &str = "tenant_audit";
const TENANT_API: &str = "api/admin-AT-tenant1.example.com--OrdersAPI_v1.0.0.xml";
const TENANT_API_SEQUENCE: &str =
    "sequences/admin-AT-tenant1.example.com--OrdersAPI:v1.0.0--In.xml";
const SUPER_USERSTORE: &str = "repository/deployment/server/userstores/corp_example_com.xml";
const TENANT_USERSTORE: &str = "repository/tenants/1/userstores/partner_example_com.xml";
const DRIVER: &str = "mysql-connector-java-5.1.49.jar";
const API_SEQUENCE: &str = "admin--PizzaShackAPI:v1.0.0--In.xml";

/// A 1.9.0 pack as sites had them: known by carbon.xml only, with a site keystore, user stores
/// of the super tenant and of a tenant, a tenant's APIs and custom sequence, custom synapse
/// artifacts, a customised fault sequence, an API sequence and a JDBC driver.
fn old_1_9_0() -> PackBuilder {
    PackBuilder::api_manager("1.9.0")
        .without_version_txt()
        .keystore("partner-truststore.jks", "partner")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .tenant(1)
        .tenant_artifact(1, "sequences", TENANT_SEQUENCE)
        .custom_sequence("audit_log")
        .customise_stock_sequence("fault")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "In")
        .custom_synapse_artifact("endpoints", "BackendEP")
        .jdbc_driver(DRIVER, "com.mysql.jdbc.Driver")
        .database("apim_db", "mysql", "jdbc:mysql://db.example.com:3306/apim")
}

/// old (1.x), via (2.0.0), new (4.0.0) and maybe km (IS 5.10.0) in one temp dir, with the
/// stock catalogue of all their builders; the via pack always at hand.
struct Chain {
    packs: Packs,
    via: PathBuf,
}

impl std::ops::Deref for Chain {
    type Target = Packs;

    fn deref(&self) -> &Packs {
        &self.packs
    }
}

impl Chain {
    fn build(
        old: PackBuilder,
        via: PackBuilder,
        new: PackBuilder,
        km: Option<PackBuilder>,
    ) -> Chain {
        let packs = Packs::chain(old, via, new, km);
        let via = packs.via.clone().expect("a via pack");
        Chain { packs, via }
    }

    /// The standard chain: `old_1_9_0()`, fresh 2.0.0 and 4.0.0 packs, and an IS 5.10.0 Key
    /// Manager.
    fn standard() -> Chain {
        Chain::build(
            old_1_9_0(),
            PackBuilder::api_manager("2.0.0"),
            PackBuilder::api_manager("4.0.0"),
            Some(PackBuilder::identity_server("5.10.0")),
        )
    }

    fn km(&self) -> &Path {
        self.km.as_deref().expect("a km pack")
    }

    /// `1.x-to-4.0.0 --old OLD --via VIA --new NEW --stock STOCK [--km KM]` for `run`/`plan`.
    fn test(&self, command: &str) -> Test {
        self.packs.test(command, CHAIN)
    }

    /// Every pack and the catalogue, the tool's history included.
    fn snapshot(&self) -> Tree {
        tree(self.dir.path(), true)
    }

    /// Runs the chain up to the checkpoint, asserting that it stopped there.
    fn run_to_checkpoint(&self) -> Value {
        let report = self.test("run").arg("--json").run().success().json();
        assert_eq!(report["outcome"], "checkpoint", "{report:#}");
        report
    }

    /// Goes on from the checkpoint, asserting success.
    fn run_continue(&self) -> Value {
        let output = self.test("run").arg("--continue").arg("--json").run();
        output.success();
        json(&output.stdout)
    }
}

/// The files (not directories) that are new or different in `after`.
fn changed_files(before: &Tree, after: &Tree) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(_, (kind, _, _))| kind == "file")
        .filter(|(path, entry)| before.get(*path) != Some(*entry))
        .map(|(path, _)| path.clone())
        .collect()
}

fn array<'a>(report: &'a Value, field: &str) -> &'a Vec<Value> {
    report[field]
        .as_array()
        .unwrap_or_else(|| panic!("`{field}` is not an array in {report:#}"))
}

fn reminder<'a>(report: &'a Value, id: &str) -> Option<&'a str> {
    array(report, "reminders")
        .iter()
        .find(|reminder| reminder["id"] == id)
        .map(|reminder| reminder["message"].as_str().expect("reminder message"))
}

fn finding<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    array(report, "findings")
        .iter()
        .find(|finding| finding["id"] == id)
}

fn sequence_id(name: &str) -> String {
    format!("customised:{SEQUENCES}/{name}.xml")
}

/// The actions of a report, as (primitive, pack, path, status).
fn actions(report: &Value) -> Vec<(String, String, String, String)> {
    array(report, "actions")
        .iter()
        .map(|action| {
            let field = |name: &str| action[name].as_str().unwrap_or_default().to_string();
            (
                field("primitive"),
                field("pack"),
                field("path"),
                field("status"),
            )
        })
        .collect()
}

/// The marks of a report, as (kind, step script or checkpoint name, checkpoint state).
fn marks(report: &Value) -> Vec<(String, String, String)> {
    array(report, "marks")
        .iter()
        .map(|mark| {
            let kind = mark["mark"].as_str().expect("mark kind").to_string();
            let name = match kind.as_str() {
                "step" => mark["script"]["name"].as_str(),
                "step_done" => mark["script"].as_str(),
                _ => mark["name"].as_str(),
            }
            .expect("mark name")
            .to_string();
            let state = mark["state"].as_str().unwrap_or_default().to_string();
            (kind, name, state)
        })
        .collect()
}

fn mark(kind: &str, name: &str, state: &str) -> (String, String, String) {
    (kind.to_string(), name.to_string(), state.to_string())
}

/// Runs `test`, asserts exit 2 and that nothing below `root` changed; returns stderr.
fn refused(test: Test, root: &Path) -> String {
    test.unchanged(root).run().code(2).stderr()
}

// ----- the chain -----

/// The files step 1 brings from the standard 1.9.0 pack into a 2.0.0 pack.
fn step_1_files() -> BTreeSet<String> {
    [
        format!("{SECURITY}/client-truststore.jks"),
        format!("{SECURITY}/wso2carbon.jks"),
        format!("{SECURITY}/partner-truststore.jks"),
        SUPER_USERSTORE.to_string(),
        TENANT_USERSTORE.to_string(),
        format!("{SYNAPSE}/endpoints/BackendEP.xml"),
        format!("{SEQUENCES}/audit_log.xml"),
        format!("{SEQUENCES}/{API_SEQUENCE}"),
        format!("{TENANT_SYNAPSE}/{TENANT_API}"),
        format!("{TENANT_SYNAPSE}/{TENANT_API_SEQUENCE}"),
        format!("{TENANT_SYNAPSE}/sequences/{TENANT_SEQUENCE}.xml"),
        format!("{LIB}/{DRIVER}"),
    ]
    .into_iter()
    .collect()
}

/// A finding's diff runs from the old pack's sequence to the new pack's JSON one.
fn assert_json_port_diff(diff: &str, sequence: &str) {
    let lines: Vec<&str> = diff.lines().collect();
    assert!(
        lines.contains(&format!("--- old:{SEQUENCES}/{sequence}.xml").as_str()),
        "{diff}"
    );
    assert!(
        lines.contains(&format!("+++ new:{SEQUENCES}/{sequence}.xml").as_str()),
        "{diff}"
    );
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('+') && line.contains("media-type=\"json\"")),
        "{diff}"
    );
}

/// Each of `paths` has the same bytes and mode in both packs.
fn assert_same_files(from: &Path, to: &Path, paths: &BTreeSet<String>) {
    for path in paths {
        assert_eq!(bytes(from.join(path)), bytes(to.join(path)), "{path}");
        assert_eq!(mode(from.join(path)), mode(to.join(path)), "{path}");
    }
}

#[test]
fn chain_plan_changes_nothing_and_shows_both_steps() {
    let chain = Chain::standard();
    let before = chain.snapshot();
    let output = chain.test("plan").run();
    output.success();
    assert_eq!(
        chain.snapshot(),
        before,
        "plan writes nothing, not even the history"
    );
    for pack in [&chain.via, &chain.new, chain.km.as_ref().expect("km")] {
        assert!(!pack.join(".apim-migrate").exists(), "{}", pack.display());
    }
    let text = stdout(&output);
    for expected in [
        "== step: 1.x-to-2.0.0 (old: old, new: via)",
        "create   via:repository/resources/security/partner-truststore.jks  <- old",
        "create   via:repository/deployment/server/synapse-configs/default/endpoints/BackendEP.xml  <- old",
        "== checkpoint `2.0.0-data-migration`",
        "== step: 2.0.0-to-4.0.0 (old: via, new: new, km: km)",
        "create   new:repository/deployment/server/synapse-configs/default/sequences/audit_log.xml  <- via",
        "create   km:repository/resources/security/partner-truststore.jks  <- via",
        "edit     new:repository/conf/deployment.toml",
        "+sequences = [\"audit_log.xml\", \"tenant_audit.xml\"]",
        "+endpoints = [\"BackendEP.xml\"]",
        "create   new:repository/tenants/1/synapse-configs/default/sequences/tenant_audit.xml  <- via",
        "[1.x-to-2.0.0/data-migration]",
        "[2.0.0-to-4.0.0/json-errors]",
    ] {
        assert!(text.contains(expected), "plan lacks {expected:?}:\n{text}");
    }
    // Step 1 comes before the checkpoint, step 2 after it.
    let step_1 = text.find("== step: 1.x-to-2.0.0").expect("step 1");
    let checkpoint = text.find("== checkpoint").expect("checkpoint");
    let step_2 = text.find("== step: 2.0.0-to-4.0.0").expect("step 2");
    assert!(step_1 < checkpoint && checkpoint < step_2, "{text}");
    assert!(text.contains(" planned, "), "{text}");

    let report = chain.test("plan").arg("--json").run().success().json();
    assert_eq!(report["outcome"], "planned");
    assert!(report["run_id"].is_null());
    assert!(report["stopped_at"].is_null());
    assert_eq!(report["packs"]["old"]["version"], "1.9.0");
    assert_eq!(report["packs"]["via"]["version"], "2.0.0");
    assert_eq!(report["packs"]["new"]["version"], "4.0.0");
    assert_eq!(report["packs"]["km"]["version"], "5.10.0");
    assert_eq!(
        marks(&report),
        vec![
            mark("step", STEP_1, ""),
            mark("checkpoint", CHECKPOINT, "preview"),
            mark("step", STEP_2, ""),
        ]
    );
    assert!(array(&report, "actions")
        .iter()
        .all(|action| action["status"] != "changed"));
    assert_eq!(
        chain.snapshot(),
        before,
        "plan --json writes nothing either"
    );
}

#[test]
fn chain_run_applies_step_1_and_stops_at_the_checkpoint() {
    let chain = Chain::standard();
    let old_before = tree(&chain.old, true);
    let via_before = tree(&chain.via, false);
    let new_before = tree(&chain.new, false);
    let km_before = tree(chain.km(), false);
    let report = chain.run_to_checkpoint();

    // Step 1 only: the 2.0.0 pack received the site files, the others nothing.
    assert_eq!(tree(&chain.old, true), old_before, "old is never written");
    assert_eq!(
        tree(&chain.new, false),
        new_before,
        "new is untouched before the checkpoint"
    );
    assert_eq!(
        tree(chain.km(), false),
        km_before,
        "km is untouched before the checkpoint"
    );
    for pack in [&chain.new, &chain.via, &chain.km().to_path_buf()] {
        assert!(
            pack.join(".apim-migrate").is_dir(),
            "every target pack records the run: {}",
            pack.display()
        );
    }
    let expected = step_1_files();
    assert_eq!(
        changed_files(&via_before, &tree(&chain.via, false)),
        expected
    );
    assert_same_files(&chain.old, &chain.via, &expected);

    // The report: stopped at the checkpoint, with the command that goes on.
    assert!(report["run_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(report["continues"].is_null());
    let stopped = &report["stopped_at"];
    assert_eq!(stopped["name"], CHECKPOINT);
    let message = flat(stopped["message"].as_str().expect("message"));
    assert!(
        message.contains("-DmigrateDB=true -Dcomponent=apim -DmigrateFromVersion=1.9.0"),
        "{message}"
    );
    assert!(
        message.contains(&chain.via.display().to_string()),
        "{message}"
    );
    let continue_with = stopped["continue_with"].as_str().expect("continue_with");
    assert!(continue_with.ends_with(" --continue"), "{continue_with}");
    assert!(
        continue_with.starts_with("apim-migrate run 1.x-to-4.0.0 "),
        "{continue_with}"
    );
    for (flag, path) in [
        ("--old", &chain.old),
        ("--via", &chain.via),
        ("--new", &chain.new),
        ("--km", &chain.km().to_path_buf()),
    ] {
        assert!(path.is_absolute());
        assert!(
            continue_with.contains(&format!("{flag} {}", path.display())),
            "{flag} in {continue_with}"
        );
    }
    assert_eq!(
        marks(&report),
        vec![
            mark("step", STEP_1, ""),
            mark("checkpoint", CHECKPOINT, "stop"),
        ]
    );
    let planned_after_checkpoint: Vec<_> = actions(&report)
        .into_iter()
        .filter(|(_, pack, _, _)| pack == "new" || pack == "km")
        .collect();
    assert!(
        planned_after_checkpoint.is_empty(),
        "{planned_after_checkpoint:?}"
    );
    assert!(actions(&report)
        .iter()
        .all(|(_, _, _, status)| status != "planned"));
    // Step 1's reminders only; the fault sequence customised in 1.9.0 is found already.
    assert!(reminder(&report, "1.x-to-2.0.0/data-migration").is_some());
    assert!(
        !reminder_ids(&report)
            .iter()
            .any(|id| id.starts_with("2.0.0-to-4.0.0/")),
        "{:?}",
        reminder_ids(&report)
    );
    let fault = finding(&report, &sequence_id("fault")).expect("fault finding");
    assert!(fault["carried_from"].is_null());
}

#[test]
fn chain_run_text_says_where_it_stopped_and_how_to_go_on() {
    let chain = Chain::standard();
    let text = chain.test("run").run().success().stdout();
    assert!(
        text.contains("stopped at checkpoint `2.0.0-data-migration`"),
        "{text}"
    );
    assert!(
        flat(&text).contains("-DmigrateDB=true -Dcomponent=apim -DmigrateFromVersion=1.9.0"),
        "{text}"
    );
    assert!(text.contains("then go on with:"), "{text}");
    let go_on = text
        .lines()
        .skip_while(|line| !line.starts_with("then go on with:"))
        .nth(1)
        .expect("the command line")
        .trim();
    assert!(
        go_on.starts_with("apim-migrate run 1.x-to-4.0.0 "),
        "{go_on}"
    );
    assert!(go_on.ends_with(" --continue"), "{go_on}");
    assert!(
        go_on.contains(&format!("--via {}", chain.via.display())),
        "{go_on}"
    );
    assert!(!text.contains("== step: 2.0.0-to-4.0.0"), "{text}");
    for verb in ["create  ", "replace ", "edit    "] {
        assert!(!text.contains(&format!("  {verb} new:")), "{text}");
        assert!(!text.contains(&format!("  {verb} km:")), "{text}");
    }
}

#[test]
fn running_the_chain_again_without_continue_is_refused() {
    let chain = Chain::standard();
    chain.run_to_checkpoint();
    let message = refused(chain.test("run"), chain.dir.path());
    assert!(message.contains(CHECKPOINT), "{message}");
    assert!(message.contains("--continue"), "{message}");
    // `plan` from the start is allowed, with a note that says so, and changes nothing.
    let before = chain.snapshot();
    let output = chain.test("plan").arg("--json").run();
    output.success();
    assert_eq!(chain.snapshot(), before);
    let report = json(&output.stdout);
    assert!(
        array(&report, "warnings")
            .iter()
            .any(|warning| warning["message"]
                .as_str()
                .is_some_and(|text| text.contains(CHECKPOINT) && text.contains("--continue"))),
        "{report:#}"
    );
}

#[test]
fn continue_without_an_earlier_checkpoint_is_refused() {
    let chain = Chain::standard();
    let message = refused(chain.test("run").arg("--continue"), chain.dir.path());
    assert!(message.contains("without --continue first"), "{message}");
    let message = refused(chain.test("plan").arg("--continue"), chain.dir.path());
    assert!(message.contains("without --continue first"), "{message}");
}

#[test]
fn continue_runs_step_2_from_the_2_0_0_pack_without_redoing_step_1() {
    let chain = Chain::standard();
    chain.run_to_checkpoint();

    // Changed in the 2.0.0 pack after step 1 (as the data migration may change files).
    let via_audit_log = chain.via.join(SEQUENCES).join("audit_log.xml");
    let mut edited = read(&via_audit_log);
    edited.push_str("<!-- touched by the 2.0.0 data migration -->\n");
    std::fs::write(&via_audit_log, &edited).expect("write");
    let via_before = tree(&chain.via, false);
    let new_before = tree(&chain.new, false);
    let km_before = tree(chain.km(), false);
    let original_toml = read(chain.new.join(TOML));

    let report = chain.run_continue();
    assert_eq!(report["outcome"], "done");
    assert!(report["stopped_at"].is_null());
    assert_eq!(report["continues"]["checkpoint"], CHECKPOINT);
    assert!(report["continues"]["run_id"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));

    // Step 1 is not run again: the 2.0.0 pack is as it was left, the edit included.
    assert_eq!(tree(&chain.via, false), via_before);
    assert_eq!(read(&via_audit_log), edited);
    assert!(
        !actions(&report)
            .iter()
            .any(|(_, pack, _, status)| pack == "via"
                && status != "unchanged"
                && status != "skipped"),
        "{:?}",
        actions(&report)
    );
    assert!(!actions(&report)
        .iter()
        .any(|(primitive, _, _, _)| primitive == "copy_synapse_artifacts"));
    assert_eq!(
        marks(&report),
        vec![
            mark("step_done", STEP_1, ""),
            mark("checkpoint", CHECKPOINT, "resumed"),
            mark("step", STEP_2, ""),
        ]
    );

    // Step 2: from the 2.0.0 pack as it is now into 4.0.0, and to the Key Manager.
    assert_eq!(
        bytes(chain.new.join(SEQUENCES).join("audit_log.xml")),
        edited.as_bytes()
    );
    let expected_new: BTreeSet<String> = [
        format!("{SECURITY}/client-truststore.jks"),
        format!("{SECURITY}/wso2carbon.jks"),
        format!("{SECURITY}/partner-truststore.jks"),
        SUPER_USERSTORE.to_string(),
        TENANT_USERSTORE.to_string(),
        format!("{SEQUENCES}/audit_log.xml"),
        // The custom endpoint and the tenant's sequence step 1 brought into the 2.0.0 pack
        // go on to 4.0.0 too.
        "repository/deployment/server/synapse-configs/default/endpoints/BackendEP.xml".to_string(),
        format!("{TENANT_SYNAPSE}/sequences/{TENANT_SEQUENCE}.xml"),
        format!("{LIB}/{DRIVER}"),
        TOML.to_string(),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        changed_files(&new_before, &tree(&chain.new, false)),
        expected_new
    );
    for path in expected_new.iter().filter(|path| *path != TOML) {
        assert_eq!(
            bytes(chain.via.join(path)),
            bytes(chain.new.join(path)),
            "{path}"
        );
        assert_eq!(
            mode(chain.via.join(path)),
            mode(chain.new.join(path)),
            "{path}"
        );
    }
    assert!(!chain.new.join(SEQUENCES).join(API_SEQUENCE).exists());
    // What step 1 brought into the 2.0.0 pack goes on: the custom endpoint too.
    assert_eq!(
        bytes(chain.new.join(SYNAPSE).join("endpoints/BackendEP.xml")),
        bytes(chain.old.join(SYNAPSE).join("endpoints/BackendEP.xml"))
    );
    let edited_toml = read(chain.new.join(TOML));
    assert_lines_kept(&lines_config_kept(&original_toml, &chain.new), &edited_toml);
    let document: toml_edit::DocumentMut = edited_toml.parse().expect("valid TOML");
    let skip: Vec<&str> = document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]
        ["sequences"]
        .as_array()
        .expect("skip list")
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    assert_eq!(skip, vec!["audit_log.xml", "tenant_audit.xml"]);
    assert_eq!(
        document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]["endpoints"]
            .as_array()
            .expect("endpoints skip list")
            .iter()
            .filter_map(|value| value.as_str())
            .collect::<Vec<_>>(),
        vec!["BackendEP.xml"]
    );

    let expected_km: BTreeSet<String> = [
        format!("{SECURITY}/client-truststore.jks"),
        format!("{SECURITY}/wso2carbon.jks"),
        format!("{SECURITY}/partner-truststore.jks"),
        SUPER_USERSTORE.to_string(),
        TENANT_USERSTORE.to_string(),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        changed_files(&km_before, &tree(chain.km(), false)),
        expected_km
    );
    for path in &expected_km {
        assert_eq!(
            bytes(chain.via.join(path)),
            bytes(chain.km().join(path)),
            "{path}"
        );
    }

    // Step 1's finding, carried: the fault sequence customised in 1.9.0, diffed with 4.0.0's.
    let fault = finding(&report, &sequence_id("fault")).expect("carried fault finding");
    assert!(
        fault["carried_from"]
            .as_str()
            .is_some_and(|from| from.contains(CHECKPOINT)),
        "{fault:#}"
    );
    assert_eq!(
        fault["path"],
        format!("old:{SEQUENCES}/fault.xml"),
        "{fault:#}"
    );
    let diff = fault["diff"].as_str().expect("diff");
    assert_json_port_diff(diff, "fault");
    let lines: Vec<&str> = diff.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('-') && line.contains("SITE_TRACE")),
        "the customisation shows as removed: {diff}"
    );
    assert_eq!(
        report["summary"]["findings"],
        array(&report, "findings").len()
    );

    // Step 2's reminders, not step 1's again.
    let ids = reminder_ids(&report);
    for id in [
        "2.0.0-to-4.0.0/json-errors",
        "2.0.0-to-4.0.0/jwt-republish",
        "2.0.0-to-4.0.0/profiles",
        "2.0.0-to-4.0.0/data-migration",
        "2.0.0-to-4.0.0/key-manager",
    ] {
        assert!(ids.iter().any(|known| known == id), "{id} in {ids:?}");
    }
    assert!(
        !ids.iter().any(|id| id.starts_with("1.x-to-2.0.0/")),
        "{ids:?}"
    );

    // The chain is complete: a second --continue has nothing to go on from, and says so
    // (exit 0, as a finished migration run again).
    let after = chain.snapshot();
    let report = chain
        .test("run")
        .arg("--continue")
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["outcome"], "nothing to do");
    assert!(
        report["message"]
            .as_str()
            .is_some_and(|message| message.contains("already went on from the checkpoint")),
        "{report}"
    );
    assert_eq!(chain.snapshot(), after);
}

#[test]
fn plan_continue_after_the_checkpoint_plans_step_2_only() {
    let chain = Chain::standard();
    chain.run_to_checkpoint();
    let before = chain.snapshot();
    let output = chain.test("plan").arg("--continue").run();
    output.success();
    assert_eq!(chain.snapshot(), before);
    let text = stdout(&output);
    assert!(
        text.contains("== step: 1.x-to-2.0.0: not run again"),
        "{text}"
    );
    assert!(text.contains("== step: 2.0.0-to-4.0.0"), "{text}");
    assert!(
        text.contains(&format!("create   new:{SEQUENCES}/audit_log.xml  <- via")),
        "{text}"
    );
    assert!(!text.contains("  create   via:"), "{text}");
    assert!(!text.contains("  replace  via:"), "{text}");
    assert!(
        text.contains("continues run ") && text.contains(CHECKPOINT),
        "{text}"
    );
}

#[test]
fn a_failed_continue_is_taken_back_and_can_be_retried() {
    let chain = Chain::standard();
    chain.run_to_checkpoint();
    let packs = [
        chain.via.clone(),
        chain.new.clone(),
        chain.km().to_path_buf(),
    ];
    let before: Vec<Tree> = packs.iter().map(|pack| tree(pack, false)).collect();
    chain
        .test("run")
        .arg("--continue")
        .env("APIM_MIGRATE_INJECT_FAILURE", "4")
        .run()
        .code(1)
        .stderr_contains("taken back");
    let after: Vec<Tree> = packs.iter().map(|pack| tree(pack, false)).collect();
    assert_eq!(
        after, before,
        "everything the failed run applied is taken back"
    );
    // The checkpoint still waits: the same --continue goes on.
    let report = chain.run_continue();
    assert_eq!(report["outcome"], "done");
    assert_eq!(report["continues"]["checkpoint"], CHECKPOINT);
    assert!(chain.new.join(SEQUENCES).join("audit_log.xml").is_file());
}

#[test]
fn history_shows_where_the_chain_stands() {
    let chain = Chain::standard();
    let first = chain.run_to_checkpoint();
    let first_id = first["run_id"].as_str().expect("run id").to_string();

    for pack in [&chain.new, &chain.via] {
        let text = Test::new()
            .arg("history")
            .arg(pack)
            .run()
            .success()
            .stdout();
        assert!(
            text.contains(&format!(
                "the chain stands at checkpoint `{CHECKPOINT}` (run {first_id})"
            )),
            "{text}"
        );
        assert!(text.contains("(waiting)"), "{text}");
        assert!(
            text.contains(
                first["stopped_at"]["continue_with"]
                    .as_str()
                    .expect("command")
            ),
            "{text}"
        );
    }
    let runs = Test::new()
        .arg("history")
        .arg(&chain.new)
        .arg("--json")
        .run()
        .json();
    let runs = runs["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_id"], first_id.as_str());
    assert_eq!(runs[0]["script"], CHAIN);
    assert_eq!(runs[0]["checkpoint"]["name"], CHECKPOINT);
    assert_eq!(runs[0]["checkpoint"]["findings"], 1);
    assert!(runs[0]["checkpoint"]["continued"].is_null());
    assert!(runs[0]["continues"].is_null());

    let second = chain.run_continue();
    let second_id = second["run_id"].as_str().expect("run id").to_string();
    let text = Test::new().arg("history").arg(&chain.new).run().stdout();
    assert!(
        text.contains(&format!(
            "the chain is complete: run {second_id} went on from checkpoint `{CHECKPOINT}` of run {first_id}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("continued by run {second_id}")),
        "{text}"
    );
    assert!(!text.contains("the chain stands at"), "{text}");
    let runs = Test::new()
        .arg("history")
        .arg(&chain.new)
        .arg("--json")
        .run()
        .json();
    let runs = runs["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["checkpoint"]["continued"], second_id.as_str());
    assert_eq!(runs[1]["run_id"], second_id.as_str());
    assert!(runs[1]["checkpoint"].is_null());
    assert_eq!(runs[1]["continues"]["run_id"], first_id.as_str());
    assert_eq!(runs[1]["continues"]["checkpoint"], CHECKPOINT);
}

#[test]
fn rollback_takes_back_step_2_then_step_1() {
    let chain = Chain::standard();
    let via_original = tree(&chain.via, false);
    let new_original = tree(&chain.new, false);
    let km_original = tree(chain.km(), false);
    chain.run_to_checkpoint();
    let via_after_step_1 = tree(&chain.via, false);
    let audit_log = chain.via.join(SEQUENCES).join("audit_log.xml");
    let mut edited = read(&audit_log);
    edited.push_str("<!-- changed after step 1 -->\n");
    std::fs::write(&audit_log, &edited).expect("write");
    chain.run_continue();
    assert_ne!(tree(&chain.new, false), new_original);
    assert_ne!(tree(chain.km(), false), km_original);

    // Step 2 first: new and km back as they were, the 2.0.0 pack left as step 1 made it.
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&chain.new)
        .run()
        .success()
        .stdout_contains("rolled back run");
    assert_eq!(tree(&chain.new, false), new_original);
    assert_eq!(tree(chain.km(), false), km_original);
    assert_eq!(read(&audit_log), edited);

    // Step 1: refused while a file it wrote was changed since, naming it; forced, it goes.
    let message = refused(
        Test::new().arg("rollback").arg("--via").arg(&chain.via),
        chain.dir.path(),
    );
    assert!(message.contains("audit_log.xml"), "{message}");
    assert!(message.contains("--force"), "{message}");
    assert_ne!(tree(&chain.via, false), via_after_step_1);
    Test::new()
        .arg("rollback")
        .arg("--via")
        .arg(&chain.via)
        .arg("--force")
        .run()
        .success();
    assert_eq!(tree(&chain.via, false), via_original);
    assert_eq!(tree(&chain.new, false), new_original);
    assert_eq!(tree(chain.km(), false), km_original);

    // Nothing left (exit 0, nothing changed); and the chain starts over from step 1.
    Test::new()
        .arg("rollback")
        .arg("--via")
        .arg(&chain.via)
        .unchanged(chain.dir.path())
        .run()
        .success()
        .stdout_contains("nothing to roll back");
    let report = chain.run_to_checkpoint();
    assert_eq!(report["stopped_at"]["name"], CHECKPOINT);
    assert_eq!(tree(&chain.via, false), via_after_step_1);
}

#[test]
fn running_a_completed_chain_again_keeps_what_the_data_migration_changed() {
    // Once the chain is complete, the same command without --continue would run step 1
    // again over the 2.0.0 pack that the data migration changed: it does nothing and says
    // so (exit 0), naming the rollbacks that start over.
    let chain = Chain::standard();
    chain.run_to_checkpoint();
    let audit_log = chain.via.join(SEQUENCES).join("audit_log.xml");
    let mut migrated = read(&audit_log);
    migrated.push_str("<!-- rewritten by -DmigrateFS=true -->\n");
    std::fs::write(&audit_log, &migrated).expect("write");
    chain.run_continue();
    let before = chain.snapshot();

    let message = chain.test("run").run().success().stdout();
    assert!(message.contains("are complete"), "{message}");
    assert!(message.contains("nothing to do"), "{message}");
    assert!(
        message.contains(&format!("rollback --new {}", chain.new.display())),
        "{message}"
    );
    assert!(
        message.contains(&format!("rollback --via {}", chain.via.display())),
        "{message}"
    );
    assert_eq!(read(&audit_log), migrated);
    assert_eq!(chain.snapshot(), before);

    // Step 1 cannot be taken back while step 2, which went on from it, is in place.
    Test::new()
        .arg("rollback")
        .arg("--via")
        .arg(&chain.via)
        .arg("--force")
        .run()
        .code(2)
        .stderr_contains("went on from the checkpoint");
    assert_eq!(chain.snapshot(), before);
}

// ----- step 1 on its own: 1.x-to-2.0.0 -----

#[test]
fn step_1_alone_copies_site_files_and_nothing_stock() {
    let packs = Packs::build(old_1_9_0(), PackBuilder::api_manager("2.0.0"), None);
    assert!(
        !packs.old.join("bin/version.txt").exists(),
        "carbon.xml must tell the version"
    );
    // A site edit of a stock token API does not make it travel either.
    let revoke = packs.old.join(SYNAPSE).join("api/_RevokeAPI_.xml");
    let mut edited = read(&revoke);
    edited.push_str("<!-- edited on site -->\n");
    std::fs::write(&revoke, edited).expect("write");
    let old_before = tree(&packs.old, true);
    let new_before = tree(&packs.new, false);
    let stock_apis: Vec<(String, Vec<u8>)> = ["_TokenAPI_", "_RevokeAPI_", "_AuthorizeAPI_"]
        .iter()
        .map(|name| {
            let path = format!("{SYNAPSE}/api/{name}.xml");
            (path.clone(), bytes(packs.new.join(&path)))
        })
        .collect();
    let new_fault = bytes(packs.new.join(SEQUENCES).join("fault.xml"));

    let report = packs
        .test("run", STEP_1)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["outcome"], "done");
    assert_eq!(report["packs"]["old"]["version"], "1.9.0");
    assert_eq!(tree(&packs.old, true), old_before);

    let expected = step_1_files();
    assert_eq!(
        changed_files(&new_before, &tree(&packs.new, false)),
        expected
    );
    assert_same_files(&packs.old, &packs.new, &expected);
    assert_eq!(
        mode(packs.new.join(SECURITY).join("partner-truststore.jks")),
        0o600
    );
    assert_eq!(mode(packs.new.join(LIB).join(DRIVER)), 0o644);

    // The stock token APIs and the stock sequences stay the 2.0.0 pack's own.
    for (path, content) in &stock_apis {
        assert_eq!(&bytes(packs.new.join(path)), content, "{path}");
    }
    assert_eq!(
        bytes(packs.new.join(SEQUENCES).join("fault.xml")),
        new_fault
    );
    // A tenant's stock sequences are not custom files either.
    for name in ["main.xml", "fault.xml", "synapse.xml"] {
        let path = if name == "synapse.xml" {
            format!("{TENANT_SYNAPSE}/{name}")
        } else {
            format!("{TENANT_SYNAPSE}/sequences/{name}")
        };
        assert!(packs.old.join(&path).is_file(), "{path}");
        assert!(!packs.new.join(&path).exists(), "{path}");
    }
    assert!(
        !packs.new.join(TOML).exists(),
        "2.0.0 has no deployment.toml"
    );
    let skipped: Vec<String> = actions(&report)
        .into_iter()
        .filter(|(_, _, _, status)| status == "skipped")
        .map(|(_, _, path, _)| path)
        .collect();
    for name in ["_TokenAPI_", "_RevokeAPI_", "_AuthorizeAPI_"] {
        assert!(
            skipped.contains(&format!("{SYNAPSE}/api/{name}.xml")),
            "{name} in {skipped:?}"
        );
    }
}

#[test]
fn step_1_alone_reports_the_customised_stock_sequence_and_the_data_migration() {
    let packs = Packs::build(
        old_1_9_0().customise_stock_sequence("_cors_request_handler_"),
        PackBuilder::api_manager("2.0.0"),
        None,
    );
    let report = packs
        .test("run", STEP_1)
        .arg("--json")
        .run()
        .success()
        .json();
    for name in ["fault", "_cors_request_handler_"] {
        let found = finding(&report, &sequence_id(name))
            .unwrap_or_else(|| panic!("{name} finding in {report:#}"));
        assert_eq!(found["primitive"], "copy_synapse_artifacts");
        let message = found["message"].as_str().expect("message");
        assert!(message.contains(&format!("{name}.xml")), "{message}");
        let diff = found["diff"].as_str().expect("diff");
        assert!(
            diff.lines()
                .any(|line| line == format!("--- old:{SEQUENCES}/{name}.xml")),
            "{diff}"
        );
        assert!(
            diff.lines()
                .any(|line| line == format!("+++ new:{SEQUENCES}/{name}.xml")),
            "{diff}"
        );
        assert!(
            actions(&report).contains(&(
                "copy_synapse_artifacts".to_string(),
                "old".to_string(),
                format!("{SEQUENCES}/{name}.xml"),
                "skipped".to_string()
            )),
            "{name} is not copied"
        );
        assert_ne!(
            bytes(packs.old.join(SEQUENCES).join(format!("{name}.xml"))),
            bytes(packs.new.join(SEQUENCES).join(format!("{name}.xml")))
        );
    }
    assert_eq!(array(&report, "findings").len(), 2, "{report:#}");

    let data = flat(reminder(&report, "data-migration").expect("data-migration reminder"));
    for expected in ["-DmigrateDB=true", "-DmigrateReg=true", "-DmigrateFS=true"] {
        assert!(data.contains(expected), "{expected} in {data}");
    }
    assert!(data.contains("-DmigrateFromVersion=1.9.0"), "{data}");
    assert!(
        data.contains(&format!("{}/bin/wso2server.sh", packs.new.display())),
        "{data}"
    );
    assert!(reminder(&report, "config-migration").is_some());
}

#[test]
fn step_1_does_not_copy_a_custom_artifact_over_a_2_0_0_stock_one() {
    // `_UserInfoAPI_` is not a file of 1.9.0 but a stock API of 2.0.0.
    let packs = Packs::build(
        PackBuilder::api_manager("1.9.0").custom_synapse_artifact("api", "_UserInfoAPI_"),
        PackBuilder::api_manager("2.0.0"),
        None,
    );
    let path = format!("{SYNAPSE}/api/_UserInfoAPI_.xml");
    let stock = bytes(packs.new.join(&path));
    assert_ne!(stock, bytes(packs.old.join(&path)));
    let report = packs
        .test("run", STEP_1)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(bytes(packs.new.join(&path)), stock);
    assert!(
        array(&report, "warnings")
            .iter()
            .any(|warning| warning["message"]
                .as_str()
                .is_some_and(|text| text.contains("_UserInfoAPI_"))),
        "{report:#}"
    );
}

// ----- step 2 on its own: 2.0.0-to-4.0.0 -----

fn old_2_0_0() -> PackBuilder {
    PackBuilder::api_manager("2.0.0")
        .keystore("partner-truststore.jks", "partner")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .custom_sequence("audit_log")
        .custom_sequence("correlation_id")
        .customise_stock_sequence("fault")
        .customise_stock_sequence("main")
        .customise_stock_sequence("_auth_failure_handler_")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "In")
        .jdbc_driver(DRIVER, "com.mysql.jdbc.Driver")
}

#[test]
fn step_2_alone_copies_sequences_keystores_and_user_stores() {
    let packs = Packs::build(
        old_2_0_0(),
        PackBuilder::api_manager("4.0.0"),
        Some(PackBuilder::identity_server("5.10.0")),
    );
    let km = packs.km.clone().expect("km");
    let new_before = tree(&packs.new, false);
    let km_before = tree(&km, false);
    let original_toml = read(packs.new.join(TOML));
    let stock_fault = bytes(packs.new.join(SEQUENCES).join("fault.xml"));
    let report = packs
        .test("run", STEP_2)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["outcome"], "done");

    let common: Vec<String> = vec![
        format!("{SECURITY}/client-truststore.jks"),
        format!("{SECURITY}/wso2carbon.jks"),
        format!("{SECURITY}/partner-truststore.jks"),
        SUPER_USERSTORE.to_string(),
        TENANT_USERSTORE.to_string(),
    ];
    let mut expected_new: BTreeSet<String> = common.iter().cloned().collect();
    expected_new.insert(format!("{SEQUENCES}/audit_log.xml"));
    expected_new.insert(format!("{SEQUENCES}/correlation_id.xml"));
    expected_new.insert(format!("{LIB}/{DRIVER}"));
    expected_new.insert(TOML.to_string());
    assert_eq!(
        changed_files(&new_before, &tree(&packs.new, false)),
        expected_new
    );
    assert_eq!(
        changed_files(&km_before, &tree(&km, false)),
        common.iter().cloned().collect::<BTreeSet<_>>()
    );
    for path in expected_new.iter().filter(|path| *path != TOML) {
        assert_eq!(
            bytes(packs.old.join(path)),
            bytes(packs.new.join(path)),
            "{path}"
        );
        assert_eq!(
            mode(packs.old.join(path)),
            mode(packs.new.join(path)),
            "{path}"
        );
    }
    for path in &common {
        assert_eq!(bytes(packs.old.join(path)), bytes(km.join(path)), "{path}");
    }
    assert_eq!(
        bytes(packs.new.join(SEQUENCES).join("fault.xml")),
        stock_fault,
        "the customised 2.0.0 fault sequence is not copied over the 4.0.0 one"
    );
    let edited = read(packs.new.join(TOML));
    assert_lines_kept(&lines_config_kept(&original_toml, &packs.new), &edited);
    let document: toml_edit::DocumentMut = edited.parse().expect("valid TOML");
    let skip: Vec<&str> = document["apim"]["sync_runtime_artifacts"]["gateway"]["skip_list"]
        ["sequences"]
        .as_array()
        .expect("skip list")
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    assert_eq!(skip, vec!["audit_log.xml", "correlation_id.xml"]);
}

#[test]
fn step_2_alone_reports_each_customised_fault_sequence_with_its_diff() {
    let packs = Packs::build(old_2_0_0(), PackBuilder::api_manager("4.0.0"), None);
    let before = tree(packs.dir.path(), true);
    let output = packs.test("plan", STEP_2).arg("--json").run();
    output.success();
    assert_eq!(tree(packs.dir.path(), true), before);
    let report = json(&output.stdout);
    for name in ["fault", "main", "_auth_failure_handler_"] {
        let id = sequence_id(name);
        let found = finding(&report, &id).unwrap_or_else(|| panic!("{id} in {report:#}"));
        let message = found["message"].as_str().expect("message");
        assert!(message.contains(&format!("`{name}.xml`")), "{message}");
        assert!(message.contains("JSON"), "{message}");
        assert!(found["carried_from"].is_null());
        assert_json_port_diff(found["diff"].as_str().expect("diff"), name);
    }
    assert!(
        finding(&report, &sequence_id("_token_fault_")).is_none(),
        "a stock fault sequence is no finding"
    );
    let fault_findings = array(&report, "findings")
        .iter()
        .filter(|finding| finding["primitive"] != "migrate_config")
        .count();
    assert_eq!(fault_findings, 3, "{report:#}");
    // The configuration step names the broker's datasource it does not carry, and the XML
    // files it could not compare with stock copies: 5 in all.
    assert!(array(&report, "findings").iter().any(|finding| {
        finding["primitive"] == "migrate_config"
            && finding["message"]
                .as_str()
                .is_some_and(|message| message.contains("WSO2_MB_STORE_DB"))
    }));
    assert!(array(&report, "findings")
        .iter()
        .any(|finding| finding["id"] == "config:uncompared"));
    assert_eq!(report["summary"]["findings"], 5);

    let text = packs.test("plan", STEP_2).run().stdout();
    assert!(text.contains("findings (to port by hand)"), "{text}");
    assert!(
        text.contains(&format!("--- old:{SEQUENCES}/main.xml")),
        "{text}"
    );
}

#[test]
fn step_2_alone_gives_the_4_0_0_reminders() {
    let packs = Packs::build(
        old_2_0_0(),
        PackBuilder::api_manager("4.0.0"),
        Some(PackBuilder::identity_server("5.10.0")),
    );
    let report = packs
        .test("plan", STEP_2)
        .arg("--json")
        .run()
        .success()
        .json();
    let json_errors = reminder(&report, "json-errors").expect("json-errors");
    assert!(json_errors.contains("<am:fault"), "{json_errors}");
    assert!(json_errors.contains(r#"{"code":"404""#), "{json_errors}");
    assert!(reminder(&report, "jwt-republish").is_some_and(|text| text.contains("republish")));
    let profiles = reminder(&report, "profiles").expect("profiles");
    assert!(
        profiles.contains("-DmigrateFromVersion=2.0.0"),
        "{profiles}"
    );
    assert!(profiles.contains("Default"), "{profiles}");
    let data = reminder(&report, "data-migration").expect("data-migration");
    assert!(
        data.contains(&format!("{}/bin/api-manager.sh", packs.new.display())),
        "{data}"
    );
    let key_manager = reminder(&report, "key-manager").expect("key-manager");
    assert!(key_manager.contains("5.10.0"), "{key_manager}");
    assert!(
        reminder(&report, "ciphertool").is_none(),
        "no secure vault in this 2.0.0 pack"
    );

    // Without --km, no Key Manager reminder.
    let plain = Packs::build(old_2_0_0(), PackBuilder::api_manager("4.0.0"), None);
    let report = plain.test("plan", STEP_2).arg("--json").run().json();
    assert!(reminder(&report, "key-manager").is_none());
    assert!(reminder(&report, "json-errors").is_some());
}

#[test]
fn step_2_alone_gives_the_cipher_tool_reminder_for_a_2_0_0_secure_vault() {
    let packs = Packs::build(
        PackBuilder::api_manager("2.0.0").secure_vault(&["Custom.Endpoint.Password"]),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let report = packs
        .test("plan", STEP_2)
        .arg("--json")
        .run()
        .success()
        .json();
    let message = reminder(&report, "ciphertool").expect("ciphertool reminder");
    assert!(
        message.contains(&format!(
            "{}/bin/ciphertool.sh -Dconfigure",
            packs.new.display()
        )),
        "{message}"
    );
    // The 2.x aliases hold dots: under `[secrets]` they are quoted, or TOML reads nested
    // tables; and the setting that uses one says `$secret{alias}`.
    for alias in [
        "Custom.Endpoint.Password",
        "Carbon.Security.KeyStore.Password",
    ] {
        assert!(
            message.contains(&format!("`\"{alias}\" = \"[plain value]\"`")),
            "{alias}: {message}"
        );
    }
    assert!(message.contains("\"$secret{alias}\""), "{message}");
    assert!(message.contains("svns:secretAlias"), "{message}");
}

// ----- refusals -----

#[test]
fn wrong_versions_are_refused_before_anything_changes() {
    let v1_9 = || PackBuilder::api_manager("1.9.0").without_version_txt();
    let am = PackBuilder::api_manager;
    // (old, new, script, the flag refused, what it is, the header line, what to do, which
    // bundled script would take it)
    let cases = [
        (
            v1_9(),
            am("4.0.0"),
            STEP_2,
            "--old",
            "API-M 1.9.0",
            "@accepts old wso2am 2.0.0",
            "give an API-M 2.0.0 pack as --old",
            "; API-M 1.9.0 goes to 4.0.0 through 2.0.0: run `1.x-to-4.0.0` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `2.0.0-to-4.0.0` (`apim-migrate path 1.9.0 4.0.0` tells more)",
        ),
        (
            v1_9(),
            am("4.1.0"),
            "3.0.0-to-4.1.0",
            "--old",
            "API-M 1.9.0",
            "@accepts old wso2am 3.0.0",
            "give an API-M 3.0.0 pack as --old",
            "; API-M 1.9.0 goes to 4.1.0 through 2.0.0: run `1.x-to-4.x` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `to-4.x` (`apim-migrate path 1.9.0 4.1.0` tells more)",
        ),
        (
            am("2.0.0"),
            am("4.1.0"),
            "3.0.0-to-4.1.0",
            "--old",
            "API-M 2.0.0",
            "@accepts old wso2am 3.0.0",
            "give an API-M 3.0.0 pack as --old",
            "; the bundled script `to-4.x` takes API-M 2.0.0 to 4.1.0 (`apim-migrate path 2.0.0 4.1.0` tells more)",
        ),
        (
            am("2.0.0"),
            am("4.1.0"),
            STEP_2,
            "--new",
            "API-M 4.1.0",
            "@accepts new wso2am 4.0.0",
            "give an API-M 4.0.0 pack as --new",
            "; the bundled script `to-4.x` takes API-M 2.0.0 to 4.1.0 (`apim-migrate path 2.0.0 4.1.0` tells more)",
        ),
        (
            v1_9(),
            am("4.0.0"),
            STEP_1,
            "--new",
            "API-M 4.0.0",
            "@accepts new wso2am 2.0.0",
            "give an API-M 2.0.0 pack as --new",
            "; API-M 1.9.0 goes to 4.0.0 through 2.0.0: run `1.x-to-4.0.0` with --via a fresh 2.0.0 pack, or step by step `1.x-to-2.0.0`, then `2.0.0-to-4.0.0` (`apim-migrate path 1.9.0 4.0.0` tells more)",
        ),
    ];
    for (old, new, script, flag, what, tag, advice, hint) in cases {
        let packs = Packs::build(old, new, None);
        let message = refused(packs.test("run", script), packs.dir.path());
        let home = if flag == "--old" {
            &packs.old
        } else {
            &packs.new
        };
        let wanted = advice
            .trim_start_matches("give an ")
            .split(" pack")
            .next()
            .expect("wanted");
        let expected = format!(
            "error: {flag} (`{}`) is {what}, but `{script}` accepts {wanted} as {flag} {}; {advice}{hint}\n",
            home.display(),
            header_line(script, tag)
        );
        assert_eq!(message, expected, "{script}");
    }
}

#[test]
fn the_chain_refuses_missing_or_wrong_intermediate_and_key_manager_packs() {
    // No --via.
    let packs = Packs::build(old_1_9_0(), PackBuilder::api_manager("4.0.0"), None);
    let needs_via = format!(
        "error: `{CHAIN}` needs --via: it declares `@accepts via wso2am 2.0.0` (line {}); give an API-M 2.0.0 pack with --via\n",
        tag_line(CHAIN, "@accepts via wso2am 2.0.0")
    );
    let message = refused(packs.test("run", CHAIN), packs.dir.path());
    assert_eq!(message, needs_via);
    let message = refused(packs.test("plan", CHAIN), packs.dir.path());
    assert_eq!(message, needs_via);

    // --via not a 2.0.0 pack.
    let chain = Chain::build(
        old_1_9_0(),
        PackBuilder::api_manager("3.0.0"),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let message = refused(chain.test("run"), chain.dir.path());
    assert_eq!(
        message,
        format!(
            "error: --via (`{}`) is API-M 3.0.0, but `{CHAIN}` accepts API-M 2.0.0 as --via {}; give an API-M 2.0.0 pack as --via\n",
            chain.via.display(),
            header_line(CHAIN, "@accepts via wso2am 2.0.0")
        )
    );

    // --km not IS 5.10.0.
    let chain = Chain::build(
        old_1_9_0(),
        PackBuilder::api_manager("2.0.0"),
        PackBuilder::api_manager("4.0.0"),
        Some(PackBuilder::identity_server("5.11.0")),
    );
    let message = refused(chain.test("run"), chain.dir.path());
    assert_eq!(
        message,
        format!(
            "error: --km (`{}`) is IS 5.11.0, but `{CHAIN}` accepts IS 5.10.0 as --km {}; give an IS 5.10.0 pack as --km\n",
            chain.km.as_ref().expect("km").display(),
            header_line(CHAIN, "@accepts km wso2is 5.10.0 optional")
        )
    );

    // --via older than --old.
    let chain = Chain::build(
        old_1_9_0(),
        PackBuilder::api_manager("1.8.0"),
        PackBuilder::api_manager("4.0.0"),
        None,
    );
    let message = refused(chain.test("run"), chain.dir.path());
    assert!(message.contains("--via"), "{message}");
    assert!(message.contains("not newer than --old"), "{message}");

    // --km given to step 1, which has no Key Manager.
    let packs = Packs::build(
        old_1_9_0(),
        PackBuilder::api_manager("2.0.0"),
        Some(PackBuilder::identity_server("5.10.0")),
    );
    let message = refused(packs.test("run", STEP_1), packs.dir.path());
    assert_eq!(
        message,
        format!(
            "error: `{STEP_1}` takes no --km: its header accepts --old, --new only; leave --km out; the bundled scripts `{CHAIN}`, `{STEP_2}` accept IS 5.10.0 as --km\n"
        )
    );
}

#[test]
fn swapped_or_equal_packs_are_refused() {
    let chain = Chain::standard();
    let root = chain.dir.path();
    let message = refused(
        Test::new()
            .args(["run", STEP_1, "--old"])
            .arg(&chain.via)
            .arg("--new")
            .arg(&chain.old)
            .arg("--stock")
            .arg(&chain.stock),
        root,
    );
    assert!(message.contains("swapped"), "{message}");

    let message = refused(
        Test::new()
            .args(["run", STEP_1, "--old"])
            .arg(&chain.old)
            .arg("--new")
            .arg(&chain.old)
            .arg("--stock")
            .arg(&chain.stock),
        root,
    );
    assert!(message.contains("same pack"), "{message}");

    // --via and --new swapped in the chain.
    let message = refused(
        Test::new()
            .args(["run", CHAIN, "--old"])
            .arg(&chain.old)
            .arg("--via")
            .arg(&chain.new)
            .arg("--new")
            .arg(&chain.via)
            .arg("--stock")
            .arg(&chain.stock),
        root,
    );
    assert!(message.contains("swapped"), "{message}");

    // The same pack as --via and --new.
    let message = refused(
        Test::new()
            .args(["run", CHAIN, "--old"])
            .arg(&chain.old)
            .arg("--via")
            .arg(&chain.new)
            .arg("--new")
            .arg(&chain.new)
            .arg("--stock")
            .arg(&chain.stock),
        root,
    );
    assert!(message.contains("same pack"), "{message}");
}

// ----- a site script's own checkpoint -----

#[test]
fn a_site_script_checkpoint_stops_the_run_and_continue_goes_on_after_it() {
    let packs = Packs::standard();
    let script = packs.dir.path().join("site.rhai");
    std::fs::write(
        &script,
        "copy_keystores(old, new);\ncheckpoint(\"manual\", \"do X by hand\");\ncopy_tenant_userstores(old, new);\n",
    )
    .expect("write script");
    let site_cmd = |extra: &[&str]| packs.test("run", &script).arg("--json").args(extra);
    let keystore = packs.new.join(SECURITY).join("partner-truststore.jks");
    let userstore = packs.new.join(SUPER_USERSTORE);

    let first = site_cmd(&[]).run().success().json();
    assert_eq!(first["outcome"], "checkpoint");
    assert_eq!(first["stopped_at"]["name"], "manual");
    assert_eq!(first["stopped_at"]["message"], "do X by hand");
    let continue_with = first["stopped_at"]["continue_with"]
        .as_str()
        .expect("continue_with");
    assert!(
        continue_with.contains(&script.canonicalize().expect("path").display().to_string()),
        "{continue_with}"
    );
    assert!(continue_with.ends_with(" --continue"), "{continue_with}");
    assert_eq!(marks(&first), vec![mark("checkpoint", "manual", "stop")]);
    assert_eq!(
        bytes(&keystore),
        bytes(packs.old.join(SECURITY).join("partner-truststore.jks"))
    );
    assert!(!userstore.exists(), "what follows the checkpoint waits");
    assert!(!packs.new.join("repository/tenants").exists());

    // Changed after the first run: --continue must not copy the keystores again.
    std::fs::write(&keystore, b"replaced by the operator").expect("write");
    // The script changed too: --continue goes on, and says so.
    let mut source = read(&script);
    source.push_str("// edited between the two runs\n");
    std::fs::write(&script, source).expect("write script");

    let second = site_cmd(&["--continue"]).run().success().json();
    assert_eq!(second["outcome"], "done");
    assert_eq!(second["continues"]["checkpoint"], "manual");
    assert_eq!(second["continues"]["run_id"], first["run_id"]);
    assert_eq!(
        marks(&second),
        vec![mark("checkpoint", "manual", "resumed")]
    );
    assert!(
        array(&second, "warnings")
            .iter()
            .any(|warning| warning["message"]
                .as_str()
                .is_some_and(|text| text.contains("changed since run"))),
        "{second:#}"
    );
    assert!(
        !actions(&second)
            .iter()
            .any(|(primitive, _, _, _)| primitive == "copy_keystores"),
        "{:?}",
        actions(&second)
    );
    assert!(actions(&second)
        .iter()
        .any(
            |(primitive, _, _, status)| primitive == "copy_tenant_userstores"
                && status == "changed"
        ));
    assert_eq!(bytes(&keystore), b"replaced by the operator");
    for path in [
        SUPER_USERSTORE,
        "repository/tenants/1/userstores/partner_example_com.xml",
        "repository/tenants/2/userstores/retail_example_com.xml",
    ] {
        assert_eq!(
            bytes(packs.old.join(path)),
            bytes(packs.new.join(path)),
            "{path}"
        );
    }
}
