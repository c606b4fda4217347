//! # ferryboat-s3
//!
//! The [`ObjectStore`](ferryboat_core::ObjectStore) backend for AWS S3 and every S3-compatible
//! service, on the official `aws-sdk-s3`.
//!
//! Providers differ from AWS in ways that break naive clients (checksum headers, part caps,
//! batch deletes, conditional writes). Each provider's departures are data — a
//! [`Quirks`](ferryboat_providers::Quirks) profile from the `ferryboat-providers` catalogue — and this
//! crate obeys them: the requests change, and [`Capabilities`](ferryboat_core::Capabilities) say
//! what is left.
//!
//! ```no_run
//! # async fn demo() -> ferryboat_core::Result<()> {
//! use ferryboat_core::{ObjectPath, ObjectStoreExt};
//! // Keys from FERRY_OVH_ACCESS_KEY_ID / FERRY_OVH_SECRET_ACCESS_KEY (or AWS_*).
//! let store = ferryboat_s3::open_url(&"ovh://gra/my-bucket".parse().unwrap()).await?;
//! store.put(&ObjectPath::parse("hello.txt")?, "bonjour".into()).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod client;
mod config;
mod delete;
mod error;
mod limits;
mod list;
mod multipart;
mod options;
mod presign;
mod pressure;
mod store;
mod url;
mod versions;

pub use config::{aws_quirks, Credentials, S3Config};
pub use options::{S3ConfigKey, S3Options};
pub use store::S3Store;
pub use url::{env_prefix, open_url, open_url_with};
