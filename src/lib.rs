//! ferry: portable object storage.
pub use ferry_core::*;
