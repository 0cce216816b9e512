//! `PackBuilder`: the options a synthetic pack is built with, and writing the planned pack to disk.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::database::SampleDatabase;
use crate::synapse::strip_xml;
use crate::{SampleDistribution, SampleProduct, Version, V3_0_0, V4_0_0};

/// Builds a synthetic pack; each method adds one site-specific feature on top of the stock files.
#[derive(Debug, Clone)]
pub struct PackBuilder {
    pub(crate) product: SampleProduct,
    /// For a separate distribution of API-M 4.5.0 and later, which one.
    pub(crate) distribution: Option<SampleDistribution>,
    pub(crate) version: String,
    pub(crate) parsed_version: Version,
    pub(crate) version_txt: bool,
    pub(crate) keystores: Vec<(String, String)>,
    pub(crate) userstores: Vec<(Option<u32>, String)>,
    pub(crate) tenants: Vec<u32>,
    pub(crate) custom_sequences: Vec<String>,
    pub(crate) customised_stock_sequences: Vec<String>,
    pub(crate) api_sequences: Vec<String>,
    pub(crate) custom_artifacts: Vec<(String, String)>,
    pub(crate) tenant_artifacts: Vec<(u32, String, String)>,
    pub(crate) jdbc_drivers: Vec<(String, String)>,
    pub(crate) plain_jars: Vec<String>,
    pub(crate) dropin_jars: Vec<String>,
    pub(crate) databases: Vec<SampleDatabase>,
    pub(crate) secure_vault_aliases: Option<Vec<String>>,
    pub(crate) toml_extras: Vec<String>,
    pub(crate) resources_conf: bool,
    pub(crate) server_role: String,
    pub(crate) hostname: String,
    pub(crate) offset: Option<u32>,
}

impl PackBuilder {
    fn new(product: SampleProduct, version: &str) -> Self {
        PackBuilder {
            product,
            distribution: None,
            version: version.trim().to_string(),
            parsed_version: Version::parse(version),
            version_txt: true,
            keystores: Vec::new(),
            userstores: Vec::new(),
            tenants: Vec::new(),
            custom_sequences: Vec::new(),
            customised_stock_sequences: Vec::new(),
            api_sequences: Vec::new(),
            custom_artifacts: Vec::new(),
            tenant_artifacts: Vec::new(),
            jdbc_drivers: Vec::new(),
            plain_jars: Vec::new(),
            dropin_jars: Vec::new(),
            databases: Vec::new(),
            secure_vault_aliases: None,
            toml_extras: Vec::new(),
            resources_conf: true,
            server_role: "default".to_string(),
            hostname: "localhost".to_string(),
            offset: None,
        }
    }

    /// A WSO2 API Manager pack, e.g. "1.8.0", "1.9.0", "2.0.0", "2.6.0", "3.2.0", "4.1.0" or
    /// "4.7.0" (from 4.5.0, the all-in-one pack).
    pub fn api_manager(version: &str) -> Self {
        Self::new(SampleProduct::ApiManager, version)
    }

    /// A WSO2 Identity Server pack, e.g. "5.10.0" or "5.11.0".
    pub fn identity_server(version: &str) -> Self {
        Self::new(SampleProduct::IdentityServer, version)
    }

    /// The API Control Plane distribution of API-M 4.5.0 and later (`wso2am-acp`).
    pub fn api_control_plane(version: &str) -> Self {
        Self::api_manager(version).distribution(SampleDistribution::ApiControlPlane)
    }

    /// The Universal Gateway distribution of API-M 4.5.0 and later (`wso2am-universal-gw`).
    pub fn universal_gateway(version: &str) -> Self {
        Self::api_manager(version).distribution(SampleDistribution::UniversalGateway)
    }

    /// The Traffic Manager distribution of API-M 4.5.0 and later (`wso2am-tm`).
    pub fn traffic_manager(version: &str) -> Self {
        Self::api_manager(version).distribution(SampleDistribution::TrafficManager)
    }

    fn distribution(mut self, distribution: SampleDistribution) -> Self {
        self.distribution = Some(distribution);
        self
    }

    /// The key of `updates/product.txt` and of stock catalogues (`wso2am`, `wso2am-acp`).
    pub fn catalogue_key(&self) -> &'static str {
        match self.distribution {
            Some(distribution) => distribution.catalogue_key(),
            None => self.product.catalogue_key(),
        }
    }

    /// The product name of `bin/version.txt` and `carbon.xml`.
    pub(crate) fn display_name(&self) -> &'static str {
        match self.distribution {
            Some(distribution) => distribution.display_name(),
            None => self.product.display_name(),
        }
    }

    /// `<ServerKey>` of `carbon.xml`.
    pub(crate) fn server_key(&self) -> &'static str {
        match self.distribution {
            Some(distribution) => distribution.server_key(),
            None => self.product.server_key(),
        }
    }

    /// The product this builder imitates.
    pub fn product(&self) -> SampleProduct {
        self.product
    }

    /// The version text this builder was made with.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Leaves out `bin/version.txt`, as in 1.x packs where only `carbon.xml` tells the version.
    pub fn without_version_txt(mut self) -> Self {
        self.version_txt = false;
        self
    }

    /// A site keystore in `repository/resources/security` with bytes derived from `seed`, mode
    /// 0600. Naming it `wso2carbon.jks` replaces the stock keystore, as sites often do.
    pub fn keystore(mut self, file_name: &str, seed: &str) -> Self {
        self.keystores
            .push((file_name.to_string(), seed.to_string()));
        self
    }

    /// A secondary user store of the super tenant (`None`) or of a tenant, for the domain given.
    pub fn userstore(mut self, tenant_id: Option<u32>, domain: &str) -> Self {
        self.userstores.push((tenant_id, domain.to_string()));
        self
    }

    /// A tenant folder holding content that data migration regenerates (tenant APIs and
    /// sequences), which a resource migration must leave behind.
    pub fn tenant(mut self, tenant_id: u32) -> Self {
        if !self.tenants.contains(&tenant_id) {
            self.tenants.push(tenant_id);
        }
        self
    }

    /// A site-written global sequence `<name>.xml` (the `.xml` suffix is optional).
    pub fn custom_sequence(mut self, name: &str) -> Self {
        self.custom_sequences.push(strip_xml(name).to_string());
        self
    }

    /// Edits a stock sequence (e.g. "main" or "_auth_failure_handler_") so that it differs from
    /// this builder's stock content; the catalogue keeps listing the stock hash.
    pub fn customise_stock_sequence(mut self, name: &str) -> Self {
        self.customised_stock_sequences
            .push(strip_xml(name).to_string());
        self
    }

    /// An API-specific sequence such as `admin--PizzaShack:v1.0.0--In.xml`; `version` may be
    /// given with or without its leading `v`.
    pub fn api_sequence(mut self, provider: &str, api: &str, version: &str, flow: &str) -> Self {
        let version = if version.starts_with('v') {
            version.to_string()
        } else {
            format!("v{version}")
        };
        self.api_sequences
            .push(format!("{provider}--{api}:{version}--{flow}"));
        self
    }

    /// A site artifact at `synapse-configs/default/<dir>/<name>.xml`, e.g. ("endpoints", "BackendEP").
    pub fn custom_synapse_artifact(mut self, dir: &str, name: &str) -> Self {
        self.custom_artifacts.push((
            dir.trim_matches('/').to_string(),
            strip_xml(name).to_string(),
        ));
        self
    }

    /// A site artifact of a tenant, at
    /// `repository/tenants/<tenant_id>/synapse-configs/default/<dir>/<name>.xml`.
    pub fn tenant_artifact(mut self, tenant_id: u32, dir: &str, name: &str) -> Self {
        self = self.tenant(tenant_id);
        self.tenant_artifacts.push((
            tenant_id,
            dir.trim_matches('/').to_string(),
            strip_xml(name).to_string(),
        ));
        self
    }

    /// A JDBC 4 driver jar in `components/lib`: a real zip with a manifest, a
    /// `META-INF/services/java.sql.Driver` naming `driver_class`, and a stand-in class file.
    pub fn jdbc_driver(mut self, jar_name: &str, driver_class: &str) -> Self {
        self.jdbc_drivers
            .push((jar_name.to_string(), driver_class.to_string()));
        self
    }

    /// A site jar in `components/lib` that is not a JDBC driver.
    pub fn plain_jar(mut self, jar_name: &str) -> Self {
        self.plain_jars.push(jar_name.to_string());
        self
    }

    /// A site OSGi bundle in `components/dropins`.
    pub fn dropin_jar(mut self, jar_name: &str) -> Self {
        self.dropin_jars.push(jar_name.to_string());
        self
    }

    /// A configured database. 3.x+ and IS: a `[database.<name>]` table (same name as a stock one
    /// replaces it). 1.x/2.x: a `<datasource>` with the matching `<driverClassName>`; the 3.x names
    /// `apim_db` and `shared_db` stand for the stock `WSO2AM_DB` and `WSO2_CARBON_DB` there.
    pub fn database(mut self, name: &str, db_type: &str, url: &str) -> Self {
        self.databases.retain(|database| database.name != name);
        self.databases.push(SampleDatabase {
            name: name.to_string(),
            db_type: db_type.to_string(),
            url: url.to_string(),
        });
        self
    }

    /// Makes the pack look like `ciphertool.sh -Dconfigure` ran with these aliases.
    pub fn secure_vault(mut self, aliases: &[&str]) -> Self {
        self.secure_vault_aliases = Some(aliases.iter().map(|alias| alias.to_string()).collect());
        self
    }

    /// The host name of the server (`[server] hostname`, carbon.xml's `<HostName>`).
    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostname = hostname.to_string();
        self
    }

    /// The port offset (`[server] offset`, carbon.xml's `<Ports><Offset>`).
    pub fn offset(mut self, offset: u32) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Text appended verbatim to deployment.toml, before `[secrets]` (3.x+ and IS only).
    pub fn deployment_toml_extra(mut self, text: &str) -> Self {
        self.toml_extras.push(text.to_string());
        self
    }

    /// A node of a distributed deployment (3.x/4.x): `server_role` in deployment.toml names
    /// `profile`, as `profileSetup.sh` leaves it.
    pub fn profile(mut self, profile: &str) -> Self {
        self.server_role = profile.to_string();
        self
    }

    /// Leaves out `repository/resources/conf` (the profile templates, `infer.json`, the
    /// defaults and the configuration templates), which 3.0.0 and later packs ship: a pack
    /// stripped of them, for what is known without them.
    pub fn without_resources_conf(mut self) -> Self {
        self.resources_conf = false;
        self
    }

    /// Writes the pack into `dir` (created with its parents) and returns `dir`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let plan = self.plan()?;
        fs::create_dir_all(dir)
            .with_context(|| format!("failed to create pack folder `{}`", dir.display()))?;
        for relative in &plan.dirs {
            let path = dir.join(relative);
            fs::create_dir_all(&path)
                .with_context(|| format!("failed to create `{}`", path.display()))?;
        }
        for (relative, file) in &plan.files {
            let path = dir.join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("failed to create `{}`", parent.display()))?;
            }
            fs::write(&path, &file.bytes)
                .with_context(|| format!("failed to write `{}`", path.display()))?;
            set_mode(&path, file.mode)?;
        }
        Ok(dir.to_path_buf())
    }

    pub(crate) fn is_api_manager(&self) -> bool {
        self.product == SampleProduct::ApiManager
    }

    /// 3.0.0 and later (and every IS version handled here) are configured through deployment.toml.
    pub(crate) fn uses_deployment_toml(&self) -> bool {
        !self.is_api_manager() || self.parsed_version >= V3_0_0
    }

    pub(crate) fn is_api_manager_4(&self) -> bool {
        self.is_api_manager() && self.parsed_version >= V4_0_0
    }

    /// Seed prefix that keeps derived bytes distinct between products and versions.
    pub(crate) fn seed(&self, what: &str) -> String {
        format!("{}-{}/{what}", self.catalogue_key(), self.version)
    }
}

/// Sets the mode explicitly so that the umask of whoever runs the tests does not change it.
#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("failed to set the mode of `{}`", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DROPINS_DIR, SYNAPSE_DEFAULT_DIR, TEMPLATES_DIR};
    #[cfg(unix)]
    use crate::test_support::mode;
    use crate::test_support::{all_hashes, featured_3_0_0, read};

    #[test]
    fn writes_a_featured_3_0_0_pack() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = temp.path().join("nested/wso2am-3.0.0");
        let builder = featured_3_0_0();
        let written = builder.write(&dir).expect("pack written");
        assert_eq!(written, dir);

        assert_eq!(read(&dir, "bin/version.txt"), "WSO2 API Manager v3.0.0\n");
        assert_eq!(read(&dir, "updates/product.txt"), "wso2am-3.0.0");
        let carbon = read(&dir, "repository/conf/carbon.xml");
        assert!(carbon.contains("<Server xmlns=\"http://wso2.org/projects/carbon/carbon.xml\">"));
        assert!(carbon.contains("<Name>WSO2 API Manager</Name>"));
        assert!(carbon.contains("<ServerKey>AM</ServerKey>"));
        assert!(carbon.contains("<Version>3.0.0</Version>"));
        assert!(carbon.contains(
            "<Location>${carbon.home}/repository/resources/security/wso2carbon.jks</Location>"
        ));
        assert!(dir.join("bin/wso2server.sh").is_file());
        assert!(!dir.join("bin/api-manager.sh").exists());
        assert!(!dir.join("repository/conf/api-manager.xml").exists());
        assert!(dir.join("repository/logs").is_dir());
        assert!(dir.join(DROPINS_DIR).is_dir());
        assert!(dir.join("README.txt").is_file() && dir.join("LICENSE.txt").is_file());

        // Keystores: JKS magic, stock ones readable by all, the site's one private.
        let security = "repository/resources/security";
        for keystore in [
            "wso2carbon.jks",
            "client-truststore.jks",
            "site-keystore.jks",
        ] {
            let bytes = fs::read(dir.join(security).join(keystore)).expect(keystore);
            assert_eq!(&bytes[..4], &[0xFE, 0xED, 0xFE, 0xED], "{keystore}");
        }
        assert!(dir.join(security).join("sslprofiles.xml").is_file());
        assert!(dir.join(security).join("listenerprofiles.xml").is_file());
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir, "bin/wso2server.sh"), 0o755);
            assert_eq!(mode(&dir, "bin/ciphertool.sh"), 0o755);
            assert_eq!(
                mode(&dir, "repository/resources/security/wso2carbon.jks"),
                0o644
            );
            assert_eq!(
                mode(&dir, "repository/resources/security/site-keystore.jks"),
                0o600
            );
        }

        // deployment.toml: valid, the site's database, the vault references, [secrets] last.
        let toml = read(&dir, "repository/conf/deployment.toml");
        let document: toml_edit::DocumentMut = toml.parse().expect("deployment.toml parses");
        assert_eq!(
            document["database"]["apim_db"]["type"].as_str(),
            Some("mysql")
        );
        assert_eq!(
            document["database"]["shared_db"]["type"].as_str(),
            Some("h2")
        );
        assert_eq!(
            document["super_admin"]["password"].as_str(),
            Some("$secret{admin_password}")
        );
        assert_eq!(
            document["keystore"]["tls"]["password"].as_str(),
            Some("$secret{keystore_password}")
        );
        assert_eq!(
            document["apim"]["devportal"]["enable_ratings"].as_bool(),
            Some(false)
        );
        assert!(document["apim"]["cors"].is_table());
        assert!(document["apim"].get("sync_runtime_artifacts").is_none());
        assert!(toml.contains("#[apim.cache.gateway_token]"));
        let last_table = toml
            .lines()
            .rfind(|line| line.starts_with('['))
            .expect("tables");
        assert_eq!(last_table, "[secrets]");
        let secret = document["secrets"]["admin_password"]
            .as_str()
            .expect("secret");
        assert!(secret.len() > 100 && !secret.starts_with('['));

        let cipher_text = read(&dir, "repository/conf/security/cipher-text.properties");
        assert!(cipher_text.contains("admin_password="));
        assert!(!cipher_text.contains("=[wso2carbon]"));
        let secret_conf = read(&dir, "repository/conf/security/secret-conf.properties");
        assert!(secret_conf
            .lines()
            .any(|line| !line.is_empty() && !line.starts_with('#')));

        // Sequences and other synapse artifacts.
        let sequences = format!("{SYNAPSE_DEFAULT_DIR}/sequences");
        for name in builder.stock_sequence_names() {
            assert!(
                dir.join(&sequences).join(format!("{name}.xml")).is_file(),
                "{name}"
            );
        }
        assert!(builder
            .stock_sequence_names()
            .contains(&"_graphql_failure_handler_"));
        assert!(!builder
            .stock_sequence_names()
            .contains(&"_backend_failure_handler_"));
        let main = read(&dir, &format!("{sequences}/main.xml"));
        assert!(main.contains("<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"main\">"));
        assert!(main.contains("<am:fault"));
        assert!(dir.join(&sequences).join("SiteAuditLogger.xml").is_file());
        assert!(dir
            .join(&sequences)
            .join("admin--PizzaShack:v1.0.0--In.xml")
            .is_file());
        assert!(dir
            .join(SYNAPSE_DEFAULT_DIR)
            .join("endpoints/BackendEP.xml")
            .is_file());
        for stock in [
            "api/_TokenAPI_.xml",
            "api/_RevokeAPI_.xml",
            "api/_AuthorizeAPI_.xml",
            "proxy-services/WorkflowCallbackService.xml",
            "synapse.xml",
            "registry.xml",
        ] {
            assert!(
                dir.join(SYNAPSE_DEFAULT_DIR).join(stock).is_file(),
                "{stock}"
            );
        }

        // User stores and tenants.
        let super_store = read(
            &dir,
            "repository/deployment/server/userstores/corp_example_com.xml",
        );
        assert!(super_store.contains("<Property name=\"DomainName\">corp.example.com</Property>"));
        assert!(super_store.contains("UniqueIDJDBCUserStoreManager"));
        assert!(dir
            .join("repository/tenants/1/userstores/tenant_example_com.xml")
            .is_file());
        assert!(dir
            .join("repository/tenants/1/synapse-configs/default/sequences/main.xml")
            .is_file());
        assert!(
            fs::read_dir(dir.join("repository/tenants/1/synapse-configs/default/api"))
                .expect("tenant api dir")
                .next()
                .is_some()
        );

        // Profile templates of 3.x.
        for profile in [
            "api-publisher",
            "api-devportal",
            "gateway-worker",
            "api-key-manager",
            "traffic-manager",
        ] {
            let path = format!("{TEMPLATES_DIR}/{profile}.toml");
            let template: toml_edit::DocumentMut = read(&dir, &path).parse().expect(&path);
            assert_eq!(template["server"]["server_role"].as_str(), Some(profile));
        }
    }

    #[test]
    fn same_builder_writes_same_bytes() {
        let temp = tempfile::tempdir().expect("temp dir");
        let builder = featured_3_0_0();
        let first = builder.write(&temp.path().join("first")).expect("first");
        let second = builder
            .clone()
            .write(&temp.path().join("second"))
            .expect("second");
        let first_hashes = all_hashes(&first);
        assert!(first_hashes.len() > 40);
        assert_eq!(first_hashes, all_hashes(&second));
    }
}
