//! Configuration texts: carbon.xml, deployment.toml, profile templates, api-manager.xml, user-mgt.xml, user stores.

use crate::binary::derived_bytes;
use crate::encoding::{base64, hex_sha256, toml_key, toml_string, xml_escape};
use crate::{PackBuilder, SAMPLE_NOTICE, V2_0_0, V3_1_0, V3_2_0, V4_0_0, V4_1_0, V4_2_0};

impl PackBuilder {
    pub(crate) fn carbon_xml(&self) -> String {
        let legacy_vault = !self.uses_deployment_toml() && self.secure_vault_aliases.is_some();
        let namespace = if legacy_vault {
            r#" xmlns:svns="http://org.wso2.securevault/configuration""#
        } else {
            ""
        };
        let secret = |alias: &str, plain: &str| -> (String, String) {
            if legacy_vault {
                (
                    format!(r#" svns:secretAlias="{alias}""#),
                    "password".to_string(),
                )
            } else {
                (String::new(), plain.to_string())
            }
        };
        let (keystore_attr, keystore_password) =
            secret("Carbon.Security.KeyStore.Password", "wso2carbon");
        let (key_attr, key_password) = secret("Carbon.Security.KeyStore.KeyPassword", "wso2carbon");
        let (trust_attr, trust_password) =
            secret("Carbon.Security.TrustStore.Password", "wso2carbon");
        let name = self.display_name();
        let key = self.server_key();
        let version = &self.version;
        // 1.x files list the version before the server key; later kernels swapped the two.
        let identity = if self.is_api_manager() && self.parsed_version < V2_0_0 {
            format!(
                "    <Name>{name}</Name>\n    <Version>{version}</Version>\n    <ServerKey>{key}</ServerKey>\n"
            )
        } else {
            format!(
                "    <Name>{name}</Name>\n    <ServerKey>{key}</ServerKey>\n    <Version>{version}</Version>\n"
            )
        };
        let internal_keystore = if self.uses_deployment_toml() {
            "        <!-- Keystore used to encrypt data kept in the databases. -->\n        \
             <InternalKeyStore>\n            \
             <Location>${carbon.home}/repository/resources/security/wso2carbon.jks</Location>\n            \
             <Type>JKS</Type>\n            <Password>wso2carbon</Password>\n            \
             <KeyAlias>wso2carbon</KeyAlias>\n            <KeyPassword>wso2carbon</KeyPassword>\n        \
             </InternalKeyStore>\n"
        } else {
            ""
        };
        let hostname = crate::encoding::xml_escape(&self.hostname);
        let offset = self.offset.unwrap_or(0);
        format!(
            r#"<?xml version="1.0" encoding="ISO-8859-1"?>
{SAMPLE_NOTICE}
<!-- Server-wide settings of the Carbon kernel: identity of the product, ports, keystores. -->
<Server xmlns="http://wso2.org/projects/carbon/carbon.xml"{namespace}>
{identity}    <HostName>{hostname}</HostName>
    <MgtHostName>{hostname}</MgtHostName>
    <ServerURL>local:/${{carbon.context}}/services/</ServerURL>
    <Ports>
        <!-- Every port of the server is shifted by this offset. -->
        <Offset>{offset}</Offset>
    </Ports>
    <Security>
        <!-- Primary keystore: signs tokens and encrypts secrets. -->
        <KeyStore>
            <Location>${{carbon.home}}/repository/resources/security/wso2carbon.jks</Location>
            <Type>JKS</Type>
            <Password{keystore_attr}>{keystore_password}</Password>
            <KeyAlias>wso2carbon</KeyAlias>
            <KeyPassword{key_attr}>{key_password}</KeyPassword>
        </KeyStore>
{internal_keystore}        <!-- Certificates of the parties this server trusts. -->
        <TrustStore>
            <Location>${{carbon.home}}/repository/resources/security/client-truststore.jks</Location>
            <Type>JKS</Type>
            <Password{trust_attr}>{trust_password}</Password>
        </TrustStore>
    </Security>
    <WorkDirectory>${{carbon.home}}/tmp/work</WorkDirectory>
</Server>
"#
        )
    }

    /// Site text and `[secrets]`, which must stay the last table of the file.
    fn toml_tail(&self) -> String {
        let mut text = String::new();
        for extra in &self.toml_extras {
            text.push('\n');
            text.push_str(extra);
            if !extra.ends_with('\n') {
                text.push('\n');
            }
        }
        if let Some(aliases) = &self.secure_vault_aliases {
            text.push_str("\n[secrets]\n");
            for alias in aliases {
                text.push_str(&format!(
                    "{} = {}\n",
                    toml_key(alias),
                    toml_string(&self.cipher_text(alias))
                ));
            }
        }
        text
    }

    pub(crate) fn api_manager_deployment_toml(&self) -> String {
        let v4 = self.is_api_manager_4();
        let mut text = format!(
            "# Main configuration of a synthetic WSO2 API Manager {} pack, written by apim-migrate's\n\
             # sample builder. The XML configs are rendered from this file at start-up. Shortened:\n\
             # the file of a real pack carries many more commented-out examples.\n\n",
            self.version
        );
        text.push_str(&format!(
            "[server]\nhostname = {}\n",
            toml_string(&self.hostname)
        ));
        if !v4 {
            text.push_str("node_ip = \"127.0.0.1\"\n");
        }
        match self.offset {
            Some(offset) => text.push_str(&format!("offset = {offset}\n")),
            None => text.push_str("#offset = 0\n"),
        }
        if !v4 {
            text.push_str("mode = \"single\" # single or ha\n");
        }
        text.push_str(
            "base_path = \"${carbon.protocol}://${carbon.host}:${carbon.management.port}\"\n\
             #discard_empty_caches = false\n",
        );
        text.push_str(&format!("server_role = \"{}\"\n\n", self.server_role));
        text.push_str(&format!(
            "[super_admin]\nusername = \"admin\"\npassword = {}\ncreate_admin_account = true\n\n",
            self.password_value(0, "admin")
        ));
        text.push_str(&format!(
            "[user_store]\ntype = \"{}\"\n\n",
            if self.parsed_version >= V3_1_0 {
                "database_unique_id"
            } else {
                "database"
            }
        ));
        text.push_str(&self.toml_databases(&[
            (
                "apim_db",
                "jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE",
            ),
            (
                "shared_db",
                "jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE",
            ),
        ]));
        text.push_str(&format!(
            "[keystore.tls]\nfile_name = \"wso2carbon.jks\"\ntype = \"JKS\"\npassword = {}\n\
             alias = \"wso2carbon\"\nkey_password = {}\n\n",
            self.password_value(1, "wso2carbon"),
            self.password_value(2, "wso2carbon")
        ));
        if v4 {
            text.push_str(
                "# From 4.0.0 the keystore that signs tokens can differ from the TLS one.\n\
                 #[keystore.primary]\n#file_name = \"wso2carbon.jks\"\n#type = \"JKS\"\n\
                 #password = \"wso2carbon\"\n#alias = \"wso2carbon\"\n#key_password = \"wso2carbon\"\n\n\
                 #[keystore.internal]\n#file_name = \"wso2carbon.jks\"\n#type = \"JKS\"\n\
                 #password = \"wso2carbon\"\n#alias = \"wso2carbon\"\n#key_password = \"wso2carbon\"\n\n",
            );
        }
        text.push_str("[[apim.gateway.environment]]\n");
        if v4 {
            text.push_str("name = \"Default\"\ntype = \"hybrid\"\nprovider = \"wso2\"\n");
        } else {
            text.push_str("name = \"Production and Sandbox\"\ntype = \"hybrid\"\n");
        }
        text.push_str(
            "display_in_api_console = true\n\
             description = \"This is a hybrid gateway that handles both production and sandbox token traffic.\"\n\
             show_as_token_endpoint_url = true\n\
             service_url = \"https://localhost:${mgt.transport.https.port}/services/\"\n\
             username = \"${admin.username}\"\n\
             password = \"${admin.password}\"\n\
             ws_endpoint = \"ws://localhost:9099\"\n\
             wss_endpoint = \"wss://localhost:8099\"\n\
             http_endpoint = \"http://localhost:${http.nio.port}\"\n\
             https_endpoint = \"https://localhost:${https.nio.port}\"\n",
        );
        if v4 {
            text.push_str(
                "websub_event_receiver_http_endpoint = \"http://localhost:9021\"\n\
                 websub_event_receiver_https_endpoint = \"https://localhost:8021\"\n\n\
                 [apim.sync_runtime_artifacts.gateway]\n\
                 gateway_labels =[\"Default\"]\n",
            );
        }
        text.push_str(
            "\n#[apim.cache.gateway_token]\n#enable = true\n#expiry_time = \"900s\"\n\n\
             #[apim.cache.resource]\n#enable = true\n#expiry_time = \"900s\"\n\n\
             #[apim.cache.km_token]\n#enable = false\n#expiry_time = \"15m\"\n\n\
             #[apim.cache.scopes]\n#enable = true\n\n",
        );
        if v4 {
            text.push_str("[apim.analytics]\nenable = false\n");
            if self.parsed_version == V4_0_0 {
                text.push_str("config_endpoint = \"https://localhost:8080/auth/v1\"\n");
            }
            text.push_str("auth_token = \"\"\n\n");
        } else {
            text.push_str(
                "#[apim.analytics]\n#enable = false\n#store_api_url = \"https://localhost:7444\"\n\
                 #username = \"$ref{super_admin.username}\"\n#password = \"$ref{super_admin.password}\"\n\n",
            );
        }
        text.push_str(
            "#[apim.key_manager]\n\
             #service_url = \"https://localhost:${mgt.transport.https.port}/services/\"\n\
             #username = \"$ref{super_admin.username}\"\n\
             #password = \"$ref{super_admin.password}\"\n\n\
             #[apim.jwt]\n#enable = true\n#header = \"X-JWT-Assertion\"\n\n",
        );
        let allow_headers = if v4 {
            r#"["authorization","Access-Control-Allow-Origin","Content-Type","SOAPAction","apikey","Internal-Key"]"#
        } else if self.parsed_version >= V3_2_0 {
            r#"["authorization","Access-Control-Allow-Origin","Content-Type","SOAPAction","apikey", "testKey"]"#
        } else if self.parsed_version >= V3_1_0 {
            r#"["authorization","Access-Control-Allow-Origin","Content-Type","SOAPAction","apikey"]"#
        } else {
            r#"["authorization","Access-Control-Allow-Origin","Content-Type","SOAPAction"]"#
        };
        if self.parsed_version >= V4_2_0 {
            text.push_str("[apim.key_manager]\nenable_apikey_subscription_validation = true\n\n");
        }
        text.push_str(&format!(
            "[apim.cors]\nallow_origins = \"*\"\n\
             allow_methods = [\"GET\",\"PUT\",\"POST\",\"DELETE\",\"PATCH\",\"OPTIONS\"]\n\
             allow_headers = {allow_headers}\nallow_credentials = false\n\n"
        ));
        text.push_str(
            "#[apim.throttling]\n#enable_data_publishing = true\n#enable_policy_deploy = true\n\n\
             #[[apim.throttling.url_group]]\n\
             #traffic_manager_urls = [\"tcp://localhost:9611\"]\n\
             #traffic_manager_auth_urls = [\"ssl://localhost:9711\"]\n\
             #type = \"loadbalance\"\n\n\
             [[event_handler]]\nname = \"userPostSelfRegistration\"\nsubscriptions = [\"POST_ADD_USER\"]\n\n\
             [service_provider]\nsp_name_regex = \"^[\\\\sa-zA-Z0-9._-]*$\"\n",
        );
        if self.parsed_version >= V3_1_0 {
            // Real packs carry this table with a URL but no type: readers must cope.
            text.push_str(
                "\n[database.local]\nurl = \"jdbc:h2:./repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE\"\n",
            );
        }
        if self.parsed_version >= V3_2_0 {
            text.push_str(
                "\n[[event_listener]]\nid = \"token_revocation\"\n\
                 type = \"org.wso2.carbon.identity.core.handler.AbstractIdentityHandler\"\n\
                 name = \"org.wso2.is.notification.ApimOauthEventInterceptor\"\norder = 1\n\
                 [event_listener.properties]\n\
                 notification_endpoint = \"https://localhost:${mgt.transport.https.port}/internal/data/v1/notify\"\n\
                 username = \"${admin.username}\"\npassword = \"${admin.password}\"\n\
                 'header.X-WSO2-KEY-MANAGER' = \"default\"\n",
            );
        }
        if self.parsed_version >= V4_1_0 {
            text.push_str(
                "\n[oauth.grant_type.token_exchange]\nenable = true\nallow_refresh_tokens = true\niat_validity_period = \"1h\"\n",
            );
        }
        text.push_str(&self.toml_tail());
        text
    }

    pub(crate) fn identity_server_deployment_toml(&self) -> String {
        let mut text = format!(
            "# Main configuration of a synthetic WSO2 Identity Server {} pack, written by\n\
             # apim-migrate's sample builder. Shortened from what a real pack ships.\n\n",
            self.version
        );
        text.push_str(
            "[server]\nhostname = \"localhost\"\nnode_ip = \"127.0.0.1\"\n\
             base_path = \"https://$ref{server.hostname}:${carbon.management.port}\"\n\n",
        );
        text.push_str(&format!(
            "[super_admin]\nusername = \"admin\"\npassword = {}\ncreate_admin_account = true\n\n",
            self.password_value(0, "admin")
        ));
        text.push_str(
            "[user_store]\ntype = \"read_write_ldap_unique_id\"\n\
             connection_url = \"ldap://localhost:${Ports.EmbeddedLDAP.LDAPServerPort}\"\n\
             connection_name = \"uid=admin,ou=system\"\n\
             connection_password = \"admin\"\n\
             base_dn = \"dc=wso2,dc=org\" # search bases of users and groups hang below this\n\n",
        );
        text.push_str(&self.toml_databases(&[
            (
                "identity_db",
                "jdbc:h2:./repository/database/WSO2IDENTITY_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000",
            ),
            (
                "shared_db",
                "jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=60000",
            ),
        ]));
        text.push_str(&format!(
            "[keystore.primary]\nfile_name = \"wso2carbon.jks\"\npassword = {}\n\n\
             [truststore]\nfile_name = \"client-truststore.jks\"\npassword = {}\ntype = \"JKS\"\n\n",
            self.password_value(1, "wso2carbon"),
            self.password_value(2, "wso2carbon")
        ));
        text.push_str(
            "# The internal and TLS keystores default to the primary one.\n\
             #[keystore.internal]\n#file_name = \"$ref{keystore.primary.file_name}\"\n\
             #password = \"$ref{keystore.primary.password}\"\n\n\
             #[keystore.tls]\n#file_name = \"$ref{keystore.primary.file_name}\"\n\
             #password = \"$ref{keystore.primary.password}\"\n\n",
        );
        text.push_str(&format!(
            "[account_recovery.endpoint.auth]\nhash = \"{}\"\n\n\
             [identity.auth_framework.endpoint]\napp_password = \"dashboard\"\n",
            hex_sha256(self.seed("account-recovery").as_bytes())
        ));
        text.push_str(&self.toml_tail());
        text
    }

    /// The `server_role` a template of `deployment-templates/` sets: its own name, but for the
    /// templates named after what they configure (4.3.0's `api-key-manager-node` is a control
    /// plane; the control plane distribution's `key-manager` keeps the `default` role).
    pub(crate) fn template_role(template: &str) -> &str {
        match template {
            "api-key-manager-node" => "control-plane",
            "key-manager" => "default",
            other => other,
        }
    }

    pub(crate) fn profile_template(&self, profile: &str) -> String {
        let role = PackBuilder::template_role(profile);
        let mut text = format!(
            "# Template `{profile}` of a synthetic WSO2 API Manager {} pack.\n\
             # `profileSetup.sh -Dprofile={profile}` would copy it over deployment.toml.\n\n\
             [server]\nhostname = \"localhost\"\nnode_ip = \"127.0.0.1\"\nserver_role = \"{role}\"\n\n\
             [super_admin]\nusername = \"admin\"\npassword = \"admin\"\ncreate_admin_account = true\n\n\
             [database.shared_db]\ntype = \"h2\"\n\
             url = \"jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE\"\n\
             username = \"wso2carbon\"\npassword = \"wso2carbon\"\n\n\
             [keystore.tls]\nfile_name = \"wso2carbon.jks\"\ntype = \"JKS\"\npassword = \"wso2carbon\"\n\
             alias = \"wso2carbon\"\nkey_password = \"wso2carbon\"\n\n\
             [truststore]\nfile_name = \"client-truststore.jks\"\ntype = \"JKS\"\npassword = \"wso2carbon\"\n",
            self.version
        );
        if profile == "gateway-worker" && self.is_api_manager_4() {
            text.push_str(
                "\n[apim.sync_runtime_artifacts.gateway]\ngateway_labels = [\"Default\"]\n",
            );
        }
        text
    }

    pub(crate) fn api_manager_xml(&self) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
{SAMPLE_NOTICE}
<!-- API Manager settings of a synthetic {version} pack. -->
<APIManager>
    <!-- JNDI name of the datasource that holds the API Manager tables (master-datasources.xml). -->
    <DataSourceName>jdbc/WSO2AM_DB</DataSourceName>
    <GatewayType>Synapse</GatewayType>
    <EnableSecureVault>false</EnableSecureVault>
    <AuthManager>
        <ServerURL>https://localhost:${{mgt.transport.https.port}}${{carbon.context}}services/</ServerURL>
        <Username>${{admin.username}}</Username>
        <Password>${{admin.password}}</Password>
    </AuthManager>
    <APIGateway>
        <Environments>
            <Environment type="hybrid" api-console="true">
                <Name>Production and Sandbox</Name>
                <Description>This is a hybrid gateway that handles both production and sandbox token traffic.</Description>
                <ServerURL>https://localhost:${{mgt.transport.https.port}}${{carbon.context}}services/</ServerURL>
                <Username>${{admin.username}}</Username>
                <Password>${{admin.password}}</Password>
                <GatewayEndpoint>http://${{carbon.local.ip}}:${{http.nio.port}},https://${{carbon.local.ip}}:${{https.nio.port}}</GatewayEndpoint>
            </Environment>
        </Environments>
    </APIGateway>
    <CORSConfiguration>
        <Enabled>true</Enabled>
        <Access-Control-Allow-Origin>*</Access-Control-Allow-Origin>
        <Access-Control-Allow-Methods>GET,PUT,POST,DELETE,PATCH,OPTIONS</Access-Control-Allow-Methods>
    </CORSConfiguration>
</APIManager>
"#,
            version = self.version
        )
    }

    pub(crate) fn user_mgt_xml(&self) -> String {
        let (namespace, password) = if self.secure_vault_aliases.is_some() {
            (
                r#" xmlns:svns="http://org.wso2.securevault/configuration""#,
                r#"<Password svns:secretAlias="UserManager.AdminUser.Password">password</Password>"#,
            )
        } else {
            ("", "<Password>admin</Password>")
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
{SAMPLE_NOTICE}
<UserManager{namespace}>
    <Realm>
        <Configuration>
            <AddAdmin>true</AddAdmin>
            <AdminRole>admin</AdminRole>
            <AdminUser>
                <UserName>admin</UserName>
                {password}
            </AdminUser>
            <EveryOneRoleName>everyone</EveryOneRoleName>
            <Property name="dataSource">jdbc/WSO2CarbonDB</Property>
        </Configuration>
        <!-- Primary user store: users and roles in the carbon database. -->
        <UserStoreManager class="org.wso2.carbon.user.core.jdbc.JDBCUserStoreManager">
            <Property name="TenantManager">org.wso2.carbon.user.core.tenant.JDBCTenantManager</Property>
            <Property name="ReadOnly">false</Property>
            <Property name="PasswordDigest">SHA-256</Property>
            <Property name="StoreSaltedPassword">true</Property>
        </UserStoreManager>
        <AuthorizationManager class="org.wso2.carbon.user.core.authorization.JDBCAuthorizationManager">
            <Property name="AdminRoleManagementPermissions">/permission</Property>
        </AuthorizationManager>
    </Realm>
</UserManager>
"#
        )
    }

    pub(crate) fn userstore_xml(&self, tenant_id: Option<u32>, domain: &str) -> String {
        let scope = match tenant_id {
            None => "super".to_string(),
            Some(id) => id.to_string(),
        };
        let password = base64(&derived_bytes(&format!("userstore/{scope}/{domain}"), 128));
        let database = domain.replace('.', "_").to_ascii_uppercase();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
{SAMPLE_NOTICE}
<UserStoreManager class="org.wso2.carbon.user.core.jdbc.UniqueIDJDBCUserStoreManager">
    <Property name="DomainName">{domain}</Property>
    <Property name="Description">Secondary user store of the {domain} directory</Property>
    <Property name="url">jdbc:h2:./repository/database/{database}_DB</Property>
    <Property name="userName">ustore_reader</Property>
    <Property encrypted="true" name="password">{password}</Property>
    <Property name="driverName">org.h2.Driver</Property>
    <Property name="Disabled">false</Property>
    <Property name="ReadOnly">false</Property>
    <Property name="ReadGroups">true</Property>
    <Property name="WriteGroups">true</Property>
    <Property name="UsernameJavaRegEx">^[\S]{{3,40}}$</Property>
    <Property name="PasswordDigest">SHA-256</Property>
    <Property name="StoreSaltedPassword">true</Property>
</UserStoreManager>
"#,
            domain = xml_escape(domain),
            database = xml_escape(&database),
        )
    }
}
