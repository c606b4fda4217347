//! Concurrency limit: one budget of requests in flight, shared by as many stores as you like.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::hook::{Hook, Op};
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::types::ObjectMeta;

/// A hook that keeps at most N requests in flight. Clone it (or share one) across stores to
/// give a whole process one budget. A read holds its slot until its body is consumed or
/// dropped; a listing holds one while it is being read.
///
/// ```
/// use std::sync::Arc;
/// use ferryboat_core::layers::{ConcurrencyLimit, HookStore};
/// use ferryboat_core::memory::MemoryStore;
/// let budget = ConcurrencyLimit::new(64);
/// let a = HookStore::new(Arc::new(MemoryStore::new()), budget.clone());
/// let b = HookStore::new(Arc::new(MemoryStore::new()), budget.clone()); // same 64 slots
/// ```
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit {
    semaphore: Arc<Semaphore>,
}

impl ConcurrencyLimit {
    /// A budget of `max` requests in flight (at least 1).
    pub fn new(max: usize) -> Self {
        ConcurrencyLimit { semaphore: Arc::new(Semaphore::new(max.max(1))) }
    }

    /// Slots free right now.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }

    async fn acquire(&self, store: &StoreInfo) -> Result<OwnedSemaphorePermit> {
        // The semaphore is never closed; the error arm is there so that cannot become a panic.
        self.semaphore
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::generic(&store.provider, "", "concurrency limit closed", None))
    }

    fn hold<T: Send + 'static>(
        &self,
        store: &StoreInfo,
        items: BoxStream<'static, Result<T>>,
    ) -> BoxStream<'static, Result<T>> {
        let limit = self.clone();
        let store = store.clone();
        stream::once(async move {
            match limit.acquire(&store).await {
                Ok(permit) => items
                    .map(move |item| {
                        let _held = &permit;
                        item
                    })
                    .boxed(),
                Err(e) => stream::once(async move { Err(e) }).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

impl Hook for ConcurrencyLimit {
    fn around<'a, T: Send + 'a>(
        &'a self,
        store: &'a StoreInfo,
        _op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        async move {
            let _permit = self.acquire(store).await?;
            request.await
        }
        .boxed()
    }

    fn body(
        &self,
        store: &StoreInfo,
        _path: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        self.hold(store, body)
    }

    fn listing(
        &self,
        store: &StoreInfo,
        _prefix: &str,
        items: BoxStream<'static, Result<ObjectMeta>>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.hold(store, items)
    }
}
