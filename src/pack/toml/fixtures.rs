//! Documents and helpers that the unit tests of the TOML module share.

#![allow(clippy::unwrap_used)]

use crate::pack::toml::{get, merge_skip_list, parse, parse_key_path, SkipKind, SkipListMerge};

/// A shortened WSO2 API Manager 4.1.0 `deployment.toml`, with its commented blocks, array
/// tables and odd spacing kept.
pub(super) const STOCK: &str = r#"[server]
hostname = "localhost"
#offset=0
base_path = "${carbon.protocol}://${carbon.host}:${carbon.management.port}"
#discard_empty_caches = false
server_role = "default"

[super_admin]
username = "admin"
password = "admin"
create_admin_account = true

[user_store]
type = "database_unique_id"

[database.apim_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[database.shared_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[keystore.tls]
file_name =  "wso2carbon.jks"
type =  "JKS"
password =  "wso2carbon"
alias =  "wso2carbon"
key_password =  "wso2carbon"

#[keystore.primary]
#file_name =  "wso2carbon.jks"
#type =  "JKS"
#password =  "wso2carbon"
#alias =  "wso2carbon"
#key_password =  "wso2carbon"

[[apim.gateway.environment]]
name = "Default"
type = "hybrid"
display_in_api_console = true
description = "This is a hybrid gateway that handles both production and sandbox token traffic."
show_as_token_endpoint_url = true
service_url = "https://localhost:${mgt.transport.https.port}/services/"
username= "${admin.username}"
password= "${admin.password}"
ws_endpoint = "ws://localhost:9099"
wss_endpoint = "wss://localhost:8099"
http_endpoint = "http://localhost:${http.nio.port}"
https_endpoint = "https://localhost:${https.nio.port}"

[apim.sync_runtime_artifacts.gateway]
gateway_labels =["Default"]

#[apim.cache.gateway_token]
#enable = true
#expiry_time = "900s"

#[apim.cache.resource]
#enable = true
#expiry_time = "900s"

#[apim.cache.km_token]
#enable = false
#expiry_time = "15m"

[apim.analytics]
enable = false
config_endpoint = "https://localhost:8080/auth/v1"
auth_token = ""

[apim.oauth_config]
#enable_outbound_auth_header = false
#auth_header = "Authorization"
#revoke_endpoint = "https://localhost:${https.nio.port}/revoke"

[apim.devportal]
#url = "https://localhost:${mgt.transport.https.port}/devportal"
#enable_application_sharing = false

[transport.https.properties]
proxyPort = 443

[[event_handler]]
name="userPostSelfRegistration"
subscriptions=["POST_ADD_USER"]

[service_provider]
sp_name_regex = "^[\\sa-zA-Z0-9._-]*$"

[[event_listener]]
id = "token_revocation"
type = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"
name = "org.wso2.is.notification.ApimOauthEventInterceptor"
order = 1
[event_listener.properties]
notification_endpoint = "https://localhost:${mgt.transport.https.port}/internal/data/v1/notify"
username = "${admin.username}"
password = "${admin.password}"
'header.X-WSO2-KEY-MANAGER' = "default"

[oauth.grant_type.token_exchange]
enable = true
allow_refresh_tokens = true
iat_validity_period = "1h"

#[apim.token.revocation]
#notifier_impl = "org.wso2.carbon.apimgt.keymgt.events.TokenRevocationNotifierImpl"
"#;

pub(super) const FILE: &str = "/pack/repository/conf/deployment.toml";

pub(super) fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

pub(super) fn merge(text: &str, kind: SkipKind, names: &[&str]) -> SkipListMerge {
    merge_skip_list(text, FILE, kind, &strings(names)).unwrap()
}

pub(super) fn path(dotted: &str) -> Vec<String> {
    parse_key_path(dotted).unwrap()
}

pub(super) fn list(text: &str, kind: SkipKind) -> Option<Vec<String>> {
    let doc = parse(text, FILE).unwrap();
    let mut key = path("apim.sync_runtime_artifacts.gateway.skip_list");
    key.push(kind.key().to_owned());
    let array = get(&doc, &key)?.as_array()?;
    Some(
        array
            .iter()
            .map(|value| value.as_str().unwrap().to_owned())
            .collect(),
    )
}

/// Asserts that the lines of `before` for which `kept` holds appear in `after` in the same
/// order, each as a whole line.
pub(super) fn assert_lines_kept(before: &str, after: &str, kept: impl Fn(&str) -> bool) {
    let mut remaining = after.split('\n');
    for line in before.split('\n').filter(|line| kept(line)) {
        assert!(
            remaining.any(|candidate| candidate == line),
            "line {line:?} of the input is missing or out of order in:\n{after}"
        );
    }
}

/// The same check when every input line must survive.
pub(super) fn assert_all_lines_kept(before: &str, after: &str) {
    assert_lines_kept(before, after, |_| true);
}

pub(super) fn skip_table(body: &str) -> String {
    format!(
        "[apim.sync_runtime_artifacts.gateway]\ngateway_labels =[\"Default\"]\n\n\
         [apim.sync_runtime_artifacts.gateway.skip_list]\n{body}\n# after\n[apim.analytics]\nenable = false\n"
    )
}
