//! The conformance suite on a local directory.

use std::sync::Arc;
use std::time::Instant;

use ferryboat_core::{local::LocalStore, ObjectStore};

#[tokio::test(flavor = "multi_thread")]
async fn local_store_keeps_every_promise() {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("creating a temporary directory for the store: {e}"),
    };
    let store: Arc<dyn ObjectStore> = match LocalStore::new(dir.path()) {
        Ok(store) => Arc::new(store),
        Err(e) => panic!("opening a LocalStore on a fresh temporary directory: {e}"),
    };
    let started = Instant::now();
    ferryboat_testkit::suite::run_all(&store).await;
    println!("conformance local: whole suite in {:?}", started.elapsed());
}
