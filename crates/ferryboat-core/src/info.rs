//! `StoreInfo` and `Jurisdiction`: who holds the data, where, and under which law.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The legal area whose authorities can compel the provider to hand over stored data.
///
/// This is the fact a user needs to judge data sovereignty: an AWS region in Frankfurt is
/// still [`Jurisdiction::Us`] because the provider is a US company reached by the CLOUD Act.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Jurisdiction {
    /// European Union (GDPR; provider headquartered in an EU member state).
    Eu,
    /// Switzerland.
    Ch,
    /// United Kingdom.
    Uk,
    /// United States (CLOUD Act applies).
    Us,
    /// China.
    Cn,
    /// Canada.
    Ca,
    /// Data the operator holds themselves: a local directory, memory, a self-hosted server.
    #[serde(rename = "SELF")]
    SelfHosted,
    /// Another jurisdiction, by ISO 3166 country code.
    #[serde(untagged)]
    Other(String),
}

impl Jurisdiction {
    /// Short code: `EU`, `CH`, `UK`, `US`, `CN`, `CA`, `SELF` or the country code.
    pub fn code(&self) -> &str {
        match self {
            Jurisdiction::Eu => "EU",
            Jurisdiction::Ch => "CH",
            Jurisdiction::Uk => "UK",
            Jurisdiction::Us => "US",
            Jurisdiction::Cn => "CN",
            Jurisdiction::Ca => "CA",
            Jurisdiction::SelfHosted => "SELF",
            Jurisdiction::Other(code) => code,
        }
    }

    /// Parses a code as printed by [`Jurisdiction::code`] (case-insensitive).
    pub fn from_code(code: &str) -> Self {
        match code.to_ascii_uppercase().as_str() {
            "EU" => Jurisdiction::Eu,
            "CH" => Jurisdiction::Ch,
            "UK" | "GB" => Jurisdiction::Uk,
            "US" => Jurisdiction::Us,
            "CN" => Jurisdiction::Cn,
            "CA" => Jurisdiction::Ca,
            "SELF" => Jurisdiction::SelfHosted,
            other => Jurisdiction::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What a store is: provider, region, endpoint, bucket, and the law it answers to.
///
/// Every store returns one from [`ObjectStore::info`](crate::ObjectStore::info). Layers pass
/// their inner store's info through; the jurisdiction policy layer reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StoreInfo {
    /// Stable provider id, e.g. `memory`, `local`, `aws`, `ovhcloud`, `scaleway`.
    pub provider: String,
    /// Human name, e.g. `OVHcloud`.
    pub provider_name: String,
    /// Region or location code, where there is one.
    pub region: Option<String>,
    /// Endpoint URL or local root, where there is one.
    pub endpoint: Option<String>,
    /// Bucket or container name, where there is one.
    pub bucket: Option<String>,
    /// Key prefix the store is confined to (set by [`PrefixStore`](crate::prefix::PrefixStore)):
    /// two stores are the same place only if provider, endpoint, bucket and prefix all match.
    #[serde(default)]
    pub prefix: Option<String>,
    /// The jurisdiction the provider answers to.
    pub jurisdiction: Jurisdiction,
    /// Whether the US CLOUD Act reaches the provider (a US company or a US subsidiary's parent).
    pub cloud_act: bool,
    /// Whether a client-side encryption layer sits between the caller and this store, so the
    /// provider only ever holds ciphertext. Set by the encryption layer; read by the policy.
    #[serde(default)]
    pub client_encrypted: bool,
    /// Other stores a write to this one also reaches (the replicas of a
    /// [`Replicated`](crate::layers::Replicated) that writes to all of them). The jurisdiction
    /// policy checks each.
    #[serde(default)]
    pub also_writes_to: Vec<StoreInfo>,
}

impl StoreInfo {
    /// Info for a store with the given provider id and name, nothing else known yet.
    pub fn new(provider: impl Into<String>, provider_name: impl Into<String>, jurisdiction: Jurisdiction) -> Self {
        let cloud_act = jurisdiction == Jurisdiction::Us;
        StoreInfo {
            provider: provider.into(),
            provider_name: provider_name.into(),
            region: None,
            endpoint: None,
            bucket: None,
            prefix: None,
            jurisdiction,
            cloud_act,
            client_encrypted: false,
            also_writes_to: Vec::new(),
        }
    }

    /// Sets the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Sets the endpoint.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the bucket.
    pub fn with_bucket(mut self, bucket: impl Into<String>) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Sets whether the US CLOUD Act reaches the provider.
    pub fn with_cloud_act(mut self, cloud_act: bool) -> Self {
        self.cloud_act = cloud_act;
        self
    }
}
