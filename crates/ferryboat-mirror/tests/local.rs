//! The mirror between local directories: the store operators use for repatriation and the
//! demo, with real files, sidecar metadata and on-disk multipart uploads.

mod common;

use std::sync::Arc;

use common::{content, key, snapshot};
use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{ObjectStore, ObjectStoreExt};
use ferryboat_mirror::{Mirror, MirrorOptions, Rule, VerifyMode};

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn memory_to_local_to_local_round_trip_is_identical_and_incremental() {
    let tmp = tempfile::tempdir().unwrap();
    let mem = MemoryStore::new();
    let keys = ["a", "café/naïve 日本.txt", "percent/100%+#?=&;.bin", "sp ace/x", "dir/file", "dir.file"];
    for (i, k) in keys.iter().enumerate() {
        mem.put(&key(k), content(i * 1000 + 1, i as u64)).await.unwrap();
    }
    mem.put(&key("empty"), bytes::Bytes::new()).await.unwrap();
    mem.put(&key("big/blob"), content(11 * MIB, 9)).await.unwrap();
    let mem: Arc<dyn ObjectStore> = Arc::new(mem);
    let one: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(tmp.path().join("one")).unwrap());
    let two: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(tmp.path().join("two")).unwrap());

    let opts = MirrorOptions::default().part_size(5 * MIB as u64).verify(VerifyMode::Hash);
    for (from, to) in [(&mem, &one), (&one, &two)] {
        let r = Mirror::new(from.clone(), to.clone(), opts.clone()).run().await.unwrap();
        assert!(r.in_sync, "{r}");
        assert_eq!(r.copied, keys.len() as u64 + 2);
    }
    assert_eq!(snapshot(mem.as_ref()).await, snapshot(two.as_ref()).await);

    let again = Mirror::new(one.clone(), two.clone(), opts.clone()).run().await.unwrap();
    assert_eq!(again.copied, 0, "{again}");
    assert_eq!(again.compared.get(&Rule::Unproven), None, "every skip proven: {again}");

    one.put(&key("a"), content(1, 77)).await.unwrap();
    one.delete(&key("dir/file")).await.unwrap();
    let r = Mirror::new(one.clone(), two.clone(), opts.delete(true)).run().await.unwrap();
    assert_eq!((r.copied, r.deleted), (1, 1), "{r}");
    assert_eq!(snapshot(one.as_ref()).await, snapshot(two.as_ref()).await);
}

#[tokio::test]
async fn a_crashed_upload_on_disk_is_aborted_and_the_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let src = MemoryStore::new();
    for i in 0..20 {
        src.put(&key(&format!("k/{i}")), content(100 + i, i as u64)).await.unwrap();
    }
    let dst = LocalStore::new(tmp.path().join("dst")).unwrap();
    // A crash mid-way: some objects done (here: a run limited to `k/1*`), one multipart
    // upload left open.
    let partial = MirrorOptions::default().include("k/1*");
    let r = Mirror::new(Arc::new(src.clone()), Arc::new(dst.clone()), partial).run().await.unwrap();
    assert_eq!(r.copied, 11);
    let upload = dst.put_multipart(&key("k/big")).await.unwrap();
    upload.put_part(1, content(5 * MIB, 1)).await.unwrap();
    drop(upload);

    let rerun = MirrorOptions::default().abandoned_upload_age(std::time::Duration::ZERO);
    let r = Mirror::new(Arc::new(src.clone()), Arc::new(dst.clone()), rerun).run().await.unwrap();
    assert!(r.in_sync, "{r}");
    assert_eq!(r.aborted_uploads, 1);
    assert_eq!((r.copied, r.skipped), (9, 11), "nothing done is copied again: {r}");
    assert!(dst.list_pending_uploads(None).await.unwrap().is_empty());
    assert_eq!(snapshot(&src).await, snapshot(&dst).await);
}
