//! # ferry: portable object storage
//!
//! One async trait, [`ObjectStore`], for every provider — AWS S3, the European
//! S3-compatible clouds (OVHcloud, Scaleway, IONOS, Hetzner, Exoscale, STACKIT, …),
//! self-hosted servers, a local directory and memory — and a mirror that replicates a
//! bucket from any of them to any other.
//!
//! Open a store from a URL with [`open`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat::Result<()> {
//! use ferryboat::{ObjectPath, ObjectStoreExt};
//!
//! let store = ferryboat::open("memory://").await?;
//! let key = ObjectPath::parse("reports/2026.csv")?;
//! store.put(&key, "year,total\n2026,42\n".into()).await?;
//! let bytes = store.get(&key).await?.bytes().await?;
//! assert_eq!(bytes, "year,total\n2026,42\n");
//! # Ok(()) }
//! ```
//!
//! Cargo features choose the backends — `s3` (S3 and every S3-compatible provider),
//! `azure`, `gcs` — and the parts built on them: `mirror` (the replication engine),
//! `encrypt` (client-side encryption), all on by default, and `compat` (bridges to
//! `object_store` and OpenDAL).
#![warn(missing_docs)]

pub use ferryboat_core::*;

#[cfg(feature = "mirror")]
pub use ferryboat_mirror as mirror;
pub use ferryboat_providers as providers;
#[cfg(feature = "s3")]
pub use ferryboat_s3 as s3;

mod open;
pub use open::{open, open_with, supported_schemes};

#[cfg(feature = "azure")]
pub use ferryboat_azure as azure;
#[cfg(feature = "compat")]
pub use ferryboat_compat as compat;
#[cfg(feature = "encrypt")]
pub use ferryboat_encrypt as encrypt;
#[cfg(feature = "gcs")]
pub use ferryboat_gcs as gcs;
