//! # ferry-compat
//!
//! Bridges between ferry and the `object_store` ecosystem, both ways:
//!
//! - [`AsObjectStore`]: any ferry store — encryption, failover and policy layers included —
//!   as an `object_store::ObjectStore`, so DataFusion, Polars, delta-rs or Lance read and
//!   write through ferry.
//! - [`FromObjectStore`]: any `object_store::ObjectStore` as a ferry store, so every service
//!   `object_store` speaks becomes a mirror source or destination.

pub mod errors;
mod from_object_store;
mod to_object_store;

pub use from_object_store::FromObjectStore;
pub use to_object_store::AsObjectStore;
