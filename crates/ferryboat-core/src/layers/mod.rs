//! Layers: stores that wrap a store, each adding one behaviour.
//!
//! A layer knows nothing of the backend inside it and composes with any other layer, the
//! way tower middleware does, without tower's generics: every layer is itself an
//! `ObjectStore` holding an `Arc<dyn ObjectStore>`. Layers that act *around* requests
//! (timeouts, limits, tracing, policy) are [`Hook`]s run by the one [`HookStore`]; layers
//! that re-issue or alter requests (retry, fault injection) are stores of their own.
//!
//! ```
//! use std::sync::Arc;
//! use ferryboat_core::layers::{ConcurrencyLimit, FaultConfig, FaultStore, HookStore, RetryConfig, RetryStore, Timeout};
//! use ferryboat_core::memory::MemoryStore;
//! use ferryboat_core::ObjectStore;
//!
//! let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
//! let store: Arc<dyn ObjectStore> = Arc::new(FaultStore::new(store, FaultConfig::errors(0.2, 7)));
//! let store: Arc<dyn ObjectStore> = Arc::new(HookStore::new(store, Timeout::default()));
//! let store: Arc<dyn ObjectStore> = Arc::new(RetryStore::new(store, RetryConfig::default()));
//! let store: Arc<dyn ObjectStore> = Arc::new(HookStore::new(store, ConcurrencyLimit::new(64)));
//! ```

mod failover;
mod fault;
mod hook;
mod limit;
mod observe;
mod policy;
mod retry;
pub(crate) mod rng;
mod timeout;

pub use failover::{BreakerConfig, Replicated, WriteMode};
pub use fault::{FaultConfig, FaultKind, FaultStore};
pub use hook::{Hook, HookStore, Op};
pub use limit::ConcurrencyLimit;
pub use observe::Observe;
pub use policy::JurisdictionPolicy;
pub use retry::{RetryConfig, RetryStore};
pub use timeout::Timeout;
