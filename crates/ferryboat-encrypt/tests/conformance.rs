//! The whole conformance suite through the encryption layer.

use std::sync::Arc;

use ferryboat_core::memory::MemoryStore;
use ferryboat_core::ObjectStore;
use ferryboat_encrypt::{EncryptConfig, EncryptedStore, LocalKey};

#[tokio::test(flavor = "multi_thread")]
async fn encrypted_memory_keeps_every_promise() {
    let config = EncryptConfig { chunk_size: 64 * 1024, part_size: 5 << 20 };
    let store =
        EncryptedStore::new(Arc::new(MemoryStore::new()), Arc::new(LocalKey::from_bytes([3; 32])), config).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    ferryboat_testkit::suite::run_all(&store).await;
}
