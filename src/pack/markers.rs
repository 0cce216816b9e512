//! The marker files that name a pack's product, distribution and version, and how each is
//! read: `bin/version.txt`, `updates/product.txt`, `repository/conf/carbon.xml`.

use super::distribution::Distribution;
use super::{first_element, Product, CARBON_XML, PRODUCT_TXT, VERSION_TXT};

/// What one marker says.
pub(super) enum Reading {
    Known(Product, Distribution, String),
    OtherProduct(String),
}

type MarkerReader = fn(&str) -> Option<Reading>;

/// Markers in order of precedence: the first one that names a product decides.
pub(super) const MARKERS: [(&str, MarkerReader); 3] = [
    (VERSION_TXT, read_version_txt),
    (PRODUCT_TXT, read_product_txt),
    (CARBON_XML, read_carbon_xml),
];

fn looks_like_version(version: &str) -> bool {
    !version.is_empty()
        && version.split('.').count() >= 2
        && version
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

/// `WSO2 API Manager v4.1.0`, `WSO2 Universal Gateway v4.5.0`
fn read_version_txt(text: &str) -> Option<Reading> {
    let line = text.lines().next()?.trim();
    let (name, version) = line.rsplit_once(" v")?;
    if !looks_like_version(version) {
        return None;
    }
    Some(match Distribution::by_name(name) {
        Some((product, distribution)) => Reading::Known(product, distribution, version.to_string()),
        None if name.starts_with("WSO2") => Reading::OtherProduct(name.to_string()),
        None => return None,
    })
}

/// `wso2am-4.1.0`, `wso2am-acp-4.5.0`
fn read_product_txt(text: &str) -> Option<Reading> {
    let (key, version) = text.trim().rsplit_once('-')?;
    if !looks_like_version(version) {
        return None;
    }
    Some(match Distribution::by_key(key) {
        Some((product, distribution)) => Reading::Known(product, distribution, version.to_string()),
        None if key.starts_with("wso2") => Reading::OtherProduct(key.to_string()),
        None => return None,
    })
}

/// The first `<Name>`, `<ServerKey>` and `<Version>` of carbon.xml belong to `<Server>`.
fn read_carbon_xml(text: &str) -> Option<Reading> {
    let version = first_element(text, "Version")?;
    if !looks_like_version(&version) {
        return None;
    }
    let by_name = first_element(text, "Name").and_then(|name| Distribution::by_name(&name));
    let by_key = first_element(text, "ServerKey").and_then(|key| Distribution::by_server_key(&key));
    match by_name.or(by_key) {
        Some((product, distribution)) => Some(Reading::Known(product, distribution, version)),
        None => first_element(text, "Name")
            .filter(|name| name.starts_with("WSO2"))
            .map(Reading::OtherProduct),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_parse_their_formats() {
        assert!(matches!(
            read_version_txt("WSO2 API Manager v4.1.0\n"),
            Some(Reading::Known(Product::ApiManager, Distribution::Full, v)) if v == "4.1.0"
        ));
        assert!(matches!(
            read_product_txt("wso2is-5.11.0"),
            Some(Reading::Known(Product::IdentityServer, Distribution::Full, v)) if v == "5.11.0"
        ));
        assert!(matches!(
            read_version_txt("WSO2 Enterprise Integrator v6.6.0\n"),
            Some(Reading::OtherProduct(_))
        ));
        let carbon = "<Server>\n<!-- <Name>Old</Name> -->\n<Name>WSO2 API Manager</Name>\n<ServerKey>AM</ServerKey>\n<Version>1.9.0</Version>\n<Name>admin</Name>";
        assert!(matches!(
            read_carbon_xml(carbon),
            Some(Reading::Known(Product::ApiManager, Distribution::Full, v)) if v == "1.9.0"
        ));
    }

    #[test]
    fn the_separate_distributions_are_named_by_every_marker() {
        assert!(matches!(
            read_version_txt("WSO2 API Control Plane v4.5.0\n"),
            Some(Reading::Known(Product::ApiManager, Distribution::ControlPlane, v)) if v == "4.5.0"
        ));
        assert!(matches!(
            read_product_txt("wso2am-universal-gw-4.6.0"),
            Some(Reading::Known(Product::ApiManager, Distribution::UniversalGateway, v)) if v == "4.6.0"
        ));
        let carbon = "<Server>\n<Name>WSO2 Traffic Manager</Name>\n<ServerKey>APIM-TM</ServerKey>\n<Version>4.7.0</Version>";
        assert!(matches!(
            read_carbon_xml(carbon),
            Some(Reading::Known(Product::ApiManager, Distribution::TrafficManager, v)) if v == "4.7.0"
        ));
        // A server key alone still tells the distribution.
        let carbon = "<Server>\n<Name>Gateway</Name>\n<ServerKey>APIM-GW</ServerKey>\n<Version>4.5.0</Version>";
        assert!(matches!(
            read_carbon_xml(carbon),
            Some(Reading::Known(
                Product::ApiManager,
                Distribution::UniversalGateway,
                _
            ))
        ));
    }
}
