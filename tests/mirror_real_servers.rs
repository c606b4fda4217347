//! The mirror across real S3 servers: s3s-fs → Ceph RGW → SeaweedFS → Azurite, each S3 hop
//! opened by URL under its catalogue profile (`ceph://`, `seaweedfs://`), with tricky keys,
//! an empty object and one object above the part size (so every S3 destination takes it as
//! a multipart upload); byte-identical at every hop, and a second pass copies nothing.

#![cfg(all(feature = "mirror", feature = "s3", feature = "azure"))]

mod common;

use std::sync::Arc;

use bytes::Bytes;
use ferryboat::azure::{AzureConfig, AzureStore};
use ferryboat::mirror::{Mirror, MirrorOptions, VerifyMode};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};
use futures::TryStreamExt;

const KEYS: &[&str] = &[
    "café/naïve 日本.txt",
    "percent/100%+#?=&;.bin",
    "sp ace/x y",
    "deep/a/b/c/d/e/f/g/h/leaf",
    "dir/file",
    "dir.file",
    "a b",
    "a/b",
    "empty",
    "plus+sign",
];
const PART: usize = 5 << 20;
const BIG: &str = "big/12MiB.bin";

fn content(len: usize, seed: u8) -> Bytes {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 13) as u8).collect::<Vec<u8>>().into()
}

async fn snapshot(store: &dyn ObjectStore) -> Vec<(String, Bytes)> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out = Vec::new();
    for m in metas {
        out.push((m.path.to_string(), store.get(&m.path).await.unwrap().bytes().await.unwrap()));
    }
    out.sort();
    out
}

/// A new bucket on a real server, opened through its catalogue profile by URL. The keys go
/// in the profile's own variables (`FERRY_CEPH_ACCESS_KEY_ID`, …), so each hop signs with its
/// server's keys.
async fn profile_store(emu: &S3Emulator, profile: &str) -> Arc<dyn ObjectStore> {
    let (bucket, _) = common::s3_bucket(emu, profile).await;
    let var = profile.to_ascii_uppercase();
    std::env::set_var(format!("FERRY_{var}_ACCESS_KEY_ID"), &emu.access_key);
    std::env::set_var(format!("FERRY_{var}_SECRET_ACCESS_KEY"), &emu.secret_key);
    let store = ferryboat::open(&format!("{profile}://{bucket}?endpoint={}", emu.endpoint)).await.unwrap();
    assert_eq!(store.info().provider, profile);
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3s_ceph_seaweedfs_azurite_round_trip() {
    let test = "s3s_ceph_seaweedfs_azurite_round_trip";
    let (Some(s3s), Some(ceph), Some(weed), Some(azurite)) =
        (emulators::s3s(), emulators::ceph_rgw(), emulators::seaweedfs(), emulators::azurite())
    else {
        return skip(test, "s3s-fs, Ceph RGW, SeaweedFS and Azurite are all needed (scripts/test starts them)");
    };
    let (_, source) = common::s3_bucket(&s3s, "real-src").await;
    for (i, k) in KEYS.iter().enumerate() {
        let len = if *k == "empty" { 0 } else { 1 + i * 777 };
        source.put(&ObjectPath::parse(*k).unwrap(), content(len, i as u8)).await.unwrap();
    }
    source.put(&ObjectPath::parse(BIG).unwrap(), content(12 << 20, 7)).await.unwrap();
    let source: Arc<dyn ObjectStore> = source;

    let ceph = profile_store(&ceph, "ceph").await;
    let weed = profile_store(&weed, "seaweedfs").await;
    let container = common::unique("real");
    let azure = AzureStore::new(
        AzureConfig::new(&azurite.account, &container).with_endpoint(&azurite.endpoint).with_access_key(&azurite.key),
    )
    .unwrap();
    azure.create_container().await.expect("Azure container");

    let hops: Vec<Arc<dyn ObjectStore>> = vec![source.clone(), ceph.clone(), weed.clone(), Arc::new(azure)];
    let opts = MirrorOptions::default().part_size(PART as u64).verify(VerifyMode::Hash);
    let expected = snapshot(source.as_ref()).await;
    assert_eq!(expected.len(), KEYS.len() + 1);
    for pair in hops.windows(2) {
        let report = Mirror::new(pair[0].clone(), pair[1].clone(), opts.clone()).run().await.unwrap();
        let hop = format!("{} -> {}", pair[0].info().provider, pair[1].info().provider);
        assert!(report.in_sync, "{hop}: {report}");
        assert_eq!(report.copied, KEYS.len() as u64 + 1, "{hop}: {report}");
        assert_eq!(snapshot(pair[1].as_ref()).await, expected, "{hop}: byte-identical");
    }
    // The big object went up in parts on both real servers: its etag is the multipart form.
    for store in [&ceph, &weed] {
        let etag = store.head(&ObjectPath::parse(BIG).unwrap()).await.unwrap().etag.unwrap_or_default();
        assert!(etag.ends_with("-3"), "{}: {BIG} etag {etag}: not a 3-part upload", store.info().provider);
    }

    // A second pass has nothing to copy.
    for pair in hops.windows(2) {
        let report = Mirror::new(pair[0].clone(), pair[1].clone(), opts.clone()).run().await.unwrap();
        assert!(report.in_sync, "{report}");
        assert_eq!((report.copied, report.skipped), (0, KEYS.len() as u64 + 1), "{report}");
    }
}
