//! The awkward-key corpus on a fresh emulator container/bucket. What it keeps and refuses was
//! measured; the expectations below are those measurements (an emulator, not the cloud).

mod common;

use std::sync::Arc;

use ferryboat_core::{ErrorKind, ObjectStore};
use ferryboat_testkit::suite::awkward_keys_except;

#[tokio::test]
async fn gcs_keeps_or_refuses_each_awkward_key() {
    let Some(store) = common::fresh_store("gcs_keeps_or_refuses_each_awkward_key").await else { return };
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let refused: &[(&str, ErrorKind)] = &[];
    awkward_keys_except(&store, refused, &[]).await;
}
