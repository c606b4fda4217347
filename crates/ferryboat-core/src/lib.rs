//! # ferryboat-core
//!
//! The [`ObjectStore`] trait every ferry backend implements, the types it speaks, and two
//! backends that need no SDK: [`memory::MemoryStore`] and [`local::LocalStore`].
//!
//! Other crates add S3 and the S3-compatible clouds (`ferryboat-s3`), Azure (`ferryboat-azure`),
//! Google Cloud Storage (`ferryboat-gcs`), and the mirror (`ferryboat-mirror`). This crate depends on
//! no cloud SDK.
#![warn(missing_docs)]

pub mod attributes;
mod batch;
pub mod budget;
pub mod capabilities;
pub mod conditions;
pub mod error;
mod ext;
pub mod info;
pub mod layers;
pub mod listing_guard;
pub mod local;
pub mod memory;
pub mod options;
pub mod path;
pub mod prefix;
pub mod pressure;
pub mod ranges;
pub mod redact;
pub mod resume;
pub mod retry;
pub mod store;
pub mod types;
pub mod upload;
pub mod walk;
pub mod window;

pub use attributes::{Attributes, ObjectLocation};
pub use capabilities::{AttributeSupport, Capabilities};
pub use error::{BoxError, Error, ErrorDetails, ErrorKind, Result};
pub use info::{Jurisdiction, StoreInfo};
pub use path::ObjectPath;
pub use store::{MultipartUpload, ObjectStore, ObjectStoreExt};
pub use types::{
    CopyMode, CopyOptions, DeleteOptions, GetOptions, GetRange, GetResult, ListOptions, ListResult, Metadata,
    ObjectMeta, PartInfo, PendingUpload, PresignMethod, PutMode, PutOptions, PutResult, UpdateVersion, VersionInfo,
};
pub use upload::UploadConfig;
