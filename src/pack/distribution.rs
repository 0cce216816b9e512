//! The distributions of a product: from API-M 4.5.0, WSO2 ships the all-in-one pack and three
//! packs of their own (API Control Plane, Universal Gateway, Traffic Manager), each named by
//! its markers (`bin/version.txt`, `updates/product.txt`, `<ServerKey>` of carbon.xml).
//!
//! The facts, from each distribution's own `modules/distribution/product` at the 4.5.0,
//! 4.6.0 and 4.7.0 tags of product-apim: product name, key and server key below; every one
//! of them says `server_role = "default"` in its deployment.toml, so only the distribution
//! tells the profile of its node.

use super::Product;
use serde::Serialize;

/// Which pack of a product: the whole product, or one of API-M's separate distributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// The product's one pack (for API-M, the all-in-one `wso2am` pack).
    #[default]
    Full,
    /// `wso2am-acp`: the API Control Plane (Publisher, Developer Portal, Key Manager).
    ControlPlane,
    /// `wso2am-universal-gw`: the Universal Gateway.
    UniversalGateway,
    /// `wso2am-tm`: the Traffic Manager.
    TrafficManager,
}

impl Distribution {
    /// The separate API-M distributions.
    pub const SPLIT: [Distribution; 3] = [
        Distribution::ControlPlane,
        Distribution::UniversalGateway,
        Distribution::TrafficManager,
    ];

    pub fn is_full(&self) -> bool {
        *self == Distribution::Full
    }

    /// The key of `updates/product.txt` and of stock catalogues: `wso2am-acp`.
    pub fn key(self, product: Product) -> &'static str {
        match self {
            Distribution::Full => product.key(),
            Distribution::ControlPlane => "wso2am-acp",
            Distribution::UniversalGateway => "wso2am-universal-gw",
            Distribution::TrafficManager => "wso2am-tm",
        }
    }

    /// The product name of `bin/version.txt` and carbon.xml: `WSO2 API Control Plane`.
    pub fn name(self, product: Product) -> &'static str {
        match self {
            Distribution::Full => product.name(),
            Distribution::ControlPlane => "WSO2 API Control Plane",
            Distribution::UniversalGateway => "WSO2 Universal Gateway",
            Distribution::TrafficManager => "WSO2 Traffic Manager",
        }
    }

    /// `<ServerKey>` of carbon.xml.
    fn server_key(self, product: Product) -> &'static str {
        match (self, product) {
            (Distribution::Full, Product::ApiManager) => "AM",
            (Distribution::Full, Product::IdentityServer) => "IS",
            (Distribution::ControlPlane, _) => "ACP",
            (Distribution::UniversalGateway, _) => "APIM-GW",
            (Distribution::TrafficManager, _) => "APIM-TM",
        }
    }

    /// How people call it: `API Control Plane`; empty for a full pack.
    pub fn short_name(self) -> &'static str {
        match self {
            Distribution::Full => "",
            Distribution::ControlPlane => "API Control Plane",
            Distribution::UniversalGateway => "Universal Gateway",
            Distribution::TrafficManager => "Traffic Manager",
        }
    }

    /// The one profile a node of a separate distribution runs; `None` for a full pack,
    /// whose node may run any profile of its version.
    pub fn profile(self) -> Option<&'static str> {
        match self {
            Distribution::Full => None,
            Distribution::ControlPlane => Some("control-plane"),
            Distribution::UniversalGateway => Some("gateway-worker"),
            Distribution::TrafficManager => Some("traffic-manager"),
        }
    }

    /// The distribution that runs `profile`, if one is made for it.
    pub fn for_profile(profile: &str) -> Option<Distribution> {
        Distribution::SPLIT
            .into_iter()
            .find(|distribution| distribution.profile() == Some(profile))
    }

    /// Every product and distribution, for reading markers.
    fn all() -> [(Product, Distribution); 5] {
        [
            (Product::ApiManager, Distribution::Full),
            (Product::IdentityServer, Distribution::Full),
            (Product::ApiManager, Distribution::ControlPlane),
            (Product::ApiManager, Distribution::UniversalGateway),
            (Product::ApiManager, Distribution::TrafficManager),
        ]
    }

    /// The product and distribution of a product name (`WSO2 Universal Gateway`).
    pub fn by_name(name: &str) -> Option<(Product, Distribution)> {
        Distribution::all()
            .into_iter()
            .find(|(product, distribution)| distribution.name(*product) == name.trim())
    }

    /// The product and distribution of a key (`wso2am-tm`).
    pub fn by_key(key: &str) -> Option<(Product, Distribution)> {
        Distribution::all()
            .into_iter()
            .find(|(product, distribution)| distribution.key(*product) == key.trim())
    }

    /// The product and distribution of a carbon.xml `<ServerKey>` (`APIM-GW`).
    pub fn by_server_key(key: &str) -> Option<(Product, Distribution)> {
        Distribution::all()
            .into_iter()
            .find(|(product, distribution)| distribution.server_key(*product) == key.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_distribution_is_named_by_its_markers() {
        assert_eq!(
            Distribution::by_name("WSO2 API Control Plane"),
            Some((Product::ApiManager, Distribution::ControlPlane))
        );
        assert_eq!(
            Distribution::by_key("wso2am-universal-gw"),
            Some((Product::ApiManager, Distribution::UniversalGateway))
        );
        assert_eq!(
            Distribution::by_server_key("APIM-TM"),
            Some((Product::ApiManager, Distribution::TrafficManager))
        );
        assert_eq!(
            Distribution::by_key("wso2am"),
            Some((Product::ApiManager, Distribution::Full))
        );
        assert_eq!(
            Distribution::by_server_key("IS"),
            Some((Product::IdentityServer, Distribution::Full))
        );
        assert_eq!(Distribution::by_key("wso2ei"), None);
        for distribution in Distribution::SPLIT {
            let profile = distribution
                .profile()
                .expect("a split distribution runs one profile");
            assert_eq!(Distribution::for_profile(profile), Some(distribution));
        }
        assert_eq!(Distribution::Full.profile(), None);
    }
}
