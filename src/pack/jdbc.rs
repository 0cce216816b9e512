//! JDBC drivers: jars holding `META-INF/services/java.sql.Driver`, and the databases a pack's
//! configuration uses.

use super::{first_element, strip_xml_comments, Pack};
use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

const SERVICES_ENTRY: &str = "META-INF/services/java.sql.Driver";
const MASTER_DATASOURCES: &str = "repository/conf/datasources/master-datasources.xml";

/// A JDBC 4 driver jar.
#[derive(Debug, Clone, Serialize)]
pub struct DriverJar {
    pub file_name: String,
    pub path: String,
    pub driver_classes: Vec<String>,
    /// The database these classes serve (`mysql`, `postgresql`, …).
    pub databases: Vec<String>,
}

/// A database the configuration points at.
#[derive(Debug, Clone, Serialize)]
pub struct ConfiguredDatabase {
    pub name: String,
    /// Normalised: `mysql`, `mariadb`, `postgresql`, `oracle`, `mssql`, `db2`, `h2`, or as given.
    pub database: String,
    pub configured_by: String,
}

/// The driver classes a jar declares, or `None` when it is not a JDBC 4 driver.
pub fn driver_classes(jar: &Path) -> Result<Option<Vec<String>>> {
    let file =
        std::fs::File::open(jar).with_context(|| format!("cannot read `{}`", jar.display()))?;
    driver_classes_in(file)
}

/// The driver classes of a jar read from `reader`.
pub fn driver_classes_in(
    reader: impl std::io::Read + std::io::Seek,
) -> Result<Option<Vec<String>>> {
    let Ok(mut archive) = zip::ZipArchive::new(reader) else {
        return Ok(None);
    };
    let Ok(mut entry) = archive.by_name(SERVICES_ENTRY) else {
        return Ok(None);
    };
    let mut text = String::new();
    if entry.read_to_string(&mut text).is_err() {
        return Ok(None);
    }
    let classes: Vec<String> = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    Ok((!classes.is_empty()).then_some(classes))
}

/// The driver jars in a pack directory (pack-relative). A jar reached through a link that
/// leaves the pack is not the pack's: it is left out here (see `linked_out`).
pub fn drivers_in(pack: &Pack, dir: &str) -> Result<Vec<DriverJar>> {
    let mut drivers = Vec::new();
    for file_name in pack.list_dir(dir)? {
        if !file_name.to_ascii_lowercase().ends_with(".jar") {
            continue;
        }
        let path = format!("{dir}/{file_name}");
        if !pack.is_file(&path) || pack.leaves_pack(&path).is_some() {
            continue;
        }
        let reader = pack
            .open(&path)
            .with_context(|| format!("cannot read `{}`", pack.path(&path).display()))?;
        if let Some(driver_classes) = driver_classes_in(reader)? {
            drivers.push(DriverJar {
                databases: databases_of(&driver_classes),
                file_name,
                path,
                driver_classes,
            });
        }
    }
    Ok(drivers)
}

/// The jars of a pack directory reached through a link that leaves the pack: their paths
/// (pack-relative) and where they lead.
pub fn linked_out(pack: &Pack, dir: &str) -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut linked = Vec::new();
    for file_name in pack.list_dir(dir)? {
        if file_name.to_ascii_lowercase().ends_with(".jar") {
            let path = format!("{dir}/{file_name}");
            if let Some(real) = pack.leaves_pack(&path) {
                linked.push((path, real));
            }
        }
    }
    Ok(linked)
}

pub fn databases_of(classes: &[String]) -> Vec<String> {
    let mut databases: Vec<String> = classes
        .iter()
        .filter_map(|class| database_of_driver_class(class))
        .map(str::to_string)
        .collect();
    databases.dedup();
    databases
}

/// The database a driver class serves.
pub fn database_of_driver_class(class: &str) -> Option<&'static str> {
    Some(match class {
        "com.mysql.jdbc.Driver" | "com.mysql.cj.jdbc.Driver" => "mysql",
        "org.mariadb.jdbc.Driver" => "mariadb",
        "org.postgresql.Driver" => "postgresql",
        "oracle.jdbc.OracleDriver" | "oracle.jdbc.driver.OracleDriver" => "oracle",
        "com.microsoft.sqlserver.jdbc.SQLServerDriver" => "mssql",
        "com.ibm.db2.jcc.DB2Driver" => "db2",
        "org.h2.Driver" => "h2",
        _ => return None,
    })
}

/// The database a JDBC URL points at (`jdbc:mysql://…` → `mysql`).
pub fn database_of_url(url: &str) -> Option<String> {
    let scheme = url.trim().strip_prefix("jdbc:")?.split(':').next()?;
    Some(
        match scheme {
            "sqlserver" | "jtds" => "mssql",
            "postgresql" => "postgresql",
            other => other,
        }
        .to_string(),
    )
}

/// WSO2's `[database.*] type` values, normalised.
fn database_of_type(kind: &str) -> String {
    match kind.trim().to_ascii_lowercase().as_str() {
        "postgre" | "postgres" | "postgresql" => "postgresql".to_string(),
        "sqlserver" => "mssql".to_string(),
        other => other.to_string(),
    }
}

/// Whether a driver for `driver_database` serves a configured `database`. MariaDB's driver
/// also accepts MySQL URLs.
pub fn serves(driver_database: &str, database: &str) -> bool {
    driver_database == database || (driver_database == "mariadb" && database == "mysql")
}

/// The databases a pack is configured to use: `[database.*]` in deployment.toml (3.x and
/// later) or `<datasource>` definitions in master-datasources.xml (1.x/2.x).
pub fn configured_databases(pack: &Pack) -> Result<Vec<ConfiguredDatabase>> {
    let mut found = Vec::new();
    if let Some(document) = pack.deployment_toml()? {
        if let Some(databases) = document
            .get("database")
            .and_then(|item| item.as_table_like())
        {
            for (name, item) in databases.iter() {
                let Some(table) = item.as_table_like() else {
                    continue;
                };
                let url = table.get("url").and_then(|item| item.as_str());
                let kind = table.get("type").and_then(|item| item.as_str());
                let database = url
                    .and_then(database_of_url)
                    .or_else(|| kind.map(database_of_type));
                if let Some(database) = database {
                    found.push(ConfiguredDatabase {
                        name: name.to_string(),
                        database,
                        configured_by: format!("deployment.toml `[database.{name}]`"),
                    });
                }
            }
        }
    }
    if let Ok(text) = pack.read_to_string(MASTER_DATASOURCES) {
        let text = strip_xml_comments(&text);
        for block in text.split("<datasource>").skip(1) {
            let name = first_element(block, "name").unwrap_or_else(|| "?".to_string());
            let database = first_element(block, "url")
                .and_then(|url| database_of_url(&url))
                .or_else(|| {
                    first_element(block, "driverClassName")
                        .and_then(|class| database_of_driver_class(&class).map(str::to_string))
                });
            if let Some(database) = database {
                found.push(ConfiguredDatabase {
                    name,
                    database,
                    configured_by: format!("`{MASTER_DATASOURCES}`"),
                });
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_classes_map_to_databases() {
        assert_eq!(
            database_of_url("jdbc:mysql://db:3306/am").as_deref(),
            Some("mysql")
        );
        assert_eq!(
            database_of_url("jdbc:sqlserver://db;databaseName=am").as_deref(),
            Some("mssql")
        );
        assert_eq!(
            database_of_url("jdbc:h2:./repository/database/WSO2AM_DB").as_deref(),
            Some("h2")
        );
        assert_eq!(
            database_of_driver_class("org.postgresql.Driver"),
            Some("postgresql")
        );
        assert_eq!(database_of_type("postgre"), "postgresql");
        assert!(serves("mariadb", "mysql"));
        assert!(!serves("mysql", "postgresql"));
    }
}
