//! `copy_tenant_userstores`: secondary user stores of the super tenant and every tenant.

use super::Registry;
use crate::engine::{script_error, PackHandle, ScriptResult, Session};
use crate::pack::{userstores, TENANTS_DIR};

const PRIMITIVE: &str = "copy_tenant_userstores";

pub fn declare(registry: &mut Registry) {
    registry
        .primitive(
            "copy_tenant_userstores",
            "Copies the secondary user stores: the super tenant's `repository/deployment/server/userstores/*.xml` and `repository/tenants/<id>/userstores/*.xml` of every numeric tenant id, and nothing else of a tenant directory (the data migration regenerates the rest). Copy the keystores too: encrypted user store passwords depend on them.",
            r#"copy_tenant_userstores(old, new);
if km != () { copy_tenant_userstores(old, km); }"#,
        )
        .form(["from", "to"], |shared| move |from: PackHandle, to: PackHandle| -> ScriptResult<()> {
            copy_tenant_userstores(&mut shared.borrow_mut(), &from, &to).map_err(script_error)
        });
}

fn copy_tenant_userstores(
    session: &mut Session,
    from: &PackHandle,
    to: &PackHandle,
) -> anyhow::Result<()> {
    let planner = &mut session.planner;
    planner.target(to.role)?;
    let from_pack = planner.view(from.role)?;
    let planned = planner.copy_all_from_pack(
        PRIMITIVE,
        from.role,
        to.role,
        userstores::tenants(&from_pack)?,
        |tenant| {
            let stores = userstores::stores_of(&from_pack, tenant)?;
            Ok(stores
                .into_iter()
                .map(|store| (store.path.clone(), store.path))
                .collect())
        },
    )?;
    if planned == 0 {
        planner.check(
            PRIMITIVE,
            from.role,
            TENANTS_DIR,
            "no secondary user stores in the super tenant or any tenant: nothing to copy",
        )?;
    }
    Ok(())
}
