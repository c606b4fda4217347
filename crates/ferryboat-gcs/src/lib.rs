//! # ferryboat-gcs
//!
//! Google Cloud Storage as a ferry [`ObjectStore`](ferryboat_core::ObjectStore), over the GCS
//! **JSON API** with a small HTTP client of its own. It also works against
//! `fake-gcs-server` and GCS-compatible sovereign endpoints, which serve the JSON API but not
//! always the XML one.
//!
//! - Open a store with [`open_url`] (`gs://bucket/prefix?endpoint=…`) or [`GcsBuilder`].
//! - Credentials ([`Credentials`]): anonymous, a static bearer token
//!   (`GOOGLE_OAUTH_ACCESS_TOKEN`), a service-account key (`GOOGLE_APPLICATION_CREDENTIALS`),
//!   or application default credentials including the metadata server. A loopback
//!   endpoint gets no credentials unless they are given explicitly.
//! - Conditional writes map to `ifGenerationMatch`; versions are GCS generations.
//! - Multipart uploads are part objects joined with `compose` (see [`GcsStore`]).
//! - V4 signed URLs with a service-account key: [`GcsStore::signed_url`].
//!
//! ```no_run
//! # async fn f() -> ferryboat_core::Result<()> {
//! use ferryboat_core::{ObjectStoreExt, ObjectPath};
//! let url = url::Url::parse("gs://my-bucket/backups").unwrap();
//! let store = ferryboat_gcs::open_url(&url).await?;
//! store.put(&ObjectPath::parse("hello.txt")?, "bonjour".into()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod auth;
mod client;
mod config;
mod error;
mod list;
mod model;
mod multipart;
mod options;
mod presign;
mod store;
mod url;
mod versions;

pub use auth::{Credentials, ServiceAccount, DEFAULT_UNIVERSE};
pub use config::{GcsBuilder, DEFAULT_ENDPOINT, DEFAULT_READ_TIMEOUT};
pub use options::{GcsConfigKey, GcsOptions};
pub use url::{open_partner_url, open_partner_url_with, open_url, open_url_with, parse_partner_url, Partner};

#[doc(hidden)]
pub use list::{parse_list_page, ParsedPage};
#[doc(hidden)]
pub use model::parse_object_meta;
pub use store::GcsStore;

/// Provider id in errors and [`StoreInfo`](ferryboat_core::StoreInfo).
pub const PROVIDER: &str = "gcs";
