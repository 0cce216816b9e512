//! Keystores of a pack: those in `repository/resources/security` and those its configuration
//! names elsewhere.

use super::{first_element, strip_xml_comments, Pack, CARBON_XML, SECURITY_DIR};
use anyhow::Result;
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// File extensions of keystores and truststores (compared case-insensitively).
pub const KEYSTORE_EXTENSIONS: [&str; 4] = ["jks", "p12", "pfx", "jceks"];

/// deployment.toml keys (3.x and later) that name a keystore file.
pub const TOML_KEYSTORE_KEYS: [&str; 4] = [
    "keystore.tls.file_name",
    "keystore.primary.file_name",
    "keystore.internal.file_name",
    "truststore.file_name",
];

/// XML configs (1.x/2.x, and rendered copies in later versions) that name keystores.
const XML_CONFIGS: [&str; 3] = [
    CARBON_XML,
    "repository/conf/axis2/axis2.xml",
    "repository/conf/tomcat/catalina-server.xml",
];

pub fn is_keystore_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            KEYSTORE_EXTENSIONS
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
        })
}

/// Where a configured keystore lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "where", content = "path")]
pub enum Location {
    /// Inside the pack, at this pack-relative path.
    InPack(String),
    /// Outside the pack.
    Outside(PathBuf),
}

/// A keystore named by the pack's configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Configured {
    /// The config file and key that name it.
    pub configured_by: String,
    pub value: String,
    pub location: Location,
    pub exists: bool,
}

/// Keystores found in a pack.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Keystores {
    /// File names in `repository/resources/security`.
    pub in_security_dir: Vec<String>,
    /// Keystores the configuration names (possibly also in the security directory).
    pub configured: Vec<Configured>,
}

impl Keystores {
    /// Configured keystores inside the pack but outside the security directory.
    pub fn elsewhere_in_pack(&self) -> Vec<&Configured> {
        let prefix = format!("{SECURITY_DIR}/");
        self.configured
            .iter()
            .filter(|configured| match &configured.location {
                Location::InPack(relative) => {
                    !relative.starts_with(&prefix) || relative[prefix.len()..].contains('/')
                }
                Location::Outside(_) => false,
            })
            .collect()
    }

    pub fn outside_pack(&self) -> Vec<&Configured> {
        self.configured
            .iter()
            .filter(|configured| matches!(configured.location, Location::Outside(_)))
            .collect()
    }
}

pub fn find(pack: &Pack) -> Result<Keystores> {
    let in_security_dir = pack
        .list_dir(SECURITY_DIR)?
        .into_iter()
        .filter(|name| is_keystore_name(name))
        .collect();
    let mut configured = Vec::new();
    if let Some(document) = pack.deployment_toml()? {
        for key in TOML_KEYSTORE_KEYS {
            let path: Vec<String> = key.split('.').map(str::to_string).collect();
            if let Some(value) = crate::pack::toml::get(&document, &path)
                .and_then(|item| item.as_str())
                .map(str::to_string)
            {
                // WSO2 renders `file_name` into `${carbon.home}/repository/resources/security/…`.
                let location = resolve(pack, &value, Some(SECURITY_DIR));
                push_unique(
                    &mut configured,
                    pack,
                    format!("deployment.toml `{key}`"),
                    value,
                    location,
                );
            }
        }
    }
    for config in XML_CONFIGS {
        let Ok(text) = pack.read_to_string(config) else {
            continue;
        };
        for value in xml_keystore_locations(&text) {
            let location = resolve(pack, &value, None);
            push_unique(
                &mut configured,
                pack,
                format!("`{config}`"),
                value,
                location,
            );
        }
    }
    Ok(Keystores {
        in_security_dir,
        configured,
    })
}

fn push_unique(
    configured: &mut Vec<Configured>,
    pack: &Pack,
    configured_by: String,
    value: String,
    location: Location,
) {
    if configured
        .iter()
        .any(|existing| existing.location == location)
    {
        return;
    }
    let exists = match &location {
        Location::InPack(relative) => pack.is_file(relative),
        Location::Outside(path) => path.is_file(),
    };
    configured.push(Configured {
        configured_by,
        value,
        location,
        exists,
    });
}

/// Keystore paths in an XML config: `<Location>` elements and `keystoreFile`/`truststoreFile`
/// attributes, outside comments.
fn xml_keystore_locations(text: &str) -> Vec<String> {
    let text = strip_xml_comments(text);
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<Location>") {
        rest = &rest[start..];
        if let Some(value) = first_element(rest, "Location") {
            if is_keystore_name(&value) {
                found.push(value);
            }
        }
        rest = &rest["<Location>".len()..];
    }
    for attribute in ["keystoreFile=\"", "truststoreFile=\""] {
        let mut rest = text.as_str();
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            if let Some(end) = rest.find('"') {
                let value = &rest[..end];
                if is_keystore_name(value) {
                    found.push(value.to_string());
                }
            }
        }
    }
    found
}

/// Resolves a configured path: `${carbon.home}` is the pack home; a bare file name lives in
/// `bare_name_dir` when given; other relative paths are relative to the pack home.
fn resolve(pack: &Pack, value: &str, bare_name_dir: Option<&str>) -> Location {
    let expanded = value
        .replace("${carbon.home}", &pack.home.display().to_string())
        .replace("$CARBON_HOME", &pack.home.display().to_string());
    let path = Path::new(&expanded);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match bare_name_dir {
            Some(dir) => pack.path(dir).join(path),
            None => pack.home.join(path),
        }
    };
    let normalised = normalise(&absolute);
    match normalised.strip_prefix(&pack.home) {
        Ok(relative) => Location::InPack(
            relative
                .components()
                .filter_map(|component| component.as_os_str().to_str())
                .collect::<Vec<_>>()
                .join("/"),
        ),
        Err(_) => Location::Outside(normalised),
    }
}

/// Lexical normalisation (`a/./b/../c` → `a/c`), without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keystore_names_by_extension() {
        assert!(is_keystore_name("wso2carbon.jks"));
        assert!(is_keystore_name("partner.P12"));
        assert!(is_keystore_name("x.jceks"));
        assert!(!is_keystore_name("sslprofiles.xml"));
    }

    #[test]
    fn xml_locations_skip_comments() {
        let text = "<!-- <Location>old.jks</Location> -->\n<KeyStore><Location>${carbon.home}/repository/resources/security/wso2carbon.jks</Location></KeyStore>\n<Connector keystoreFile=\"${carbon.home}/conf/tls.p12\"/>";
        assert_eq!(
            xml_keystore_locations(text),
            vec![
                "${carbon.home}/repository/resources/security/wso2carbon.jks".to_string(),
                "${carbon.home}/conf/tls.p12".to_string()
            ]
        );
    }
}
