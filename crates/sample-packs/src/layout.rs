//! Pack layout: which files and folders a pack of a product version holds, planned by path before writing.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;

use crate::binary::{custom_keystore_bytes, driver_jar_bytes, jks_bytes, plain_jar_bytes};
use crate::scripts::{cipher_tool_script_text, start_script_text};
use crate::synapse::{
    api_sequence_xml, custom_artifact_xml, custom_sequence_xml, customise_sequence,
    listener_profiles_xml, registry_xml, ssl_profiles_xml, stock_api, stock_inbound_endpoint,
    stock_sequence, synapse_xml, tenant_api_xml, workflow_callback_proxy,
};
use crate::{
    PackBuilder, SampleDistribution, SampleProduct, V2_0_0, V2_1_0, V2_2_0, V2_6_0, V3_0_0, V3_2_0,
    V4_0_0, V4_1_0, V4_2_0, V4_3_0, V4_4_0, V4_6_0,
};

pub(crate) const SYNAPSE_DEFAULT_DIR: &str = "repository/deployment/server/synapse-configs/default";
pub(crate) const SECURITY_DIR: &str = "repository/resources/security";
pub(crate) const CONF_SECURITY_DIR: &str = "repository/conf/security";
pub(crate) const LIB_DIR: &str = "repository/components/lib";
pub(crate) const DROPINS_DIR: &str = "repository/components/dropins";
pub(crate) const USERSTORES_DIR: &str = "repository/deployment/server/userstores";
pub(crate) const TENANTS_DIR: &str = "repository/tenants";
pub(crate) const TEMPLATES_DIR: &str = "repository/resources/conf/deployment-templates";

/// Non-driver jars that every synthetic pack ships in `components/lib`. They are the same in all
/// versions so that comparing an old pack's lib folder with a new one only turns up what a site
/// added itself, as it would between real packs.
pub(crate) const STOCK_LIB_JARS: [&str; 2] = ["commons-text-1.9.jar", "json-path-2.7.0.jar"];

#[derive(Debug, Default)]
pub(crate) struct PackPlan {
    pub(crate) files: BTreeMap<String, PlannedFile>,
    pub(crate) dirs: BTreeSet<String>,
}

#[derive(Debug)]
pub(crate) struct PlannedFile {
    pub(crate) bytes: Vec<u8>,
    pub(crate) mode: u32,
}

impl PackPlan {
    pub(crate) fn text(&mut self, path: &str, text: impl Into<String>) {
        self.file(path, text.into().into_bytes(), 0o644);
    }

    fn file(&mut self, path: &str, bytes: Vec<u8>, mode: u32) {
        self.files
            .insert(path.to_string(), PlannedFile { bytes, mode });
    }

    fn dir(&mut self, path: &str) {
        self.dirs.insert(path.to_string());
    }
}

impl PackBuilder {
    /// Names (without `.xml`) of the stock global sequences of this product version.
    pub fn stock_sequence_names(&self) -> Vec<&'static str> {
        if self.product != SampleProduct::ApiManager {
            return Vec::new();
        }
        let version = self.parsed_version;
        let mut names = vec![
            "_auth_failure_handler_",
            "_build_",
            "_cors_request_handler_",
            "_production_key_error_",
            "_resource_mismatch_handler_",
            "_sandbox_key_error_",
            "_throttle_out_handler_",
            "_token_fault_",
            "fault",
            "main",
        ];
        if version >= V2_1_0 {
            names.extend(["dispatchSeq", "outDispatchSeq"]);
        }
        if version >= V2_2_0 {
            names.push("_threat_fault_");
        }
        if version >= V3_0_0 {
            names.push("_graphql_failure_handler_");
        }
        if version >= V4_0_0 {
            names.extend([
                "_backend_failure_handler_",
                "_block_api_handler_",
                "webhooksFaultSequence",
            ]);
        }
        if version >= V4_1_0 {
            names.push("_opa_policy_failure_handler_");
        }
        if version >= V4_6_0 {
            names.extend([
                "_extension_fault_handler_",
                "_mcp_failure_handler_",
                "guardrail_fault",
            ]);
        }
        names.sort_unstable();
        names
    }

    /// Whether this pack ships the gateway's synapse configurations: every API-M pack but the
    /// separate control plane and traffic manager of 4.5.0 and later.
    pub(crate) fn ships_synapse_configs(&self) -> bool {
        self.product == SampleProduct::ApiManager
            && !matches!(
                self.distribution,
                Some(SampleDistribution::ApiControlPlane | SampleDistribution::TrafficManager)
            )
    }

    /// Stock files under synapse-configs/default (pack-relative path, stock content), before any
    /// customisation.
    pub(crate) fn stock_synapse_files(&self) -> Vec<(String, String)> {
        if !self.ships_synapse_configs() {
            return Vec::new();
        }
        let version = self.parsed_version;
        let mut files = Vec::new();
        for name in self.stock_sequence_names() {
            files.push((
                format!("sequences/{name}.xml"),
                stock_sequence(name, version),
            ));
        }
        let mut apis = Vec::new();
        if version < V4_0_0 {
            apis.extend(["_AuthorizeAPI_", "_RevokeAPI_", "_TokenAPI_"]);
        }
        if version >= V2_0_0 && version < V4_0_0 {
            apis.push("_UserInfoAPI_");
        }
        if version >= V3_2_0 && version < V4_0_0 {
            apis.push("_OpenIDConfigAPI_");
        }
        // 4.4.0 and 4.5.0 ship no `api` folder at all.
        if version >= V3_0_0 && !(version >= V4_4_0 && version < V4_6_0) {
            apis.push("_OpenService_");
        }
        for name in apis {
            files.push((format!("api/{name}.xml"), stock_api(name, version)));
        }
        let mut inbound = Vec::new();
        if version >= V2_1_0 {
            inbound.extend(["SecureWebSocketInboundEndpoint", "WebSocketInboundEndpoint"]);
        }
        if version >= V4_0_0 {
            inbound.extend(["SecureWebhookServer", "WebhookServer"]);
        }
        for name in inbound {
            files.push((
                format!("inbound-endpoints/{name}.xml"),
                stock_inbound_endpoint(name, version),
            ));
        }
        if version < V4_2_0 {
            files.push((
                "proxy-services/WorkflowCallbackService.xml".to_string(),
                workflow_callback_proxy(version),
            ));
        }
        files.push(("registry.xml".to_string(), registry_xml()));
        files.push(("synapse.xml".to_string(), synapse_xml()));
        files
            .into_iter()
            .map(|(relative, content)| (format!("{SYNAPSE_DEFAULT_DIR}/{relative}"), content))
            .collect()
    }

    /// The stock keystores (pack-relative path, bytes); they differ per product version.
    pub(crate) fn stock_keystores(&self) -> Vec<(String, Vec<u8>)> {
        let seed = format!("{}-{}", self.catalogue_key(), self.version);
        vec![
            (
                format!("{SECURITY_DIR}/wso2carbon.jks"),
                jks_bytes(&format!("{seed}/wso2carbon.jks"), &["wso2carbon"], true),
            ),
            (
                format!("{SECURITY_DIR}/client-truststore.jks"),
                jks_bytes(
                    &format!("{seed}/client-truststore.jks"),
                    &["wso2carbon", "sample-root-ca", "sample-partner-ca"],
                    false,
                ),
            ),
        ]
    }

    /// Everything the pack holds, by pack-relative path; a later entry for a path replaces an
    /// earlier one, which is how site files replace stock ones.
    pub(crate) fn plan(&self) -> Result<PackPlan> {
        let mut plan = PackPlan::default();
        self.plan_root_and_bin(&mut plan);
        self.plan_configuration(&mut plan);
        self.plan_security(&mut plan);
        self.plan_synapse(&mut plan);
        self.plan_libraries(&mut plan)?;
        self.plan_userstores_and_tenants(&mut plan);
        if self.resources_conf {
            self.plan_profile_templates(&mut plan);
            self.plan_conf_model(&mut plan);
        }
        plan.dir("repository/logs");
        Ok(plan)
    }

    fn plan_root_and_bin(&self, plan: &mut PackPlan) {
        let name = self.display_name();
        let version = &self.version;
        plan.text(
            "README.txt",
            format!(
                "{name} {version} (synthetic sample)\n\n\
                 This folder imitates the layout of a {name} pack. It was written by\n\
                 apim-migrate's sample builder for demos and tests; it contains no WSO2 software\n\
                 and cannot be started.\n"
            ),
        );
        plan.text(
            "LICENSE.txt",
            "Placeholder licence file of a synthetic sample pack.\n\
             The real product is distributed by WSO2 under the Apache License, Version 2.0.\n",
        );
        if self.version_txt {
            plan.text("bin/version.txt", format!("{name} v{version}\n"));
        }
        if !self.is_api_manager() || self.parsed_version >= V2_6_0 {
            plan.text(
                "updates/product.txt",
                format!("{}-{version}", self.catalogue_key()),
            );
        }
        let start_script = match self.distribution {
            Some(distribution) => distribution.start_script(),
            None if self.is_api_manager_4() => "bin/api-manager.sh",
            None => "bin/wso2server.sh",
        };
        plan.file(
            start_script,
            start_script_text(name, version).into_bytes(),
            0o755,
        );
        plan.file(
            "bin/ciphertool.sh",
            cipher_tool_script_text().into_bytes(),
            0o755,
        );
    }

    fn plan_configuration(&self, plan: &mut PackPlan) {
        plan.text("repository/conf/carbon.xml", self.carbon_xml());
        if self.uses_deployment_toml() {
            let toml = if self.is_api_manager() {
                self.api_manager_deployment_toml()
            } else {
                self.identity_server_deployment_toml()
            };
            plan.text("repository/conf/deployment.toml", toml);
        } else {
            plan.text("repository/conf/api-manager.xml", self.api_manager_xml());
            plan.text(
                "repository/conf/datasources/master-datasources.xml",
                self.master_datasources_xml(),
            );
            plan.text("repository/conf/user-mgt.xml", self.user_mgt_xml());
        }
    }

    fn plan_security(&self, plan: &mut PackPlan) {
        for (path, bytes) in self.stock_keystores() {
            plan.file(&path, bytes, 0o644);
        }
        if self.is_api_manager() && self.parsed_version >= V3_0_0 {
            plan.text(
                &format!("{SECURITY_DIR}/sslprofiles.xml"),
                ssl_profiles_xml(),
            );
            plan.text(
                &format!("{SECURITY_DIR}/listenerprofiles.xml"),
                listener_profiles_xml(),
            );
        }
        // Site keystores come last so that one named like a stock keystore replaces it.
        for (file_name, seed) in &self.keystores {
            plan.file(
                &format!("{SECURITY_DIR}/{file_name}"),
                custom_keystore_bytes(file_name, seed),
                0o600,
            );
        }
        plan.text(
            &format!("{CONF_SECURITY_DIR}/cipher-text.properties"),
            self.cipher_text_properties(),
        );
        plan.text(
            &format!("{CONF_SECURITY_DIR}/cipher-tool.properties"),
            self.cipher_tool_properties(),
        );
        if let Some(text) = self.secret_conf_properties() {
            plan.text(&format!("{CONF_SECURITY_DIR}/secret-conf.properties"), text);
        }
    }

    fn plan_synapse(&self, plan: &mut PackPlan) {
        let sequences_dir = format!("{SYNAPSE_DEFAULT_DIR}/sequences");
        for (path, content) in self.stock_synapse_files() {
            plan.text(&path, content);
        }
        for name in &self.customised_stock_sequences {
            let path = format!("{sequences_dir}/{name}.xml");
            let content = match plan.files.get(&path) {
                Some(stock) => customise_sequence(&String::from_utf8_lossy(&stock.bytes)),
                // Nothing stock to edit in this version: the site's file is simply its own.
                None => custom_sequence_xml(name),
            };
            plan.text(&path, content);
        }
        for name in &self.custom_sequences {
            plan.text(
                &format!("{sequences_dir}/{name}.xml"),
                custom_sequence_xml(name),
            );
        }
        for name in &self.api_sequences {
            plan.text(
                &format!("{sequences_dir}/{name}.xml"),
                api_sequence_xml(name),
            );
        }
        for (dir, name) in &self.custom_artifacts {
            plan.text(
                &format!("{SYNAPSE_DEFAULT_DIR}/{dir}/{name}.xml"),
                custom_artifact_xml(dir, name),
            );
        }
        for (tenant_id, dir, name) in &self.tenant_artifacts {
            plan.text(
                &format!("{TENANTS_DIR}/{tenant_id}/synapse-configs/default/{dir}/{name}.xml"),
                custom_artifact_xml(dir, name),
            );
        }
    }

    fn plan_libraries(&self, plan: &mut PackPlan) -> Result<()> {
        for jar_name in STOCK_LIB_JARS {
            plan.file(
                &format!("{LIB_DIR}/{jar_name}"),
                plain_jar_bytes(jar_name)?,
                0o644,
            );
        }
        for jar_name in &self.plain_jars {
            plan.file(
                &format!("{LIB_DIR}/{jar_name}"),
                plain_jar_bytes(jar_name)?,
                0o644,
            );
        }
        for (jar_name, driver_class) in &self.jdbc_drivers {
            plan.file(
                &format!("{LIB_DIR}/{jar_name}"),
                driver_jar_bytes(jar_name, driver_class)?,
                0o644,
            );
        }
        plan.dir(DROPINS_DIR);
        for jar_name in &self.dropin_jars {
            plan.file(
                &format!("{DROPINS_DIR}/{jar_name}"),
                plain_jar_bytes(jar_name)?,
                0o644,
            );
        }
        Ok(())
    }

    fn plan_userstores_and_tenants(&self, plan: &mut PackPlan) {
        for (tenant_id, domain) in &self.userstores {
            let file_name = format!("{}.xml", domain.replace('.', "_"));
            let path = match tenant_id {
                None => format!("{USERSTORES_DIR}/{file_name}"),
                Some(id) => format!("{TENANTS_DIR}/{id}/userstores/{file_name}"),
            };
            plan.text(&path, self.userstore_xml(*tenant_id, domain));
        }
        for tenant_id in &self.tenants {
            let tenant_domain = format!("tenant{tenant_id}.example.com");
            let base = format!("{TENANTS_DIR}/{tenant_id}/synapse-configs/default");
            let api_name = format!("admin-AT-{tenant_domain}--OrdersAPI");
            plan.text(
                &format!("{base}/api/{api_name}_v1.0.0.xml"),
                tenant_api_xml(&api_name, &tenant_domain),
            );
            plan.text(
                &format!("{base}/sequences/{api_name}:v1.0.0--In.xml"),
                api_sequence_xml(&format!("{api_name}:v1.0.0--In")),
            );
            // Tenants get their own copies of the stock sequences when they are first loaded.
            for name in ["main", "fault"] {
                let content = if self.is_api_manager() {
                    stock_sequence(name, self.parsed_version)
                } else {
                    custom_sequence_xml(name)
                };
                plan.text(&format!("{base}/sequences/{name}.xml"), content);
            }
            plan.text(&format!("{base}/synapse.xml"), synapse_xml());
        }
    }

    /// The templates of `repository/resources/conf/deployment-templates` a pack ships (file
    /// stem), by version and distribution, as the real packs name them.
    pub(crate) fn profile_template_names(&self) -> Vec<&'static str> {
        if !self.is_api_manager() || self.parsed_version < V3_0_0 {
            return Vec::new();
        }
        match self.distribution {
            Some(SampleDistribution::ApiControlPlane) => return vec!["key-manager"],
            Some(SampleDistribution::UniversalGateway) => return Vec::new(),
            // The traffic manager ships the all-in-one's templates.
            Some(SampleDistribution::TrafficManager) | None => {}
        }
        if !self.is_api_manager_4() {
            return vec![
                "api-publisher",
                "api-devportal",
                "gateway-worker",
                "api-key-manager",
                "traffic-manager",
            ];
        }
        let mut names = vec!["control-plane", "gateway-worker", "traffic-manager"];
        if self.parsed_version < V4_2_0 {
            names.extend(["api-publisher-deprecated", "api-devportal-deprecated"]);
        }
        names.push("api-key-manager-deprecated");
        if self.parsed_version >= V4_3_0 {
            names.push("api-key-manager-node");
        }
        names
    }

    fn plan_profile_templates(&self, plan: &mut PackPlan) {
        for profile in self.profile_template_names() {
            plan.text(
                &format!("{TEMPLATES_DIR}/{profile}.toml"),
                self.profile_template(profile),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use crate::test_support::mode;
    use crate::test_support::{catalogue_hashes, file_hash, read};
    use crate::PackBuilder;

    #[test]
    fn writes_a_4_1_0_pack_with_json_faults_and_runtime_artifact_sync() {
        let temp = tempfile::tempdir().expect("temp dir");
        let builder = PackBuilder::api_manager("4.1.0");
        let dir = builder.write(temp.path()).expect("pack written");
        assert_eq!(read(&dir, "bin/version.txt"), "WSO2 API Manager v4.1.0\n");
        assert_eq!(read(&dir, "updates/product.txt"), "wso2am-4.1.0");
        assert!(dir.join("bin/api-manager.sh").is_file());
        assert!(!dir.join("bin/wso2server.sh").exists());
        assert!(!dir
            .join("repository/conf/security/secret-conf.properties")
            .exists());
        assert!(!dir.join(USERSTORES_DIR).exists());

        let toml = read(&dir, "repository/conf/deployment.toml");
        let document: toml_edit::DocumentMut = toml.parse().expect("deployment.toml parses");
        let labels = document["apim"]["sync_runtime_artifacts"]["gateway"]["gateway_labels"]
            .as_array()
            .expect("gateway_labels");
        assert_eq!(
            labels.get(0).and_then(|label| label.as_str()),
            Some("Default")
        );
        assert!(toml.contains("gateway_labels =[\"Default\"]\n\n#[apim.cache"));
        assert!(document.get("secrets").is_none());

        let names = builder.stock_sequence_names();
        for name in [
            "_backend_failure_handler_",
            "_block_api_handler_",
            "webhooksFaultSequence",
            "_opa_policy_failure_handler_",
            "_threat_fault_",
            "dispatchSeq",
        ] {
            assert!(names.contains(&name), "{name}");
        }
        let sequences = format!("{SYNAPSE_DEFAULT_DIR}/sequences");
        for name in [
            "main",
            "fault",
            "_auth_failure_handler_",
            "_throttle_out_handler_",
        ] {
            let text = read(&dir, &format!("{sequences}/{name}.xml"));
            assert!(text.contains("media-type=\"json\""), "{name}");
            assert!(!text.contains("<am:fault"), "{name}");
        }
        // The key-error sequence kept its XML body in 4.x, as the real one did.
        assert!(
            read(&dir, &format!("{sequences}/_production_key_error_.xml")).contains("<am:fault")
        );
        assert!(!dir
            .join(SYNAPSE_DEFAULT_DIR)
            .join("api/_TokenAPI_.xml")
            .exists());
        assert!(dir.join(TEMPLATES_DIR).join("control-plane.toml").is_file());
        assert!(!dir.join(TEMPLATES_DIR).join("api-publisher.toml").exists());
    }

    #[test]
    fn writes_a_1_9_0_pack_with_xml_configuration_and_legacy_vault() {
        let temp = tempfile::tempdir().expect("temp dir");
        let builder = PackBuilder::api_manager("1.9.0")
            .without_version_txt()
            .database("apim_db", "mysql", "jdbc:mysql://db:3306/apim?a=1&b=2")
            .secure_vault(&["Custom.Endpoint.Password"]);
        let dir = builder.write(temp.path()).expect("pack written");
        assert!(!dir.join("bin/version.txt").exists());
        assert!(!dir.join("updates/product.txt").exists());
        assert!(!dir.join("repository/conf/deployment.toml").exists());
        assert!(!dir
            .join("repository/resources/security/sslprofiles.xml")
            .exists());
        let carbon = read(&dir, "repository/conf/carbon.xml");
        assert!(carbon.contains("<Version>1.9.0</Version>"));
        assert!(carbon.contains("svns:secretAlias=\"Carbon.Security.KeyStore.Password\""));
        assert!(read(&dir, "repository/conf/user-mgt.xml").contains("svns:secretAlias="));
        assert!(
            read(&dir, "repository/conf/security/secret-conf.properties")
                .lines()
                .any(|line| line == "secVault.enabled=true")
        );
        let cipher_text = read(&dir, "repository/conf/security/cipher-text.properties");
        assert!(cipher_text.contains("Custom.Endpoint.Password="));
        assert!(!cipher_text.contains('['));
        let datasources = read(&dir, "repository/conf/datasources/master-datasources.xml");
        assert!(datasources.contains("<driverClassName>com.mysql.jdbc.Driver</driverClassName>"));
        assert!(datasources.contains("<driverClassName>org.h2.Driver</driverClassName>"));
        assert!(datasources.contains("jdbc:mysql://db:3306/apim?a=1&amp;b=2"));
        assert!(dir.join("repository/conf/api-manager.xml").is_file());
        let names = builder.stock_sequence_names();
        assert_eq!(names.len(), 10);
        assert!(!names.contains(&"_threat_fault_"));
        assert!(dir
            .join(SYNAPSE_DEFAULT_DIR)
            .join("api/_AuthorizeAPI_.xml")
            .is_file());
        assert!(!dir
            .join(SYNAPSE_DEFAULT_DIR)
            .join("api/_UserInfoAPI_.xml")
            .exists());
    }

    #[test]
    fn writes_an_identity_server_pack() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = PackBuilder::identity_server("5.11.0")
            .userstore(Some(3), "partners.example.org")
            .write(temp.path())
            .expect("pack written");
        assert_eq!(
            read(&dir, "bin/version.txt"),
            "WSO2 Identity Server v5.11.0\n"
        );
        assert_eq!(read(&dir, "updates/product.txt"), "wso2is-5.11.0");
        assert!(read(&dir, "repository/conf/carbon.xml").contains("<ServerKey>IS</ServerKey>"));
        assert!(dir.join("bin/wso2server.sh").is_file());
        let toml: toml_edit::DocumentMut = read(&dir, "repository/conf/deployment.toml")
            .parse()
            .expect("deployment.toml parses");
        assert_eq!(toml["database"]["identity_db"]["type"].as_str(), Some("h2"));
        // IS ships secret-conf.properties with every line commented out.
        let secret_conf = read(&dir, "repository/conf/security/secret-conf.properties");
        assert!(secret_conf
            .lines()
            .all(|line| line.is_empty() || line.starts_with('#')));
        assert!(dir
            .join("repository/tenants/3/userstores/partners_example_org.xml")
            .is_file());
        assert!(!dir.join(SYNAPSE_DEFAULT_DIR).exists());
    }

    #[test]
    fn writes_the_separate_distributions_with_their_markers_and_stock_files() {
        let temp = tempfile::tempdir().expect("temp dir");
        for (builder, name, key, server_key, script, synapse, templates) in [
            (
                PackBuilder::api_control_plane("4.5.0"),
                "WSO2 API Control Plane",
                "wso2am-acp",
                "ACP",
                "bin/api-cp.sh",
                false,
                vec!["key-manager.toml"],
            ),
            (
                PackBuilder::universal_gateway("4.6.0"),
                "WSO2 Universal Gateway",
                "wso2am-universal-gw",
                "APIM-GW",
                "bin/gateway.sh",
                true,
                Vec::new(),
            ),
            (
                PackBuilder::traffic_manager("4.7.0"),
                "WSO2 Traffic Manager",
                "wso2am-tm",
                "APIM-TM",
                "bin/traffic-manager.sh",
                false,
                vec![
                    "api-key-manager-deprecated.toml",
                    "api-key-manager-node.toml",
                    "control-plane.toml",
                    "gateway-worker.toml",
                    "traffic-manager.toml",
                ],
            ),
        ] {
            let version = builder.version().to_string();
            let dir = builder.write(&temp.path().join(key)).expect("pack written");
            assert_eq!(
                read(&dir, "bin/version.txt"),
                format!("{name} v{version}\n")
            );
            assert_eq!(
                read(&dir, "updates/product.txt"),
                format!("{key}-{version}")
            );
            let carbon = read(&dir, "repository/conf/carbon.xml");
            assert!(carbon.contains(&format!("<Name>{name}</Name>")), "{key}");
            assert!(
                carbon.contains(&format!("<ServerKey>{server_key}</ServerKey>")),
                "{key}"
            );
            assert!(dir.join(script).is_file(), "{key}: {script}");
            assert_eq!(dir.join(SYNAPSE_DEFAULT_DIR).is_dir(), synapse, "{key}");
            let mut written: Vec<String> = std::fs::read_dir(dir.join(TEMPLATES_DIR))
                .map(|entries| {
                    entries
                        .map(|entry| {
                            entry
                                .expect("entry")
                                .file_name()
                                .to_string_lossy()
                                .to_string()
                        })
                        .collect()
                })
                .unwrap_or_default();
            written.sort();
            assert_eq!(written, templates, "{key}");
            assert!(
                read(&dir, "repository/conf/deployment.toml").contains("server_role = \"default\""),
                "{key}: every distribution says `default`"
            );
            let catalogue = builder.stock_catalogue();
            assert!(
                catalogue.contains(&format!("[{key}.\"{version}\"]")),
                "{catalogue}"
            );
        }
    }

    #[test]
    fn site_keystore_can_replace_the_stock_one() {
        let temp = tempfile::tempdir().expect("temp dir");
        let builder = PackBuilder::api_manager("2.0.0").keystore("wso2carbon.jks", "replaced");
        let dir = builder.write(temp.path()).expect("pack written");
        let keystore = "repository/resources/security/wso2carbon.jks";
        let listed = catalogue_hashes(&builder.stock_catalogue(), "wso2am", "2.0.0", keystore);
        assert_ne!(listed, vec![file_hash(&dir, keystore)]);
        #[cfg(unix)]
        assert_eq!(mode(&dir, keystore), 0o600);
    }
}
