//! # ferryboat-compat
//!
//! Bridges between ferry and the `object_store` and OpenDAL ecosystems:
//!
//! - [`AsObjectStore`]: any ferry store — encryption, failover and policy layers included —
//!   as an `object_store::ObjectStore`, so DataFusion, Polars, delta-rs or Lance read and
//!   write through ferry.
//! - [`FromObjectStore`]: any `object_store::ObjectStore` as a ferry store, so every service
//!   `object_store` speaks becomes a mirror source or destination.
//! - [`FromOperator`] (feature `opendal`, on by default): any `opendal::Operator` as a ferry
//!   store, so every service OpenDAL speaks (and every OpenDAL layer on the operator) becomes
//!   a mirror source or destination.
//! - [`AsOpendal`] (feature `opendal`): any ferry store — every backend, every ferry layer —
//!   as an OpenDAL service, so that `opendal::Operator::new(AsOpendal::new(store))` reads and
//!   writes through ferry.
//!
//! ## OpenDAL
//!
//! Enable the services you need on your own `opendal` dependency; this crate depends on
//! OpenDAL's core only. Capabilities are read from the operator's, so a feature its service
//! lacks answers `NotSupported` instead of being silently dropped. OpenDAL lists directories
//! in no promised order; [`FromOperator`] walks them level by level and sorts each level
//! unless [`FromOperator::with_sorted_listing`] says the service lists in key order. A
//! multipart upload becomes one sequential OpenDAL writer; parts sent out of order wait in
//! memory for their turn. For the `fs` service, set `atomic_write_dir` so that objects only
//! appear once written completely.
//!
//! In the other direction, [`AsOpendal`] maps OpenDAL's operations onto the store's: `stat`
//! is `head` (a path ending in `/` is a directory that exists while a key lies below it; ferry
//! keys never end in `/`, so there are no folder markers and no `create_dir`); reads stream
//! a ranged `get_opts`; writes hold at most one part (8 MiB, or the store's minimum part size
//! if larger) and become one `put_opts` or a multipart upload, with `if_not_exists` as
//! `PutMode::Create` and `if_match` as `PutMode::Update`; deletes go through `delete_stream`
//! in batches of the store's `batch_delete_max`; listings keep ferry's byte order; copy,
//! rename and conditional reads are offered only where the store's capabilities say so.
//! ferry errors keep their kind in OpenDAL's terms, and retryable ones are temporary.
//! Wrapped back with [`FromOperator`], the round trip ferry → OpenDAL → ferry passes every
//! behaviour of the conformance suite over the memory and local stores, and over the S3
//! store on moto it keeps exactly the outcomes the S3 store has on its own.

pub mod errors;
mod from_object_store;
#[cfg(feature = "opendal")]
mod from_opendal;
mod to_object_store;
#[cfg(feature = "opendal")]
mod to_opendal;

pub use from_object_store::FromObjectStore;
#[cfg(feature = "opendal")]
pub use from_opendal::FromOperator;
pub use to_object_store::AsObjectStore;
#[cfg(feature = "opendal")]
pub use to_opendal::{AsOpendal, SCHEME as OPENDAL_SCHEME};
