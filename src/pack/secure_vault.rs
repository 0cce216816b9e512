//! Whether a pack uses secure vault (encrypted passwords in its configuration), and which
//! secret aliases must be re-entered on the new pack before the cipher tool runs again.

use super::{Pack, CARBON_XML};
use anyhow::Result;
use serde::Serialize;

const SECRET_CONF: &str = "repository/conf/security/secret-conf.properties";
const CIPHER_TEXT: &str = "repository/conf/security/cipher-text.properties";
/// XML configs of 1.x/2.x where `svns:secretAlias` attributes appear.
const XML_CONFIGS: [&str; 6] = [
    CARBON_XML,
    "repository/conf/user-mgt.xml",
    "repository/conf/api-manager.xml",
    "repository/conf/axis2/axis2.xml",
    "repository/conf/datasources/master-datasources.xml",
    "repository/conf/tomcat/catalina-server.xml",
];

#[derive(Debug, Clone, Default, Serialize)]
pub struct SecureVault {
    pub in_use: bool,
    /// What showed it, as short sentences.
    pub evidence: Vec<String>,
    /// Secret aliases whose plain values must be re-entered.
    pub aliases: Vec<String>,
}

impl SecureVault {
    fn alias(&mut self, alias: &str) {
        let alias = alias.trim();
        if !alias.is_empty() && !self.aliases.iter().any(|known| known == alias) {
            self.aliases.push(alias.to_string());
        }
    }
}

pub fn detect(pack: &Pack) -> Result<SecureVault> {
    let mut vault = SecureVault::default();
    let configured_by_toml = pack.has_deployment_toml();

    if let Some(document) = pack.deployment_toml()? {
        if let Some(secrets) = document
            .get("secrets")
            .and_then(|item| item.as_table_like())
        {
            let keys: Vec<String> = secrets.iter().map(|(key, _)| key.to_string()).collect();
            if !keys.is_empty() {
                vault.evidence.push(format!(
                    "deployment.toml has a `[secrets]` table with {} entries",
                    keys.len()
                ));
                for key in &keys {
                    vault.alias(key);
                }
            }
        }
        let text = document.to_string();
        let references = secret_references(&text);
        if !references.is_empty() {
            vault.evidence.push(format!(
                "deployment.toml refers to {} `$secret{{…}}` values",
                references.len()
            ));
            for alias in references {
                vault.alias(&alias);
            }
        }
    }

    if let Ok(text) = pack.read_to_string(SECRET_CONF) {
        let active: Vec<&str> = property_lines(&text).collect();
        let enabled = active.iter().any(|line| {
            line.replace(' ', "")
                .eq_ignore_ascii_case("secVault.enabled=true")
        });
        // 3.x+ renders this file from deployment.toml; stock IS packs ship it fully
        // commented. 1.x/2.x need the explicit switch.
        if enabled || (configured_by_toml && !active.is_empty()) {
            vault.evidence.push(format!("`{SECRET_CONF}` is active"));
        }
    }

    if let Ok(text) = pack.read_to_string(CIPHER_TEXT) {
        // From 3.0.0 this file is rendered from `[secrets]`, whose aliases are the ones to
        // re-enter; its own keys name secrets only in packs configured by XML.
        let aliases_from_toml = !vault.aliases.is_empty();
        let mut encrypted = 0;
        for line in property_lines(&text) {
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim();
                let plain = value.starts_with('[') && value.ends_with(']');
                if !value.is_empty() && !plain {
                    encrypted += 1;
                    if !aliases_from_toml {
                        vault.alias(key);
                    }
                }
            }
        }
        if encrypted > 0 {
            vault.evidence.push(format!(
                "`{CIPHER_TEXT}` holds {encrypted} encrypted values"
            ));
        }
    }

    for config in XML_CONFIGS {
        let Ok(text) = pack.read_to_string(config) else {
            continue;
        };
        let text = super::strip_xml_comments(&text);
        let mut count = 0;
        let mut rest = text.as_str();
        while let Some(start) = rest.find("secretAlias=\"") {
            rest = &rest[start + "secretAlias=\"".len()..];
            if let Some(end) = rest.find('"') {
                vault.alias(&rest[..end]);
                count += 1;
            }
        }
        if count > 0 {
            vault.evidence.push(format!(
                "`{config}` has {count} `svns:secretAlias` attributes"
            ));
        }
    }

    vault.in_use = !vault.evidence.is_empty();
    Ok(vault)
}

/// Non-empty lines of a properties file that are not comments.
fn property_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
}

/// Aliases referred to as `$secret{alias}`.
fn secret_references(text: &str) -> Vec<String> {
    let mut aliases = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("$secret{") {
        rest = &rest[start + "$secret{".len()..];
        if let Some(end) = rest.find('}') {
            let alias = rest[..end].to_string();
            if !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
    }
    aliases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_references_are_found_once() {
        assert_eq!(
            secret_references(
                "password = \"$secret{admin_password}\"\nx = \"$secret{db}\"\ny=\"$secret{db}\""
            ),
            vec!["admin_password".to_string(), "db".to_string()]
        );
    }
}
