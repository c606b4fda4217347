//! A mirror through a network that cuts connections: Ceph RGW behind two cutting proxies
//! (`ferryboat_testkit::proxy`), one in front of the source bucket and one in front of the
//! destination, each cutting one 64 KiB chunk in 100 (resets, truncated messages, lost
//! responses). Many small objects and three 48 MiB objects must arrive in **one** run,
//! byte-identical (checked by SHA-256 straight from the server, past the proxies).
//!
//! And a destination that throttles: Ceph RGW behind a proxy answering every third PUT with
//! `503`. The store's retries get every copy through, and the copy window still hears the
//! "slow down" and narrows.
//!
//! Sized for CI: 300 small objects instead of the 1,000 of the measurement
//! (`FERRY_FLAKY_SMALL` and `FERRY_FLAKY_ONE_IN` change the size and the cut rate). On
//! failure the test runs the mirror up to twice more, to say how many runs it would have
//! needed.

#![cfg(all(feature = "mirror", feature = "s3"))]

mod common;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ferryboat::mirror::{Mirror, MirrorOptions};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{self, skip, S3Emulator};
use ferryboat_testkit::proxy::{FailingProxy, ProxyConfig, WanProxy};
use futures::{StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

const BIG: usize = 48 << 20;

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn content(len: usize, seed: u32) -> Bytes {
    let mut x = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out.into()
}

fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Every object's key, size and SHA-256, each read in a stream, a few at once.
async fn digests(store: &dyn ObjectStore) -> Vec<(String, u64, String)> {
    let metas: Vec<_> = store.list(None).try_collect().await.unwrap();
    let mut out: Vec<_> = futures::stream::iter(metas)
        .map(|m| async move {
            let mut body = store.get(&m.path).await.unwrap().body;
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.unwrap();
                n += chunk.len() as u64;
                hasher.update(&chunk);
            }
            let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
            (m.path.to_string(), n, hex)
        })
        .buffer_unordered(6)
        .collect()
        .await;
    out.sort();
    out
}

/// The bucket `bucket` on Ceph, reached through `endpoint` under the catalogue's profile.
async fn through(ceph: &S3Emulator, bucket: &str, endpoint: &str) -> Arc<dyn ObjectStore> {
    std::env::set_var("FERRY_CEPH_ACCESS_KEY_ID", &ceph.access_key);
    std::env::set_var("FERRY_CEPH_SECRET_ACCESS_KEY", &ceph.secret_key);
    ferryboat::open(&format!("ceph://{bucket}?endpoint={endpoint}")).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_through_cut_connections_converges_in_one_run() {
    let test = "mirror_through_cut_connections_converges_in_one_run";
    let Some(ceph) = emulators::ceph_rgw() else {
        return skip(test, "Ceph RGW is not available (scripts/test starts it)");
    };
    let small = env_or("FERRY_FLAKY_SMALL", 300);
    let one_in = env_or("FERRY_FLAKY_ONE_IN", 100);
    let (src_bucket, _) = common::s3_bucket(&ceph, "flaky-src").await;
    let (dst_bucket, _) = common::s3_bucket(&ceph, "flaky-dst").await;
    // Straight to the server (and under its profile, which sends no checksums), to seed and
    // to check.
    let seed = through(&ceph, &src_bucket, &ceph.endpoint).await;
    let direct_dst = through(&ceph, &dst_bucket, &ceph.endpoint).await;
    // What the source holds, as key, size and SHA-256.
    let mut want: Vec<(String, u64, String)> = futures::stream::iter(0..small)
        .map(|i| {
            let seed = &seed;
            async move {
                let key = format!("small/{i:05}");
                let data = content(1024 + (i as usize * 37) % 7168, i);
                seed.put(&ObjectPath::parse(key.as_str()).unwrap(), data.clone()).await.unwrap();
                (key, data.len() as u64, sha256(&data))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for i in 0..3 {
        let key = format!("big/{i}.bin");
        let data = content(BIG, 1_000 + i);
        seed.put(&ObjectPath::parse(key.as_str()).unwrap(), data.clone()).await.unwrap();
        want.push((key, BIG as u64, sha256(&data)));
    }
    want.sort();

    let src_proxy = WanProxy::start(&ceph.endpoint, ProxyConfig::default().with_cuts(one_in, 11)).await.unwrap();
    let dst_proxy = WanProxy::start(&ceph.endpoint, ProxyConfig::default().with_cuts(one_in, 23)).await.unwrap();
    let src = through(&ceph, &src_bucket, &src_proxy.endpoint()).await;
    let dst = through(&ceph, &dst_bucket, &dst_proxy.endpoint()).await;
    let opts = MirrorOptions::default().server_side_copy(false);

    let started = Instant::now();
    let mut runs = Vec::new();
    for _ in 0..3 {
        let report = Mirror::new(src.clone(), dst.clone(), opts.clone()).run().await;
        let summary = match &report {
            Ok(r) => format!("in_sync {} copied {} failed {}: {:?}", r.in_sync, r.copied, r.failed, r.failures.first()),
            Err(e) => format!("run failed: {e}"),
        };
        let done = report.as_ref().is_ok_and(|r| r.in_sync && r.failed == 0);
        runs.push(summary);
        if done {
            break;
        }
    }
    let (up, down) = (src_proxy.stats(), dst_proxy.stats());
    eprintln!(
        "{test}: 1 cut in {one_in}, {small} small + 3 x 48 MiB, {} run(s) in {:.1?}; source proxy {up:?}; destination proxy {down:?}; runs {runs:#?}",
        runs.len(),
        started.elapsed()
    );
    assert_eq!(runs.len(), 1, "converged only after {} runs: {runs:#?}", runs.len());
    // The network really was flaky, on both sides, large objects included.
    // (At the test's rate of 1 in 100 each proxy cuts a few dozen times; rarer rates, set
    // by hand to measure, prove less and are held to less.)
    let least = if one_in <= 100 { 10 } else { 1 };
    assert!(up.cuts() >= least && down.cuts() >= least, "too few cuts to prove anything: {up:?} {down:?}");

    // Byte-identical, read straight from the server.
    let checked = Instant::now();
    assert_eq!(digests(direct_dst.as_ref()).await, want);
    eprintln!("{test}: checked in {:.1?}", checked.elapsed());

    for store in [seed.as_ref(), direct_dst.as_ref()] {
        let keys = store.list(None).map_ok(|m| m.path).boxed();
        let _: Vec<_> = store.delete_stream(keys).try_collect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_destination_narrows_the_copy_window_and_loses_nothing() {
    let test = "a_throttling_destination_narrows_the_copy_window_and_loses_nothing";
    let Some(ceph) = emulators::ceph_rgw() else {
        return skip(test, "Ceph RGW is not available (scripts/test starts it)");
    };
    let src: Arc<dyn ObjectStore> = Arc::new(ferryboat::memory::MemoryStore::new());
    let objects = 400;
    for i in 0..objects {
        src.put(&ObjectPath::parse(format!("t/{i:04}")).unwrap(), content(2048, i)).await.unwrap();
    }
    let (dst_bucket, _) = common::s3_bucket(&ceph, "throttled").await;
    let puts = std::sync::atomic::AtomicU64::new(0);
    let proxy = FailingProxy::start(&ceph.endpoint, move |r| {
        r.method == "PUT" && puts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 3 == 2
    })
    .await
    .unwrap();
    let dst = through(&ceph, &dst_bucket, &proxy.endpoint()).await;
    let opts = MirrorOptions::default().adaptive_transfers(16, 512);
    let report = Mirror::new(src.clone(), dst, opts).run().await.unwrap();
    eprintln!("{test}: {} PUTs answered 503, window {:?}", proxy.failed().len(), report.transfers);
    assert!(report.in_sync && report.failed == 0 && report.copied == objects as u64, "{report:?}");
    assert!(proxy.failed().len() as u64 >= objects as u64 / 4, "the proxy throttled too little to prove anything");
    // No copy failed for good, so only the absorbed "slow down" answers can have narrowed it.
    assert!(report.transfers.last < 16, "the window ended at {:?}: it did not back off", report.transfers);

    let direct = through(&ceph, &dst_bucket, &ceph.endpoint).await;
    assert_eq!(digests(direct.as_ref()).await, digests(src.as_ref()).await, "every object, byte-identical");
    let keys = direct.list(None).map_ok(|m| m.path).boxed();
    let _: Vec<_> = direct.delete_stream(keys).try_collect().await.unwrap();
}
