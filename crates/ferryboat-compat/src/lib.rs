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
