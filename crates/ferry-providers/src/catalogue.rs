//! The catalogue: providers, their regions and endpoints.
//!
//! (Skeleton: the provider data and lookups are being filled in.)

use ferry_core::{Error, Jurisdiction, Result, StoreInfo};
use serde::Deserialize;

use crate::quirks::{Addressing, Quirks};

/// One provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Stable id, used as URL scheme (`ovh`, `scaleway`, …) and in `StoreInfo::provider`.
    pub id: String,
    /// Other ids accepted in URLs (`ovhcloud` for `ovh`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Display name.
    pub name: String,
    /// ISO 3166 code of the headquarters country.
    pub headquarters: String,
    /// Jurisdiction code (`EU`, `CH`, `UK`, `US`, `CN`, `SELF`, …).
    pub jurisdiction: String,
    /// Whether the US CLOUD Act reaches the provider.
    pub cloud_act: bool,
    /// Endpoint template; `{region}` is replaced by the region's endpoint key.
    /// Empty for self-hosted software (the user gives the endpoint).
    #[serde(default)]
    pub endpoint: String,
    /// Bucket addressing.
    pub addressing: Addressing,
    /// Regions.
    #[serde(default)]
    pub regions: Vec<Region>,
    /// S3 departures.
    #[serde(default)]
    pub quirks: Quirks,
    /// Where each fact comes from.
    pub sources: Vec<String>,
    /// Free-form notes for people.
    #[serde(default)]
    pub notes: String,
}

/// One region of a provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Region code as the provider names it (`gra`, `fr-par`, `fsn1`).
    pub code: String,
    /// City.
    pub city: String,
    /// ISO 3166 country code.
    pub country: String,
    /// What replaces `{region}` in the endpoint template, when it differs from `code`.
    #[serde(default)]
    pub endpoint_key: Option<String>,
    /// A full endpoint for this region when the template does not fit it.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// All providers.
#[derive(Debug)]
pub struct Catalogue {
    providers: Vec<Provider>,
}

/// The built-in catalogue.
pub fn catalogue() -> &'static Catalogue {
    unimplemented!("catalogue data not yet loaded")
}

impl Catalogue {
    /// Every provider, sorted by id.
    pub fn providers(&self) -> &[Provider] {
        &self.providers
    }

    /// The provider with this id or alias, or an error listing the valid ids.
    pub fn get(&self, id: &str) -> Result<&Provider> {
        let _ = id;
        Err(Error::invalid_config("unimplemented"))
    }
}

impl Provider {
    /// The region with this code, or an error listing the valid ones.
    pub fn region(&self, code: &str) -> Result<&Region> {
        let _ = code;
        Err(Error::invalid_config("unimplemented"))
    }

    /// The HTTPS endpoint URL of a region.
    pub fn endpoint(&self, region: &str) -> Result<String> {
        let _ = region;
        Err(Error::invalid_config("unimplemented"))
    }

    /// The jurisdiction as the core type.
    pub fn jurisdiction(&self) -> Jurisdiction {
        Jurisdiction::from_code(&self.jurisdiction)
    }

    /// A `StoreInfo` for a bucket in a region of this provider.
    pub fn store_info(&self, region: Option<&str>, endpoint: Option<&str>, bucket: &str) -> StoreInfo {
        let _ = (region, endpoint, bucket);
        unimplemented!()
    }
}
