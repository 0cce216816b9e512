//! Secure vault: `$secret{}` references, cipher-text and cipher-tool properties, secret-conf.properties.

use crate::binary::derived_bytes;
use crate::encoding::{base64, toml_string};
use crate::PackBuilder;

impl PackBuilder {
    fn vault_aliases(&self) -> &[String] {
        self.secure_vault_aliases.as_deref().unwrap_or(&[])
    }

    /// A TOML string value for a password key: a `$secret{}` reference when the secure vault holds
    /// an alias for this slot, otherwise the plain text.
    pub(crate) fn password_value(&self, slot: usize, plain: &str) -> String {
        match self.vault_aliases().get(slot) {
            Some(alias) => toml_string(&format!("$secret{{{alias}}}")),
            None => toml_string(plain),
        }
    }

    /// An encrypted-looking value: base64 of bytes derived from the alias and the pack version.
    pub(crate) fn cipher_text(&self, alias: &str) -> String {
        base64(&derived_bytes(&self.seed(&format!("cipher/{alias}")), 128))
    }

    pub(crate) fn cipher_text_properties(&self) -> String {
        let mut entries = vec![
            ("Carbon.Security.KeyStore.Password", "wso2carbon"),
            ("Carbon.Security.KeyStore.KeyPassword", "wso2carbon"),
            ("Carbon.Security.TrustStore.Password", "wso2carbon"),
            ("UserManager.AdminUser.Password", "admin"),
        ];
        if !self.uses_deployment_toml() {
            entries.push((
                "Datasources.WSO2_CARBON_DB.Configuration.Password",
                "wso2carbon",
            ));
        }
        let vault = self.secure_vault_aliases.is_some();
        let mut text = String::from(
            "# Secrets read by the secure vault, one `alias=value` per line. A value in square\n\
             # brackets is plain text that `ciphertool.sh -Dconfigure` encrypts on its next run.\n\n",
        );
        for (alias, plain) in entries {
            let value = if vault {
                self.cipher_text(alias)
            } else {
                format!("[{plain}]")
            };
            text.push_str(&format!("{alias}={value}\n"));
        }
        for alias in self.vault_aliases() {
            text.push_str(&format!("{alias}={}\n", self.cipher_text(alias)));
        }
        text
    }

    pub(crate) fn cipher_tool_properties(&self) -> String {
        let mut text = String::from(
            "# Where each secret lives: alias=file//xpath,whether-the-value-is-an-attribute\n\n\
             Carbon.Security.KeyStore.Password=repository/conf/carbon.xml//Server/Security/KeyStore/Password,false\n\
             Carbon.Security.KeyStore.KeyPassword=repository/conf/carbon.xml//Server/Security/KeyStore/KeyPassword,false\n\
             Carbon.Security.TrustStore.Password=repository/conf/carbon.xml//Server/Security/TrustStore/Password,false\n\
             UserManager.AdminUser.Password=repository/conf/user-mgt.xml//UserManager/Realm/Configuration/AdminUser/Password,false\n",
        );
        if !self.uses_deployment_toml() {
            text.push_str(
                "Datasources.WSO2_CARBON_DB.Configuration.Password=repository/conf/datasources/master-datasources.xml\
                 //datasources-configuration/datasources/datasource[name='WSO2_CARBON_DB']/definition[@type='RDBMS']/configuration/password,false\n",
            );
        }
        text
    }

    /// API-M 3.x+ packs ship no secret-conf.properties until the cipher tool writes one; IS and
    /// 1.x/2.x packs ship it with every line commented out.
    pub(crate) fn secret_conf_properties(&self) -> Option<String> {
        let header = "# Secure vault settings: where the secrets are kept and which keystore decrypts them.\n";
        let lines = [
            "secVault.enabled=true",
            "carbon.secretProvider=org.wso2.securevault.secret.handler.SecretManagerSecretCallbackHandler",
            "secretRepositories=file",
            "secretRepositories.file.provider=org.wso2.securevault.secret.repository.FileBaseSecretRepositoryProvider",
            "secretRepositories.file.location=repository/conf/security/cipher-text.properties",
            "keystore.identity.location=repository/resources/security/wso2carbon.jks",
            "keystore.identity.type=JKS",
            "keystore.identity.alias=wso2carbon",
            "keystore.identity.store.password=identity.store.password",
            "keystore.identity.store.secretProvider=org.wso2.carbon.securevault.DefaultSecretCallbackHandler",
        ];
        if self.secure_vault_aliases.is_some() {
            let mut text = format!("{header}# Written by ciphertool.sh -Dconfigure.\n\n");
            for line in lines {
                text.push_str(line);
                text.push('\n');
            }
            return Some(text);
        }
        if self.is_api_manager() && self.uses_deployment_toml() {
            return None;
        }
        let mut text =
            format!("{header}# Unused until ciphertool.sh -Dconfigure enables the vault.\n\n");
        for line in lines {
            text.push('#');
            text.push_str(&line.replace("secVault.enabled=true", "secVault.enabled=false"));
            text.push('\n');
        }
        Some(text)
    }
}
