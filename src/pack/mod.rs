//! What a directory is: a WSO2 pack's product, version and the marker that decided, plus the
//! finders (keystores, user stores, sequences, JDBC drivers, secure vault) that read a pack.

pub mod artifacts;
pub mod config_facts;
pub mod config_migration;
pub mod config_model;
pub mod descriptors;
pub mod detect;
pub mod distribution;
pub mod files;
pub mod fingerprint;
pub mod hashes;
pub mod jdbc;
pub mod keystores;
mod markers;
pub mod name;
pub mod overlay;
pub mod parallel;
pub mod profile;
pub mod role;
pub mod root;
pub mod secure_vault;
pub mod sequences;
pub mod stock;
pub mod templates;
pub mod toml;
pub mod userstores;
pub mod verify;
pub mod xml_config;

use anyhow::{bail, Context, Result};
pub use distribution::Distribution;
use markers::{Reading, MARKERS};
pub use role::Role;
pub use root::{Kind, PackRoot, SourceFile, Stat};
use serde::Serialize;
use std::fs;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const VERSION_TXT: &str = "bin/version.txt";
pub const PRODUCT_TXT: &str = "updates/product.txt";
pub const CARBON_XML: &str = "repository/conf/carbon.xml";
pub const DEPLOYMENT_TOML: &str = "repository/conf/deployment.toml";
pub const SECURITY_DIR: &str = "repository/resources/security";
pub const COMPONENTS_LIB: &str = "repository/components/lib";
pub const COMPONENTS_DROPINS: &str = "repository/components/dropins";
pub const SYNAPSE_DEFAULT: &str = "repository/deployment/server/synapse-configs/default";
pub const SEQUENCES_DIR: &str = "repository/deployment/server/synapse-configs/default/sequences";
pub const SUPER_TENANT_USERSTORES: &str = "repository/deployment/server/userstores";
pub const TENANTS_DIR: &str = "repository/tenants";
/// Where the tool keeps a target pack's journal, backups and lock.
pub const STATE_DIR: &str = ".apim-migrate";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Product {
    ApiManager,
    IdentityServer,
}

impl Product {
    /// The key used by `updates/product.txt` and by stock catalogues.
    pub fn key(self) -> &'static str {
        match self {
            Product::ApiManager => "wso2am",
            Product::IdentityServer => "wso2is",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Product::ApiManager => "WSO2 API Manager",
            Product::IdentityServer => "WSO2 Identity Server",
        }
    }

    pub fn short_name(self) -> &'static str {
        match self {
            Product::ApiManager => "API-M",
            Product::IdentityServer => "IS",
        }
    }

    /// The product of a key (`wso2am`, `wso2is`).
    pub fn from_key(key: &str) -> Option<Product> {
        match key.trim() {
            "wso2am" => Some(Product::ApiManager),
            "wso2is" => Some(Product::IdentityServer),
            _ => None,
        }
    }
}

/// One marker's reading of a pack.
#[derive(Debug, Clone, Serialize)]
pub struct MarkerReading {
    pub marker: &'static str,
    pub product: String,
    pub version: String,
}

/// An identified pack.
#[derive(Debug, Clone, Serialize)]
pub struct Pack {
    /// The pack's home, canonicalised.
    pub home: PathBuf,
    pub product: Product,
    /// Which pack of the product: API-M 4.5.0 and later also ship separate control plane,
    /// gateway and traffic manager packs.
    #[serde(skip_serializing_if = "Distribution::is_full")]
    pub distribution: Distribution,
    pub version: String,
    /// The marker file that decided product and version.
    pub marker: &'static str,
    /// Every marker that could be read, in order of precedence.
    pub readings: Vec<MarkerReading>,
    /// Disagreements between markers, as sentences.
    pub disagreements: Vec<String>,
    /// Files planned into the pack but not written yet, which the finders see as if they
    /// were (see `Planner::view`). Empty for a pack read from disk.
    #[serde(skip)]
    pub overlay: overlay::Overlay,
    /// The pack's home, open: every read of the pack goes through its directory handles,
    /// never through a link swapped in (see `root`). Shared by the clones of the pack.
    #[serde(skip)]
    pub root: Arc<PackRoot>,
    /// The hashes of files known from earlier runs (see `hashcache`); one cache is shared by
    /// all the packs of a run.
    #[serde(skip)]
    pub hashes: Arc<crate::pack::hashes::HashCache>,
}

/// Where a pack path leads.
pub enum Reach<'a> {
    /// Inside the pack: what is there (a link inside the pack followed), and the path that
    /// leads there without links, to read it by (the path asked for, borrowed, when it has
    /// none).
    Inside {
        stat: Stat,
        real: std::borrow::Cow<'a, str>,
    },
    /// Out of the pack, through a link, to this path.
    Outside(PathBuf),
}

/// Where the bytes of a planned file are.
#[derive(Debug, Clone)]
pub enum Overlaid {
    /// A file on disk (in a source pack, or given by path) that will be copied there.
    File(SourceFile),
    /// Bytes computed while planning (TOML edits).
    Bytes(Arc<Vec<u8>>),
}

/// A reader for zip archives (JDBC driver jars) whether on disk or planned.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

impl Pack {
    /// Identifies the pack at `dir`, or says clearly why it is not one.
    pub fn identify(dir: &Path) -> Result<Pack> {
        let shown = dir.display();
        let metadata = match fs::metadata(dir) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                bail!("`{shown}` does not exist (give the extracted pack's home directory)")
            }
            Err(error) => bail!("cannot read `{shown}`: {error}"),
        };
        if !metadata.is_dir() {
            bail!("`{shown}` is not a directory (give the extracted pack's home directory)");
        }
        fs::read_dir(dir).with_context(|| format!("cannot read `{shown}`"))?;
        let home = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve `{shown}`"))?;
        let root = PackRoot::open(&home).with_context(|| format!("cannot open `{shown}`"))?;

        let mut readings = Vec::new();
        let mut unknown_products = Vec::new();
        let mut garbled = Vec::new();
        for (marker, reader) in MARKERS {
            let path = home.join(marker);
            let text = match crate::pack::files::read_regular(&path) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(read_error(&path, error)),
            };
            let is_version_file = [VERSION_TXT, PRODUCT_TXT].contains(&marker);
            match reader(&text) {
                Some(Reading::Known(product, distribution, version)) => readings.push((
                    (product, distribution),
                    MarkerReading {
                        marker,
                        product: distribution.name(product).to_string(),
                        version,
                    },
                )),
                Some(Reading::OtherProduct(name)) => unknown_products.push((marker, name)),
                // A file whose one job is to name the product and version, and which does not,
                // makes every other reading of the pack doubtful.
                None if is_version_file && !text.trim().is_empty() => garbled.push(format!(
                    "`{marker}` does not name a WSO2 product and version (it begins `{}`)",
                    text.trim()
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(40)
                        .collect::<String>()
                )),
                None => {}
            }
        }

        let Some(((product, distribution), decider)) = readings.first().cloned() else {
            if let Some((marker, name)) = unknown_products.first() {
                bail!(
                    "`{shown}` is a {name} pack (by `{marker}`); apim-migrate migrates WSO2 API Manager and Identity Server packs"
                );
            }
            if let Some(garbled) = garbled.first() {
                bail!(
                    "`{shown}` is not a WSO2 pack: {garbled}; give the pack's home directory, the one that holds `bin/` and `repository/`"
                );
            }
            bail!(
                "`{shown}` is not a WSO2 pack: none of `{VERSION_TXT}`, `{PRODUCT_TXT}`, `{CARBON_XML}` names a product and version (give the pack's home directory, the one that holds `bin/` and `repository/`)"
            );
        };
        if let Some(garbled) = garbled.first() {
            bail!(
                "`{shown}` is {} {} by `{}`, but {garbled}: restore it from the product distribution",
                distribution.name(product),
                decider.version,
                decider.marker
            );
        }
        let mut disagreements = Vec::new();
        for (other, reading) in readings.iter().skip(1) {
            if *other != (product, distribution) || reading.version != decider.version {
                disagreements.push(format!(
                    "`{}` says {} {} but `{}` says {} {}",
                    decider.marker,
                    distribution.name(product),
                    decider.version,
                    reading.marker,
                    reading.product,
                    reading.version
                ));
            }
        }
        Ok(Pack {
            home,
            product,
            distribution,
            version: decider.version.clone(),
            marker: decider.marker,
            readings: readings.into_iter().map(|(_, reading)| reading).collect(),
            disagreements,
            overlay: overlay::Overlay::default(),
            root: Arc::new(root),
            hashes: Arc::default(),
        })
    }

    /// `API-M 3.0.0`; `API-M 4.5.0 (Universal Gateway)` for a separate distribution.
    pub fn label(&self) -> String {
        match self.distribution {
            Distribution::Full => format!("{} {}", self.product.short_name(), self.version),
            split => format!(
                "{} {} ({})",
                self.product.short_name(),
                self.version,
                split.short_name()
            ),
        }
    }

    /// The key of the pack's product and distribution in stock catalogues (`wso2am`,
    /// `wso2am-acp`, `wso2is`).
    pub fn stock_key(&self) -> &'static str {
        self.distribution.key(self.product)
    }

    /// The absolute path of a pack-relative path.
    pub fn path(&self, relative: &str) -> PathBuf {
        crate::pack::files::join(&self.home, relative)
    }

    /// The major version (`3` for 3.0.0), or 0 when it does not parse.
    pub fn major(&self) -> u32 {
        version_part(&self.version, 0)
    }

    /// Whether the pack is configured by `deployment.toml` (3.x and later API-M, IS 5.9+).
    pub fn has_deployment_toml(&self) -> bool {
        self.is_file(DEPLOYMENT_TOML)
    }

    /// Reads and parses the pack's deployment.toml; `None` when the pack has none.
    pub fn deployment_toml(&self) -> Result<Option<toml_edit::DocumentMut>> {
        if !self.is_file(DEPLOYMENT_TOML) {
            return Ok(None);
        }
        let path = self.path(DEPLOYMENT_TOML);
        let text = self
            .read_to_string(DEPLOYMENT_TOML)
            .map_err(|error| read_error(&path, error))?;
        let document = crate::pack::toml::parse(&text, &path.display().to_string())?;
        Ok(Some(document))
    }

    // The finders read a pack only through the methods below, so that they see files
    // planned earlier in the same run (`overlay`) as if they were already there.

    /// The same pack, seeing `overlay` as written.
    pub fn with_overlay(&self, overlay: overlay::Overlay) -> Pack {
        Pack {
            overlay,
            ..self.clone()
        }
    }

    /// Planned paths below `dir` (pack-relative, without its trailing `/`), maybe more than
    /// once (see `Overlay::below`).
    fn overlaid_below<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.overlay.below(dir)
    }

    /// The path without links of a pack file to read, refused when a link leads it out of
    /// the pack (what a pack holds through such a link belongs to something else) or when
    /// it is not a regular file.
    fn contained(&self, relative: &str) -> std::io::Result<String> {
        match self.reach(relative)? {
            Reach::Outside(real) => Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "`{}` is reached through a link that leads out of the pack (to `{}`); links are never followed out of a pack",
                    self.root.shown(relative),
                    name::shown_path(&real)
                ),
            )),
            Reach::Inside { stat, .. } if !stat.is_file() => {
                Err(crate::pack::files::not_regular(&self.path(relative)))
            }
            Reach::Inside { real, .. } => Ok(real.into_owned()),
        }
    }

    /// Where a path on disk leads when a link takes it out of the pack; `None` when it stays
    /// inside (or does not exist).
    pub fn leaves_pack(&self, relative: &str) -> Option<PathBuf> {
        if self.overlay.contains_key(relative) {
            return None;
        }
        match self.reach(relative).ok()? {
            Reach::Outside(real) => Some(real),
            Reach::Inside { .. } => None,
        }
    }

    /// Where `relative` leads, following links only to tell whether they leave the pack.
    /// A path without links is looked at through the pack's directory handles (one `stat`);
    /// one with a link on the way is resolved in full, and what it leads to inside the pack
    /// is looked at again without links, so that the path returned can be read safely.
    pub fn reach<'a>(&self, relative: &'a str) -> std::io::Result<Reach<'a>> {
        match self.root.stat(relative) {
            Ok(Some(stat)) if stat.kind != Kind::Link => {
                return Ok(Reach::Inside {
                    stat,
                    real: std::borrow::Cow::Borrowed(relative),
                })
            }
            Ok(None) => return Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
            Ok(Some(_)) => {}
            Err(error) if root::is_link_error(&error) => {}
            Err(error) if root::is_not_dir_error(&error) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!(
                        "`{}`: a directory on the way is not a directory",
                        self.root.shown(relative)
                    ),
                ))
            }
            Err(error) => return Err(error),
        }
        let real = self.path(relative).canonicalize()?;
        let Ok(inside) = real.strip_prefix(&self.home) else {
            return Ok(Reach::Outside(real));
        };
        let inside = name::from_os(inside.as_os_str()).into_owned();
        let stat = if inside.is_empty() {
            Some(Stat::of(&fs::metadata(&self.home)?))
        } else {
            self.root.stat(&inside)?
        };
        match stat {
            Some(stat) if stat.kind != Kind::Link => Ok(Reach::Inside {
                stat,
                real: std::borrow::Cow::Owned(inside),
            }),
            _ => Err(std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }

    /// What is at `relative` in a pack about to be written: `None` when it (or a directory
    /// above it) does not exist; refused when a link is on the way, since the tool never
    /// writes through links.
    pub fn target_metadata(&self, relative: &str) -> Result<Option<Stat>> {
        match self.root.stat(relative) {
            Ok(Some(stat)) if stat.kind == Kind::Link => anyhow::bail!(
                "`{}` is a symbolic link; the tool does not write through links",
                self.root.shown(relative)
            ),
            Ok(found) => Ok(found),
            Err(error) if root::is_link_error(&error) => anyhow::bail!(
                "`{}` is a symbolic link; the tool does not write through links",
                self.root
                    .link_on_the_way(relative)
                    .unwrap_or_else(|| self.root.shown(relative))
            ),
            Err(error) if root::is_not_dir_error(&error) => anyhow::bail!(
                "`{}`: a directory on the way is not a directory",
                self.root.shown(relative)
            ),
            Err(error) => {
                Err(error).with_context(|| format!("cannot stat `{}`", self.root.shown(relative)))
            }
        }
    }

    /// The same pack, forgetting the directories it walked (for a new plan of a session
    /// that has written to it since).
    pub fn rechecked(&self) -> Pack {
        Pack {
            root: Arc::new(self.root.fresh()),
            ..self.clone()
        }
    }

    /// Reads a pack file, at most `files::MAX_PARSED` bytes (the tool reads whole only the
    /// configuration files it parses).
    pub fn read(&self, relative: &str) -> std::io::Result<Vec<u8>> {
        match self.overlay.get(relative) {
            Some(Overlaid::File(source)) => source.read_parsed(),
            Some(Overlaid::Bytes(bytes)) => Ok(bytes.to_vec()),
            None => SourceFile::in_pack(&self.root, &self.contained(relative)?).read_parsed(),
        }
    }

    /// Reads a pack file as UTF-8 text.
    pub fn read_to_string(&self, relative: &str) -> std::io::Result<String> {
        crate::pack::files::utf8_text(self.read(relative)?, &self.root.shown(relative))
    }

    /// Opens a pack file for random access (zip archives).
    pub fn open(&self, relative: &str) -> std::io::Result<Box<dyn ReadSeek>> {
        match self.overlay.get(relative) {
            Some(Overlaid::File(source)) => Ok(Box::new(source.open()?.0)),
            Some(Overlaid::Bytes(bytes)) => Ok(Box::new(std::io::Cursor::new(bytes.to_vec()))),
            None => Ok(Box::new(self.root.open_file(&self.contained(relative)?)?.0)),
        }
    }

    /// SHA-256 of a pack file.
    pub fn sha256(&self, relative: &str) -> Result<String> {
        let source = match self.overlay.get(relative) {
            Some(Overlaid::File(source)) => source,
            Some(Overlaid::Bytes(bytes)) => return Ok(crate::pack::files::sha256_bytes(&bytes)),
            None => SourceFile::in_pack(
                &self.root,
                &self
                    .contained(relative)
                    .map_err(|error| read_error(&self.path(relative), error))?,
            ),
        };
        let (file, _) = source
            .open()
            .map_err(|error| read_error(&source.path(), error))?;
        crate::pack::files::sha256_reader(file, &source.path())
    }

    /// Whether a regular file (or a link to one) is at `relative`.
    pub fn is_file(&self, relative: &str) -> bool {
        self.overlay.contains_key(relative)
            || match self.reach(relative) {
                Ok(Reach::Inside { stat, .. }) => stat.is_file(),
                Ok(Reach::Outside(real)) => real.is_file(),
                Err(_) => false,
            }
    }

    /// The entries of a directory of the pack on disk; a directory reached through a link
    /// is listed where it leads (what is in it is then refused or followed one by one).
    fn entries(&self, relative: &str) -> Result<Vec<root::Entry>> {
        root::gathered(|each| self.each_entry(relative, each))
    }

    /// `entries` given to `each` one by one as they are read, not gathered.
    fn each_entry(&self, relative: &str, each: &mut dyn FnMut(&str, Kind)) -> Result<()> {
        let listed = match self.root.list_each(relative, each) {
            Err(error) if root::is_link_error(&error) => match self.reach(relative) {
                Ok(Reach::Inside { real, .. }) => self.root.list_each(&real, each),
                Ok(Reach::Outside(real)) => root::list_path(&real).map(|entries| {
                    for entry in entries {
                        each(&entry.name, entry.kind);
                    }
                }),
                Err(error) => Err(error),
            },
            other => other,
        };
        match listed {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => {
                Err(error).with_context(|| format!("cannot list `{}`", self.root.shown(relative)))
            }
        }
    }

    /// The names of the directories directly below `relative` (a link to a directory
    /// counts, as with `is_dir`), planned ones included, sorted. One read of the directory:
    /// its entries say their type, so thousands of tenants cost no `stat` each.
    pub fn list_subdirs(&self, relative: &str) -> Result<Vec<String>> {
        let mut names = std::collections::BTreeSet::new();
        self.each_subdir(relative, &mut |name| {
            if !names.contains(name) {
                names.insert(name.to_owned());
            }
        })?;
        Ok(names.into_iter().collect())
    }

    /// The names `list_subdirs` gives, to `each` as they are found, in no order and some
    /// more than once (a directory on disk with files planned into it): for a caller that
    /// keeps less than the names (the tenants' numbers).
    pub fn each_subdir(&self, relative: &str, each: &mut dyn FnMut(&str)) -> Result<()> {
        self.each_entry(relative, &mut |name, kind| {
            let is_dir = match kind {
                Kind::Dir => true,
                Kind::Link => self.is_dir(&format!("{relative}/{name}")),
                _ => false,
            };
            if is_dir {
                each(name);
            }
        })?;
        let skip = relative.len() + 1;
        for key in self.overlaid_below(relative) {
            if let Some((name, _)) = key[skip..].split_once('/') {
                each(name);
            }
        }
        Ok(())
    }

    /// Whether a directory (or a link to one) is at `relative`, or files are planned below it.
    pub fn is_dir(&self, relative: &str) -> bool {
        self.overlaid_below(relative).next().is_some()
            || match self.reach(relative) {
                Ok(Reach::Inside { stat, .. }) => stat.is_dir(),
                Ok(Reach::Outside(real)) => real.is_dir(),
                Err(_) => false,
            }
    }

    /// Whether `relative` itself is a symbolic link on disk.
    pub fn is_link(&self, relative: &str) -> bool {
        !self.overlay.contains_key(relative)
            && matches!(self.root.stat(relative), Ok(Some(stat)) if stat.kind == Kind::Link)
    }

    /// The names in a pack directory, sorted; empty when it does not exist.
    pub fn list_dir(&self, relative: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .entries(relative)?
            .into_iter()
            .map(|entry| entry.name)
            .collect();
        names.sort();
        let skip = relative.len() + 1;
        let mut planned = self
            .overlaid_below(relative)
            .map(|key| {
                let rest = &key[skip..];
                rest.split('/').next().unwrap_or(rest)
            })
            .peekable();
        if planned.peek().is_some() {
            let mut all: std::collections::BTreeSet<String> = names.into_iter().collect();
            for name in planned {
                if !all.contains(name) {
                    all.insert(name.to_string());
                }
            }
            names = all.into_iter().collect();
        }
        Ok(names)
    }

    /// Every regular file under a pack directory, recursively, as pack-relative paths in
    /// sorted order. Links are listed (the caller decides), their targets never walked.
    pub fn files_under(&self, relative: &str) -> Result<Vec<String>> {
        let mut files = Vec::new();
        let mut stack = vec![relative.to_string()];
        while let Some(dir) = stack.pop() {
            for name in self.list_dir(&dir)? {
                let path = format!("{dir}/{name}");
                if self.is_link(&path) || self.overlay.contains_key(path.as_str()) {
                    files.push(path);
                } else if self.is_dir(&path) {
                    stack.push(path);
                } else if self.is_file(&path) {
                    files.push(path);
                }
            }
        }
        files.sort();
        Ok(files)
    }
}

/// An error reading `path`: the tool's own refusals (a link out of the pack, not a regular
/// file, not UTF-8) name the path already; errors of the system get it added.
pub fn read_error(path: &Path, error: std::io::Error) -> anyhow::Error {
    if error.get_ref().is_some() {
        anyhow::anyhow!("{error}")
    } else {
        anyhow::anyhow!("cannot read `{}`: {error}", path.display())
    }
}

/// Compares dotted versions numerically (`1.10.0` > `1.9.1`).
pub fn compare_versions(left: &str, right: &str) -> std::cmp::Ordering {
    let parse = |version: &str| -> Vec<u32> {
        version
            .split('.')
            .map(|part| part.parse().unwrap_or(0))
            .collect()
    };
    parse(left).cmp(&parse(right))
}

fn version_part(version: &str, index: usize) -> u32 {
    version
        .split('.')
        .nth(index)
        .and_then(|part| part.parse().ok())
        .unwrap_or(0)
}

/// The text of the first `<tag>…</tag>` outside comments.
pub fn first_element(text: &str, tag: &str) -> Option<String> {
    let text = strip_xml_comments(text);
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].trim().to_string())
}

/// Removes `<!-- … -->` comments, which in WSO2 configs often hold commented-out elements.
pub fn strip_xml_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory that identifies as a pack of `version`.
    fn pack_home(version: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir_all(dir.path().join("bin")).expect("mkdir");
        let text = format!("WSO2 API Manager v{version}\n");
        fs::write(dir.path().join(VERSION_TXT), text).expect("write");
        dir
    }

    #[test]
    fn the_overlay_adds_planned_files_to_what_finders_see() {
        let dir = pack_home("2.0.0");
        let home = dir.path();
        fs::create_dir_all(home.join("a/b")).expect("mkdir");
        fs::write(home.join("a/b/on-disk.xml"), "disk").expect("write");
        let source = home.join("elsewhere.jks");
        fs::write(&source, "copied").expect("write");
        let pack = Pack::identify(home).expect("pack");
        let mut overlay = overlay::Overlay::default();
        overlay.insert(
            Arc::from("a/b/planned.jks"),
            Overlaid::File(SourceFile::outside(source)),
        );
        overlay.insert(
            Arc::from("a/c/deep/edit.toml"),
            Overlaid::Bytes(Arc::new(b"x = 1".to_vec())),
        );
        let view = pack.with_overlay(overlay);

        assert_eq!(
            view.list_dir("a/b").expect("list"),
            vec!["on-disk.xml".to_string(), "planned.jks".to_string()]
        );
        assert_eq!(
            view.list_dir("a").expect("list"),
            vec!["b".to_string(), "c".to_string()]
        );
        assert!(view.is_dir("a/c/deep") && !pack.is_dir("a/c/deep"));
        assert!(view.is_file("a/b/planned.jks") && !pack.is_file("a/b/planned.jks"));
        assert_eq!(view.read("a/b/planned.jks").expect("read"), b"copied");
        assert_eq!(
            view.read_to_string("a/c/deep/edit.toml").expect("read"),
            "x = 1"
        );
        assert_eq!(
            view.sha256("a/c/deep/edit.toml").expect("hash"),
            crate::pack::files::sha256_bytes(b"x = 1")
        );
        assert_eq!(
            view.files_under("a").expect("walk"),
            vec![
                "a/b/on-disk.xml".to_string(),
                "a/b/planned.jks".to_string(),
                "a/c/deep/edit.toml".to_string()
            ]
        );
        assert_eq!(
            pack.files_under("a").expect("walk"),
            vec!["a/b/on-disk.xml".to_string()]
        );
    }

    #[test]
    fn tenants_are_numbered_from_disk_links_and_plans_sorted_once_each() {
        let dir = pack_home("3.0.0");
        let home = dir.path();
        let tenants = home.join(TENANTS_DIR);
        for name in ["10", "9", "100", "2", "not-a-tenant"] {
            fs::create_dir_all(tenants.join(name)).expect("mkdir");
        }
        // A file with a tenant's name is no tenant; a link to a directory in the pack is.
        fs::write(tenants.join("7"), "file").expect("write");
        std::os::unix::fs::symlink("2", tenants.join("3")).expect("link");
        let pack = Pack::identify(home).expect("pack");
        assert_eq!(
            userstores::tenant_ids(&pack).expect("tenants"),
            vec![2, 3, 9, 10, 100]
        );

        // Planned into a tenant on disk and into a new one: each tenant once.
        let mut overlay = overlay::Overlay::default();
        for path in [
            "10/userstores/a.xml",
            "10/userstores/b.xml",
            "55/userstores/c.xml",
        ] {
            overlay.insert(
                Arc::from(format!("{TENANTS_DIR}/{path}")),
                Overlaid::Bytes(Arc::new(b"<x/>".to_vec())),
            );
        }
        let view = pack.with_overlay(overlay);
        assert_eq!(
            userstores::tenant_ids(&view).expect("tenants"),
            vec![2, 3, 9, 10, 55, 100]
        );
        assert_eq!(
            view.list_subdirs(TENANTS_DIR).expect("list"),
            ["10", "100", "2", "3", "55", "9", "not-a-tenant"]
        );
    }

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering;
        assert_eq!(compare_versions("1.10.0", "1.9.1"), Ordering::Greater);
        assert_eq!(compare_versions("4.1.0", "4.1.0"), Ordering::Equal);
    }
}
