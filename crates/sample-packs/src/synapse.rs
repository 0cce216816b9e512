//! Synapse artifacts: stock sequences, APIs, inbound endpoints and proxies by version, and site-written ones.

use crate::encoding::xml_escape;
use crate::{
    Version, SAMPLE_NOTICE, V1_9_1, V2_0_0, V2_6_0, V3_0_0, V3_1_0, V3_2_0, V4_0_0, V4_1_0, V4_3_0,
    V4_5_0, V4_6_0, V4_7_0,
};

/// Fault sequences that answer in JSON from 4.0.0 on; earlier packs answer with `<am:fault>` XML.
/// The key-error and resource-mismatch sequences kept their XML body in 4.x, as the real ones did.
const JSON_FAULT_SEQUENCES: [&str; 14] = [
    "_auth_failure_handler_",
    "_backend_failure_handler_",
    "_block_api_handler_",
    "_extension_fault_handler_",
    "_mcp_failure_handler_",
    "guardrail_fault",
    "_graphql_failure_handler_",
    "_opa_policy_failure_handler_",
    "_threat_fault_",
    "_throttle_out_handler_",
    "_token_fault_",
    "fault",
    "main",
    "webhooksFaultSequence",
];

/// Header clean-up mediators that grew release after release; a file's revision decides how many
/// of them it carries, so that contents change between versions where the real files changed.
const CLEANUP_LINES: [&str; 9] = [
    r#"<property name="RESPONSE" value="true"/>"#,
    r#"<header name="To" action="remove"/>"#,
    r#"<property name="NO_ENTITY_BODY" scope="axis2" action="remove"/>"#,
    r#"<property name="ContentType" scope="axis2" action="remove"/>"#,
    r#"<property name="Authorization" scope="transport" action="remove"/>"#,
    r#"<property name="Host" scope="transport" action="remove"/>"#,
    r#"<property name="Accept" scope="transport" action="remove"/>"#,
    r#"<property name="X-JWT-Assertion" scope="transport" action="remove"/>"#,
    r#"<property name="X-Forwarded-For" scope="transport" action="remove"/>"#,
];

pub(crate) fn strip_xml(name: &str) -> &str {
    name.strip_suffix(".xml").unwrap_or(name)
}

fn xml_header() -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{SAMPLE_NOTICE}\n")
}

/// How many times a stock file changed up to `version`, per the real packs (compared by hash
/// across the releases of product-apim): files are identical between versions exactly where
/// the real ones are.
fn stock_revision(relative: &str, version: Version) -> usize {
    let (changes, differs_in_1_9_1): (Vec<Version>, bool) = match relative {
        "sequences/_auth_failure_handler_.xml" => (vec![V4_0_0], true),
        "sequences/_cors_request_handler_.xml" => {
            (vec![V1_9_1, V2_0_0, V3_0_0, V4_5_0, V4_7_0], false)
        }
        "sequences/_graphql_failure_handler_.xml" | "sequences/_token_fault_.xml" => {
            (vec![V4_0_0], false)
        }
        "sequences/_threat_fault_.xml" => (vec![V4_0_0, V4_6_0], false),
        "sequences/webhooksFaultSequence.xml" => (vec![V4_6_0], false),
        "sequences/_resource_mismatch_handler_.xml" => (vec![V2_0_0], false),
        "sequences/_throttle_out_handler_.xml" => (vec![V2_6_0, V4_0_0], true),
        "sequences/fault.xml" => (vec![V2_0_0, V2_6_0, V4_0_0], false),
        "sequences/main.xml" => (vec![V1_9_1, V2_0_0, V2_6_0, V3_0_0, V4_0_0, V4_3_0], false),
        "api/_RevokeAPI_.xml" => (vec![V3_0_0], false),
        "api/_OpenService_.xml" => (vec![V4_6_0], false),
        "inbound-endpoints/SecureWebSocketInboundEndpoint.xml" => (vec![V3_1_0, V4_1_0], false),
        "inbound-endpoints/WebSocketInboundEndpoint.xml" => (vec![V4_1_0], false),
        "proxy-services/WorkflowCallbackService.xml" => {
            (vec![V2_6_0, V3_0_0, V3_1_0, V3_2_0], true)
        }
        _ => (Vec::new(), false),
    };
    // 1.9.1 changed a few files that 2.0.0 then took back from 1.9.0: give it a revision of its own.
    if differs_in_1_9_1 && version == V1_9_1 {
        return changes.len() + 1;
    }
    changes.iter().filter(|change| version >= **change).count()
}

/// The first `2 + revision` clean-up mediators, indented.
fn cleanup_lines(revision: usize, indent: &str) -> String {
    CLEANUP_LINES
        .iter()
        .take((2 + revision).min(CLEANUP_LINES.len()))
        .map(|line| format!("{indent}{line}\n"))
        .collect()
}

/// What a fault sequence answers.
struct FaultBody {
    code: &'static str,
    message: &'static str,
    description: &'static str,
    /// Message context properties that fill `$1`, `$2`, ... in the body.
    args: &'static [&'static str],
    status: &'static str,
}

fn fault_body(name: &str) -> FaultBody {
    let standard_args: &'static [&'static str] = &["ERROR_CODE", "ERROR_MESSAGE", "ERROR_DETAIL"];
    match name {
        "fault" => FaultBody {
            code: "$1",
            message: "Runtime Error",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "500",
        },
        "_auth_failure_handler_" => FaultBody {
            code: "$1",
            message: "$2",
            description: "$3",
            args: standard_args,
            status: "401",
        },
        "_token_fault_" => FaultBody {
            code: "$1",
            message: "$2",
            description: "$3",
            args: standard_args,
            status: "401",
        },
        "_throttle_out_handler_" => FaultBody {
            code: "$1",
            message: "$2",
            description: "$3",
            args: standard_args,
            status: "429",
        },
        "_threat_fault_" => FaultBody {
            code: "$1",
            message: "Threat detected in the request",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "400",
        },
        "_graphql_failure_handler_" => FaultBody {
            code: "$1",
            message: "$2",
            description: "$3",
            args: standard_args,
            status: "400",
        },
        "_backend_failure_handler_" => FaultBody {
            code: "$1",
            message: "Backend unreachable",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "503",
        },
        "_block_api_handler_" => FaultBody {
            code: "$1",
            message: "API blocked",
            description: "An administrator has blocked this API for now.",
            args: &["ERROR_CODE"],
            status: "503",
        },
        "_opa_policy_failure_handler_" => FaultBody {
            code: "$1",
            message: "Denied by policy",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "403",
        },
        "_production_key_error_" => FaultBody {
            code: "403",
            message: "Forbidden",
            description: "A production key cannot be used: the API has no production endpoint.",
            args: &[],
            status: "403",
        },
        "_sandbox_key_error_" => FaultBody {
            code: "403",
            message: "Forbidden",
            description: "A sandbox key cannot be used: the API has no sandbox endpoint.",
            args: &[],
            status: "403",
        },
        "_resource_mismatch_handler_" => FaultBody {
            code: "$1",
            message: "No matching resource",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "404",
        },
        "webhooksFaultSequence" => FaultBody {
            code: "$1",
            message: "Webhook delivery failed",
            description: "$2",
            args: &["ERROR_CODE", "ERROR_MESSAGE"],
            status: "500",
        },
        _ => FaultBody {
            code: "$1",
            message: "$2",
            description: "$3",
            args: standard_args,
            status: "500",
        },
    }
}

/// The error payload: `<am:fault>` XML before 4.0.0, a JSON object from 4.0.0 on.
fn fault_payload(body: &FaultBody, json: bool, indent: &str) -> String {
    let mut text = String::new();
    if json {
        text.push_str(&format!(
            "{indent}<payloadFactory media-type=\"json\">\n{indent}    <format>{{\"code\":\"{}\",\"type\":\"Status report\",\"message\":\"{}\",\"description\":\"{}\"}}</format>\n",
            body.code, body.message, body.description
        ));
    } else {
        text.push_str(&format!(
            "{indent}<payloadFactory media-type=\"xml\">\n{indent}    <format>\n\
             {indent}        <am:fault xmlns:am=\"http://wso2.org/apimanager\">\n\
             {indent}            <am:code>{}</am:code>\n\
             {indent}            <am:type>Status report</am:type>\n\
             {indent}            <am:message>{}</am:message>\n\
             {indent}            <am:description>{}</am:description>\n\
             {indent}        </am:fault>\n{indent}    </format>\n",
            body.code, body.message, body.description
        ));
    }
    if !body.args.is_empty() {
        text.push_str(&format!("{indent}    <args>\n"));
        for arg in body.args {
            text.push_str(&format!(
                "{indent}        <arg expression=\"get-property('{arg}')\"/>\n"
            ));
        }
        text.push_str(&format!("{indent}    </args>\n"));
    }
    let media_type = if json {
        "application/json"
    } else {
        "application/xml"
    };
    text.push_str(&format!(
        "{indent}</payloadFactory>\n{indent}<property name=\"messageType\" value=\"{media_type}\" scope=\"axis2\"/>\n"
    ));
    text
}

pub(crate) fn stock_sequence(name: &str, version: Version) -> String {
    let revision = stock_revision(&format!("sequences/{name}.xml"), version);
    let json = version >= V4_0_0 && JSON_FAULT_SEQUENCES.contains(&name);
    let mut text = xml_header();
    match name {
        "main" => {
            text.push_str(&format!(
                "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"main\">\n    \
                 <description>Catch-all of the gateway: answers 404 when no API matches the request.</description>\n    \
                 <in>\n        <log level=\"custom\">\n            \
                 <property name=\"STATUS\" value=\"No API matched the request\"/>\n            \
                 <property name=\"RESOURCE\" expression=\"$axis2:REST_URL_POSTFIX\"/>\n        </log>\n{}        \
                 <property name=\"HTTP_SC\" value=\"404\" scope=\"axis2\"/>\n{}        <respond/>\n    </in>\n    \
                 <out>\n        <send/>\n    </out>\n</sequence>\n",
                fault_payload(
                    &FaultBody {
                        code: "404",
                        message: "Not Found",
                        description: "No API is deployed for the requested resource.",
                        args: &[],
                        status: "404",
                    },
                    json,
                    "        "
                ),
                cleanup_lines(revision, "        ")
            ));
        }
        "_cors_request_handler_" => {
            let headers = [
                ("Access-Control-Allow-Origin", "CORS_ALLOW_ORIGIN"),
                ("Access-Control-Allow-Methods", "CORS_ALLOW_METHODS"),
                ("Access-Control-Allow-Headers", "CORS_ALLOW_HEADERS"),
                ("Access-Control-Allow-Credentials", "CORS_ALLOW_CREDENTIALS"),
                ("Vary", "CORS_VARY"),
            ];
            text.push_str(
                "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"_cors_request_handler_\">\n    \
                 <!-- Copies the CORS headers the gateway worked out onto the response. -->\n    \
                 <filter source=\"get-property('CORS_ENABLED')\" regex=\"true\">\n        <then>\n",
            );
            for (header, property) in headers.iter().take(2 + revision) {
                text.push_str(&format!(
                    "            <property name=\"{header}\" expression=\"get-property('{property}')\" scope=\"transport\"/>\n"
                ));
            }
            text.push_str("        </then>\n    </filter>\n</sequence>\n");
        }
        "_build_" => {
            text.push_str(
                "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"_build_\">\n    \
                 <!-- Reads the whole message body so that later mediators can inspect it. -->\n    \
                 <property name=\"FORCE_BUILD_BODY\" value=\"true\" scope=\"axis2\"/>\n    \
                 <log level=\"custom\">\n        <property name=\"STATUS\" value=\"Message body built\"/>\n    </log>\n\
                 </sequence>\n",
            );
        }
        "dispatchSeq" | "outDispatchSeq" => {
            let direction = if name == "dispatchSeq" {
                "inbound"
            } else {
                "outbound"
            };
            text.push_str(&format!(
                "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\">\n    \
                 <!-- Passes {direction} WebSocket frames on to the API they belong to. -->\n    \
                 <log level=\"custom\">\n        <property name=\"STATUS\" value=\"Dispatching {direction} WebSocket frame\"/>\n    </log>\n    \
                 <send/>\n</sequence>\n"
            ));
        }
        other => {
            let body = fault_body(other);
            text.push_str(&format!(
                "<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{other}\">\n    \
                 <log level=\"custom\">\n        <property name=\"STATUS\" value=\"Request failed in {other}\"/>\n        \
                 <property name=\"ERROR_CODE\" expression=\"get-property('ERROR_CODE')\"/>\n    </log>\n{}    \
                 <property name=\"HTTP_SC\" value=\"{}\" scope=\"axis2\"/>\n{}    \
                 <sequence key=\"_cors_request_handler_\"/>\n    <respond/>\n</sequence>\n",
                fault_payload(&body, json, "    "),
                body.status,
                cleanup_lines(revision, "    ")
            ));
        }
    }
    text
}

pub(crate) fn stock_api(name: &str, version: Version) -> String {
    let revision = stock_revision(&format!("api/{name}.xml"), version);
    let (context, methods, backend_path) = match name {
        "_TokenAPI_" => ("/token", "POST", "/oauth2/token"),
        "_RevokeAPI_" => ("/revoke", "POST", "/oauth2/revoke"),
        "_AuthorizeAPI_" => ("/authorize", "GET POST", "/oauth2/authorize"),
        "_UserInfoAPI_" => ("/userinfo", "GET POST", "/oauth2/userinfo"),
        _ => ("/service", "GET HEAD OPTIONS", ""),
    };
    let extra: String = CLEANUP_LINES
        .iter()
        .skip(3)
        .take(revision)
        .map(|line| format!("            {line}\n"))
        .collect();
    let in_sequence = if backend_path.is_empty() {
        // The open service answers by itself: load balancers use it as a health check.
        "            <property name=\"HTTP_SC\" value=\"200\" scope=\"axis2\"/>\n            <respond/>\n"
            .to_string()
    } else {
        format!(
            "{extra}            <send>\n                <endpoint>\n                    \
             <address uri=\"https://localhost:9443{backend_path}\"/>\n                </endpoint>\n            </send>\n"
        )
    };
    format!(
        "{}<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\" context=\"{context}\">\n    \
         <resource methods=\"{methods}\" url-mapping=\"/*\" faultSequence=\"_token_fault_\">\n        \
         <inSequence>\n{in_sequence}        </inSequence>\n        <outSequence>\n            <send/>\n        </outSequence>\n    \
         </resource>\n    <handlers>\n        \
         <handler class=\"org.wso2.carbon.apimgt.gateway.handlers.ext.APIManagerCacheExtensionHandler\"/>\n    \
         </handlers>\n</api>\n",
        xml_header()
    )
}

pub(crate) fn stock_inbound_endpoint(name: &str, version: Version) -> String {
    let revision = stock_revision(&format!("inbound-endpoints/{name}.xml"), version);
    let (protocol, port_parameter, port, sequence) = match name {
        "WebSocketInboundEndpoint" => ("ws", "inbound.ws.port", "9099", "dispatchSeq"),
        "SecureWebSocketInboundEndpoint" => ("wss", "inbound.ws.port", "8099", "dispatchSeq"),
        "WebhookServer" => ("http", "inbound.http.port", "9021", "main"),
        _ => ("https", "inbound.http.port", "8021", "main"),
    };
    let mut parameters = vec![format!(
        "<parameter name=\"{port_parameter}\">{port}</parameter>"
    )];
    if protocol.starts_with("ws") {
        parameters.push(
            "<parameter name=\"ws.outflow.dispatch.sequence\">outDispatchSeq</parameter>"
                .to_string(),
        );
    }
    if protocol == "wss" || protocol == "https" {
        parameters.push(
            "<parameter name=\"wss.ssl.key.store.file\">repository/resources/security/wso2carbon.jks</parameter>"
                .to_string(),
        );
        parameters.push(
            "<parameter name=\"wss.ssl.trust.store.file\">repository/resources/security/client-truststore.jks</parameter>"
                .to_string(),
        );
    }
    let later_parameters = [
        "<parameter name=\"ws.use.port.offset\">true</parameter>",
        "<parameter name=\"ws.client.side.broadcast.level\">0</parameter>",
    ];
    parameters.extend(
        later_parameters
            .iter()
            .take(revision)
            .map(|parameter| parameter.to_string()),
    );
    let parameters: String = parameters
        .iter()
        .map(|parameter| format!("        {parameter}\n"))
        .collect();
    format!(
        "{}<inboundEndpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\" protocol=\"{protocol}\"\n                 \
         sequence=\"{sequence}\" onError=\"fault\" suspend=\"false\">\n    <parameters>\n{parameters}    </parameters>\n</inboundEndpoint>\n",
        xml_header()
    )
}

pub(crate) fn workflow_callback_proxy(version: Version) -> String {
    let revision = stock_revision("proxy-services/WorkflowCallbackService.xml", version);
    let extra: String = CLEANUP_LINES
        .iter()
        .skip(2)
        .take(revision)
        .map(|line| format!("            {line}\n"))
        .collect();
    format!(
        "{}<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"WorkflowCallbackService\" transports=\"https http\" startOnLoad=\"true\">\n    \
         <description>Takes approval callbacks of external workflow engines to the API Manager.</description>\n    \
         <target>\n        <inSequence>\n{extra}            <send>\n                <endpoint>\n                    \
         <address uri=\"https://localhost:9443/services/WorkflowCallbackService\"/>\n                </endpoint>\n            </send>\n        \
         </inSequence>\n        <outSequence>\n            <send/>\n        </outSequence>\n    </target>\n</proxy>\n",
        xml_header()
    )
}

pub(crate) fn registry_xml() -> String {
    format!(
        "{}<registry xmlns=\"http://ws.apache.org/ns/synapse\" provider=\"org.wso2.carbon.mediation.registry.WSO2Registry\">\n    \
         <!-- How long, in milliseconds, resources read from the registry stay cached. -->\n    \
         <parameter name=\"cachableDuration\">15000</parameter>\n</registry>\n",
        xml_header()
    )
}

pub(crate) fn synapse_xml() -> String {
    format!(
        "{}<definitions xmlns=\"http://ws.apache.org/ns/synapse\">\n    \
         <!-- Artifacts may be declared here in one flat file instead of one file each. -->\n</definitions>\n",
        xml_header()
    )
}

/// A stock sequence as a site edits it: a logging mediator added after the opening tag (and
/// after the `<description>`, which Synapse expects first).
pub(crate) fn customise_sequence(stock: &str) -> String {
    let insertion = "    <!-- Site change: trace every call that reaches this sequence. -->\n    \
                     <log level=\"custom\">\n        <property name=\"SITE_TRACE\" value=\"customised by the operations team\"/>\n    </log>\n";
    let line_end_after = |start: usize| stock[start..].find('\n').map(|offset| start + offset + 1);
    let opening_end = stock.find("<sequence ").and_then(line_end_after);
    let opening_end = opening_end.map(|position| {
        if stock[position..].trim_start().starts_with("<description>") {
            line_end_after(position).unwrap_or(position)
        } else {
            position
        }
    });
    match opening_end {
        Some(position) => format!("{}{insertion}{}", &stock[..position], &stock[position..]),
        None => format!("{stock}<!-- customised by the operations team -->\n"),
    }
}

pub(crate) fn custom_sequence_xml(name: &str) -> String {
    format!(
        "{}<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\">\n    \
         <!-- Written by the site: tags requests with a correlation header. -->\n    \
         <property name=\"X-Correlation-Source\" value=\"{name}\" scope=\"transport\"/>\n    \
         <log level=\"custom\">\n        <property name=\"SEQUENCE\" value=\"{name}\"/>\n    </log>\n</sequence>\n",
        xml_header(),
        name = xml_escape(name)
    )
}

pub(crate) fn api_sequence_xml(name: &str) -> String {
    format!(
        "{}<sequence xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{name}\">\n    \
         <!-- Mediation policy attached to one API. -->\n    \
         <property name=\"X-API-Flow\" value=\"{name}\" scope=\"transport\"/>\n</sequence>\n",
        xml_header(),
        name = xml_escape(name)
    )
}

pub(crate) fn custom_artifact_xml(dir: &str, name: &str) -> String {
    let escaped = xml_escape(name);
    let body = match dir {
        "endpoints" => format!(
            "<endpoint xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{escaped}\">\n    \
             <address uri=\"https://backend.example.com/{escaped}\">\n        <timeout>\n            \
             <duration>30000</duration>\n            <responseAction>fault</responseAction>\n        </timeout>\n    \
             </address>\n</endpoint>\n"
        ),
        "local-entries" => format!(
            "<localEntry xmlns=\"http://ws.apache.org/ns/synapse\" key=\"{escaped}\">https://config.example.com/{escaped}</localEntry>\n"
        ),
        "api" => format!(
            "<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{escaped}\" context=\"/{escaped}\">\n    \
             <resource methods=\"GET\" url-mapping=\"/*\">\n        <inSequence>\n            <send>\n                \
             <endpoint>\n                    <address uri=\"https://backend.example.com/{escaped}\"/>\n                </endpoint>\n            \
             </send>\n        </inSequence>\n        <outSequence>\n            <send/>\n        </outSequence>\n    \
             </resource>\n</api>\n"
        ),
        "proxy-services" => format!(
            "<proxy xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{escaped}\" transports=\"https\" startOnLoad=\"true\">\n    \
             <target>\n        <endpoint>\n            <address uri=\"https://backend.example.com/{escaped}\"/>\n        </endpoint>\n    \
             </target>\n</proxy>\n"
        ),
        "sequences" => return custom_sequence_xml(name),
        _ => format!(
            "<template xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{escaped}\">\n    \
             <sequence>\n        <log level=\"custom\">\n            <property name=\"TEMPLATE\" value=\"{escaped}\"/>\n        </log>\n    \
             </sequence>\n</template>\n"
        ),
    };
    format!("{}{body}", xml_header())
}

pub(crate) fn tenant_api_xml(api_name: &str, tenant_domain: &str) -> String {
    format!(
        "{}<api xmlns=\"http://ws.apache.org/ns/synapse\" name=\"{api_name}\" context=\"/t/{tenant_domain}/orders/1.0.0\" version=\"1.0.0\" version-type=\"context\">\n    \
         <!-- Published by the tenant; the gateway writes this file when the API is deployed. -->\n    \
         <resource methods=\"GET POST\" url-mapping=\"/*\">\n        <inSequence>\n            <send>\n                \
         <endpoint>\n                    <address uri=\"https://orders.{tenant_domain}/v1\"/>\n                </endpoint>\n            \
         </send>\n        </inSequence>\n        <outSequence>\n            <send/>\n        </outSequence>\n    </resource>\n</api>\n",
        xml_header(),
        api_name = xml_escape(api_name),
        tenant_domain = xml_escape(tenant_domain)
    )
}

pub(crate) fn ssl_profiles_xml() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{SAMPLE_NOTICE}\n\
         <!-- SSL profiles the gateway's HTTPS sender can load at runtime. -->\n\
         <parameter name=\"customSSLProfiles\">\n    <profile>\n        <servers>*</servers>\n        <KeyStore>\n            \
         <Location>repository/resources/security/wso2carbon.jks</Location>\n            <Type>JKS</Type>\n            \
         <Password>wso2carbon</Password>\n            <KeyPassword>wso2carbon</KeyPassword>\n        </KeyStore>\n        \
         <TrustStore>\n            <Location>repository/resources/security/client-truststore.jks</Location>\n            \
         <Type>JKS</Type>\n            <Password>wso2carbon</Password>\n        </TrustStore>\n    </profile>\n</parameter>\n"
    )
}

pub(crate) fn listener_profiles_xml() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{SAMPLE_NOTICE}\n\
         <!-- SSL profiles the gateway's HTTPS listener can load at runtime. -->\n\
         <parameter name=\"SSLProfiles\">\n    <profile>\n        <bindAddress>0.0.0.0</bindAddress>\n        <KeyStore>\n            \
         <Location>repository/resources/security/wso2carbon.jks</Location>\n            <Type>JKS</Type>\n            \
         <Password>wso2carbon</Password>\n            <KeyPassword>wso2carbon</KeyPassword>\n        </KeyStore>\n        \
         <TrustStore>\n            <Location>repository/resources/security/client-truststore.jks</Location>\n            \
         <Type>JKS</Type>\n            <Password>wso2carbon</Password>\n        </TrustStore>\n        \
         <SSLVerifyClient>optional</SSLVerifyClient>\n    </profile>\n</parameter>\n"
    )
}

#[cfg(test)]
mod tests {
    use crate::layout::SYNAPSE_DEFAULT_DIR;
    use crate::test_support::catalogue_hashes;
    use crate::{stock_catalogue, PackBuilder};

    #[test]
    fn stock_content_changes_only_where_the_real_files_changed() {
        let catalogue = stock_catalogue(&[
            &PackBuilder::api_manager("1.9.0"),
            &PackBuilder::api_manager("1.9.1"),
            &PackBuilder::api_manager("2.0.0"),
            &PackBuilder::api_manager("3.0.0"),
            &PackBuilder::api_manager("4.0.0"),
            &PackBuilder::api_manager("4.1.0"),
        ]);
        let hash = |version: &str, file: &str| {
            catalogue_hashes(
                &catalogue,
                "wso2am",
                version,
                &format!("{SYNAPSE_DEFAULT_DIR}/{file}"),
            )
        };
        assert_eq!(
            hash("1.9.0", "sequences/_build_.xml"),
            hash("4.1.0", "sequences/_build_.xml")
        );
        assert_ne!(
            hash("3.0.0", "sequences/main.xml"),
            hash("4.0.0", "sequences/main.xml")
        );
        assert_eq!(
            hash("4.0.0", "sequences/main.xml"),
            hash("4.1.0", "sequences/main.xml")
        );
        let auth = "sequences/_auth_failure_handler_.xml";
        assert_eq!(hash("1.9.0", auth), hash("2.0.0", auth));
        assert_ne!(hash("1.9.0", auth), hash("1.9.1", auth));
        assert_eq!(hash("2.0.0", auth), hash("3.0.0", auth));
        assert_ne!(hash("3.0.0", auth), hash("4.0.0", auth));
        // Stock keystores differ between versions.
        let keystore = "repository/resources/security/wso2carbon.jks";
        assert_ne!(
            catalogue_hashes(&catalogue, "wso2am", "3.0.0", keystore),
            catalogue_hashes(&catalogue, "wso2am", "4.1.0", keystore)
        );
    }
}
