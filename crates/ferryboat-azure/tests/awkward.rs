//! The awkward-key corpus on a fresh emulator container/bucket. What it keeps and refuses was
//! measured; the expectations below are those measurements (an emulator, not the cloud).

mod common;

use std::sync::Arc;

use ferryboat_core::{ErrorKind, ObjectStore};
use ferryboat_testkit::suite::awkward_keys_except;

#[tokio::test]
async fn azure_keeps_or_refuses_each_awkward_key() {
    let Some(store) = common::fresh_store("azure_keeps_or_refuses_each_awkward_key").await else { return };
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    // Every refusal is the object_store client's (its `Path` has no empty, `.` or `..`
    // segment, no leading or trailing `/`, no ASCII control character), made before any
    // request; Azurite itself kept a trailing dot.
    let refused: Vec<(&str, ErrorKind)> = [
        "root-folder-marker",
        "folder-marker",
        "double-slash",
        "leading-slash",
        "trailing-slashes",
        "dot-segment",
        "dotdot-segment",
        "dot-last",
        "dotdot-last",
        "tab",
        "newline",
        "carriage-return",
        "delete-char",
    ]
    .into_iter()
    .map(|l| (l, ErrorKind::InvalidPath))
    .collect();
    let refused = refused.as_slice();
    awkward_keys_except(&store, refused, &[]).await;
}
