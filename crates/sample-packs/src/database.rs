//! Databases: the site's `[database.*]` tables and `<datasource>`s, their JDBC driver classes and user names.

use std::collections::BTreeSet;

use crate::encoding::{toml_key, toml_string, xml_escape};
use crate::{PackBuilder, SAMPLE_NOTICE, V2_0_0};

/// A database the site configured: `[database.<name>]` in deployment.toml (3.x+) or a
/// `<datasource>` in master-datasources.xml (1.x/2.x).
#[derive(Debug, Clone)]
pub(crate) struct SampleDatabase {
    pub(crate) name: String,
    pub(crate) db_type: String,
    pub(crate) url: String,
}

/// Fully qualified JDBC driver class for a `[database.*] type` such as "mysql" or "postgre".
pub fn jdbc_driver_class(db_type: &str) -> Option<&'static str> {
    match db_type.trim().to_ascii_lowercase().as_str() {
        "h2" => Some("org.h2.Driver"),
        "mysql" => Some("com.mysql.cj.jdbc.Driver"),
        "mariadb" => Some("org.mariadb.jdbc.Driver"),
        "postgre" | "postgres" | "postgresql" => Some("org.postgresql.Driver"),
        "oracle" => Some("oracle.jdbc.OracleDriver"),
        "mssql" | "sqlserver" => Some("com.microsoft.sqlserver.jdbc.SQLServerDriver"),
        "db2" => Some("com.ibm.db2.jcc.DB2Driver"),
        _ => None,
    }
}

/// Driver class for a datasource: by type, else by the URL's sub-protocol. Legacy (1.x/2.x)
/// packs ran MySQL Connector/J 5, whose class name lacks the `cj`.
fn jdbc_driver_class_for(db_type: &str, url: &str, legacy: bool) -> String {
    let sub_protocol = url
        .strip_prefix("jdbc:")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or("");
    let class = jdbc_driver_class(db_type)
        .or_else(|| jdbc_driver_class(sub_protocol))
        .unwrap_or("org.example.jdbc.Driver");
    if legacy && class == "com.mysql.cj.jdbc.Driver" {
        "com.mysql.jdbc.Driver".to_string()
    } else {
        class.to_string()
    }
}

fn database_username(db_type: &str) -> &'static str {
    if db_type.eq_ignore_ascii_case("h2") {
        "wso2carbon"
    } else {
        "apim_admin"
    }
}

/// 1.x/2.x datasource that a 3.x-style database name stands for.
fn legacy_datasource_name(name: &str) -> &str {
    match name {
        "apim_db" => "WSO2AM_DB",
        "shared_db" => "WSO2_CARBON_DB",
        other => other,
    }
}

impl PackBuilder {
    /// `[database.*]` tables: the stock ones (possibly replaced by the site's) then the site's own.
    pub(crate) fn toml_databases(&self, stock: &[(&str, &str)]) -> String {
        let mut text = String::new();
        let mut written = BTreeSet::new();
        for (slot_offset, (name, url)) in stock.iter().enumerate() {
            let slot = 3 + slot_offset;
            match self
                .databases
                .iter()
                .find(|database| database.name == *name)
            {
                Some(database) => {
                    text.push_str(&self.toml_database(database, Some(slot)));
                }
                None => {
                    let database = SampleDatabase {
                        name: name.to_string(),
                        db_type: "h2".to_string(),
                        url: url.to_string(),
                    };
                    text.push_str(&self.toml_database(&database, Some(slot)));
                }
            }
            written.insert(name.to_string());
        }
        for database in &self.databases {
            if !written.contains(&database.name) {
                text.push_str(&self.toml_database(database, None));
            }
        }
        text
    }

    fn toml_database(&self, database: &SampleDatabase, slot: Option<usize>) -> String {
        let username = database_username(&database.db_type);
        let password = match slot {
            Some(slot) => self.password_value(slot, username),
            None => toml_string(username),
        };
        format!(
            "[database.{}]\ntype = {}\nurl = {}\nusername = {}\npassword = {password}\n\n",
            toml_key(&database.name),
            toml_string(&database.db_type),
            toml_string(&database.url),
            toml_string(username),
        )
    }

    pub(crate) fn master_datasources_xml(&self) -> String {
        let mut stock = vec![
            (
                "WSO2_CARBON_DB",
                "jdbc/WSO2CarbonDB",
                "Registry and user management data",
                "jdbc:h2:repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000",
            ),
            (
                "WSO2AM_DB",
                "jdbc/WSO2AM_DB",
                "API Manager data: APIs, applications, subscriptions",
                "jdbc:h2:repository/database/WSO2AM_DB;DB_CLOSE_ON_EXIT=FALSE",
            ),
        ];
        if self.parsed_version >= V2_0_0 {
            stock.push((
                "WSO2_MB_STORE_DB",
                "WSO2MBStoreDB",
                "Message store of the embedded broker",
                "jdbc:h2:repository/database/WSO2MB_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000",
            ));
        }
        let vault = self.secure_vault_aliases.is_some();
        let mut datasources = String::new();
        let mut written = BTreeSet::new();
        for (name, jndi, description, url) in stock {
            let site = self
                .databases
                .iter()
                .find(|database| legacy_datasource_name(&database.name) == name);
            let (db_type, url) = match site {
                Some(database) => (database.db_type.as_str(), database.url.as_str()),
                None => ("h2", url),
            };
            datasources.push_str(&self.datasource_xml(
                name,
                jndi,
                description,
                db_type,
                url,
                vault,
            ));
            written.insert(name.to_string());
        }
        for database in &self.databases {
            let name = legacy_datasource_name(&database.name);
            if written.insert(name.to_string()) {
                datasources.push_str(&self.datasource_xml(
                    name,
                    &format!("jdbc/{name}"),
                    "Site datasource",
                    &database.db_type,
                    &database.url,
                    false,
                ));
            }
        }
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
{SAMPLE_NOTICE}
<datasources-configuration xmlns:svns="http://org.wso2.securevault/configuration">
    <providers>
        <provider>org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader</provider>
    </providers>
    <datasources>
{datasources}    </datasources>
</datasources-configuration>
"#
        )
    }

    fn datasource_xml(
        &self,
        name: &str,
        jndi: &str,
        description: &str,
        db_type: &str,
        url: &str,
        vault: bool,
    ) -> String {
        let driver = jdbc_driver_class_for(db_type, url, true);
        let username = database_username(db_type);
        // Only the carbon datasource is in the stock cipher-tool.properties, so only it gets
        // an alias when the vault is on.
        let password = if vault && name == "WSO2_CARBON_DB" {
            format!(
                r#"<password svns:secretAlias="Datasources.{name}.Configuration.Password">password</password>"#
            )
        } else {
            format!("<password>{username}</password>")
        };
        format!(
            r#"        <datasource>
            <name>{name}</name>
            <description>{description}</description>
            <jndiConfig>
                <name>{jndi}</name>
            </jndiConfig>
            <definition type="RDBMS">
                <configuration>
                    <url>{url}</url>
                    <username>{username}</username>
                    {password}
                    <driverClassName>{driver}</driverClassName>
                    <maxActive>50</maxActive>
                    <maxWait>60000</maxWait>
                    <testOnBorrow>true</testOnBorrow>
                    <validationQuery>SELECT 1</validationQuery>
                    <validationInterval>30000</validationInterval>
                </configuration>
            </definition>
        </datasource>
"#,
            name = xml_escape(name),
            url = xml_escape(url),
        )
    }
}
