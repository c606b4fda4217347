//! Batched deletes through layers: how a layer keeps the inner store's batches whole while
//! treating each batch as one request.

use futures::stream::{self, BoxStream, StreamExt};

use crate::error::{Error, Result};
use crate::path::ObjectPath;
use crate::store::ObjectStore;

/// Splits a key stream into batches of at most `store`'s `batch_delete_max` keys, so a layer
/// can act once per batch (one permit, one timeout, one policy check) and hand the inner
/// store a batch it sends as one request.
pub(crate) fn batches<'a>(
    store: &dyn ObjectStore,
    paths: BoxStream<'a, Result<ObjectPath>>,
) -> BoxStream<'a, Vec<Result<ObjectPath>>> {
    paths.chunks(store.capabilities().batch_delete_max.max(1)).boxed()
}

/// The keys of a batch, for answering each of them when the whole batch failed.
pub(crate) fn keys(batch: &[Result<ObjectPath>]) -> Vec<ObjectPath> {
    batch.iter().filter_map(|p| p.as_ref().ok().cloned()).collect()
}

/// Deletes one batch through the inner store, collecting its per-key answers.
pub(crate) async fn delete_batch(inner: &dyn ObjectStore, batch: Vec<Result<ObjectPath>>) -> Vec<Result<ObjectPath>> {
    inner.delete_stream(stream::iter(batch).boxed()).collect().await
}

/// Every key of a batch that failed as a whole gets an error: the first the batch's own,
/// the others one that names it and keeps whether it is worth retrying. Keys that were
/// already invalid in the batch keep their own error.
pub(crate) fn fail_batch(provider: &str, error: Error, batch: Vec<Result<ObjectPath>>) -> Vec<Result<ObjectPath>> {
    let retryable = error.is_retryable();
    let message = format!("not deleted: the batch failed: {error}");
    let mut first = Some(error);
    batch
        .into_iter()
        .map(|p| {
            let p = p?;
            Err(match first.take() {
                Some(e) => e,
                None if retryable => Error::transient(provider, p.as_str(), message.clone(), None),
                None => Error::generic(provider, p.as_str(), message.clone(), None),
            })
        })
        .collect()
}
