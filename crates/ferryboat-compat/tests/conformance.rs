//! The whole conformance suite through the object_store bridges, both directions.

use std::sync::Arc;

use ferryboat_compat::{AsObjectStore, FromObjectStore};
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::ObjectStore;

#[tokio::test(flavor = "multi_thread")]
async fn ferry_through_object_store_and_back_keeps_every_promise() {
    let memory = Arc::new(MemoryStore::new());
    let mut caps = memory.capabilities().clone();
    // object_store's multipart API has no create-only mode, so the bridge cannot promise
    // `PutMode::Create` on every write path.
    caps.put_if_not_exists = false;
    // Nor a way to list or abort someone else's unfinished uploads.
    caps.pending_uploads = false;
    let round_trip = FromObjectStore::new(Arc::new(AsObjectStore::new(memory))).with_capabilities(caps);
    let store: Arc<dyn ObjectStore> = Arc::new(round_trip);
    ferryboat_testkit::suite::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn object_store_in_memory_keeps_every_promise_it_claims() {
    let store: Arc<dyn ObjectStore> = Arc::new(FromObjectStore::new(Arc::new(object_store::memory::InMemory::new())));
    ferryboat_testkit::suite::run_all(&store).await;
}
