//! The conformance suite on the in-memory store.

use std::sync::Arc;
use std::time::Instant;

use ferryboat_core::{memory::MemoryStore, ObjectStore};

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_keeps_every_promise() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let started = Instant::now();
    ferryboat_testkit::suite::run_all(&store).await;
    println!("conformance memory: whole suite in {:?}", started.elapsed());
}
