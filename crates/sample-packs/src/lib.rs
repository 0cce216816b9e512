//! Synthetic WSO2 packs (API Manager, Identity Server) written to disk for the `demo` command and for tests.
//!
//! Every byte written here is original sample text: the layout, file names and key names follow
//! real packs, the contents are short stand-ins.
//! Output is deterministic: the same builder always writes the same bytes, so tests can compare
//! hashes and the stock catalogue of a builder matches what it writes.
//!
//! [`PackBuilder`] gathers what a site added to its pack; `layout` decides which files a pack of
//! that version (and, from 4.5.0, of that distribution) holds; `config`, `conf_model`,
//! `database`, `vault`, `synapse`, `scripts` and `binary` render them; `catalogue` lists the
//! stock ones. [`write_demo`] and [`large_api_manager_3_0_0`] are
//! ready-made packs built with it.

mod binary;
mod builder;
mod catalogue;
mod conf_model;
mod config;
mod database;
mod demo;
mod encoding;
mod large;
mod layout;
mod scripts;
mod synapse;
#[cfg(test)]
mod test_support;
mod vault;

pub use builder::PackBuilder;
pub use catalogue::stock_catalogue;
pub use database::jdbc_driver_class;
pub use demo::{demo_new_pack, demo_old_pack, write_demo, Demo};
pub use large::large_api_manager_3_0_0;

/// Marks every synthetic XML file so that nobody mistakes it for a file shipped by WSO2.
const SAMPLE_NOTICE: &str =
    "<!-- Synthetic sample written by apim-migrate's pack builder; not a WSO2 file. -->";

/// The product a synthetic pack imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleProduct {
    ApiManager,
    IdentityServer,
}

impl SampleProduct {
    /// Product key used in stock catalogues and in `updates/product.txt`.
    pub fn catalogue_key(self) -> &'static str {
        match self {
            SampleProduct::ApiManager => "wso2am",
            SampleProduct::IdentityServer => "wso2is",
        }
    }

    /// Product name as `bin/version.txt` and `carbon.xml` spell it.
    pub fn display_name(self) -> &'static str {
        match self {
            SampleProduct::ApiManager => "WSO2 API Manager",
            SampleProduct::IdentityServer => "WSO2 Identity Server",
        }
    }

    /// `<ServerKey>` of `carbon.xml`.
    pub fn server_key(self) -> &'static str {
        match self {
            SampleProduct::ApiManager => "AM",
            SampleProduct::IdentityServer => "IS",
        }
    }
}

/// From API-M 4.5.0, the separate distributions WSO2 ships beside the all-in-one pack, each
/// named by its own markers (product name, key, carbon.xml server key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleDistribution {
    /// `wso2am-acp`: the API Control Plane.
    ApiControlPlane,
    /// `wso2am-universal-gw`: the Universal Gateway.
    UniversalGateway,
    /// `wso2am-tm`: the Traffic Manager.
    TrafficManager,
}

impl SampleDistribution {
    /// Key of `updates/product.txt` and of stock catalogues.
    pub fn catalogue_key(self) -> &'static str {
        match self {
            SampleDistribution::ApiControlPlane => "wso2am-acp",
            SampleDistribution::UniversalGateway => "wso2am-universal-gw",
            SampleDistribution::TrafficManager => "wso2am-tm",
        }
    }

    /// Product name as `bin/version.txt` and `carbon.xml` spell it.
    pub fn display_name(self) -> &'static str {
        match self {
            SampleDistribution::ApiControlPlane => "WSO2 API Control Plane",
            SampleDistribution::UniversalGateway => "WSO2 Universal Gateway",
            SampleDistribution::TrafficManager => "WSO2 Traffic Manager",
        }
    }

    /// `<ServerKey>` of `carbon.xml`.
    pub fn server_key(self) -> &'static str {
        match self {
            SampleDistribution::ApiControlPlane => "ACP",
            SampleDistribution::UniversalGateway => "APIM-GW",
            SampleDistribution::TrafficManager => "APIM-TM",
        }
    }

    /// The start script in `bin/`.
    pub(crate) fn start_script(self) -> &'static str {
        match self {
            SampleDistribution::ApiControlPlane => "bin/api-cp.sh",
            SampleDistribution::UniversalGateway => "bin/gateway.sh",
            SampleDistribution::TrafficManager => "bin/traffic-manager.sh",
        }
    }
}

/// A product version as three numbers, so that "later than 2.6.0" can be asked of any version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Version(u32, u32, u32);

impl Version {
    /// Lenient on purpose: the builder takes any version text, and a missing or odd part counts
    /// as zero rather than failing a test set-up.
    fn parse(text: &str) -> Self {
        let mut parts = text
            .trim()
            .trim_start_matches('v')
            .split('.')
            .map(|part| part.parse::<u32>().unwrap_or(0));
        Version(
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        )
    }
}

const V1_9_1: Version = Version(1, 9, 1);
const V2_0_0: Version = Version(2, 0, 0);
const V2_1_0: Version = Version(2, 1, 0);
const V2_2_0: Version = Version(2, 2, 0);
const V2_6_0: Version = Version(2, 6, 0);
const V3_0_0: Version = Version(3, 0, 0);
const V3_1_0: Version = Version(3, 1, 0);
const V3_2_0: Version = Version(3, 2, 0);
const V4_0_0: Version = Version(4, 0, 0);
const V4_1_0: Version = Version(4, 1, 0);
const V4_2_0: Version = Version(4, 2, 0);
const V4_3_0: Version = Version(4, 3, 0);
const V4_4_0: Version = Version(4, 4, 0);
const V4_5_0: Version = Version(4, 5, 0);
const V4_6_0: Version = Version(4, 6, 0);
const V4_7_0: Version = Version(4, 7, 0);
