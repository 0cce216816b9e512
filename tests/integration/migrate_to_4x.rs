//! The paths to a later 4.x release, end to end on packs of the sample builder (the real stock
//! file names of each version, described by the site catalogue the tests pass with
//! `--stock`): 3.2.0 -> 4.5.0, 4.0.0 -> 4.2.0, 2.6.0 -> 4.1.0, 3.1.0 -> 4.6.0 and 1.9.0 ->
//! 2.0.0 -> 4.5.0. Each: byte-exact files, the four skip lists, no stock file copied or
//! listed, customised stock files reported, a second run that changes nothing, a rollback
//! that restores every byte.

use crate::support::*;
use sample_packs::PackBuilder;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const FAMILY: &str = "to-4.x";
const SYNAPSE: &str = "repository/deployment/server/synapse-configs/default";
const TENANT_SYNAPSE: &str = "repository/tenants/1/synapse-configs/default";
const DRIVER: &str = "mysql-connector-j-8.0.33.jar";

/// A site's pack: keystores, user stores, a tenant, the four kinds of custom gateway
/// artifacts (one of them a tenant's), an API's own files, a customised stock sequence, a
/// JDBC driver and an OSGi bundle of its own.
fn site(pack: PackBuilder) -> PackBuilder {
    pack.keystore("partner-truststore.jks", "partner")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .tenant(1)
        .tenant_artifact(1, "sequences", "tenant_audit")
        .custom_sequence("audit_log")
        .custom_synapse_artifact("endpoints", "BackendEP")
        .custom_synapse_artifact("local-entries", "partner-config")
        .custom_synapse_artifact("api", "HealthCheckAPI")
        .custom_synapse_artifact("api", "admin--PizzaShackAPI_v1.0.0")
        .custom_synapse_artifact("endpoints", "admin--PizzaShackAPI_APIproductionEndpoint")
        .custom_synapse_artifact("proxy-services", "LegacyProxy")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "In")
        .customise_stock_sequence("main")
        .jdbc_driver(DRIVER, "com.mysql.cj.jdbc.Driver")
        .database(
            "apim_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/apim_db",
        )
        .dropin_jar("acme-throttle-extension_1.0.0.jar")
}

/// The files a run of the family script changes in the new pack of an all-in-one (or
/// gateway) node.
fn carried() -> BTreeSet<String> {
    [
        format!("{SECURITY}/client-truststore.jks"),
        format!("{SECURITY}/partner-truststore.jks"),
        format!("{SECURITY}/wso2carbon.jks"),
        format!("{USERSTORES}/corp_example_com.xml"),
        "repository/tenants/1/userstores/partner_example_com.xml".to_string(),
        format!("{SYNAPSE}/sequences/audit_log.xml"),
        format!("{SYNAPSE}/endpoints/BackendEP.xml"),
        format!("{SYNAPSE}/local-entries/partner-config.xml"),
        format!("{SYNAPSE}/api/HealthCheckAPI.xml"),
        format!("{TENANT_SYNAPSE}/sequences/tenant_audit.xml"),
        format!("{LIB}/{DRIVER}"),
        TOML.to_string(),
    ]
    .into_iter()
    .collect()
}

/// The skip lists every path writes for the site's artifacts.
fn expected_skip_lists() -> BTreeMap<String, Vec<String>> {
    [
        ("apis", vec!["HealthCheckAPI.xml"]),
        ("endpoints", vec!["BackendEP.xml"]),
        ("sequences", vec!["audit_log.xml", "tenant_audit.xml"]),
        ("local_entries", vec!["partner-config.xml"]),
    ]
    .into_iter()
    .map(|(key, names)| {
        (
            key.to_string(),
            names.iter().map(|name| name.to_string()).collect(),
        )
    })
    .collect()
}

/// The lists of `[apim.sync_runtime_artifacts.gateway.skip_list]` in `pack`.
fn skip_lists(pack: &Path) -> BTreeMap<String, Vec<String>> {
    let document: toml_edit::DocumentMut = read(pack.join(TOML)).parse().expect("valid TOML");
    let Some(table) = document
        .get("apim")
        .and_then(|apim| apim.get("sync_runtime_artifacts"))
        .and_then(|sync| sync.get("gateway"))
        .and_then(|gateway| gateway.get("skip_list"))
        .and_then(|skip| skip.as_table_like())
    else {
        return BTreeMap::new();
    };
    table
        .iter()
        .map(|(key, item)| {
            let names = item
                .as_array()
                .expect("a list")
                .iter()
                .map(|value| value.as_str().expect("a name").to_string())
                .collect();
            (key.to_string(), names)
        })
        .collect()
}

/// The file names of the stock files under `synapse-configs/default` of the catalogued
/// `key`/`version`, as the catalogue the tests pass with `--stock` lists them.
fn stock_synapse_names(packs: &Packs, key: &str, version: &str) -> BTreeSet<String> {
    let document: toml_edit::DocumentMut = read(&packs.stock).parse().expect("catalogue");
    document[key][version]
        .as_table()
        .expect("catalogued")
        .iter()
        .map(|(path, _)| path.to_string())
        .filter(|path| path.starts_with(SYNAPSE))
        .map(|path| path.rsplit('/').next().expect("name").to_string())
        .collect()
}

/// The paths whose entry differs between two trees (files only).
fn changed_files(before: &Tree, after: &Tree) -> BTreeSet<String> {
    after
        .iter()
        .filter(|(_, (kind, _, _))| kind == "file")
        .filter(|(path, entry)| before.get(*path) != Some(*entry))
        .map(|(path, _)| path.clone())
        .collect()
}

/// What a finished migration of `site()` must show in the new pack: exactly the carried
/// files, byte for byte and mode for mode from `source`; the four skip lists; nothing stock
/// copied or listed; the API's own files left to the data migration.
fn assert_migrated(
    packs: &Packs,
    source: &Path,
    new_before: &Tree,
    stock_key: &str,
    version: &str,
) {
    let after = tree(&packs.new, false);
    assert_eq!(changed_files(new_before, &after), carried());
    for path in carried().iter().filter(|path| path.as_str() != TOML) {
        assert_eq!(
            bytes(source.join(path)),
            bytes(packs.new.join(path)),
            "{path}"
        );
        assert_eq!(
            mode(source.join(path)),
            mode(packs.new.join(path)),
            "{path}"
        );
    }
    let mut lists = skip_lists(&packs.new);
    lists.retain(|key, _| {
        ["apis", "endpoints", "sequences", "local_entries"].contains(&key.as_str())
    });
    assert_eq!(lists, expected_skip_lists());
    let stock = stock_synapse_names(packs, stock_key, version);
    for name in lists.values().flatten() {
        assert!(!stock.contains(name), "stock `{name}` listed");
    }
    for own in [
        format!("{SYNAPSE}/api/admin--PizzaShackAPI_v1.0.0.xml"),
        format!("{SYNAPSE}/endpoints/admin--PizzaShackAPI_APIproductionEndpoint.xml"),
        format!("{SYNAPSE}/sequences/admin--PizzaShackAPI:v1.0.0--In.xml"),
        "repository/tenants/1/synapse-configs/default/api/admin-AT-tenant1.example.com--OrdersAPI_v1.0.0.xml"
            .to_string(),
    ] {
        assert!(!packs.new.join(&own).exists(), "{own} is an API's own");
    }
    assert!(
        !packs
            .new
            .join(DROPINS)
            .join("acme-throttle-extension_1.0.0.jar")
            .exists(),
        "extensions are named, not copied"
    );
}

fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| finding["id"].as_str().expect("id").to_string())
        .collect()
}

fn warnings(report: &serde_json::Value) -> Vec<String> {
    report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|warning| warning["message"].as_str().expect("message").to_string())
        .collect()
}

const DROPINS: &str = "repository/components/dropins";

/// Plans, runs, runs again and takes back `script` on `packs`: the checks every direct path
/// makes. Returns the report of the run.
fn migrate_directly(
    packs: &Packs,
    script: &str,
    stock_key: &str,
    version: &str,
) -> serde_json::Value {
    let old_before = tree(&packs.old, true);
    let new_before = tree(&packs.new, false);
    packs
        .test("plan", script)
        .unchanged(&packs.new)
        .unchanged(&packs.old)
        .run()
        .success();
    let report = packs
        .test("run", script)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(report["outcome"], "done");
    assert_eq!(
        tree(&packs.old, true),
        old_before,
        "the old pack is never written"
    );
    assert_migrated(packs, &packs.old, &new_before, stock_key, version);
    assert!(
        finding_ids(&report).contains(&format!("customised:{SEQUENCES}/main.xml")),
        "the customised stock sequence is reported: {report}"
    );
    let reminders = reminder_ids(&report);
    assert!(
        reminders.contains(&"extensions".to_string()),
        "{reminders:?}"
    );
    let extensions = report["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .find(|reminder| reminder["id"] == "extensions")
        .expect("extensions")["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(
        extensions.contains("acme-throttle-extension_1.0.0.jar"),
        "{extensions}"
    );
    // A proxy service of the site's own: no skip list covers it, so it is named, not copied.
    assert!(
        warnings(&report).iter().any(|warning| warning
            .contains(&format!("`{SYNAPSE}/proxy-services/LegacyProxy.xml`"))
            && warning.contains("not copied")),
        "{report}"
    );

    again_nothing_to_do_then_taken_back(packs, script, &new_before);
    report
}

#[test]
fn from_3_2_0_to_4_5_0() {
    let packs = Packs::build(
        site(PackBuilder::api_manager("3.2.0")),
        PackBuilder::api_manager("4.5.0"),
        None,
    );
    let report = migrate_directly(&packs, FAMILY, "wso2am", "4.5.0");
    let reminders = reminder_ids(&report);
    for id in [
        "json-errors",
        "profiles",
        "data-migration",
        "config-migration",
    ] {
        assert!(reminders.contains(&id.to_string()), "{id}: {reminders:?}");
    }
    assert!(!reminders.contains(&"weak-rsa".to_string()));
}

#[test]
fn from_4_0_0_to_4_2_0_with_a_skip_list_already_in_the_new_pack() {
    // The old 4.0.0 node lists its own artifacts already; the new pack was edited by hand
    // with the hyphen some documents print and a stock name.
    let old = site(PackBuilder::api_manager("4.0.0")).deployment_toml_extra(
        "[apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [\"audit_log.xml\"]\n",
    );
    let new = PackBuilder::api_manager("4.2.0").deployment_toml_extra(
        "[apim.sync_runtime_artifacts.gateway.skip_list]\n\"local-entries\" = [\"partner-config.xml\"]\n",
    );
    let packs = Packs::build(old, new, None);
    let original = read(packs.new.join(TOML));
    let new_before = tree(&packs.new, false);
    let report = packs
        .test("run", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_migrated(&packs, &packs.old, &new_before, "wso2am", "4.2.0");
    assert!(finding_ids(&report).contains(&format!("customised:{SEQUENCES}/main.xml")));
    let edited = read(packs.new.join(TOML));
    assert_lines_kept(&lines_config_kept(&original, &packs.new), &edited);
    assert_eq!(
        skip_lists(&packs.new)["local-entries"],
        ["partner-config.xml"],
        "the operator's own line is warned of, never changed"
    );
    let warned = warnings(&report).join("\n");
    assert!(
        warned.contains("`local-entries` under `[apim.sync_runtime_artifacts.gateway.skip_list]`: 4.x reads `local_entries`, with an underscore"),
        "{warned}"
    );
    // 4.x to 4.x: no JSON-error or profile reminders, no fault-sequence comparison.
    let reminders = reminder_ids(&report);
    assert!(
        !reminders.contains(&"json-errors".to_string()),
        "{reminders:?}"
    );
    assert!(
        !reminders.contains(&"profiles".to_string()),
        "{reminders:?}"
    );
    assert!(report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .all(|action| action["primitive"] != "report_fault_sequences"));
    again_nothing_to_do_then_taken_back(&packs, FAMILY, &new_before);
}

#[test]
fn a_stock_name_in_an_existing_skip_list_is_warned_of() {
    let new = PackBuilder::api_manager("4.2.0").deployment_toml_extra(
        "[apim.sync_runtime_artifacts.gateway.skip_list]\nsequences = [\"main.xml\", \"_opa_policy_failure_handler_.xml\"]\n",
    );
    let packs = Packs::build(site(PackBuilder::api_manager("4.0.0")), new, None);
    let report = packs
        .test("plan", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    let warned = warnings(&report).join("\n");
    assert!(
        warned.contains(
            "lists stock sequences of API-M 4.2.0 (`main.xml`, `_opa_policy_failure_handler_.xml`)"
        ),
        "{warned}"
    );
    assert!(warned.contains("remove them from it"), "{warned}");
}

#[test]
fn from_2_6_0_to_4_1_0() {
    let packs = Packs::build(
        site(PackBuilder::api_manager("2.6.0")),
        PackBuilder::api_manager("4.1.0"),
        None,
    );
    let report = migrate_directly(&packs, FAMILY, "wso2am", "4.1.0");
    let reminders = reminder_ids(&report);
    for id in ["weak-rsa", "jwt-republish", "json-errors", "profiles"] {
        assert!(reminders.contains(&id.to_string()), "{id}: {reminders:?}");
    }
    // Configured by XML before: the configuration reminder says how to redo it in TOML.
    let config = report["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .find(|reminder| reminder["id"] == "config-migration")
        .expect("config")["message"]
        .as_str()
        .expect("message")
        .to_string();
    assert!(config.contains("configured by XML"), "{config}");
}

#[test]
fn from_3_1_0_to_4_6_0_a_custom_file_with_a_new_stock_name_stays_behind() {
    let old = site(PackBuilder::api_manager("3.1.0")).custom_sequence("guardrail_fault");
    let packs = Packs::build(old, PackBuilder::api_manager("4.6.0"), None);
    let new_guardrail = bytes(packs.new.join(SEQUENCES).join("guardrail_fault.xml"));
    let new_before = tree(&packs.new, false);
    let report = packs
        .test("run", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_migrated(&packs, &packs.old, &new_before, "wso2am", "4.6.0");
    assert!(finding_ids(&report).contains(&format!("customised:{SEQUENCES}/main.xml")));
    assert_eq!(
        bytes(packs.new.join(SEQUENCES).join("guardrail_fault.xml")),
        new_guardrail,
        "4.6.0's own is kept"
    );
    assert!(
        warnings(&report)
            .iter()
            .any(|warning| warning.contains("`guardrail_fault.xml` is a custom sequence of API-M 3.1.0 but a stock one of API-M 4.6.0")),
        "{report}"
    );
    again_nothing_to_do_then_taken_back(&packs, FAMILY, &new_before);
}

#[test]
fn from_1_9_0_through_2_0_0_to_4_5_0() {
    let packs = Packs::chain(
        site(PackBuilder::api_manager("1.9.0").without_version_txt()),
        PackBuilder::api_manager("2.0.0"),
        PackBuilder::api_manager("4.5.0"),
        None,
    );
    let via = packs.via.clone().expect("via");
    let via_before = tree(&via, false);
    let new_before = tree(&packs.new, false);

    let first = packs
        .test("run", "1.x-to-4.x")
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(first["outcome"], "checkpoint");
    assert_eq!(
        tree(&packs.new, false),
        new_before,
        "step 2 waits for the data migration"
    );
    let second = packs
        .test("run", "1.x-to-4.x")
        .args(["--continue", "--json"])
        .run()
        .success()
        .json();
    assert_eq!(second["outcome"], "done", "{second}");
    // Step 2 carries what step 1 brought into the 2.0.0 pack: tenant sequences and custom
    // endpoints, local entries and APIs included.
    assert_migrated(&packs, &via, &new_before, "wso2am", "4.5.0");
    for path in carried().iter().filter(|path| {
        path.starts_with("repository/deployment") || path.starts_with("repository/tenants")
    }) {
        assert_eq!(
            bytes(packs.old.join(path)),
            bytes(packs.new.join(path)),
            "{path}"
        );
    }
    // The 1.9.0 customisation of `main.xml`, found before the checkpoint, is carried.
    assert!(second["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(
            |finding| finding["id"] == format!("customised:{SEQUENCES}/main.xml")
                && finding["carried_from"].is_string()
        ));

    // Step 2 again on its own changes nothing.
    let again = Test::new()
        .args(["run", FAMILY, "--old"])
        .arg(&via)
        .arg("--new")
        .arg(&packs.new)
        .arg("--stock")
        .arg(&packs.stock)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(again["outcome"], "nothing to do", "{again}");

    // Taken back: step 2, then step 1.
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(tree(&packs.new, false), new_before);
    Test::new()
        .arg("rollback")
        .arg("--via")
        .arg(&via)
        .run()
        .success();
    assert_eq!(tree(&via, false), via_before);
}

#[test]
fn the_family_script_plans_what_the_standard_3_0_0_to_4_1_0_plans() {
    let packs = Packs::standard();
    let standard = packs
        .test("plan", SCRIPT)
        .arg("--json")
        .run()
        .success()
        .json();
    let family = packs
        .test("plan", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    for field in [
        "actions",
        "reminders",
        "warnings",
        "findings",
        "skipped_for_profile",
    ] {
        assert_eq!(standard[field], family[field], "{field}");
    }
}

#[test]
fn a_key_manager_is_refused_for_a_target_the_guides_name_none_for() {
    let packs = Packs::build(
        site(PackBuilder::api_manager("3.2.0")),
        PackBuilder::api_manager("4.5.0"),
        Some(PackBuilder::identity_server("5.11.0")),
    );
    packs
        .test("run", FAMILY)
        .unchanged(&packs.new)
        .unchanged(packs.km.as_ref().expect("km"))
        .run()
        .code(2)
        .stderr_contains("--km: WSO2's upgrade guides name no Identity Server version as the Key Manager of API-M 4.5.0");
    // To 4.1.0 the guides name IS 5.11.0: taken.
    let packs = Packs::build(
        site(PackBuilder::api_manager("3.2.0")),
        PackBuilder::api_manager("4.1.0"),
        Some(PackBuilder::identity_server("5.11.0")),
    );
    let report = packs
        .test("run", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    assert!(reminder_ids(&report).contains(&"key-manager".to_string()));
    assert!(packs
        .km
        .as_ref()
        .expect("km")
        .join(SECURITY)
        .join("partner-truststore.jks")
        .is_file());
}

#[test]
fn the_builder_writes_the_real_stock_file_names_of_every_version() {
    // The built-in catalogue holds the names (and hashes) of WSO2's own stock files; the
    // builder writes its own content under the same names.
    let mut builders: Vec<PackBuilder> = [
        "1.9.0", "1.9.1", "2.0.0", "2.6.0", "3.0.0", "3.1.0", "3.2.0", "4.0.0", "4.1.0", "4.2.0",
        "4.3.0", "4.4.0", "4.5.0", "4.6.0", "4.7.0",
    ]
    .iter()
    .map(|version| PackBuilder::api_manager(version))
    .collect();
    for version in ["4.5.0", "4.6.0", "4.7.0"] {
        builders.push(PackBuilder::api_control_plane(version));
        builders.push(PackBuilder::universal_gateway(version));
        builders.push(PackBuilder::traffic_manager(version));
    }
    for builder in &builders {
        let catalogue: toml_edit::DocumentMut = sample_packs::stock_catalogue(&[builder])
            .parse()
            .expect("catalogue");
        let key = builder.catalogue_key();
        let version = builder.version();
        let table = catalogue[key][version].as_table().expect("table");
        for dir in [
            SYNAPSE.to_string(),
            format!("{SYNAPSE}/api"),
            format!("{SYNAPSE}/sequences"),
            format!("{SYNAPSE}/inbound-endpoints"),
            format!("{SYNAPSE}/proxy-services"),
            SECURITY.to_string(),
        ] {
            let written: Vec<String> = table
                .iter()
                .filter_map(|(path, _)| path.strip_prefix(&format!("{dir}/")))
                .filter(|name| !name.contains('/'))
                .map(str::to_string)
                .collect();
            assert_eq!(
                written,
                library::builtin_stock_names(key, version, &dir),
                "{key} {version}: {dir}"
            );
        }
    }
}

#[test]
fn the_new_pack_s_own_template_says_which_lists_exist_and_what_it_keeps() {
    // A pack whose api-manager.xml.j2 (here in this test's words) reads no `local_entries`
    // list, a `proxies` list this tool does not know, and keeps `HealthCheckAPI.xml` itself.
    let new = PackBuilder::api_manager("4.3.0").deployment_toml_extra(
        "[apim.sync_runtime_artifacts.gateway.skip_list]\nproxies = [\"LegacyProxy.xml\"]\n",
    );
    let packs = Packs::build(site(PackBuilder::api_manager("3.2.0")), new, None);
    let template = "<APIManager>\n<SkipList>\n<APIS><API>HealthCheckAPI.xml</API>\n\
        {% for name in apim.sync_runtime_artifacts.gateway.skip_list.apis %}<API>{{name}}</API>{% endfor %}</APIS>\n\
        {% for name in apim.sync_runtime_artifacts.gateway.skip_list.endpoints %}<Endpoint>{{name}}</Endpoint>{% endfor %}\n\
        {% for name in apim.sync_runtime_artifacts.gateway.skip_list.sequences %}<Sequence>{{name}}</Sequence>{% endfor %}\n\
        {% for name in apim.sync_runtime_artifacts.gateway.skip_list.proxies %}<Proxy>{{name}}</Proxy>{% endfor %}\n\
        </SkipList>\n</APIManager>\n";
    std::fs::write(
        packs
            .new
            .join("repository/resources/conf/templates/repository/conf/api-manager.xml.j2"),
        template,
    )
    .expect("write template");
    let report = packs
        .test("run", FAMILY)
        .arg("--json")
        .run()
        .success()
        .json();
    let lists = skip_lists(&packs.new);
    assert_eq!(lists.get("apis"), None, "the template keeps the API itself");
    assert_eq!(lists["sequences"], ["audit_log.xml", "tenant_audit.xml"]);
    assert!(!lists.contains_key("local_entries"));
    assert!(!packs
        .new
        .join(SYNAPSE)
        .join("local-entries/partner-config.xml")
        .exists());
    assert!(!packs
        .new
        .join(SYNAPSE)
        .join("api/HealthCheckAPI.xml")
        .exists());
    let warned = warnings(&report).join("\n");
    assert!(
        warned.contains("API-M 4.3.0 reads no `local_entries` skip list (read from `repository/resources/conf/templates/repository/conf/api-manager.xml.j2`)"),
        "{warned}"
    );
    assert!(
        warned.contains("`HealthCheckAPI.xml` is a custom API of API-M 3.2.0, but a name API-M 4.3.0 keeps for a file of its own (read from `repository/resources/conf/templates/repository/conf/api-manager.xml.j2`)"),
        "{warned}"
    );
    assert!(
        !warned.contains("`proxies`"),
        "a list the template reads: {warned}"
    );
}
