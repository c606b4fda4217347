//! Timeouts: every request bounded, and the wait for each chunk of a body or listing.

use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use futures::FutureExt;

use super::hook::{Hook, Op};
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::types::ObjectMeta;

/// A hook that fails slow requests with a retryable `Error::Unavailable`, so a hung server
/// becomes an error a retry or failover layer can act on, never a hang.
///
/// ```
/// use std::sync::Arc;
/// use ferryboat_core::layers::{HookStore, Timeout};
/// let store = HookStore::new(Arc::new(ferryboat_core::memory::MemoryStore::new()), Timeout::default());
/// ```
#[derive(Debug, Clone)]
pub struct Timeout {
    /// Longest a request may take until its response starts (a whole put, a get's headers).
    pub request: Duration,
    /// Longest to wait for the next chunk of a body or the next item of a listing.
    pub idle: Duration,
}

impl Default for Timeout {
    fn default() -> Self {
        Timeout { request: Duration::from_secs(60), idle: Duration::from_secs(30) }
    }
}

fn timed_out(store: &StoreInfo, path: &str, what: String) -> Error {
    Error::unavailable(&store.provider, path, what, None)
}

/// Ends `items` with a timeout error when the next one takes longer than `idle`.
fn idle_bounded<T: Send + 'static>(
    items: BoxStream<'static, Result<T>>,
    idle: Duration,
    store: StoreInfo,
    path: String,
) -> BoxStream<'static, Result<T>> {
    stream::unfold(Some(items), move |items| {
        let (store, path) = (store.clone(), path.clone());
        async move {
            let mut items = items?;
            match tokio::time::timeout(idle, items.next()).await {
                Ok(Some(item)) => Some((item, Some(items))),
                Ok(None) => None,
                Err(_) => Some((Err(timed_out(&store, &path, format!("no data for {idle:?}"))), None)),
            }
        }
    })
    .boxed()
}

impl Hook for Timeout {
    fn around<'a, T: Send + 'a>(
        &'a self,
        store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>> {
        async move {
            match tokio::time::timeout(self.request, request).await {
                Ok(r) => r,
                Err(_) => Err(timed_out(store, op.path, format!("{} timed out after {:?}", op.name, self.request))),
            }
        }
        .boxed()
    }

    fn body(
        &self,
        store: &StoreInfo,
        path: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        idle_bounded(body, self.idle, store.clone(), path.to_string())
    }

    fn listing(
        &self,
        store: &StoreInfo,
        prefix: &str,
        items: BoxStream<'static, Result<ObjectMeta>>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        idle_bounded(items, self.idle, store.clone(), prefix.to_string())
    }
}
