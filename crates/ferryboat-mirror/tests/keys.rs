//! Keys one side cannot name or hold: each is a failure the report names, the rest of the
//! run goes on, and nothing is deleted after it.
#![cfg(unix)]

use std::sync::Arc;

use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_mirror::{Mirror, MirrorOptions};
use futures::TryStreamExt;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

async fn keys(store: &dyn ObjectStore) -> Vec<String> {
    store.list(None).map_ok(|m| m.path.into_string()).try_collect().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_key_its_listing_cannot_name_is_a_named_failure_and_the_run_goes_on() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let local = LocalStore::new(tmp.path()).unwrap();
    for k in ["a", "photos/", "photos/p.jpg", "/lead", "z"] {
        local.put(&key(k), k.to_string().into()).await.unwrap();
    }
    std::fs::write(tmp.path().join(std::ffi::OsStr::from_bytes(b"m-bad\xff")), "x").unwrap();
    let src: Arc<dyn ObjectStore> = Arc::new(local);
    let dst_mem = Arc::new(MemoryStore::new());
    dst_mem.put(&key("extra"), "keep me".into()).await.unwrap();
    let dst: Arc<dyn ObjectStore> = dst_mem.clone();
    let report = Mirror::new(src, dst, MirrorOptions::default().delete(true)).run().await.unwrap();
    assert!(report.aborted.is_none(), "{report}");
    assert_eq!((report.copied, report.failed, report.listed_source), (5, 1, 6), "{report}");
    let f = &report.failures[0];
    assert_eq!((f.action.as_str(), f.kind.as_str()), ("list (source)", "InvalidPath"), "{f:?}");
    assert!(f.key.starts_with("m-bad") && f.reason.contains("not UTF-8"), "{f:?}");
    assert!(!report.in_sync);
    assert_eq!(report.deleted, 0, "nothing is deleted after a failure: {report}");
    assert_eq!(keys(dst_mem.as_ref()).await, ["/lead", "a", "extra", "photos/", "photos/p.jpg", "z"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destination_that_cannot_hold_a_key_fails_that_key_alone() {
    let src_mem = Arc::new(MemoryStore::new());
    let long = format!("seg/{}", "s".repeat(300));
    for k in ["a//b", "dir", "dir/file", "dot/../x", long.as_str(), "z"] {
        src_mem.put(&key(k), k.to_string().into()).await.unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let dst: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(tmp.path()).unwrap());
    let src: Arc<dyn ObjectStore> = src_mem;
    let report = Mirror::new(src.clone(), dst.clone(), MirrorOptions::default()).run().await.unwrap();
    assert!(report.aborted.is_none(), "{report}");
    assert_eq!((report.copied, report.failed), (4, 2), "{report}");
    let mut failed: Vec<_> = report.failures.iter().map(|f| (f.key.as_str(), f.kind.as_str())).collect();
    failed.sort();
    // Copies run concurrently: whichever of `dir` and `dir/file` is written second fails.
    let (lost, kept) = if failed[0].0 == "dir" { ("dir", "dir/file") } else { ("dir/file", "dir") };
    assert_eq!(failed, [(lost, "Generic"), (long.as_str(), "InvalidPath")], "{report}");
    let mut expected = vec!["a//b", kept, "dot/../x", "z"];
    expected.sort();
    assert_eq!(keys(dst.as_ref()).await, expected);
    // The same failures again on the next run, and nothing copied twice.
    let again = Mirror::new(src, dst, MirrorOptions::default()).run().await.unwrap();
    assert_eq!((again.copied, again.failed, again.skipped), (0, 2, 4), "{again}");
}
