//! # ferryboat-providers
//!
//! The catalogue of object-storage providers ferry knows: who they are, where their data
//! sits, which law reaches it, how to reach each region, and how their S3 dialect departs
//! from AWS. One TOML file per provider under `providers/`, compiled in, so a new provider
//! is a reviewable data change, not code.
//!
//! ```
//! use ferryboat_providers::catalogue;
//!
//! let scw = catalogue().get("scaleway")?;
//! assert_eq!(scw.endpoint("nl-ams")?, "https://s3.nl-ams.scw.cloud");
//! assert_eq!(scw.quirks.max_parts, 1000);
//!
//! // Placeholders other than the region come from configuration.
//! let oci = catalogue().get("oracle")?;
//! let url = oci.endpoint_with("eu-frankfurt-1", &[("namespace", "mytenancy")])?;
//! assert_eq!(url, "https://mytenancy.compat.objectstorage.eu-frankfurt-1.oraclecloud.com");
//! # Ok::<(), ferryboat_core::Error>(())
//! ```

pub mod catalogue;
mod markdown;
pub mod plan;
pub mod prices;
mod provider;
pub mod quirks;
mod validate;

#[cfg(test)]
mod tests;

pub use catalogue::{catalogue, Catalogue, Provider, Region};
pub use provider::Api;
pub use quirks::{Addressing, ChecksumMode, ListVersion, Quirks};
