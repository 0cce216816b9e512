//! The Ansible role of `contrib/ansible`, run by `ansible-playbook` on local hosts, each with
//! packs of its own: check mode plans, a run migrates, a second run has nothing to do,
//! `--tags rollback` takes the run back, and a host that fails fails alone. By default each
//! host runs as its node of a deployment inventory of all the hosts: the migration client's
//! reminders go to one control plane, and a deployment error fails every host.
//!
//! ansible-core is installed from PyPI into a virtual environment kept in
//! `target/tmp/ansible-venv` and reused while it holds the version asked for. Without PyPI the
//! test fails; `APIM_MIGRATE_SKIP_ANSIBLE=1` skips it.
//!
//! Per-host results come from the `PLAY RECAP` lines of the default stdout callback and from the
//! JSON reports the role fetches to the controller.

use crate::support::*;
use sample_packs::{self as sample, PackBuilder};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

/// The ansible-core the role is tested with (runs on Python 3.10 to 3.12).
const ANSIBLE_CORE: &str = "ansible-core>=2.15,<2.18";

const HOSTS: [(&str, &str, &str); 4] = [
    ("cp-1", "control-plane", "api-key-manager"),
    ("gw-1", "gateway-worker", "gateway-worker"),
    ("gw-2", "gateway-worker", "gateway-worker"),
    ("tm-1", "traffic-manager", "traffic-manager"),
];

fn skipped() -> bool {
    if std::env::var("APIM_MIGRATE_SKIP_ANSIBLE").as_deref() == Ok("1") {
        eprintln!("APIM_MIGRATE_SKIP_ANSIBLE=1: the Ansible role is not tested");
        return true;
    }
    false
}

/// The virtual environment's `bin` directory, with ansible-core installed.
fn venv() -> &'static Path {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match VENV.get_or_init(create_venv) {
        Ok(bin) => bin,
        Err(message) => panic!("{message}"),
    }
}

/// Creates the virtual environment, or reuses it when it holds `ANSIBLE_CORE`.
fn create_venv() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ansible-venv");
    let bin = dir.join("bin");
    let marker = dir.join("apim-migrate-requirement.txt");
    if std::fs::read_to_string(&marker).is_ok_and(|text| text == ANSIBLE_CORE)
        && bin.join("ansible-playbook").exists()
    {
        return Ok(bin);
    }
    let started = Instant::now();
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .map_err(|error| format!("cannot remove {}: {error}", dir.display()))?;
    }
    let python = "python3";
    let created = Command::new(python)
        .args(["-m", "venv"])
        .arg(&dir)
        .output()
        .map_err(|error| {
            format!("cannot run `{python}` ({error}): the Ansible test needs python3 with venv (APIM_MIGRATE_SKIP_ANSIBLE=1 skips it)")
        })?;
    if !created.status.success() {
        return Err(format!(
            "`{python} -m venv {}` failed (APIM_MIGRATE_SKIP_ANSIBLE=1 skips the Ansible test):\n{}",
            dir.display(),
            stderr(&created)
        ));
    }
    let installed = Command::new(bin.join("python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--timeout",
            "30",
            "--retries",
            "2",
            ANSIBLE_CORE,
        ])
        .output()
        .map_err(|error| format!("cannot run pip: {error}"))?;
    if !installed.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!(
            "cannot install {ANSIBLE_CORE} from PyPI into {}; the Ansible test needs it (APIM_MIGRATE_SKIP_ANSIBLE=1 skips it):\n{}{}",
            dir.display(),
            stdout(&installed),
            stderr(&installed)
        ));
    }
    std::fs::write(&marker, ANSIBLE_CORE)
        .map_err(|error| format!("cannot write the marker: {error}"))?;
    eprintln!(
        "installed {ANSIBLE_CORE} into {} in {:.1?}",
        dir.display(),
        started.elapsed()
    );
    Ok(bin)
}

/// A host of the inventory: its packs and where the role installs and reports.
struct Host {
    name: String,
    old: PathBuf,
    new: PathBuf,
    vars: serde_json::Map<String, serde_json::Value>,
}

impl Host {
    /// Writes `old` and `new` under `root/name` with their stock catalogue.
    fn build(root: &Path, name: &str, old: PackBuilder, new: PackBuilder) -> Host {
        let dir = root.join("hosts").join(name);
        let old_home = old.write(&dir.join("wso2am-old")).expect("write old pack");
        let new_home = new.write(&dir.join("wso2am-new")).expect("write new pack");
        // The directory the binary is installed in exists, as /usr/local/bin does.
        std::fs::create_dir_all(dir.join("bin")).expect("bin dir");
        let catalogue = dir.join("stock.toml");
        std::fs::write(&catalogue, sample::stock_catalogue(&[&old, &new])).expect("catalogue");
        let mut vars = serde_json::Map::new();
        for (key, value) in [
            ("apim_migrate_old", serde_json::json!(old_home)),
            ("apim_migrate_new", serde_json::json!(new_home)),
            ("apim_migrate_stock", serde_json::json!([catalogue])),
            (
                "apim_migrate_install_path",
                serde_json::json!(dir.join("bin/apim-migrate")),
            ),
            (
                "apim_migrate_report_dir",
                serde_json::json!(dir.join("reports")),
            ),
        ] {
            vars.insert(key.to_string(), value);
        }
        Host {
            name: name.to_string(),
            old: old_home,
            new: new_home,
            vars,
        }
    }

    fn set(&mut self, key: &str, value: serde_json::Value) {
        self.vars.insert(key.to_string(), value);
    }
}

/// A sample 3.0.0 node: the realistic pack, plus a keystore of its own.
fn old_node(name: &str) -> PackBuilder {
    old_3_0_0().keystore(&format!("{name}-tls.jks"), name)
}

/// Writes the inventory (YAML, written as JSON) of `hosts` into `root`.
fn inventory(root: &Path, hosts: &[Host]) -> PathBuf {
    let python = venv().join("python");
    let mut entries = serde_json::Map::new();
    for host in hosts {
        entries.insert(
            host.name.clone(),
            serde_json::Value::Object(host.vars.clone()),
        );
    }
    let document = serde_json::json!({
        "apim": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": python,
            },
            "hosts": entries,
        }
    });
    let path = root.join("inventory.yml");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&document).expect("inventory"),
    )
    .expect("write inventory");
    path
}

struct Play {
    stdout: String,
    success: bool,
    /// Per host: `ok`, `changed`, `failed`... from the `PLAY RECAP`.
    recap: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Play {
    fn count(&self, host: &str, key: &str) -> u64 {
        *self
            .recap
            .get(host)
            .and_then(|counts| counts.get(key))
            .unwrap_or_else(|| panic!("no {key} for {host} in the recap:\n{}", self.stdout))
    }

    /// The `fatal: [host]: FAILED! => ...` line of `host`.
    fn fatal(&self, host: &str) -> &str {
        let start = format!("fatal: [{host}]: FAILED!");
        self.stdout
            .lines()
            .find(|line| line.starts_with(&start))
            .unwrap_or_else(|| panic!("no failure of {host}:\n{}", self.stdout))
    }
}

/// Runs `contrib/ansible/migrate.yml` on `inventory` with `extra_vars` and `args`, with all of
/// Ansible's state inside `root`.
fn play(root: &Path, inventory: &Path, extra_vars: serde_json::Value, args: &[&str]) -> Play {
    let playbook = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/ansible/migrate.yml");
    let home = root.join("home");
    std::fs::create_dir_all(&home).expect("home");
    let mut command = Command::new(venv().join("ansible-playbook"));
    command
        .arg("-i")
        .arg(inventory)
        .arg(&playbook)
        .arg("-e")
        .arg(extra_vars.to_string())
        .args(args)
        .current_dir(root);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if key.starts_with("ANSIBLE_") || key.starts_with("APIM_MIGRATE_") {
            command.env_remove(&key);
        }
    }
    command
        .env("HOME", &home)
        .env("ANSIBLE_HOME", home.join(".ansible"))
        .env("ANSIBLE_LOCAL_TEMP", home.join("local-tmp"))
        .env("ANSIBLE_REMOTE_TEMP", home.join("remote-tmp"))
        .env("ANSIBLE_STDOUT_CALLBACK", "default")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "False")
        .env("NO_COLOR", "1");
    let started = Instant::now();
    let output = command.output().expect("run ansible-playbook");
    let text = stdout(&output);
    eprintln!(
        "ansible-playbook {} took {:.1?}",
        args.join(" "),
        started.elapsed()
    );
    let mut recap = BTreeMap::new();
    let mut in_recap = false;
    for line in text.lines() {
        if line.starts_with("PLAY RECAP") {
            in_recap = true;
            continue;
        }
        if !in_recap {
            continue;
        }
        let Some((host, counts)) = line.split_once(" : ") else {
            continue;
        };
        let counts: BTreeMap<String, u64> = counts
            .split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .map(|(key, value)| (key.to_string(), value.parse().expect("a count")))
            .collect();
        recap.insert(host.trim().to_string(), counts);
    }
    assert!(
        !recap.is_empty(),
        "no PLAY RECAP in:\n{text}\n{}",
        stderr(&output)
    );
    Play {
        stdout: text,
        success: output.status.success(),
        recap,
    }
}

fn report(path: impl AsRef<Path>) -> serde_json::Value {
    json(&bytes(path))
}

#[test]
fn the_role_plans_in_check_mode_runs_is_idempotent_and_rolls_back() {
    if skipped() {
        return;
    }
    venv();
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path();
    let hosts: Vec<Host> = HOSTS
        .iter()
        .map(|(name, profile, old_profile)| {
            let mut host = Host::build(root, name, old_node(name), new_4_1_0());
            host.set("apim_migrate_profile", serde_json::json!(profile));
            host.set("apim_migrate_old_profile", serde_json::json!(old_profile));
            host
        })
        .collect();
    let inventory = inventory(root, &hosts);
    let fetched = root.join("reports");
    let binary = BINARY;
    let extra = serde_json::json!({
        "apim_migrate_binary": binary,
        "apim_migrate_fetch_dir": fetched,
    });
    let old_before: Vec<_> = hosts.iter().map(|host| tree(&host.old, true)).collect();
    let new_before: Vec<_> = hosts.iter().map(|host| tree(&host.new, true)).collect();

    // --check: plan on every host, nothing written to any pack, a would-change is changed.
    let check = play(root, &inventory, extra.clone(), &["--check"]);
    assert!(check.success, "{}", check.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        assert_eq!(tree(&host.old, true), old_before[index], "{name}: old pack");
        assert_eq!(tree(&host.new, true), new_before[index], "{name}: new pack");
        let planned = report(fetched.join(format!("{name}.json")));
        assert_eq!(planned["command"], "plan", "{name}");
        assert_eq!(planned["outcome"], "planned", "{name}");
        assert!(planned["summary"]["planned"].as_u64() > Some(0), "{name}");
        assert!(
            check.count(name, "changed") > 0,
            "{name}:\n{}",
            check.stdout
        );
        assert_eq!(check.count(name, "failed"), 0, "{name}");
    }

    // A run: every host migrated, each from its own pack.
    let run = play(root, &inventory, extra.clone(), &[]);
    assert!(run.success, "{}", run.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        let (_, profile, old_profile) = HOSTS[index];
        assert_eq!(tree(&host.old, true), old_before[index], "{name}: old pack");
        // Every node: keystores (its own among them) and the JDBC driver.
        for keystore in [format!("{name}-tls.jks"), "partner-truststore.jks".into()] {
            assert_eq!(
                bytes(host.new.join(SECURITY).join(&keystore)),
                bytes(host.old.join(SECURITY).join(&keystore)),
                "{name}: {keystore}"
            );
        }
        for other in hosts.iter().filter(|other| other.name != host.name) {
            let keystore = format!("{}-tls.jks", other.name);
            assert!(
                !host.new.join(SECURITY).join(&keystore).exists(),
                "{name} has {keystore}"
            );
        }
        assert_eq!(
            bytes(host.new.join(LIB).join("mysql-connector-java-8.0.28.jar")),
            bytes(host.old.join(LIB).join("mysql-connector-java-8.0.28.jar")),
            "{name}: JDBC driver"
        );
        // Per profile: user stores where users sign in, sequences where a gateway runs.
        assert_eq!(
            host.new
                .join("repository/tenants/1/userstores/partner_example_com.xml")
                .exists(),
            profile == "control-plane",
            "{name}: user stores on a {profile} node"
        );
        assert_eq!(
            host.new.join(SEQUENCES).join("audit_log.xml").exists(),
            profile == "gateway-worker",
            "{name}: sequences on a {profile} node (a control plane syncs no gateway artifacts)"
        );
        let installed = host
            .new
            .parent()
            .expect("host dir")
            .join("bin/apim-migrate");
        assert_eq!(mode(&installed), 0o755, "{name}");
        assert_eq!(
            std::fs::metadata(&installed).expect("installed").len(),
            std::fs::metadata(binary).expect("binary").len(),
            "{name}"
        );
        let done = report(fetched.join(format!("{name}.json")));
        assert_eq!(done["command"], "run", "{name}");
        assert_eq!(done["outcome"], "done", "{name}");
        assert_eq!(done["packs"]["new"]["profile"]["name"], profile, "{name}");
        assert_eq!(
            done["packs"]["new"]["profile"]["decided_by"], "--profile",
            "{name}"
        );
        assert_eq!(
            done["packs"]["old"]["profile"]["name"], old_profile,
            "{name}"
        );
        assert_eq!(
            done,
            report(
                host.new
                    .parent()
                    .expect("host dir")
                    .join(format!("reports/{name}.json"))
            ),
            "{name}: the fetched report is the host's"
        );
        // The deployment check: the data migration is the control plane's alone, and the
        // combined report has every host, this one run here and the others elsewhere.
        assert_eq!(
            reminder_ids(&done).contains(&"data-migration".to_string()),
            profile == "control-plane",
            "{name}: {:?}",
            reminder_ids(&done)
        );
        let deployment = report(fetched.join(format!("{name}.deployment.json")));
        assert_eq!(deployment["command"], "run", "{name}");
        assert_eq!(deployment["migration_client"], "cp-1", "{name}");
        let nodes = deployment["nodes"].as_array().expect("nodes");
        assert_eq!(nodes.len(), HOSTS.len(), "{name}");
        for node in nodes {
            if node["name"] == name.as_str() {
                assert_eq!(node["outcome"], "done", "{name}");
                assert_eq!(node["report"], done, "{name}");
            } else {
                assert_eq!(node["outcome"], "elsewhere", "{name}: {node}");
            }
        }
        assert!(run.count(name, "changed") > 0, "{name}:\n{}", run.stdout);
        assert_eq!(run.count(name, "failed"), 0, "{name}");
    }
    let migrated: Vec<_> = hosts.iter().map(|host| tree(&host.new, false)).collect();

    // Again: nothing to do, nothing changed.
    let again = play(root, &inventory, extra.clone(), &[]);
    assert!(again.success, "{}", again.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        assert_eq!(again.count(name, "changed"), 0, "{name}:\n{}", again.stdout);
        assert_eq!(again.count(name, "failed"), 0, "{name}");
        assert_eq!(
            report(fetched.join(format!("{name}.json")))["outcome"],
            "nothing to do",
            "{name}"
        );
        assert_eq!(tree(&host.new, false), migrated[index], "{name}");
    }

    // --tags rollback --check: says which run it would take back, changes nothing.
    let would = play(
        root,
        &inventory,
        extra.clone(),
        &["--tags", "rollback", "--check"],
    );
    assert!(would.success, "{}", would.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        assert!(
            would.count(name, "changed") > 0,
            "{name}:\n{}",
            would.stdout
        );
        assert_eq!(tree(&host.new, false), migrated[index], "{name}");
    }
    assert!(
        would.stdout.contains("would take back run "),
        "{}",
        would.stdout
    );

    // --tags rollback: the new packs as they were, but for the tool's history.
    let rollback = play(root, &inventory, extra.clone(), &["--tags", "rollback"]);
    assert!(rollback.success, "{}", rollback.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        let mut before = new_before[index].clone();
        before.retain(|path, _| !path.starts_with(".apim-migrate"));
        assert_eq!(tree(&host.new, false), before, "{name}: rolled back");
        assert_eq!(tree(&host.old, true), old_before[index], "{name}: old pack");
        assert!(
            rollback.count(name, "changed") > 0,
            "{name}:\n{}",
            rollback.stdout
        );
        let rolled_back = report(fetched.join(format!("{name}.rollback.json")));
        assert!(
            rolled_back["restored"]
                .as_array()
                .is_some_and(|restored| !restored.is_empty()),
            "{name}: {rolled_back}"
        );
        assert_eq!(
            report(fetched.join(format!("{name}.json")))["outcome"],
            "nothing to do",
            "rollback leaves the run's report alone"
        );
    }

    // Nothing left to take back: ok, not failed.
    let nothing = play(root, &inventory, extra, &["--tags", "rollback"]);
    assert!(nothing.success, "{}", nothing.stdout);
    for host in &hosts {
        assert_eq!(
            nothing.count(&host.name, "changed"),
            0,
            "{}",
            nothing.stdout
        );
        assert_eq!(nothing.count(&host.name, "failed"), 0, "{}", nothing.stdout);
    }
}

#[test]
fn a_host_that_fails_fails_alone_with_the_tools_error() {
    if skipped() {
        return;
    }
    venv();
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path();
    let binary = BINARY;

    let good = Host::build(root, "gw-1", old_node("gw-1"), new_4_1_0());
    // Its new pack is not a pack: bad input, exit 2.
    let mut not_a_pack = Host::build(root, "gw-2", old_node("gw-2"), new_4_1_0());
    let empty = root.join("hosts/gw-2/empty");
    std::fs::create_dir_all(&empty).expect("empty dir");
    not_a_pack.set("apim_migrate_new", serde_json::json!(empty));
    // A 4.0.0 pack where the script takes 4.1.0: bad input, exit 2.
    let wrong_version = Host::build(
        root,
        "tm-1",
        old_node("tm-1"),
        PackBuilder::api_manager("4.0.0"),
    );
    // Writing a large keystore fails part way (a file size limit, as a full disk would): the
    // run fails and is taken back, exit 1.
    let mut write_fails = Host::build(root, "cp-1", old_node("cp-1"), new_4_1_0());
    let large: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    write_file(
        &write_fails.old.join(SECURITY).join("large-truststore.jks"),
        &large,
        0o644,
    );
    let limited = root.join("hosts/cp-1/apim-migrate-limited");
    write_file(
        &limited,
        format!("#!/bin/sh\ntrap '' XFSZ\nulimit -f 1000\nexec '{binary}' \"$@\"\n").as_bytes(),
        0o755,
    );
    write_fails.set("apim_migrate_install_path", serde_json::json!(limited));

    // Nothing installed: each host runs the binary where it is (cp-1 through the wrapper).
    let mut hosts = [good, not_a_pack, wrong_version, write_fails];
    for host in &mut hosts {
        host.set("apim_migrate_install", serde_json::json!(false));
        if host.name != "cp-1" {
            host.set("apim_migrate_install_path", serde_json::json!(binary));
        }
    }
    let new_before: Vec<_> = hosts.iter().map(|host| tree(&host.new, false)).collect();
    let inventory = inventory(root, &hosts);
    let fetched = root.join("reports");

    // Each host alone: the deployment check would stop every host at the first bad pack.
    let play = play(
        root,
        &inventory,
        serde_json::json!({
            "apim_migrate_fetch_dir": fetched,
            "apim_migrate_deployment_check": false,
        }),
        &[],
    );
    assert!(!play.success, "{}", play.stdout);

    assert_eq!(play.count("gw-1", "failed"), 0, "{}", play.stdout);
    assert!(play.count("gw-1", "changed") > 0, "{}", play.stdout);
    assert_eq!(report(fetched.join("gw-1.json"))["outcome"], "done");
    assert!(hosts[0].new.join(SECURITY).join("gw-1-tls.jks").exists());

    for (index, host) in hosts.iter().enumerate().skip(1) {
        let name = &host.name;
        assert_eq!(play.count(name, "failed"), 1, "{name}:\n{}", play.stdout);
        assert_eq!(
            tree(&host.new, false),
            new_before[index],
            "{name}: unchanged"
        );
        let failed = report(fetched.join(format!("{name}.json")));
        // Exit 1 (cp-1: taken back) has the run's report; exit 2, the error document.
        let outcome = if name == "cp-1" { "failed" } else { "error" };
        assert_eq!(failed["outcome"], outcome, "{name}: {failed}");
        let error = failed["error"]["message"]
            .as_str()
            .expect("error")
            .to_string();
        assert!(
            !error.is_empty() && !error.contains('\n'),
            "{name}: {error}"
        );
        let fatal = play.fatal(name);
        let shown = serde_json::to_string(&error).expect("quoted");
        assert!(
            fatal.contains(shown.trim_matches('"')),
            "{name}: the tool's error is shown: {fatal}"
        );
    }
    assert!(
        play.fatal("gw-2").contains("exit 2") && play.fatal("gw-2").contains("is not a WSO2 pack"),
        "{}",
        play.fatal("gw-2")
    );
    assert!(
        play.fatal("tm-1").contains("exit 2") && play.fatal("tm-1").contains("4.0.0"),
        "{}",
        play.fatal("tm-1")
    );
    let cp = play.fatal("cp-1");
    assert!(
        cp.contains("exit 1") && cp.contains("File too large") && cp.contains("taken back"),
        "{cp}"
    );
    assert_eq!(report(fetched.join("cp-1.json"))["command"], "run");
}

#[test]
fn the_deployment_check_refuses_a_wrong_deployment_and_runs_the_migration_client_once() {
    if skipped() {
        return;
    }
    venv();
    let temp = tempfile::tempdir().expect("temp dir");
    let root = temp.path();
    let binary = BINARY;
    let nodes = [
        ("cp-1", "control-plane", "api-key-manager"),
        ("cp-2", "control-plane", "api-publisher"),
        ("gw-1", "gateway-worker", "gateway-worker"),
    ];
    let mut hosts: Vec<Host> = nodes
        .iter()
        .map(|(name, profile, old_profile)| {
            let mut host = Host::build(root, name, old_node(name), new_4_1_0());
            host.set("apim_migrate_profile", serde_json::json!(profile));
            host.set("apim_migrate_old_profile", serde_json::json!(old_profile));
            host.set("apim_migrate_install", serde_json::json!(false));
            host.set("apim_migrate_install_path", serde_json::json!(binary));
            host
        })
        .collect();
    let new_before: Vec<_> = hosts.iter().map(|host| tree(&host.new, false)).collect();
    // The report directories exist, so that a host that changes nothing reports no change.
    for host in &hosts {
        let reports = host.new.parent().expect("host dir").join("reports");
        std::fs::create_dir_all(&reports).expect("reports dir");
        std::fs::set_permissions(
            &reports,
            std::os::unix::fs::PermissionsExt::from_mode(0o750),
        )
        .expect("reports dir mode");
    }

    // A gateway cannot become a control plane: every host fails with the tool's error, which
    // names its deployment inventory and the node, and no pack changes.
    hosts[2].set("apim_migrate_profile", serde_json::json!("control-plane"));
    let wrong = root.join("wrong-reports");
    let refused = play(
        root,
        &inventory(root, &hosts),
        serde_json::json!({ "apim_migrate_fetch_dir": wrong }),
        &[],
    );
    assert!(!refused.success, "{}", refused.stdout);
    for (index, host) in hosts.iter().enumerate() {
        let name = &host.name;
        assert_eq!(
            refused.count(name, "failed"),
            1,
            "{name}:\n{}",
            refused.stdout
        );
        assert_eq!(refused.count(name, "changed"), 0, "{name}");
        assert_eq!(
            tree(&host.new, false),
            new_before[index],
            "{name}: unchanged"
        );
        let failed = report(wrong.join(format!("{name}.json")));
        assert_eq!(failed["outcome"], "error", "{name}: {failed}");
        let error = failed["error"]["message"].as_str().expect("error");
        let file = host
            .new
            .parent()
            .expect("host dir")
            .join("reports/deployment.toml");
        assert!(
            failed["error"]["file"] == file.display().to_string()
                && error.contains(&format!("--inventory `{}`", file.display()))
                && error.contains("node `gw-1`")
                && error.contains("control-plane"),
            "{name}: {error}"
        );
        let fatal = refused.fatal(name);
        assert!(
            fatal.contains("exit 2") && fatal.contains("node `gw-1`"),
            "{fatal}"
        );
        assert!(!wrong.join(format!("{name}.deployment.json")).exists());
    }

    // Two control planes: the first in the play runs the migration client, the second says so.
    hosts[2].set("apim_migrate_profile", serde_json::json!("gateway-worker"));
    let fetched = root.join("reports");
    let check = play(
        root,
        &inventory(root, &hosts),
        serde_json::json!({ "apim_migrate_fetch_dir": fetched }),
        &["--check"],
    );
    assert!(check.success, "{}", check.stdout);
    let first = report(fetched.join("cp-1.json"));
    assert!(reminder_ids(&first).contains(&"data-migration".to_string()));
    let second = report(fetched.join("cp-2.json"));
    assert_eq!(second["outcome"], "planned", "{second}");
    assert!(!reminder_ids(&second).contains(&"data-migration".to_string()));
    let skipped = second["skipped_for_profile"].as_array().expect("skipped");
    assert!(
        skipped.iter().any(|skip| skip["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("once, on node `cp-1`"))),
        "{second}"
    );
    // The deployment inventory the role wrote: one node per host, run on that host only.
    let written = std::fs::read_to_string(root.join("hosts/cp-1/reports/deployment.toml"))
        .expect("deployment inventory");
    let written: toml_edit::DocumentMut = written.parse().expect("TOML");
    let listed = written["node"].as_array_of_tables().expect("nodes");
    assert_eq!(listed.len(), hosts.len(), "{written}");
    for (node, host) in listed.iter().zip(&hosts) {
        assert_eq!(node["name"].as_str(), Some(host.name.as_str()), "{written}");
        assert_eq!(node["host"].as_str(), Some(host.name.as_str()), "{written}");
        assert_eq!(node["new"].as_str(), host.new.to_str(), "{written}");
        assert!(
            !node.contains_key("km") && !node.contains_key("via"),
            "{written}"
        );
    }
    for (index, host) in hosts.iter().enumerate() {
        assert_eq!(tree(&host.new, false), new_before[index], "{}", host.name);
        let deployment = report(fetched.join(format!("{}.deployment.json", host.name)));
        assert_eq!(deployment["command"], "plan");
        assert_eq!(deployment["migration_client"], "cp-1");
    }
}
