//! The same work on every backend, through the ferry trait: memory, a local directory, S3
//! (s3s-fs), Azure (Azurite) and GCS (fake-gcs-server), interleaved.
//!
//! `cargo bench --bench backends -- --quick` (default) or `--scale N` / `FERRY_BENCH_SCALE=N`.
//! Prints a table, writes `target/bench/backends.json`. A backend whose server is neither
//! given (`FERRY_TEST_*`) nor installed in `.tools/` is left out with the reason printed;
//! memory and local always run. The emulators are not the clouds: these numbers compare
//! ferry's clients and the local servers, not providers.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt, PutOptions, UploadConfig};
use ferryboat_testkit::emulators;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

/// Keys in the listed prefix.
const LIST_KEYS: u64 = 1_000;

struct Backend {
    name: &'static str,
    store: Arc<dyn ObjectStore>,
}

fn path(key: &str) -> Res<ObjectPath> {
    Ok(ObjectPath::parse(key)?)
}

/// `case.ops` operations on one backend.
async fn run_case(store: &dyn ObjectStore, who: &str, case: &Case, data: &Bytes, feed: &[Bytes]) -> Res<()> {
    let read_key = path(&format!("read/{}", case.size))?;
    for i in 0..case.ops {
        let key = path(&format!("{}-{}/{i}", case.op.name(), case.size))?;
        match case.op {
            Op::Put => drop(store.put(&key, data.clone()).await?),
            Op::Get => {
                let mut body = store.get(&read_key).await?.body;
                let mut n = 0u64;
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
                expect_len(who, n, case.size)?;
            }
            Op::RangedGet => {
                let range = ranged(case.size);
                let want = range.end - range.start;
                expect_len(who, store.get_range(&read_key, range).await?.len() as u64, want)?;
            }
            Op::List => {
                let n = store.list(Some(&path("list")?)).try_fold(0u64, |n, _| async move { Ok(n + 1) }).await?;
                expect_len(who, n, case.size)?;
            }
            Op::Multipart => {
                let config = UploadConfig {
                    part_size: PART_SIZE,
                    concurrency: PART_CONCURRENCY,
                    expected_size: Some(data.len() as u64),
                    ..UploadConfig::default()
                };
                let body = stream::iter(feed.to_vec()).map(Ok).boxed();
                store.put_stream(&key, body, PutOptions::default(), config).await?;
            }
        }
    }
    Ok(())
}

/// Objects every read case needs, and the listed prefix.
async fn seed(store: &dyn ObjectStore, cases: &[Case]) -> Res<()> {
    let mut sizes: Vec<u64> =
        cases.iter().filter(|c| matches!(c.op, Op::Get | Op::RangedGet)).map(|c| c.size).collect();
    sizes.sort_unstable();
    sizes.dedup();
    for size in sizes {
        store.put(&path(&format!("read/{size}"))?, body(size)).await?;
    }
    if let Some(list) = cases.iter().find(|c| c.op == Op::List) {
        stream::iter(0..list.size)
            .map(|i| async move {
                store.put(&path(&format!("list/{i:06}"))?, Bytes::from_static(b"key")).await?;
                Ok::<_, BoxError>(())
            })
            .buffer_unordered(16)
            .try_collect::<Vec<()>>()
            .await?;
    }
    Ok(())
}

/// A fresh name for a bucket or container (lower case, digits, hyphens).
fn fresh_name() -> String {
    format!("ferry-bench-{}", std::process::id())
}

async fn s3() -> Result<Backend, String> {
    let emu = emulators::s3s().ok_or("s3s-fs is not available")?;
    let store = ferryboat::s3::S3Store::new(
        ferryboat::s3::S3Config::new(fresh_name())
            .with_region(&emu.region)
            .with_endpoint(&emu.endpoint)
            .with_path_style(true)
            .with_credentials(ferryboat::s3::Credentials::new(&emu.access_key, &emu.secret_key)),
    )
    .map_err(|e| e.to_string())?;
    store.create_bucket().await.map_err(|e| format!("create bucket: {e}"))?;
    Ok(Backend { name: "s3 (s3s-fs)", store: Arc::new(store) })
}

async fn azure() -> Result<Backend, String> {
    let emu = emulators::azurite().ok_or("Azurite is not available")?;
    let config = ferryboat::azure::AzureConfig::new(&emu.account, fresh_name())
        .with_endpoint(&emu.endpoint)
        .with_access_key(&emu.key);
    let store = ferryboat::azure::AzureStore::new(config).map_err(|e| e.to_string())?;
    store.create_container().await.map_err(|e| format!("create container: {e}"))?;
    Ok(Backend { name: "azure (azurite)", store: Arc::new(store) })
}

async fn gcs() -> Result<Backend, String> {
    let emu = emulators::fake_gcs().ok_or("fake-gcs-server is not available")?;
    let bucket = fresh_name();
    create_gcs_bucket(&emu.endpoint, &bucket)?;
    let store = ferryboat::gcs::GcsBuilder::new(&bucket)
        .endpoint(&emu.endpoint)
        .credentials(ferryboat::gcs::Credentials::Anonymous)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    Ok(Backend { name: "gcs (fake-gcs)", store: Arc::new(store) })
}

/// Creates a bucket on fake-gcs-server with one plain HTTP request (the JSON API's bucket
/// insert, which ferry does not wrap), to 127.0.0.1 only.
fn create_gcs_bucket(endpoint: &str, name: &str) -> Result<(), String> {
    let authority = endpoint.strip_prefix("http://").ok_or("fake-gcs endpoint is not http://")?;
    let authority = authority.split('/').next().unwrap_or(authority);
    let body = format!("{{\"name\":\"{name}\"}}");
    let request = format!(
        "POST /storage/v1/b HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut conn = std::net::TcpStream::connect(authority).map_err(|e| format!("connect {authority}: {e}"))?;
    conn.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    conn.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let status = answer.lines().next().unwrap_or_default();
    if status.contains(" 200 ") || status.contains(" 201 ") {
        Ok(())
    } else {
        Err(format!("bucket creation answered `{status}`"))
    }
}

async fn backends(tmp: &std::path::Path) -> Res<(Vec<Backend>, Vec<String>)> {
    let mut found = vec![
        Backend { name: "memory", store: Arc::new(ferryboat::memory::MemoryStore::new()) },
        Backend { name: "local", store: Arc::new(ferryboat::local::LocalStore::new(tmp)?) },
    ];
    let mut missing = Vec::new();
    for result in [s3().await, azure().await, gcs().await] {
        match result {
            Ok(b) => found.push(b),
            Err(reason) => missing.push(reason),
        }
    }
    Ok((found, missing))
}

async fn bench(args: Args) -> Res<()> {
    let tmp = tempfile::tempdir()?;
    let (backends, missing) = backends(tmp.path()).await?;
    for reason in &missing {
        println!("left out: {reason} (set its FERRY_TEST_* variable or run scripts/test once to install it)");
    }
    let cases: Vec<Case> = matrix(args.scale, LIST_KEYS).into_iter().filter(|c| args.wants(c)).collect();
    let names: Vec<&str> = backends.iter().map(|b| b.name).collect();
    println!("backends: {}; scale {}, {} cases", names.join(", "), args.scale, cases.len());
    for b in &backends {
        seed(b.store.as_ref(), &cases).await.map_err(|e| format!("{}: seeding failed: {e}", b.name))?;
    }

    let mut rows = Vec::new();
    for case in &cases {
        let data = body(case.size);
        let feed = chunks(&data);
        let samples = interleave(case, backends.len(), |i| {
            run_case(backends[i].store.as_ref(), backends[i].name, case, &data, &feed)
        })
        .await?;
        for (b, samples) in backends.iter().zip(samples) {
            rows.push(Row { case: *case, contender: b.name.to_owned(), samples });
        }
        println!("  {} done", case.name());
    }

    print_table("backends through the ferry trait (medians per operation)", &rows, None);
    print_peak_rss();
    let head = json!({
        "bench": "backends",
        "left_out": missing,
        "scale": args.scale,
        "part_size": PART_SIZE,
        "part_concurrency": PART_CONCURRENCY,
        "note": "emulators on 127.0.0.1, not the clouds: compares ferry's clients and the local servers",
    });
    let path = write_json(&args.out, "backends", head, &rows, None)?;
    println!("results: {}", path.display());

    // The servers may be long-running ones: leave nothing behind.
    for b in &backends {
        let keys = b.store.list(None).map_ok(|m| m.path).boxed();
        let _ = b.store.delete_stream(keys).try_collect::<Vec<_>>().await;
    }
    Ok(())
}

fn main() {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("backends bench: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(bench(args)) {
        eprintln!("backends bench failed: {e}");
        std::process::exit(1);
    }
}
