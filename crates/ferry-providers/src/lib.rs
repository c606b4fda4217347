//! # ferry-providers
//!
//! The catalogue of object-storage providers ferry knows: who they are, where their data
//! sits, which law reaches it, how to reach each region, and how their S3 dialect departs
//! from AWS. One TOML file per provider under `providers/`, compiled in, so a new provider
//! is a reviewable data change, not code.

pub mod catalogue;
pub mod quirks;

pub use catalogue::{catalogue, Catalogue, Provider, Region};
pub use quirks::{Addressing, ChecksumMode, ListVersion, Quirks};
