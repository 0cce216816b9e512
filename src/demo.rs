//! `demo`: builds a realistic sample 3.0.0 pack and a fresh 4.1.0 pack, written by this tool,
//! then plans and runs the standard script on them.

use crate::commands::{execute, lock_targets, Executed};
use crate::error::{CommandResult, Failure};
use crate::pack::Pack;
use crate::planner::PackSlot;
use crate::sample::{self, PackBuilder};
use crate::scripts::Script;
use crate::stock::Catalogue;
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::Path;

/// The sample 3.0.0 pack: everything the standard script handles, and a few traps.
pub fn sample_old_pack() -> PackBuilder {
    PackBuilder::api_manager("3.0.0")
        .keystore("partner-truststore.jks", "partner")
        .keystore("gateway-tls.p12", "gateway tls")
        .userstore(None, "corp.example.com")
        .userstore(Some(1), "partner.example.com")
        .userstore(Some(1), "suppliers.example.com")
        .userstore(Some(2), "retail.example.com")
        .tenant(1)
        .tenant(2)
        .tenant(3)
        .custom_sequence("audit_log")
        .custom_sequence("correlation_id")
        .custom_sequence("strip_internal_headers")
        .customise_stock_sequence("_auth_failure_handler_")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "In")
        .api_sequence("admin", "PizzaShackAPI", "1.0.0", "Out")
        .jdbc_driver(
            "mysql-connector-java-8.0.28.jar",
            "com.mysql.cj.jdbc.Driver",
        )
        .plain_jar("acme-custom-handler-1.2.jar")
        .database(
            "apim_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/apim_db",
        )
        .database(
            "shared_db",
            "mysql",
            "jdbc:mysql://db.example.com:3306/shared_db",
        )
        .secure_vault(&[
            "super_admin_password",
            "apim_db_password",
            "keystore_password",
        ])
}

/// The sample fresh 4.1.0 pack.
pub fn sample_new_pack() -> PackBuilder {
    PackBuilder::api_manager("4.1.0")
}

pub fn demo(dir: Option<&Path>) -> CommandResult {
    let root = match dir {
        Some(dir) => {
            if dir.exists()
                && std::fs::read_dir(dir)
                    .map(|mut entries| entries.next().is_some())
                    .unwrap_or(true)
            {
                return Err(Failure::bad_input(format!(
                    "`{}` is not empty: give a new or empty directory for the demo packs",
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            dir.to_path_buf()
        }
        None => tempfile::Builder::new()
            .prefix("apim-migrate-demo-")
            .tempdir()
            .context("cannot create a directory for the demo")?
            .keep(),
    };
    let old_builder = sample_old_pack();
    let new_builder = sample_new_pack();
    let old_home = old_builder.write(&root.join("wso2am-3.0.0"))?;
    let new_home = new_builder.write(&root.join("wso2am-4.1.0"))?;
    // The sample packs' stock files are the tool's own, so they are described by a site
    // catalogue, exactly as an operator would describe a pack with WSO2 updates.
    let catalogue_path = root.join("stock-catalogue.toml");
    std::fs::write(
        &catalogue_path,
        sample::stock_catalogue(&[&old_builder, &new_builder]),
    )
    .with_context(|| format!("cannot write `{}`", catalogue_path.display()))?;

    crate::outln!(
        "sample packs, written by apim-migrate under `{}`:",
        root.display()
    );
    crate::outln!(
        "  old  {}  (API-M 3.0.0: custom keystores, user stores for the super tenant and tenants 1 and 2,",
        old_home.display()
    );
    crate::outln!("       custom global sequences, a customised stock sequence, API sequences, a MySQL driver, secure vault)");
    crate::outln!("  new  {}  (a fresh API-M 4.1.0)", new_home.display());
    crate::outln!(
        "  their stock files are described by `{}` (as `--stock`)\n",
        catalogue_path.display()
    );

    let script = Script::load("3.0.0-to-4.1.0")?;
    let slots = || -> CommandResult<Vec<PackSlot>> {
        Ok(vec![
            PackSlot::new("old", Pack::identify(&root.join("wso2am-3.0.0"))?, false),
            PackSlot::new("new", Pack::identify(&root.join("wso2am-4.1.0"))?, true),
        ])
    };
    let catalogue = || Catalogue::with_files(std::slice::from_ref(&catalogue_path));

    crate::outln!("== 1. plan: what would change (nothing is written)\n");
    let planned = execute(
        &script,
        slots()?,
        BTreeMap::new(),
        catalogue()?,
        options(false),
        "",
        None,
    )?;
    print_report(&planned);
    crate::outln!("\n== 2. run: the same actions, applied with a journal\n");
    let locks = lock_targets(&slots()?)?;
    let ran = execute(
        &script,
        slots()?,
        BTreeMap::new(),
        catalogue()?,
        options(true),
        "",
        Some(&locks),
    )?;
    print_report(&ran);
    if let Some(error) = ran.error {
        return Err(Failure::RunFailed(anyhow::anyhow!(error)));
    }
    crate::outln!("\n== 3. run again: nothing left to do\n");
    let again = execute(
        &script,
        slots()?,
        BTreeMap::new(),
        catalogue()?,
        options(true),
        "",
        Some(&locks),
    )?;
    let summary = crate::report::Summary::of(&again.plan);
    let lead = if summary.changed == 0 {
        "nothing to do: "
    } else {
        ""
    };
    crate::outln!("{lead}{}", summary.line());

    let old = root.join("wso2am-3.0.0");
    let new = root.join("wso2am-4.1.0");
    let stock = catalogue_path.display();
    crate::outln!("\nTry next:");
    crate::outln!("  apim-migrate detect {} --stock {stock}", old.display());
    crate::outln!("  apim-migrate history {}", new.display());
    crate::outln!("  apim-migrate rollback --new {}", new.display());
    crate::outln!(
        "  apim-migrate plan 3.0.0-to-4.1.0 --old {} --new {} --stock {stock}",
        old.display(),
        new.display()
    );
    Ok(())
}

fn print_report(executed: &Executed) {
    crate::out!("{}", executed.outcome().human(false));
}

/// The demo's script has no checkpoint; `run` and `plan` differ only in applying.
fn options(apply: bool) -> crate::engine::PlanOptions {
    crate::engine::PlanOptions {
        stop_at_checkpoint: apply,
        ..Default::default()
    }
}
