//! Layers: stores that wrap a store, each adding one behaviour.
//!
//! A layer knows nothing of the backend inside it and composes with any other layer, the
//! way tower middleware does, without tower's generics: every layer is itself an
//! `ObjectStore` holding an `Arc<dyn ObjectStore>`.
//!
//! ```
//! use std::sync::Arc;
//! use ferry_core::layers::{RetryConfig, RetryStore, FaultConfig, FaultStore};
//! use ferry_core::memory::MemoryStore;
//! use ferry_core::ObjectStore;
//!
//! let flaky: Arc<dyn ObjectStore> = Arc::new(FaultStore::new(Arc::new(MemoryStore::new()), FaultConfig::errors(0.2, 7)));
//! let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(flaky, RetryConfig::default()));
//! ```

mod fault;
mod retry;
mod rng;

pub use fault::{FaultConfig, FaultKind, FaultStore};
pub use retry::{RetryConfig, RetryStore};
