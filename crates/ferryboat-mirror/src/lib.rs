//! # ferryboat-mirror
//!
//! Replicates a bucket from any [`ObjectStore`](ferryboat_core::ObjectStore) to any other:
//! incrementally, verified, resumable, shardable, with flat memory however many objects the
//! bucket holds. It knows only the trait, never a concrete backend.
//!
//! How it works: both listings (ascending, as the trait guarantees) are merged as streams;
//! each key is compared by the strongest rule available ([`CompareMode`]); changed and new
//! objects are copied, server-side within one bucket, otherwise streamed with their
//! SHA-256 computed on the way and recorded in the destination's metadata
//! (`ferry-sha256`, `ferry-source-etag`, `ferry-source-mtime`) so the next run can skip them
//! without reading data; then, only with [`MirrorOptions::delete`] and only if nothing
//! failed, objects missing from the source are deleted.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
//! use std::sync::Arc;
//! use ferryboat_core::{memory::MemoryStore, ObjectPath, ObjectStore, ObjectStoreExt};
//! use ferryboat_mirror::{Mirror, MirrorOptions};
//!
//! let src: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! let dst: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! src.put(&ObjectPath::parse("a/report.csv")?, "x,y\n1,2\n".into()).await?;
//!
//! let report = Mirror::new(src.clone(), dst.clone(), MirrorOptions::default()).run().await?;
//! assert_eq!(report.copied, 1);
//! assert!(report.in_sync);
//!
//! // Nothing changed: the second run copies nothing.
//! let again = Mirror::new(src, dst, MirrorOptions::default()).run().await?;
//! assert_eq!((again.copied, again.skipped), (0, 1));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod carry;
mod compare;
mod context;
mod engine;
mod filter;
mod merge;
mod options;
pub mod plan;
mod report;
mod shard;
pub mod split;
mod transfer;

pub use compare::{META_SHA256, META_SOURCE_ETAG, META_SOURCE_MTIME};
pub use engine::Mirror;
pub use options::{parse_duration, parse_size, CompareMode, Filters, MirrorOptions, VerifyMode};
pub use report::{
    human_bytes, Failure, MirrorReport, NotCarried, Progress, Requests, Rule, TransferWindow, MAX_LISTED_FAILURES,
};
pub use shard::{key_hash, Shard};
