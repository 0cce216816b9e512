//! A large 3.0.0 pack with many tenants, sequences and keystores, for the crash tests and the scale benchmark.

use crate::PackBuilder;

/// A large 3.0.0 pack, as found at sites with many tenants: `tenants` tenants (two user stores
/// each, one tenant in three with none), `custom_sequences` custom global sequences named
/// `site_mediation_NNN`, `keystores` extra keystores, a MySQL driver, two databases, secure
/// vault, and two user stores of the super tenant. Used by the crash tests and the scale
/// benchmark.
pub fn large_api_manager_3_0_0(
    tenants: u32,
    custom_sequences: usize,
    keystores: usize,
) -> PackBuilder {
    let mut pack = PackBuilder::api_manager("3.0.0")
        .userstore(None, "corp.example.com")
        .userstore(None, "partners.example.com")
        .jdbc_driver(
            "mysql-connector-java-8.0.28.jar",
            "com.mysql.cj.jdbc.Driver",
        )
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
        .secure_vault(&["super_admin_password", "apim_db_password"]);
    for index in 0..keystores {
        let file = if index % 2 == 0 {
            format!("partner-{index}-truststore.jks")
        } else {
            format!("gateway-{index}-tls.p12")
        };
        pack = pack.keystore(&file, &format!("keystore seed {index}"));
    }
    for index in 0..custom_sequences {
        pack = pack.custom_sequence(&format!("site_mediation_{index:03}"));
    }
    for tenant in 1..=tenants {
        pack = pack.tenant(tenant);
        if tenant % 3 != 0 {
            pack = pack
                .userstore(Some(tenant), &format!("staff.tenant{tenant}.example.com"))
                .userstore(
                    Some(tenant),
                    &format!("customers.tenant{tenant}.example.com"),
                );
        }
    }
    pack
}
