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
/// give a whole process one budget. A read's body and a listing take a slot for each chunk
/// or page they fetch, never while the consumer holds them: a source and a destination can
/// share one budget without a copy ever waiting on itself.
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

    /// `items`, each fetched under a slot that is given back as soon as the item is out.
    ///
    /// A slot is never held across items: a copy holds a read body while it waits to send
    /// the bytes it read, and if the body kept its slot meanwhile, N such copies sharing N
    /// slots would wait on each other for ever.
    fn hold<T: Send + 'static>(
        &self,
        store: &StoreInfo,
        items: BoxStream<'static, Result<T>>,
    ) -> BoxStream<'static, Result<T>> {
        let state = Some((items, self.clone(), store.clone()));
        stream::unfold(state, |state| async move {
            let (mut items, limit, store) = state?;
            let permit = match limit.acquire(&store).await {
                Ok(permit) => permit,
                Err(e) => return Some((Err(e), None)),
            };
            let item = items.next().await;
            drop(permit);
            item.map(|item| (item, Some((items, limit, store))))
        })
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
