//! Rough timings of ferryboat-gcs against a GCS endpoint (an emulator by default).
//!
//! ```text
//! FERRY_TEST_FAKE_GCS=http://127.0.0.1:4443 cargo run -p ferryboat-gcs --release --example gcs_measure
//! ```
//! Creates a fresh bucket on the endpoint, then times small writes, listing, small reads, and
//! a 64 MiB streamed multipart upload and download.

use std::time::Instant;

use bytes::Bytes;
use ferryboat_core::{ObjectPath, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_gcs::{Credentials, GcsBuilder};
use futures::{StreamExt, TryStreamExt};

const SMALL: usize = 1_000;
const CONCURRENCY: usize = 16;

#[tokio::main]
async fn main() -> ferryboat_core::Result<()> {
    let Ok(endpoint) = std::env::var("FERRY_TEST_FAKE_GCS") else {
        eprintln!("set FERRY_TEST_FAKE_GCS to a fake-gcs-server endpoint on 127.0.0.1");
        return Ok(());
    };
    let bucket = format!("measure-{}", std::process::id());
    reqwest::Client::new()
        .post(format!("{endpoint}/storage/v1/b"))
        .body(format!("{{\"name\":\"{bucket}\"}}"))
        .send()
        .await
        .map_err(|e| ferryboat_core::Error::invalid_config(format!("cannot create the bucket: {e}")))?;
    let store = GcsBuilder::new(&bucket).endpoint(&endpoint).credentials(Credentials::Anonymous).build().await?;

    let t = Instant::now();
    futures::stream::iter(0..SMALL)
        .map(|i| {
            let store = store.clone();
            async move { store.put(&ObjectPath::parse(format!("small/{i:06}"))?, Bytes::from(vec![7u8; 4096])).await }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    report("put 4 KiB", SMALL, t);

    let t = Instant::now();
    let n = store.list(None).try_fold(0usize, |n, _| async move { Ok(n + 1) }).await?;
    report("list (1000/page)", n, t);

    let t = Instant::now();
    futures::stream::iter(0..SMALL)
        .map(|i| {
            let store = store.clone();
            async move { store.get(&ObjectPath::parse(format!("small/{i:06}"))?).await?.bytes().await }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    report("get 4 KiB", SMALL, t);

    let big = ObjectPath::parse("big.bin")?;
    let chunks: Vec<ferryboat_core::Result<Bytes>> = (0..64).map(|i| Ok(Bytes::from(vec![i as u8; 1 << 20]))).collect();
    let config = UploadConfig { part_size: 8 << 20, concurrency: 4, ..UploadConfig::default() };
    let t = Instant::now();
    store.put_stream(&big, futures::stream::iter(chunks).boxed(), PutOptions::default(), config).await?;
    mib_per_s("put_stream 64 MiB (8 MiB parts, compose)", t);
    let t = Instant::now();
    let mut body = store.get(&big).await?.body;
    let mut total = 0usize;
    while let Some(chunk) = body.try_next().await? {
        total += chunk.len();
    }
    assert_eq!(total, 64 << 20);
    mib_per_s("get 64 MiB (streamed)", t);
    Ok(())
}

fn report(what: &str, n: usize, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!("{what:<42} {n:>6} in {s:>6.2} s = {:>8.0}/s", n as f64 / s);
}

fn mib_per_s(what: &str, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!("{what:<42} {s:>6.2} s = {:>6.0} MiB/s", 64.0 / s);
}
