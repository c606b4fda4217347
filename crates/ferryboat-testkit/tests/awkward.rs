//! The awkward-key corpus on the stores that need no server: memory keeps every key; the
//! local directory keeps every key through its escaping encoding except the two a Linux file
//! system cannot hold even so.

use std::sync::Arc;

use ferryboat_core::{local::LocalStore, memory::MemoryStore, ErrorKind, ObjectStore};
use ferryboat_testkit::suite::{awkward_keys, AwkwardResult};

#[tokio::test(flavor = "multi_thread")]
async fn memory_keeps_every_awkward_key() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    awkward_keys(&store, &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn local_keeps_every_awkward_key_a_file_system_can_hold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()).expect("local store"));
    let found =
        awkward_keys(&store, &[("dir-child", ErrorKind::Generic), ("long-segment", ErrorKind::InvalidPath)]).await;
    let AwkwardResult::Refused(_, why) = &found["long-segment"] else { unreachable!("checked above") };
    assert!(why.contains("300 bytes") && why.contains("255"), "{why}");
    let AwkwardResult::Refused(_, why) = &found["dir-child"] else { unreachable!("checked above") };
    assert!(why.contains("cannot hold both"), "{why}");
}
