//! The mirror through the facade, between local directories opened by URL.
#![cfg(feature = "mirror")]

use std::path::Path;

use ferryboat::mirror::{Mirror, MirrorOptions, Rule, VerifyMode};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use futures::TryStreamExt;

fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

fn url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

fn content(len: usize, seed: u8) -> bytes::Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect::<Vec<u8>>().into()
}

async fn snapshot(store: &dyn ObjectStore) -> Vec<(String, bytes::Bytes)> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out = Vec::new();
    for m in metas {
        out.push((m.path.to_string(), store.get(&m.path).await.unwrap().bytes().await.unwrap()));
    }
    out
}

#[tokio::test]
async fn local_to_local_is_identical_then_incremental() {
    let tmp = tempfile::tempdir().unwrap();
    let src = ferryboat::open(&url(&tmp.path().join("src"))).await.unwrap();
    let dst = ferryboat::open(&url(&tmp.path().join("dst"))).await.unwrap();
    let keys = ["a", "café/naïve 日本.txt", "percent/100%+#?=&;.bin", "sp ace/x", "dir/file", "dir.file", "empty"];
    for (i, k) in keys.iter().enumerate() {
        let len = if *k == "empty" { 0 } else { i * 1000 + 1 };
        src.put(&key(k), content(len, i as u8)).await.unwrap();
    }
    src.put(&key("big/blob"), content(11 * 1024 * 1024, 9)).await.unwrap();

    let opts = MirrorOptions::default().part_size(5 << 20).verify(VerifyMode::Hash);
    let first = Mirror::new(src.clone(), dst.clone(), opts.clone()).run().await.unwrap();
    assert!(first.in_sync, "{first}");
    assert_eq!(first.copied, keys.len() as u64 + 1);
    assert_eq!(snapshot(src.as_ref()).await, snapshot(dst.as_ref()).await);

    src.put(&key("a"), content(1, 200)).await.unwrap();
    src.delete(&key("dir/file")).await.unwrap();
    let second = Mirror::new(src.clone(), dst.clone(), opts.delete(true)).run().await.unwrap();
    assert!(second.in_sync, "{second}");
    assert_eq!((second.copied, second.deleted), (1, 1), "{second}");
    assert_eq!(second.compared.get(&Rule::Unproven), None, "every skip was proven: {second}");
    assert_eq!(snapshot(src.as_ref()).await, snapshot(dst.as_ref()).await);
}

#[tokio::test]
async fn dry_run_leaves_a_local_destination_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let src = ferryboat::open(&url(&tmp.path().join("src"))).await.unwrap();
    let dst = ferryboat::open(&url(&tmp.path().join("dst"))).await.unwrap();
    src.put(&key("new"), "n".into()).await.unwrap();
    dst.put(&key("old"), "o".into()).await.unwrap();
    let report =
        Mirror::new(src, dst.clone(), MirrorOptions::default().dry_run(true).delete(true)).run().await.unwrap();
    assert_eq!((report.copied, report.deleted), (1, 1), "{report}");
    assert_eq!(snapshot(dst.as_ref()).await, vec![("old".to_string(), bytes::Bytes::from("o"))]);
}
