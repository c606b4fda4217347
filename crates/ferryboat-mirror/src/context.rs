//! What every stage of a run shares: the two stores, the options, the memory budget and the
//! request counters.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ferryboat_core::budget::MemoryBudget;
use ferryboat_core::window::Window;
use ferryboat_core::{ObjectMeta, ObjectStore, Result};

use crate::options::MirrorOptions;

/// A request counter.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Requests and bytes, counted as they happen.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) list_entries: Counter,
    pub(crate) head: Counter,
    pub(crate) get: Counter,
    pub(crate) put: Counter,
    pub(crate) copy: Counter,
    pub(crate) delete: Counter,
    pub(crate) egress: Counter,
}

/// What every stage of a run shares.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) src: Arc<dyn ObjectStore>,
    pub(crate) dst: Arc<dyn ObjectStore>,
    pub(crate) opts: MirrorOptions,
    /// Object bytes buffered at once, across all copies (and their uploads' extra parts).
    pub(crate) budget: MemoryBudget,
    pub(crate) counters: Arc<Counters>,
    /// How many copies run at once.
    pub(crate) window: Window,
}

impl Ctx {
    pub(crate) async fn count_head(&self, head: impl Future<Output = Result<ObjectMeta>>) -> Result<ObjectMeta> {
        self.counters.head.inc();
        head.await
    }
}
