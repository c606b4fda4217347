//! Many small objects at high concurrency against s3s-fs: prints objects per second.
//! Run with `cargo test -p ferryboat-s3 --test throughput -- --ignored --nocapture`.

mod support;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ferryboat_core::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators;
use futures::stream::{self, StreamExt, TryStreamExt};
use support::{config, emulator_quirks, fresh_bucket, open};

const COUNT: usize = 2_000;
const CONCURRENCY: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn small_objects_at_64_concurrent_requests() {
    let Some(emu) = emulators::s3s() else {
        return emulators::skip("small_objects_at_64_concurrent_requests", "s3s-fs is not available");
    };
    let store: Arc<dyn ObjectStore> =
        Arc::new(open(&emu, config(&emu, &fresh_bucket("tp"), "generic", emulator_quirks(&emu))).await);
    let keys: Vec<ObjectPath> = (0..COUNT).map(|i| ObjectPath::parse(format!("tp/{i:06}")).unwrap()).collect();
    let body = Bytes::from(vec![7u8; 4096]);

    let t = Instant::now();
    stream::iter(keys.iter())
        .map(|k| {
            let (store, body) = (Arc::clone(&store), body.clone());
            async move { store.put(k, body).await }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let put = t.elapsed();

    let t = Instant::now();
    let listed = store.list(None).try_collect::<Vec<_>>().await.unwrap().len();
    let list = t.elapsed();
    assert_eq!(listed, COUNT);

    let t = Instant::now();
    let read: usize = stream::iter(keys.iter())
        .map(|k| {
            let store = Arc::clone(&store);
            async move { store.get(k).await?.bytes().await.map(|b| b.len()) }
        })
        .buffer_unordered(CONCURRENCY)
        .try_fold(0, |acc, n| async move { Ok(acc + n) })
        .await
        .unwrap();
    let get = t.elapsed();
    assert_eq!(read, COUNT * 4096);

    let t = Instant::now();
    let deleted =
        store.delete_stream(stream::iter(keys.clone()).map(Ok).boxed()).try_collect::<Vec<_>>().await.unwrap();
    let delete = t.elapsed();
    assert_eq!(deleted.len(), COUNT);

    let rate = |d: std::time::Duration| COUNT as f64 / d.as_secs_f64();
    println!(
        "s3s-fs, {COUNT} x 4 KiB, {CONCURRENCY} at once: put {:.0}/s, get {:.0}/s, list {:?}, batch delete {:.0}/s",
        rate(put),
        rate(get),
        list,
        rate(delete)
    );
}
