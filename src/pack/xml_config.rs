//! The settings an XML-configured release (1.x, 2.x) amounts to, under the names 4.x reads
//! in deployment.toml: the datasources of `master-datasources.xml` (`[database.*]`), the host
//! name, port offset, keystore and trust store of `carbon.xml` (`[server]`, `[keystore.tls]`,
//! `[truststore]`), the primary user store and admin of `user-mgt.xml` (`[user_store]`,
//! `[super_admin]`, `[realm_manager]`) and the gateway environments of `api-manager.xml`
//! (`[[apim.gateway.environment]]`). What is read from the XML but has no such key is noted,
//! so that nothing is left behind without a word.

use super::toml::{parse_setting_path, set_setting};
use super::{first_element, strip_xml_comments, Pack, CARBON_XML};
use anyhow::Result;
use toml_edit::{DocumentMut, Value};

pub const MASTER_DATASOURCES: &str = "repository/conf/datasources/master-datasources.xml";
pub const USER_MGT_XML: &str = "repository/conf/user-mgt.xml";
pub const API_MANAGER_XML: &str = "repository/conf/api-manager.xml";

/// The XML files whose settings are mapped.
pub const MAPPED_FILES: [&str; 4] = [
    CARBON_XML,
    MASTER_DATASOURCES,
    USER_MGT_XML,
    API_MANAGER_XML,
];

/// The settings of an XML pack.
#[derive(Debug, Clone)]
pub struct XmlSettings {
    pub document: DocumentMut,
    /// Setting path (as written) → the XML file and element it came from.
    pub origins: Vec<(String, String)>,
    /// What was read but maps to no key, one sentence each, with the file.
    pub unmapped: Vec<(String, String)>,
}

impl XmlSettings {
    fn set(&mut self, path: &str, value: Value, origin: String) -> Result<()> {
        set_setting(&mut self.document, &parse_setting_path(path)?, value)?;
        self.origins.push((path.to_string(), origin));
        Ok(())
    }
}

/// Reads the four XML files of `pack` (those it has).
pub fn settings_of(pack: &Pack) -> Result<XmlSettings> {
    let mut out = XmlSettings {
        document: DocumentMut::new(),
        origins: Vec::new(),
        unmapped: Vec::new(),
    };
    if let Ok(text) = pack.read_to_string(CARBON_XML) {
        carbon(&strip_xml_comments(&text), &mut out)?;
    }
    if let Ok(text) = pack.read_to_string(MASTER_DATASOURCES) {
        datasources(&strip_xml_comments(&text), &mut out)?;
    }
    if let Ok(text) = pack.read_to_string(USER_MGT_XML) {
        user_mgt(&strip_xml_comments(&text), &mut out)?;
    }
    if let Ok(text) = pack.read_to_string(API_MANAGER_XML) {
        environments(&strip_xml_comments(&text), &mut out)?;
    }
    Ok(out)
}

fn string(text: &str) -> Value {
    Value::from(text)
}

/// The text inside `<tag>…</tag>` of `text`, whose attributes may vary.
fn blocks<'a>(text: &'a str, tag: &str) -> Vec<(&'a str, &'a str)> {
    let mut found = Vec::new();
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut rest = text;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        if !after.starts_with(['>', ' ', '\t', '\n', '\r']) {
            rest = after;
            continue;
        }
        let Some(head_end) = after.find('>') else {
            break;
        };
        let head = &after[..head_end];
        let body = &after[head_end + 1..];
        let Some(end) = body.find(&close) else {
            break;
        };
        found.push((head, &body[..end]));
        rest = &body[end + close.len()..];
    }
    found
}

/// The value of `name="…"` in an element's head.
fn attribute(head: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = head.find(&key)? + key.len();
    let end = head[start..].find('"')? + start;
    Some(head[start..end].to_string())
}

fn carbon(text: &str, out: &mut XmlSettings) -> Result<()> {
    let file = format!("`{CARBON_XML}`");
    if let Some(host) = first_element(text, "HostName") {
        out.set(
            "server.hostname",
            string(&host),
            format!("{file} <HostName>"),
        )?;
    }
    if let Some(ports) = first_element(text, "Ports") {
        if let Some(offset) = first_element(&ports, "Offset") {
            let value = offset
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| string(&offset));
            out.set("server.offset", value, format!("{file} <Ports><Offset>"))?;
        }
    }
    let security = first_element(text, "Security").unwrap_or_default();
    for (tag, table, with_key) in [
        ("KeyStore", "keystore.tls", true),
        ("TrustStore", "truststore", false),
    ] {
        let Some((_, block)) = blocks(&security, tag).into_iter().next() else {
            continue;
        };
        let mut fields = vec![
            ("Location", "file_name"),
            ("Type", "type"),
            ("Password", "password"),
        ];
        if with_key {
            fields.extend([("KeyAlias", "alias"), ("KeyPassword", "key_password")]);
        }
        for (element, key) in fields {
            let Some((head, value)) = blocks(block, element).into_iter().next() else {
                continue;
            };
            let value = value.trim();
            let value = if attribute(head, "svns:secretAlias").is_some() {
                // Secure vault: the value lives in cipher-text.properties; 4.x reads
                // `$secret{alias}` with the alias under [secrets].
                format!(
                    "$secret{{{}}}",
                    attribute(head, "svns:secretAlias").unwrap_or_default()
                )
            } else if element == "Location" {
                value.rsplit('/').next().unwrap_or(value).to_string()
            } else {
                value.to_string()
            };
            out.set(
                &format!("{table}.{key}"),
                string(&value),
                format!("{file} <Security><{tag}><{element}>"),
            )?;
        }
    }
    Ok(())
}

/// The 4.x database a 1.x/2.x datasource stands for, after WSO2's guides: the API-M database
/// is `apim_db`; the registry database (`WSO2REG_DB`, or the carbon database where the
/// registry was not split out) is `shared_db`; a separate user database is `user`.
fn database_key(name: &str, jndi: &str) -> Option<&'static str> {
    let upper = format!("{name} {jndi}").to_ascii_uppercase();
    if upper.contains("MB_STORE") || upper.contains("MBSTORE") || upper.contains("STATS") {
        None
    } else if upper.contains("AM_DB") {
        Some("apim_db")
    } else if upper.contains("REG")
        || upper.contains("CARBON_DB")
        || upper.contains("CARBONDB")
        || upper.contains("SHARED")
    {
        Some("shared_db")
    } else if upper.contains("UM_DB") || upper.contains("USER") {
        Some("user")
    } else {
        None
    }
}

fn database_type(url: &str) -> Option<&'static str> {
    let sub = url.strip_prefix("jdbc:")?.split(':').next()?;
    Some(match sub {
        "h2" => "h2",
        "mysql" => "mysql",
        "mariadb" => "mariadb",
        "postgresql" => "postgre",
        "oracle" => "oracle",
        "sqlserver" => "mssql",
        "db2" => "db2",
        _ => return None,
    })
}

fn datasources(text: &str, out: &mut XmlSettings) -> Result<()> {
    let file = format!("`{MASTER_DATASOURCES}`");
    let mut seen_shared = false;
    for (_, block) in blocks(text, "datasource") {
        let name = first_element(block, "name").unwrap_or_default();
        let jndi = blocks(block, "jndiConfig")
            .first()
            .and_then(|(_, inner)| first_element(inner, "name"))
            .unwrap_or_default();
        let Some(key) = database_key(&name, &jndi) else {
            out.unmapped.push((
                MASTER_DATASOURCES.to_string(),
                format!(
                    "the datasource `{name}` has no [database.*] table in 4.x (the message broker and statistics databases are not migrated: 4.x keeps its own)"
                ),
            ));
            continue;
        };
        if key == "shared_db" {
            if seen_shared {
                continue;
            }
            seen_shared = true;
        }
        let configuration = first_element(block, "configuration").unwrap_or_default();
        let url = first_element(&configuration, "url").unwrap_or_default();
        let origin = format!("{file} <datasource> `{name}`");
        if let Some(kind) = database_type(&url) {
            out.set(
                &format!("database.{key}.type"),
                string(kind),
                origin.clone(),
            )?;
        }
        out.set(&format!("database.{key}.url"), string(&url), origin.clone())?;
        for (element, field) in [("username", "username"), ("password", "password")] {
            if let Some((head, value)) = blocks(&configuration, element).into_iter().next() {
                let value = match attribute(head, "svns:secretAlias") {
                    Some(alias) => format!("$secret{{{alias}}}"),
                    None => value.trim().to_string(),
                };
                out.set(
                    &format!("database.{key}.{field}"),
                    string(&value),
                    origin.clone(),
                )?;
            }
        }
        // 4.x knows the driver of H2, MySQL and Oracle from the type; others name it.
        if !matches!(database_type(&url), Some("h2" | "mysql" | "oracle")) {
            if let Some(driver) = first_element(&configuration, "driverClassName") {
                out.set(
                    &format!("database.{key}.driver"),
                    string(&driver),
                    origin.clone(),
                )?;
            }
        }
    }
    Ok(())
}

fn user_mgt(text: &str, out: &mut XmlSettings) -> Result<()> {
    let file = format!("`{USER_MGT_XML}`");
    if let Some(configuration) = first_element(text, "Configuration") {
        if let Some(admin) = first_element(&configuration, "AdminUser") {
            if let Some(name) = first_element(&admin, "UserName") {
                out.set(
                    "super_admin.username",
                    string(&name),
                    format!("{file} <AdminUser><UserName>"),
                )?;
            }
            if let Some((head, value)) = blocks(&admin, "Password").into_iter().next() {
                let value = match attribute(head, "svns:secretAlias") {
                    Some(alias) => format!("$secret{{{alias}}}"),
                    None => value.trim().to_string(),
                };
                out.set(
                    "super_admin.password",
                    string(&value),
                    format!("{file} <AdminUser><Password>"),
                )?;
            }
        }
        if let Some(role) = first_element(&configuration, "AdminRole") {
            out.set(
                "super_admin.admin_role",
                string(&role),
                format!("{file} <AdminRole>"),
            )?;
        }
        for (head, value) in blocks(&configuration, "Property") {
            if attribute(head, "name").as_deref() == Some("dataSource") {
                out.set(
                    "realm_manager.data_source",
                    string(value.trim()),
                    format!("{file} <Property name=\"dataSource\">"),
                )?;
            }
        }
    }
    if let Some((head, body)) = blocks(text, "UserStoreManager").into_iter().next() {
        let class = attribute(head, "class").unwrap_or_default();
        let simple = class.rsplit('.').next().unwrap_or(&class);
        let kind = match simple {
            "JDBCUserStoreManager" => Some("database"),
            "UniqueIDJDBCUserStoreManager" => Some("database_unique_id"),
            "ReadWriteLDAPUserStoreManager" => Some("read_write_ldap"),
            "UniqueIDReadWriteLDAPUserStoreManager" => Some("read_write_ldap_unique_id"),
            "ReadOnlyLDAPUserStoreManager" => Some("read_only_ldap"),
            "UniqueIDReadOnlyLDAPUserStoreManager" => Some("read_only_ldap_unique_id"),
            "ActiveDirectoryUserStoreManager" => Some("active_directory"),
            "UniqueIDActiveDirectoryUserStoreManager" => Some("active_directory_unique_id"),
            _ => None,
        };
        match kind {
            Some(kind) => out.set("user_store.type", string(kind), format!("{file} <UserStoreManager class>"))?,
            None => out.unmapped.push((
                USER_MGT_XML.to_string(),
                format!("the primary user store class `{class}` has no `[user_store] type` in 4.x: set it by hand"),
            )),
        }
        if kind.is_some_and(|kind| kind != "database" && kind != "database_unique_id") {
            for (head, value) in blocks(body, "Property") {
                let Some(name) = attribute(head, "name") else {
                    continue;
                };
                let key = match name.as_str() {
                    "ConnectionURL" => "connection_url",
                    "ConnectionName" => "connection_name",
                    "ConnectionPassword" => "connection_password",
                    "UserSearchBase" => "user_search_base",
                    "GroupSearchBase" => "group_search_base",
                    _ => {
                        continue;
                    }
                };
                out.set(
                    &format!("user_store.{key}"),
                    string(value.trim()),
                    format!("{file} <Property name=\"{name}\">"),
                )?;
            }
        }
    }
    Ok(())
}

fn environments(text: &str, out: &mut XmlSettings) -> Result<()> {
    let file = format!("`{API_MANAGER_XML}`");
    let Some(gateway) = first_element(text, "Environments") else {
        return Ok(());
    };
    for (index, (head, body)) in blocks(&gateway, "Environment").into_iter().enumerate() {
        let table = format!("apim.gateway.environment[{index}]");
        let origin = format!("{file} <Environment> {}", index + 1);
        if let Some(name) = first_element(body, "Name") {
            out.set(&format!("{table}.name"), string(&name), origin.clone())?;
        }
        if let Some(kind) = attribute(head, "type") {
            out.set(&format!("{table}.type"), string(&kind), origin.clone())?;
        }
        if let Some(console) = attribute(head, "api-console") {
            out.set(
                &format!("{table}.display_in_api_console"),
                Value::from(console == "true"),
                origin.clone(),
            )?;
        }
        for (element, key) in [
            ("Description", "description"),
            ("ServerURL", "service_url"),
            ("Username", "username"),
            ("Password", "password"),
        ] {
            if let Some(value) = first_element(body, element) {
                out.set(&format!("{table}.{key}"), string(&value), origin.clone())?;
            }
        }
        if let Some(endpoints) = first_element(body, "GatewayEndpoint") {
            for endpoint in endpoints.split(',').map(str::trim) {
                let key = if endpoint.starts_with("https://") {
                    "https_endpoint"
                } else if endpoint.starts_with("http://") {
                    "http_endpoint"
                } else {
                    continue;
                };
                out.set(&format!("{table}.{key}"), string(endpoint), origin.clone())?;
            }
        }
        if let Some(endpoint) = first_element(body, "GatewayWSEndpoint") {
            out.set(
                &format!("{table}.ws_endpoint"),
                string(&endpoint),
                origin.clone(),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::toml::{get_setting, parse_setting_path};

    fn value(out: &XmlSettings, path: &str) -> Option<String> {
        get_setting(&out.document, &parse_setting_path(path).expect("path"))
            .map(|value| value.to_string().trim().to_string())
    }

    #[test]
    fn datasources_map_to_database_tables_and_the_broker_is_left_out() {
        let mut out = XmlSettings {
            document: DocumentMut::new(),
            origins: Vec::new(),
            unmapped: Vec::new(),
        };
        datasources(
            "<datasources><datasource><name>WSO2AM_DB</name><jndiConfig><name>jdbc/WSO2AM_DB</name></jndiConfig><definition><configuration><url>jdbc:mysql://db:3306/am</url><username>am</username><password>secret</password><driverClassName>com.mysql.jdbc.Driver</driverClassName></configuration></definition></datasource>\
             <datasource><name>WSO2_MB_STORE_DB</name><definition><configuration><url>jdbc:h2:x</url></configuration></definition></datasource></datasources>",
            &mut out,
        )
        .expect("map");
        assert_eq!(
            value(&out, "database.apim_db.type").as_deref(),
            Some("\"mysql\"")
        );
        assert_eq!(
            value(&out, "database.apim_db.url").as_deref(),
            Some("\"jdbc:mysql://db:3306/am\"")
        );
        assert_eq!(value(&out, "database.apim_db.driver"), None);
        assert_eq!(out.unmapped.len(), 1);
    }

    #[test]
    fn carbon_xml_gives_host_offset_and_keystores() {
        let mut out = XmlSettings {
            document: DocumentMut::new(),
            origins: Vec::new(),
            unmapped: Vec::new(),
        };
        carbon(
            "<Server><HostName>am.example.com</HostName><Ports><Offset>3</Offset></Ports><Security><KeyStore><Location>${carbon.home}/repository/resources/security/site.jks</Location><Password svns:secretAlias=\"Carbon.Security.KeyStore.Password\">password</Password></KeyStore></Security></Server>",
            &mut out,
        )
        .expect("map");
        assert_eq!(
            value(&out, "server.hostname").as_deref(),
            Some("\"am.example.com\"")
        );
        assert_eq!(value(&out, "server.offset").as_deref(), Some("3"));
        assert_eq!(
            value(&out, "keystore.tls.file_name").as_deref(),
            Some("\"site.jks\"")
        );
        assert_eq!(
            value(&out, "keystore.tls.password").as_deref(),
            Some("\"$secret{Carbon.Security.KeyStore.Password}\"")
        );
    }
}
