//! `place_jdbc`: JDBC driver jars, from the old pack or from a path, with checks for missing
//! drivers and for two versions of one driver.

use super::Registry;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::jdbc::{self, DriverJar};
use crate::pack::{COMPONENTS_DROPINS, COMPONENTS_LIB};
use anyhow::bail;
use std::path::Path;

const PRIMITIVE: &str = "place_jdbc";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "place_jdbc",
            "Copies the JDBC driver jars (jars holding `META-INF/services/java.sql.Driver`) of `from`'s `repository/components/lib` into `to`'s, or places the driver jar at `jar_path` (for a database upgraded separately). Warns when a database configured in `from` has no driver in either pack, and does not copy a driver when `to` already holds another version of the same driver (two versions on the classpath), saying which. Other jars of `components/lib`, and the bundles of `components/dropins`, that `to` does not ship are extensions: they are listed in a reminder, not copied.",
            r#"place_jdbc(old, new);
place_jdbc(new, "/opt/drivers/mysql-connector-j-8.0.33.jar");"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            place_from_pack(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        })
        .form(["to", "jar_path"], |shared| move |to: PackHandle, jar: &str| -> ScriptResult<()> {
            place_from_path(&mut shared.borrow_mut(), &to, Path::new(jar)).map_err(script_error)
        });
}

/// Drivers of the target that serve the same database as `driver` under another file name.
fn other_versions<'a>(driver: &DriverJar, target: &'a [DriverJar]) -> Vec<&'a DriverJar> {
    target
        .iter()
        .filter(|other| other.file_name != driver.file_name)
        .filter(|other| {
            other
                .driver_classes
                .iter()
                .any(|class| driver.driver_classes.contains(class))
                || other
                    .databases
                    .iter()
                    .any(|database| driver.databases.contains(database))
        })
        .collect()
}

fn place_from_pack(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
) -> anyhow::Result<()> {
    let planner = &mut session.planner;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let to_pack = planner.view(to.role)?;
    let drivers = jdbc::drivers_in(&from_pack, COMPONENTS_LIB)?;
    let target_drivers = jdbc::drivers_in(&to_pack, COMPONENTS_LIB)?;
    // Jars linked in from outside the pack are reported and skipped, as links are
    // everywhere: what they lead to is not the pack's.
    let linked = jdbc::linked_out(&from_pack, COMPONENTS_LIB)?;
    for (path, real) in &linked {
        let reason = format!(
            "`{}:{}` is reached through a link that points outside the `{}` pack (to `{}`); links are never followed out of a pack: place its target with `place_jdbc({}, PATH)` if it is a driver that is needed",
            from.role,
            crate::pack::name::shown(path),
            from.role,
            crate::pack::name::shown_path(real),
            to.role
        );
        planner.warn(PRIMITIVE, &reason, None);
        planner.skip(PRIMITIVE, from.role, path, &reason)?;
    }

    let mut placed: Vec<&DriverJar> = Vec::new();
    for driver in &drivers {
        let clashes = other_versions(driver, &target_drivers);
        if !clashes.is_empty() {
            let names: Vec<String> = clashes
                .iter()
                .map(|jar| format!("`{}`", jar.file_name))
                .collect();
            let reason = format!(
                "`{}` already holds {} for the same driver; `{}` is not copied, so that only one version is on the classpath (remove one and place the other with `place_jdbc(new, path)` if you want the old one)",
                to.role,
                names.join(", "),
                driver.file_name
            );
            planner.skip(PRIMITIVE, from.role, &driver.path, &reason)?;
            planner.warn(PRIMITIVE, &reason, None);
            continue;
        }
        planner.copy_from_pack(PRIMITIVE, from.role, &driver.path, to.role, &driver.path)?;
        placed.push(driver);
    }
    if drivers.is_empty() {
        planner.check(
            PRIMITIVE,
            from.role,
            COMPONENTS_LIB,
            "no JDBC driver jars in the old pack",
        )?;
    }

    for database in jdbc::configured_databases(&from_pack)? {
        if database.database == "h2" {
            continue;
        }
        let served = placed
            .iter()
            .copied()
            .chain(target_drivers.iter())
            .any(|driver| {
                driver
                    .databases
                    .iter()
                    .any(|served| jdbc::serves(served, &database.database))
            });
        if !served {
            planner.warn(
                PRIMITIVE,
                &format!(
                    "`{}` uses a {} database ({}) but no {} JDBC driver is in `{}` or `{}`: place one with `place_jdbc({}, \"/path/to/driver.jar\")`",
                    from.role,
                    database.database,
                    database.configured_by,
                    database.database,
                    from.role,
                    to.role,
                    to.role
                ),
                None,
            );
        }
    }

    // Jars of the old lib and dropins directories that the new pack does not ship are
    // extensions: plain jars in `lib`, OSGi bundles in `dropins`.
    let target_names = to_pack.list_dir(COMPONENTS_LIB)?;
    let extensions: Vec<String> = from_pack
        .list_dir(COMPONENTS_LIB)?
        .into_iter()
        .filter(|name| name.to_ascii_lowercase().ends_with(".jar"))
        .filter(|name| !drivers.iter().any(|driver| &driver.file_name == name))
        .filter(|name| {
            !linked
                .iter()
                .any(|(path, _)| path.rsplit('/').next() == Some(name.as_str()))
        })
        .filter(|name| !target_names.contains(name))
        .collect();
    let target_bundles = to_pack.list_dir(COMPONENTS_DROPINS)?;
    let bundles: Vec<String> = from_pack
        .list_dir(COMPONENTS_DROPINS)?
        .into_iter()
        .filter(|name| name.to_ascii_lowercase().ends_with(".jar"))
        .filter(|name| !target_bundles.contains(name))
        .collect();
    let mut held = Vec::new();
    if !extensions.is_empty() {
        held.push(format!(
            "`{}:{COMPONENTS_LIB}` holds jars that are not JDBC drivers and that {} does not ship: {}",
            from.role,
            to_pack.label(),
            extensions.join(", ")
        ));
    }
    if !bundles.is_empty() {
        held.push(format!(
            "`{}:{COMPONENTS_DROPINS}` holds OSGi bundles that {} does not ship: {}",
            from.role,
            to_pack.label(),
            bundles.join(", ")
        ));
    }
    if !held.is_empty() {
        planner.remind(
            "extensions",
            &format!(
                "{}. They are extensions or customisations: rebuild them against {} and place them during the extensions migration, jars in `{COMPONENTS_LIB}` and bundles in `{COMPONENTS_DROPINS}` (not copied here)",
                held.join("; "),
                to_pack.label()
            ),
        );
    }
    Ok(())
}

fn place_from_path(session: &mut Session, to: &PackHandle, jar: &Path) -> anyhow::Result<()> {
    let planner = &mut session.planner;
    planner.target(to.role)?;
    let to_pack = planner.view(to.role)?;
    let Some(file_name) = jar
        .file_name()
        .and_then(|name| name.to_str())
        .map(str::to_string)
    else {
        bail!("`{}` is not a file name", jar.display());
    };
    if !jar.is_file() {
        bail!("`{}` does not exist or is not a file", jar.display());
    }
    let Some(driver_classes) = jdbc::driver_classes(jar)? else {
        bail!(
            "`{}` is not a JDBC 4 driver (it has no `META-INF/services/java.sql.Driver`)",
            jar.display()
        );
    };
    let driver = DriverJar {
        databases: jdbc::databases_of(&driver_classes),
        file_name: file_name.clone(),
        path: format!("{COMPONENTS_LIB}/{file_name}"),
        driver_classes,
    };
    let target_drivers = jdbc::drivers_in(&to_pack, COMPONENTS_LIB)?;
    let clashes = other_versions(&driver, &target_drivers);
    if !clashes.is_empty() {
        let names: Vec<String> = clashes
            .iter()
            .map(|jar| format!("`{}`", jar.file_name))
            .collect();
        planner.warn(
            PRIMITIVE,
            &format!(
                "`{}` also holds {} for the same driver: remove the version you do not want, so that only one is on the classpath",
                to.role,
                names.join(", ")
            ),
            None,
        );
    }
    planner.copy_from_path(PRIMITIVE, jar, to.role, &driver.path)?;
    Ok(())
}
