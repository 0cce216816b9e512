//! `migrate_config`: the site's settings, from the old deployment.toml (3.x, 4.x) or the old
//! XML configuration (1.x, 2.x), carried into the new deployment.toml as one planned edit,
//! with a finding for every setting that needs the operator: dropped, in conflict, left out,
//! a `$secret{}` without its entry, an XML element with no TOML key.

use super::Registry;
use crate::change::plan::Finding;
use crate::change::planner::unified_diff;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::config_facts::{ReadKeys, Renames, Stock};
use crate::pack::config_migration::{migrate, Kind, Sides};
use crate::pack::stock::StockStatus;
use crate::pack::templates::Source;
use crate::pack::{files, xml_config, Pack, DEPLOYMENT_TOML};
use anyhow::{bail, Context};

const PRIMITIVE: &str = "migrate_config";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            PRIMITIVE,
            "Carries every setting of `from`'s configuration that the site changed from the old release's stock (a value that differs, a key, table or array entry added) into `to`'s `repository/conf/deployment.toml`, keeping its comments and layout: under the new name where the new pack's `key-mappings.json` (or the built-in renames) renamed the key; not at all where none of the new pack's templates, `default.json` or `infer.json` reads the key (a finding with the value); never over a value the operator already set in the new file (a finding with both values). The old gateway environment names stay (and become the gateway's `gateway_labels`), `[secrets]` stays last and each `$secret{alias}` needs its entry. A 1.x/2.x `from` is read from its XML files: datasources, host name, port offset, keystores, the primary user store and the gateway environments; every other customised configuration file is a finding. The old release's stock comes from built-in facts, or from `--old-stock DIR`.",
            r#"migrate_config(old, new);"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            migrate_config(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
}

fn migrate_config(session: &mut Session, from: &PackHandle, to: &PackHandle) -> anyhow::Result<()> {
    session.planner.target(to.role)?;
    let old = session.planner.view(from.role)?;
    let new = session.planner.view(to.role)?;
    let new_label = format!("{}/{DEPLOYMENT_TOML}", new.home.display());
    let Some(bytes) = session.planner.read(to.role, DEPLOYMENT_TOML)? else {
        bail!(
            "`{new_label}` does not exist: configuration migration needs a 3.x or 4.x pack as `{}`",
            to.role
        );
    };
    let new_text = files::utf8_text(bytes, &new_label)?;
    let old_stock_pack = match &session.options.old_stock {
        Some(dir) => Some(
            Pack::identify(dir)
                .with_context(|| format!("--old-stock `{}` is not a pack", dir.display()))?,
        ),
        None => None,
    };
    let xml = match old.deployment_toml()? {
        Some(_) => None,
        None => Some(xml_config::settings_of(&old)?),
    };
    let old_document = match &xml {
        Some(xml) => xml.document.clone(),
        None => old
            .deployment_toml()?
            .context("the old deployment.toml vanished")?,
    };
    let Some(stock) = Stock::for_pack(&old, old_stock_pack.as_ref())? else {
        bail!(
            "the stock settings of {} {} are not known: give an extracted stock pack of it with `--old-stock DIR`",
            old.product.short_name(),
            old.version
        );
    };
    let new_stock = Stock::builtin(new.product, new.distribution, &new.version);
    let reads = ReadKeys::of(&new);
    let renames = Renames::between(&old.version, &new);
    let migration = migrate(&Sides {
        old: &old_document,
        old_stock: &stock.document,
        new_text: &new_text,
        new_label: &new_label,
        new_stock: new_stock.as_ref().map(|stock| &stock.document),
        reads: &reads,
        renames: &renames,
    })?;

    let where_new = format!("{}:{DEPLOYMENT_TOML}", to.role);
    let count = |kinds: &[Kind]| {
        migration
            .notes
            .iter()
            .filter(|note| kinds.contains(&note.kind))
            .count()
    };
    let carried: Vec<&str> = migration
        .notes
        .iter()
        .filter(|note| matches!(note.kind, Kind::Carried | Kind::Renamed | Kind::Environment))
        .map(|note| note.key.as_str())
        .collect();
    session.planner.write(
        PRIMITIVE,
        to.role,
        DEPLOYMENT_TOML,
        migration.text.into_bytes(),
        0o644,
    )?;
    let stock_source = match &stock.source {
        Source::Pack(dir) => format!("the stock pack `{dir}`"),
        Source::BuiltIn(why) => why.clone(),
    };
    session.planner.check(
        PRIMITIVE,
        to.role,
        DEPLOYMENT_TOML,
        &format!(
            "settings of `{}` that differ from {stock_source}: {} carried{}, {} renamed, {} dropped, {} in conflict; which keys the new pack reads: {}",
            from.role,
            count(&[Kind::Carried, Kind::Environment]),
            if carried.is_empty() {
                String::new()
            } else {
                format!(" ({})", carried.iter().map(|key| format!("`{key}`")).collect::<Vec<_>>().join(", "))
            },
            count(&[Kind::Renamed]),
            count(&[Kind::Dropped]),
            count(&[Kind::Conflict]),
            reads.source.describe()
        ),
    )?;
    for note in migration
        .notes
        .iter()
        .filter(|note| note.kind.needs_review())
    {
        session.planner.find(Finding {
            id: format!("config:{}:{}", note.kind.as_str(), note.key),
            primitive: PRIMITIVE.to_string(),
            message: format!("configuration {}: {}", note.kind.as_str(), note.message),
            path: Some(where_new.clone()),
            diff: None,
            carried_from: None,
        });
    }
    if let Some(xml) = &xml {
        for (index, (file, message)) in xml.unmapped.iter().enumerate() {
            session.planner.find(Finding {
                id: format!("config:unmapped:{file}:{index}"),
                primitive: PRIMITIVE.to_string(),
                message: format!("configuration not mapped: {message}"),
                path: Some(format!("{}:{file}", from.role)),
                diff: None,
                carried_from: None,
            });
        }
        report_customised_xml(session, from, &old, old_stock_pack.as_ref())?;
    }
    Ok(())
}

/// Each configuration file of an XML release that differs from its stock copy: what was
/// mapped from it, and that the rest must be redone by hand, with the diff when a stock pack
/// was given.
fn report_customised_xml(
    session: &mut Session,
    from: &PackHandle,
    old: &Pack,
    stock: Option<&Pack>,
) -> anyhow::Result<()> {
    let files = old.files_under("repository/conf").unwrap_or_default();
    let mut uncompared = Vec::new();
    for relative in files {
        if !relative.ends_with(".xml") || old.is_link(&relative) {
            continue;
        }
        let sha256 = old.sha256(&relative)?;
        let (customised, diff) = match stock {
            Some(stock) => match stock.read(&relative) {
                Ok(stock_bytes) => {
                    let bytes = old.read(&relative)?;
                    (
                        stock_bytes != bytes,
                        unified_diff(&relative, &stock_bytes, &bytes),
                    )
                }
                Err(_) => (true, None),
            },
            None => {
                let status =
                    session
                        .catalogue
                        .status(old.stock_key(), &old.version, &relative, &sha256);
                if matches!(status, StockStatus::Unknown | StockStatus::NotStock) {
                    uncompared.push(relative.clone());
                }
                (status == StockStatus::Customised, None)
            }
        };
        if !customised {
            continue;
        }
        let mapped = xml_config::MAPPED_FILES.contains(&relative.as_str());
        let message = if mapped {
            format!("configuration customised: `{relative}` differs from the stock file; its datasources, host name, offset, keystores, user store and gateway environments were carried into deployment.toml; redo any other change of it by hand in the new deployment.toml (see the templates under `repository/resources/conf/templates`)")
        } else {
            format!("configuration customised: `{relative}` differs from the stock file and is not carried; redo its changes as deployment.toml keys by hand (see the templates under `repository/resources/conf/templates`)")
        };
        session.planner.find(Finding {
            id: format!("config:customised:{relative}"),
            primitive: PRIMITIVE.to_string(),
            message,
            path: Some(format!("{}:{relative}", from.role)),
            diff,
            carried_from: None,
        });
    }
    if !uncompared.is_empty() {
        let names: Vec<String> = uncompared.iter().map(|name| format!("`{name}`")).collect();
        session.planner.find(Finding {
            id: "config:uncompared".to_string(),
            primitive: PRIMITIVE.to_string(),
            message: format!(
                "configuration not compared: the stock copies of {} of {} {} are not known, so a customisation of theirs beyond the mapped settings cannot be told; give an extracted stock pack of {} with `--old-stock DIR` for each change with its diff, or compare them by hand",
                names.join(", "),
                old.product.short_name(),
                old.version,
                old.version
            ),
            path: Some(format!("{}:repository/conf", from.role)),
            diff: None,
            carried_from: None,
        });
    }
    Ok(())
}
