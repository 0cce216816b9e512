//! The configuration model's files of `repository/resources/conf` (3.0.0 and later): what
//! `infer.json` implies for each profile, the defaults, and `api-manager.xml.j2` with the
//! gateway skip lists, under the names and keys of the real packs, in this project's own
//! short words.

use crate::layout::PackPlan;
use crate::{PackBuilder, SampleDistribution, V3_0_0, V3_1_0, V4_1_0, V4_6_0};

pub(crate) const CONF_DIR: &str = "repository/resources/conf";

impl PackBuilder {
    pub(crate) fn plan_conf_model(&self, plan: &mut PackPlan) {
        if !self.is_api_manager() || self.parsed_version < V3_0_0 {
            return;
        }
        plan.text(&format!("{CONF_DIR}/infer.json"), self.infer_json());
        plan.text(
            &format!("{CONF_DIR}/default.json"),
            "{\n  \"server.hostname\": \"localhost\",\n  \"server.offset\": \"0\",\n  \"super_admin.username\": \"admin\"\n}\n",
        );
        if self.is_api_manager_4() {
            plan.text(
                &format!("{CONF_DIR}/org.wso2.carbon.apimgt.core.default.json"),
                "{\n  \"apim.sync_runtime_artifacts.gateway.enable\": true,\n  \"apim.sync_runtime_artifacts.gateway.gateway_labels\": [\"Default\"],\n  \"apim.sync_runtime_artifacts.gateway.artifact_retriever\": \"DBRetriever\"\n}\n",
            );
        }
        plan.text(
            &format!("{CONF_DIR}/templates/repository/conf/api-manager.xml.j2"),
            self.api_manager_template(),
        );
        for (path, text) in self.other_templates() {
            plan.text(&format!("{CONF_DIR}/templates/{path}"), text);
        }
        plan.text(
            &format!("{CONF_DIR}/key-mappings.json"),
            self.key_mappings(),
        );
    }

    /// A few entries of `key-mappings.json` (old key to the key the release reads), as the
    /// real file has them; 4.0.0 added the analytics one.
    fn key_mappings(&self) -> String {
        let mut entries = vec![
            (
                "transport.http.socket_timeout",
                "passthru_http.'http.socket.timeout'",
            ),
            (
                "transport.http.core_worker_pool_size",
                "passthru_http.worker_pool_size_core",
            ),
            (
                "transport.http.max_worker_pool_size",
                "passthru_http.worker_pool_size_max",
            ),
        ];
        if self.is_api_manager_4() {
            entries.push((
                "apim.analytics.config_endpoint",
                "apim.analytics.properties.'auth.api.url'",
            ));
        }
        let lines: Vec<String> = entries
            .iter()
            .map(|(from, to)| format!("  \"{from}\": \"{to}\""))
            .collect();
        format!("{{\n{}\n}}\n", lines.join(",\n"))
    }

    /// The templates of carbon.xml, master-datasources.xml, user-mgt.xml and identity.xml,
    /// short: the keys they read are those of the real templates for the settings the sample
    /// deployment.toml holds.
    fn other_templates(&self) -> Vec<(&'static str, String)> {
        let mut databases = String::from("<datasources>\n");
        for name in ["apim_db", "shared_db", "user", "config", "local"] {
            databases.push_str(&format!(
                "{{% if database.{name} is defined %}}\n<datasource><name>{name}</name><type>{{{{database.{name}.type}}}}</type>\n\
                 <url>{{{{database.{name}.url}}}}</url><username>{{{{database.{name}.username}}}}</username>\n\
                 <password>{{{{database.{name}.password}}}}</password><driverClassName>{{{{database.{name}.driver}}}}</driverClassName>\n\
                 <validationQuery>{{{{database.{name}.validationQuery}}}}</validationQuery>\n\
                 {{% for key, value in database.{name}.pool_options.items() %}}<{{{{key}}}}>{{{{value}}}}</{{{{key}}}}>{{% endfor %}}\n\
                 </datasource>\n{{% endif %}}\n"
            ));
        }
        databases.push_str("</datasources>\n");
        let carbon = "<Server>\n<HostName>{{server.hostname}}</HostName><NodeIp>{{server.node_ip}}</NodeIp>\n\
            <Offset>{{server.offset}}</Offset><Mode>{{server.mode}}</Mode><BasePath>{{server.base_path}}</BasePath>\n\
            <Role>{{server.server_role}}</Role><Caches>{{server.discard_empty_caches}}</Caches>\n\
            {% for name, store in keystore.items() %}<KeyStore name=\"{{name}}\">{{store.file_name}}</KeyStore>{% endfor %}\n\
            <TrustStore>{{truststore.file_name}} {{truststore.type}} {{truststore.password}}</TrustStore>\n</Server>\n"
            .to_string();
        let user_mgt = "<UserManager>\n<AdminUser>{{super_admin.username}} {{super_admin.password}} {{super_admin.admin_role}} {{super_admin.create_admin_account}}</AdminUser>\n\
            <DataSource>{{realm_manager.data_source}}</DataSource>\n\
            <UserStore type=\"{{user_store.type}}\">{{user_store.connection_url}} {{user_store.connection_name}} {{user_store.connection_password}} {{user_store.base_dn}} {{user_store.user_search_base}} {{user_store.group_search_base}}\n\
            {% for key, value in user_store.properties.items() %}<Property name=\"{{key}}\">{{value}}</Property>{% endfor %}</UserStore>\n</UserManager>\n"
            .to_string();
        let identity = "<Server>\n{% for handler in event_handler %}<Handler>{{handler.name}}</Handler>{% endfor %}\n\
            {% for listener in event_listener %}<Listener>{{listener.id}}</Listener>{% endfor %}\n\
            <SPNameRegex>{{service_provider.sp_name_regex}}</SPNameRegex>\n\
            <TokenExchange>{{oauth.grant_type.token_exchange.enable}} {{oauth.grant_type.token_exchange.allow_refresh_tokens}} {{oauth.grant_type.token_exchange.iat_validity_period}}</TokenExchange>\n\
            <Encryption>{{encryption.key}}</Encryption>\n<Indexing>{{indexing.re_indexing}}</Indexing>\n</Server>\n"
            .to_string();
        vec![
            ("repository/conf/carbon.xml.j2", carbon),
            (
                "repository/conf/datasources/master-datasources.xml.j2",
                databases,
            ),
            ("repository/conf/user-mgt.xml.j2", user_mgt),
            ("repository/conf/identity/identity.xml.j2", identity),
        ]
    }

    /// The roles of `infer.json`'s `server.server_role`, as each release names them (3.0.0
    /// still says `api-store` where its templates say `api-devportal`).
    fn infer_roles(&self) -> Vec<&'static str> {
        if self.distribution.is_some() {
            return vec!["default"];
        }
        if !self.is_api_manager_4() {
            let store = if self.parsed_version < V3_1_0 {
                "api-store"
            } else {
                "api-devportal"
            };
            return vec![
                "gateway-worker",
                "api-key-manager",
                "api-publisher",
                store,
                "traffic-manager",
                "default",
            ];
        }
        let mut roles = vec!["gateway-worker", "api-key-manager-deprecated"];
        if self
            .profile_template_names()
            .contains(&"api-publisher-deprecated")
        {
            roles.extend(["api-publisher-deprecated", "api-devportal-deprecated"]);
        }
        roles.extend(["traffic-manager", "control-plane", "default"]);
        roles
    }

    fn infer_json(&self) -> String {
        let mut entries = Vec::new();
        for role in self.infer_roles() {
            let sync_off = role == "control-plane"
                || (role == "default"
                    && self.distribution == Some(SampleDistribution::ApiControlPlane));
            let mut settings = Vec::new();
            if role != "default" {
                settings.push(format!("\"system.parameter.profile\": \"{role}\""));
            }
            if role == "gateway-worker" {
                settings.push("\"indexing.enable\": false".to_string());
            }
            if sync_off {
                settings
                    .push("\"apim.sync_runtime_artifacts.gateway.enable\": \"false\"".to_string());
            }
            entries.push(format!(
                "    \"{role}\": {{{}}}",
                if settings.is_empty() {
                    String::new()
                } else {
                    format!(" {} ", settings.join(", "))
                }
            ));
        }
        format!(
            "{{\n  \"server.server_role\": {{\n{}\n  }}\n}}\n",
            entries.join(",\n")
        )
    }

    /// The names `api-manager.xml.j2` keeps in the skip lists itself: `_OpenService_.xml` and
    /// the stock sequences of the release.
    pub(crate) fn template_exempt_sequences(&self) -> Vec<String> {
        let mut names: Vec<&str> = vec![
            "_auth_failure_handler_",
            "_build_",
            "_cors_request_handler_",
            "dispatchSeq",
            "fault",
            "_graphql_failure_handler_",
            "main",
            "outDispatchSeq",
            "_production_key_error_",
            "_resource_mismatch_handler_",
            "_sandbox_key_error_",
            "_threat_fault_",
            "_throttle_out_handler_",
            "_token_fault_",
            "webhooksFaultSequence",
            "_block_api_handler_",
            "_backend_failure_handler_",
        ];
        if self.parsed_version >= V4_1_0 {
            names.push("_opa_policy_failure_handler_");
        }
        if self.parsed_version >= V4_6_0 {
            names.extend([
                "_extension_fault_handler_",
                "guardrail_fault",
                "_mcp_failure_handler_",
            ]);
        }
        names.iter().map(|name| format!("{name}.xml")).collect()
    }

    /// A short `api-manager.xml.j2`: a few settings, and for 4.x the gateway's skip lists.
    fn api_manager_template(&self) -> String {
        let mut text = format!(
            "<!-- Synthetic template of a WSO2 API Manager {} pack, written by apim-migrate's sample builder.\n     \
             It renders repository/conf/api-manager.xml from deployment.toml; a real one holds far more. -->\n\
             <APIManager>\n    <DataSourceName>{{{{apim.datasource.name}}}}</DataSourceName>\n    \
             <GatewayType>{{{{apim.gateway_type}}}}</GatewayType>\n",
            self.version
        );
        text.push_str(
            "    {% for environment in apim.gateway.environment %}<Environment>{{environment.name}}</Environment>{% endfor %}\n    \
             <CORS>{{apim.cors.allow_origins}} {{apim.cors.allow_methods}} {{apim.cors.allow_headers}} {{apim.cors.allow_credentials}}</CORS>\n    \
             <Cache>{{apim.cache.gateway_token.enable}} {{apim.cache.gateway_token.expiry_time}} {{apim.cache.resource.enable}} {{apim.cache.resource.expiry_time}} {{apim.cache.km_token.enable}} {{apim.cache.km_token.expiry_time}} {{apim.cache.scopes.enable}}</Cache>\n    \
             <KeyManager>{{apim.key_manager.service_url}} {{apim.key_manager.username}} {{apim.key_manager.password}} {{apim.key_manager.type}}</KeyManager>\n    \
             <JWT>{{apim.jwt.enable}} {{apim.jwt.header}}</JWT>\n    \
             <Throttling>{{apim.throttling.enable_data_publishing}} {{apim.throttling.enable_policy_deploy}}{% for group in apim.throttling.url_group %}{{group.type}}{% endfor %}</Throttling>\n    \
             <Analytics>{{apim.analytics.enable}}</Analytics>\n",
        );
        if self.is_api_manager_4() {
            text.push_str("    <AnalyticsToken>{{apim.analytics.auth_token}} {{apim.analytics.config_endpoint}}{% for key, value in apim.analytics.properties.items() %}{{key}}{% endfor %}</AnalyticsToken>\n    <Labels>{{apim.sync_runtime_artifacts.gateway.gateway_labels}}</Labels>\n");
        } else {
            text.push_str("    <AnalyticsUrls>{{apim.analytics.store_api_url}} {{apim.analytics.username}} {{apim.analytics.password}} {{apim.analytics.url_group}}</AnalyticsUrls>\n    <AuthManager>{{apim.auth_manager.service_url}}</AuthManager>\n");
        }
        if self.parsed_version >= crate::V3_2_0 {
            text.push_str(
                "    <AllowedScopes>{{apim.oauth_config.allowed_scopes}}</AllowedScopes>\n",
            );
        } else {
            text.push_str(
                "    <ScopeWhitelist>{{apim.oauth_config.white_listed_scopes}}</ScopeWhitelist>\n",
            );
        }
        if self.is_api_manager_4() {
            text.push_str(
                "    {% if apim.sync_runtime_artifacts.gateway is defined %}\n    <SyncRuntimeArtifactsGateway>\n        \
                 <Enable>{{apim.sync_runtime_artifacts.gateway.enable}}</Enable>\n        <SkipList>\n        <APIS>\n            \
                 <API>_OpenService_.xml</API>\n",
            );
            for (kind, element, container_close, next_open) in [
                ("apis", "API", "</APIS>", "<Endpoints>"),
                ("endpoints", "Endpoint", "</Endpoints>", "<Sequences>"),
                ("sequences", "Sequence", "</Sequences>", "<LocalEntries>"),
                ("local_entries", "LocalEntry", "</LocalEntries>", ""),
            ] {
                if kind == "sequences" {
                    for name in self.template_exempt_sequences() {
                        text.push_str(&format!("            <Sequence>{name}</Sequence>\n"));
                    }
                }
                text.push_str(&format!(
                    "        {{% if apim.sync_runtime_artifacts.gateway.skip_list.{kind} is defined %}}\n            \
                     {{%- for name in apim.sync_runtime_artifacts.gateway.skip_list.{kind} -%}}\n            \
                     <{element}>{{{{name}}}}</{element}>\n            {{% endfor %}}\n        {{% endif %}}\n        {container_close}\n"
                ));
                if !next_open.is_empty() {
                    text.push_str(&format!("        {next_open}\n"));
                }
            }
            text.push_str(
                "        </SkipList>\n    </SyncRuntimeArtifactsGateway>\n    {% endif %}\n",
            );
        }
        text.push_str("</APIManager>\n");
        text
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::read;
    use crate::PackBuilder;

    #[test]
    fn the_conf_model_names_the_profiles_and_the_skip_lists_of_each_release() {
        let temp = tempfile::tempdir().expect("temp dir");
        let dir = PackBuilder::api_manager("4.6.0")
            .write(&temp.path().join("all"))
            .expect("pack");
        let infer: serde_json::Value =
            serde_json::from_str(&read(&dir, "repository/resources/conf/infer.json"))
                .expect("json");
        assert_eq!(
            infer["server.server_role"]["control-plane"]
                ["apim.sync_runtime_artifacts.gateway.enable"],
            "false"
        );
        assert!(infer["server.server_role"]
            .get("api-publisher-deprecated")
            .is_none());
        let template = read(
            &dir,
            "repository/resources/conf/templates/repository/conf/api-manager.xml.j2",
        );
        for needed in [
            "apim.sync_runtime_artifacts.gateway.skip_list.local_entries",
            "<Sequence>guardrail_fault.xml</Sequence>",
            "<API>_OpenService_.xml</API>",
        ] {
            assert!(template.contains(needed), "{needed}");
        }

        let control_plane = PackBuilder::api_control_plane("4.5.0")
            .write(&temp.path().join("acp"))
            .expect("pack");
        let infer: serde_json::Value = serde_json::from_str(&read(
            &control_plane,
            "repository/resources/conf/infer.json",
        ))
        .expect("json");
        assert_eq!(
            infer["server.server_role"]["default"]["apim.sync_runtime_artifacts.gateway.enable"],
            "false"
        );
        let three = PackBuilder::api_manager("3.0.0")
            .write(&temp.path().join("three"))
            .expect("pack");
        let template = read(
            &three,
            "repository/resources/conf/templates/repository/conf/api-manager.xml.j2",
        );
        assert!(!template.contains("skip_list"));
        let infer = read(&three, "repository/resources/conf/infer.json");
        assert!(infer.contains("\"api-store\""), "{infer}");
    }
}
