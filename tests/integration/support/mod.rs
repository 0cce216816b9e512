//! What the integration tests share: packs built in a temp dir (`Packs`), runs of the binary
//! (`Test`), tree snapshots, and the only in-process uses of the library (`library`).

pub mod library;
mod test;
mod tmpfs;

pub use test::{clip, Output, Test, BINARY};
pub use tmpfs::Tmpfs;

use sample_packs::{self as sample, PackBuilder};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The standard script, the one most tests run.
pub const SCRIPT: &str = "3.0.0-to-4.1.0";

/// A temp dir holding an old pack, a new pack, maybe an intermediate pack (`--via`) and a Key
/// Manager pack, and the stock catalogue describing the builders' stock files.
pub struct Packs {
    pub dir: tempfile::TempDir,
    pub old: PathBuf,
    pub via: Option<PathBuf>,
    pub new: PathBuf,
    pub km: Option<PathBuf>,
    pub stock: PathBuf,
}

impl Packs {
    pub fn build(old: PackBuilder, new: PackBuilder, km: Option<PackBuilder>) -> Packs {
        Packs::write(old, None, new, km, None)
    }

    /// `build`, in a temp dir below `parent` (a filesystem of the test's own).
    pub fn build_in(parent: &Path, old: PackBuilder, new: PackBuilder) -> Packs {
        Packs::write(old, None, new, None, Some(parent))
    }

    /// Packs for a two-step path: old, via (the intermediate version), new and maybe km.
    pub fn chain(
        old: PackBuilder,
        via: PackBuilder,
        new: PackBuilder,
        km: Option<PackBuilder>,
    ) -> Packs {
        Packs::write(old, Some(via), new, km, None)
    }

    /// The packs of the standard script: the realistic 3.0.0 pack and a fresh 4.1.0 one.
    pub fn standard() -> Packs {
        Packs::build(old_3_0_0(), new_4_1_0(), None)
    }

    fn write(
        old: PackBuilder,
        via: Option<PackBuilder>,
        new: PackBuilder,
        km: Option<PackBuilder>,
        parent: Option<&Path>,
    ) -> Packs {
        let dir = match parent {
            Some(parent) => tempfile::tempdir_in(parent),
            None => tempfile::tempdir(),
        }
        .expect("temp dir");
        let old_home = old.write(&dir.path().join("old")).expect("write old pack");
        let via_home = via
            .as_ref()
            .map(|via| via.write(&dir.path().join("via")).expect("write via pack"));
        let new_home = new.write(&dir.path().join("new")).expect("write new pack");
        let km_home = km
            .as_ref()
            .map(|km| km.write(&dir.path().join("km")).expect("write km pack"));
        let builders: Vec<&PackBuilder> = [Some(&old), via.as_ref(), Some(&new), km.as_ref()]
            .into_iter()
            .flatten()
            .collect();
        let stock = dir.path().join("stock.toml");
        std::fs::write(&stock, sample::stock_catalogue(&builders)).expect("write catalogue");
        Packs {
            old: old_home,
            via: via_home,
            new: new_home,
            km: km_home,
            stock,
            dir,
        }
    }

    /// `COMMAND SCRIPT --old OLD [--via VIA] --new NEW --stock STOCK [--km KM]`, for `run` and
    /// `plan`.
    pub fn test(&self, command: &str, script: impl AsRef<OsStr>) -> Test {
        self.with_packs(Test::new().arg(command).arg(script))
    }

    /// `COMMAND --old OLD [--via VIA] --new NEW --stock STOCK [--km KM]`: `run` and `plan`
    /// choosing the bundled script themselves.
    pub fn test_without_script(&self, command: &str) -> Test {
        self.with_packs(Test::new().arg(command))
    }

    fn with_packs(&self, test: Test) -> Test {
        let mut test = test.arg("--old").arg(&self.old);
        if let Some(via) = &self.via {
            test = test.arg("--via").arg(via);
        }
        test = test
            .arg("--new")
            .arg(&self.new)
            .arg("--stock")
            .arg(&self.stock);
        if let Some(km) = &self.km {
            test = test.arg("--km").arg(km);
        }
        test
    }
}

/// The realistic 3.0.0 pack the standard script is tested on.
pub fn old_3_0_0() -> PackBuilder {
    sample_packs::demo_old_pack()
}

/// `old` with more tenants, each with one user store (`staff.tenantN.example.com`): a run
/// copies one file per tenant, in a folder of its own.
pub fn with_tenant_userstores(
    mut old: PackBuilder,
    tenants: impl IntoIterator<Item = u32>,
) -> PackBuilder {
    for tenant in tenants {
        old = old
            .tenant(tenant)
            .userstore(Some(tenant), &format!("staff.tenant{tenant}.example.com"));
    }
    old
}

/// How many of a report's actions change a file.
pub fn changes_in(report: &serde_json::Value) -> usize {
    report["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|action| action["effect"].is_string())
        .count()
}

pub fn new_4_1_0() -> PackBuilder {
    PackBuilder::api_manager("4.1.0")
}

/// A directory's entries: path -> (kind, sha256 or link target, mode).
pub type Tree = BTreeMap<String, (String, String, u32)>;

/// Every file, directory and link below `root`: path -> (kind, sha256 or link target, mode).
/// `.apim-migrate` (the tool's history) is left out unless `with_state`.
pub fn tree(root: &Path, with_state: bool) -> Tree {
    let mut entries = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.expect("walk");
        let relative = entry
            .path()
            .strip_prefix(root)
            .expect("prefix")
            .to_string_lossy()
            .to_string();
        if relative.is_empty() {
            continue;
        }
        if !with_state && (relative == ".apim-migrate" || relative.starts_with(".apim-migrate/")) {
            continue;
        }
        let metadata = std::fs::symlink_metadata(entry.path()).expect("stat");
        let mode = metadata.permissions().mode() & 0o7777;
        let value = if metadata.file_type().is_symlink() {
            (
                "link".to_string(),
                std::fs::read_link(entry.path())
                    .expect("readlink")
                    .display()
                    .to_string(),
                0,
            )
        } else if metadata.is_dir() {
            ("dir".to_string(), String::new(), mode)
        } else {
            ("file".to_string(), library::sha256_file(entry.path()), mode)
        };
        entries.insert(relative, value);
    }
    entries
}

/// The tree of a directory, history included, or `None` for a path that does not exist; a
/// special file (a FIFO, which `tree` would block reading) is recorded by kind and mode
/// instead of hashed.
pub fn snapshot(dir: &Path) -> Option<Tree> {
    std::fs::symlink_metadata(dir).ok()?;
    let special: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| {
            let kind = entry.file_type();
            !kind.is_file() && !kind.is_dir() && !kind.is_symlink()
        })
        .map(|entry| entry.path().to_path_buf())
        .collect();
    if special.is_empty() {
        return Some(tree(dir, true));
    }
    // Hash a copy without the special files, then add them back by kind.
    let mut entries = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.expect("walk");
        let relative = entry
            .path()
            .strip_prefix(dir)
            .expect("prefix")
            .display()
            .to_string();
        if relative.is_empty() {
            continue;
        }
        let metadata = std::fs::symlink_metadata(entry.path()).expect("stat");
        let mode = metadata.permissions().mode() & 0o7777;
        let kind = metadata.file_type();
        let value = if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).expect("readlink");
            ("link".to_string(), target.display().to_string(), 0)
        } else if kind.is_dir() {
            ("dir".to_string(), String::new(), mode)
        } else if kind.is_file() {
            let hash = library::sha256_file(entry.path());
            ("file".to_string(), hash, mode)
        } else {
            ("special".to_string(), String::new(), mode)
        };
        entries.insert(relative, value);
    }
    Some(entries)
}

/// What differs between two snapshots, the first dozen paths: `+new`, `~changed`, `-gone`.
pub fn tree_difference(before: &Option<Tree>, after: &Option<Tree>) -> String {
    let (Some(before), Some(after)) = (before, after) else {
        return format!(
            "existed before: {}, exists now: {}",
            before.is_some(),
            after.is_some()
        );
    };
    let mut changes = Vec::new();
    for (path, entry) in after {
        match before.get(path) {
            None => changes.push(format!("+{path}")),
            Some(old) if old != entry => changes.push(format!("~{path}")),
            Some(_) => {}
        }
    }
    for path in before.keys().filter(|path| !after.contains_key(*path)) {
        changes.push(format!("-{path}"));
    }
    let shown: Vec<String> = changes.iter().take(12).cloned().collect();
    format!(
        "{}{}",
        shown.join(", "),
        if changes.len() > shown.len() {
            format!(" and {} more", changes.len() - shown.len())
        } else {
            String::new()
        }
    )
}

/// Writes `source` as `<packs dir>/<name>.rhai` and returns its path, as given to `run`/`plan`.
pub fn script(packs: &Packs, name: &str, source: &str) -> String {
    let path = packs.dir.path().join(format!("{name}.rhai"));
    std::fs::write(&path, source).expect("write script");
    path.display().to_string()
}

/// Writes a file with its parent directories and `mode`.
pub fn write_file(path: &Path, content: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
    std::fs::write(path, content).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|error| panic!("read {}: {error}", path.as_ref().display()))
}

pub fn bytes(path: impl AsRef<Path>) -> Vec<u8> {
    std::fs::read(path.as_ref())
        .unwrap_or_else(|error| panic!("read {}: {error}", path.as_ref().display()))
}

pub fn mode(path: impl AsRef<Path>) -> u32 {
    std::fs::metadata(path.as_ref())
        .expect("stat")
        .permissions()
        .mode()
        & 0o7777
}

pub fn json(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(output)))
}

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// Asserts that every line of `original` appears in `edited`, in the same order.
pub fn assert_lines_kept(original: &str, edited: &str) {
    let mut rest = edited.lines();
    for line in original.lines() {
        assert!(
            rest.any(|candidate| candidate == line),
            "line {line:?} of the original is missing or out of order in:\n{edited}"
        );
    }
}

/// Asserts that no file below `root` (the tool's history included) holds exactly `content`.
pub fn assert_no_file_holds(root: &Path, content: &[u8], what: &str) {
    for (relative, (kind, _, _)) in tree(root, true) {
        if kind == "file" {
            assert_ne!(
                bytes(root.join(&relative)),
                content,
                "{relative} holds {what}"
            );
        }
    }
}

pub const SEQUENCES: &str = "repository/deployment/server/synapse-configs/default/sequences";
pub const SECURITY: &str = "repository/resources/security";
pub const LIB: &str = "repository/components/lib";
pub const TOML: &str = "repository/conf/deployment.toml";
pub const USERSTORES: &str = "repository/deployment/server/userstores";

/// The line of a bundled script's header that declares `tag` (`@accepts old wso2am 3.0.0`).
pub fn tag_line(script: &str, tag: &str) -> usize {
    library::bundled_script(script)
        .lines()
        .position(|line| line == format!("//! {tag}"))
        .unwrap_or_else(|| panic!("{script} has no `//! {tag}` line"))
        + 1
}

/// `(line N: `TAG`)`: the header line of a bundled script, as refusals of a pack cite it.
pub fn header_line(script: &str, tag: &str) -> String {
    format!("(line {}: `{tag}`)", tag_line(script, tag))
}

/// Whitespace runs folded to one space, so that text wrapped by the report can be searched.
pub fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The ids of a JSON report's reminders, in order.
pub fn reminder_ids(report: &serde_json::Value) -> Vec<String> {
    report["reminders"]
        .as_array()
        .expect("reminders")
        .iter()
        .map(|reminder| reminder["id"].as_str().expect("reminder id").to_string())
        .collect()
}

/// `original` without the lines the configuration step (`migrate_config`) of the latest run
/// in `new` replaced, as its diff in `show` says: the lines every other step must keep.
pub fn lines_config_kept(original: &str, new: &Path) -> String {
    let shown = Test::new()
        .arg("show")
        .arg(new)
        .arg("--json")
        .run()
        .success()
        .json();
    let removed: Vec<String> = shown["report"]["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|action| action["primitive"] == "migrate_config")
        .filter_map(|action| action["diff"].as_str())
        .flat_map(|diff| diff.lines())
        .filter(|line| line.starts_with('-') && !line.starts_with("---"))
        .map(|line| line[1..].to_string())
        .collect();
    original
        .lines()
        .filter(|line| !removed.iter().any(|gone| gone == line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A second run of `script` changes nothing; `rollback` then restores the new pack to
/// `new_before`, byte for byte.
pub fn again_nothing_to_do_then_taken_back(packs: &Packs, script: &str, new_before: &Tree) {
    let again = packs
        .test("run", script)
        .arg("--json")
        .run()
        .success()
        .json();
    assert_eq!(again["outcome"], "nothing to do", "{again}");
    assert_eq!(again["summary"]["changed"], 0);
    Test::new()
        .arg("rollback")
        .arg("--new")
        .arg(&packs.new)
        .run()
        .success();
    assert_eq!(
        &tree(&packs.new, false),
        new_before,
        "rollback restores every byte"
    );
}
