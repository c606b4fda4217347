//! One dataset carried across every provider ferry speaks, on real local servers:
//! local → S3 (moto) → Azure (Azurite) → GCS (fake-gcs-server) → memory, byte-identical at
//! the end, tricky keys, empty objects and a 50 MiB object included; then incremental.

#![cfg(all(feature = "mirror", feature = "s3", feature = "azure", feature = "gcs"))]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::memory::MemoryStore;
use ferryboat::mirror::{Mirror, MirrorOptions, VerifyMode};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip};
use futures::TryStreamExt;

const KEYS: &[&str] = &[
    "café/naïve 日本.txt",
    "percent/100%+#?=&;.bin",
    "sp ace/x y",
    "deep/a/b/c/d/e/f/g/h/leaf",
    "dir/file",
    "dir.file",
    "empty",
    "plus+sign",
];

fn content(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 13) as u8).collect::<Vec<u8>>().into()
}

async fn snapshot(store: &dyn ObjectStore) -> Vec<(String, Bytes)> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out = Vec::new();
    for m in metas {
        out.push((m.path.to_string(), store.get(&m.path).await.unwrap().bytes().await.unwrap()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_s3_azure_gcs_memory_round_trip() {
    let test = "local_s3_azure_gcs_memory_round_trip";
    let (Some(moto), Some(azurite), Some(gcs)) = (emulators::moto(), emulators::azurite(), emulators::fake_gcs())
    else {
        return skip(test, "moto, Azurite and fake-gcs-server are all needed");
    };
    let tmp = tempfile::tempdir().unwrap();
    let local = ferryboat::open(&tmp.path().join("src").display().to_string()).await.unwrap();
    for (i, k) in KEYS.iter().enumerate() {
        let len = if *k == "empty" { 0 } else { 1 + i * 777 };
        local.put(&ObjectPath::parse(*k).unwrap(), content(len, i as u8)).await.unwrap();
    }
    local.put(&ObjectPath::parse("big/50MiB.bin").unwrap(), content(50 << 20, 7)).await.unwrap();

    let (bucket, s3) = common::s3_bucket(&moto, "cross").await;
    let azure = AzureStore::new(
        AzureConfig::new(&azurite.account, &bucket).with_endpoint(&azurite.endpoint).with_access_key(&azurite.key),
    )
    .unwrap();
    azure.create_container().await.expect("Azure container");
    common::create_gcs_bucket(&gcs.endpoint, &bucket);
    let gs = ferryboat::open(&format!("gs://{bucket}?endpoint={}", gcs.endpoint)).await.unwrap();
    let memory: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());

    let hops: Vec<Arc<dyn ObjectStore>> = vec![local.clone(), Arc::new(s3), Arc::new(azure), gs, memory.clone()];
    let opts = MirrorOptions::default().part_size(8 << 20).verify(VerifyMode::Hash);
    for pair in hops.windows(2) {
        let report = Mirror::new(pair[0].clone(), pair[1].clone(), opts.clone()).run().await.unwrap();
        assert!(report.in_sync, "{} -> {}: {report}", pair[0].info().provider, pair[1].info().provider);
        assert_eq!(report.copied, KEYS.len() as u64 + 1, "{report}");
    }
    assert_eq!(snapshot(local.as_ref()).await, snapshot(memory.as_ref()).await, "byte-identical after four hops");

    // Incremental: one change at the start of the chain travels alone.
    local.put(&ObjectPath::parse("dir/file").unwrap(), content(10, 99)).await.unwrap();
    for pair in hops.windows(2) {
        let report = Mirror::new(pair[0].clone(), pair[1].clone(), opts.clone()).run().await.unwrap();
        assert!(report.in_sync, "{report}");
        assert_eq!((report.copied, report.skipped), (1, KEYS.len() as u64), "{report}");
    }
    assert_eq!(snapshot(local.as_ref()).await, snapshot(memory.as_ref()).await);
}
