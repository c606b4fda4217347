//! Failover the real way: two S3 servers (s3s-fs) on 127.0.0.1, the primary's process killed
//! in the middle of 10,000 reads. Goal: zero failed reads; the added latency is printed.

#![cfg(feature = "s3")]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use ferryboat::layers::{BreakerConfig, HookStore, Replicated, Timeout, WriteMode};
use ferryboat::s3::{Credentials, S3Config, S3Store};
use ferryboat::{ObjectPath, ObjectStore, ObjectStoreExt};
use ferryboat_testkit::emulators::{skip, S3_ACCESS_KEY, S3_SECRET_KEY};
use ferryboat_testkit::server::{Readiness, ServerProcess};
use futures::StreamExt;

const OBJECTS: usize = 100;
const READS: usize = 10_000;
const KILL_AT: usize = 3_000;

fn start_s3s(bin: &Path) -> ServerProcess {
    let args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        "{port}",
        "--access-key",
        S3_ACCESS_KEY,
        "--secret-key",
        S3_SECRET_KEY,
        "{dir}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ServerProcess::start("s3s-fs", bin, &args, Readiness::http("/")).expect("s3s-fs starts")
}

async fn s3_store(endpoint: &str) -> Arc<dyn ObjectStore> {
    let config = S3Config::new("failover")
        .with_endpoint(endpoint)
        .with_region("us-east-1")
        .with_path_style(true)
        .with_allow_http(true)
        .with_credentials(Credentials::new(S3_ACCESS_KEY, S3_SECRET_KEY))
        .with_connect_timeout(Duration::from_millis(500))
        .with_operation_timeout(Duration::from_secs(2))
        .with_max_attempts(1);
    let store = S3Store::new(config).expect("S3 store");
    store.create_bucket().await.expect("bucket created");
    Arc::new(store)
}

fn body(i: usize) -> Bytes {
    Bytes::from(format!("object {i} ").repeat(100))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_survive_the_primary_dying_mid_run() {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/cargo/bin/s3s-fs");
    if !bin.is_file() {
        return skip("reads_survive_the_primary_dying_mid_run", "s3s-fs is not installed in .tools (run scripts/test)");
    }
    let primary_server = Arc::new(Mutex::new(Some(start_s3s(&bin))));
    let replica_server = start_s3s(&bin);
    let primary_endpoint = primary_server.lock().unwrap().as_ref().unwrap().endpoint();
    let primary = s3_store(&primary_endpoint).await;
    let replica = s3_store(&replica_server.endpoint()).await;
    for i in 0..OBJECTS {
        let key = ObjectPath::parse(format!("k/{i:03}")).unwrap();
        primary.put(&key, body(i)).await.unwrap();
        replica.put(&key, body(i)).await.unwrap();
    }

    let timeout = Timeout { request: Duration::from_secs(2), idle: Duration::from_secs(2) };
    let guard = |s: Arc<dyn ObjectStore>| -> Arc<dyn ObjectStore> { Arc::new(HookStore::new(s, timeout.clone())) };
    let breaker = BreakerConfig { failures: 3, cooldown: Duration::from_secs(60) };
    let store =
        Arc::new(Replicated::new(guard(primary), vec![guard(replica)], WriteMode::PrimaryOnly).with_breaker(breaker));

    let done = Arc::new(AtomicUsize::new(0));
    let killed_at = Arc::new(Mutex::new(None::<Instant>));
    let results: Vec<(bool, Duration, Instant)> = futures::stream::iter(0..READS)
        .map(|i| {
            let (store, done, server, killed_at) =
                (store.clone(), done.clone(), primary_server.clone(), killed_at.clone());
            async move {
                if done.load(Ordering::SeqCst) >= KILL_AT {
                    if let Some(server) = server.lock().unwrap().take() {
                        drop(server); // kills the process
                        *killed_at.lock().unwrap() = Some(Instant::now());
                    }
                }
                let started = Instant::now();
                let key = ObjectPath::parse(format!("k/{:03}", i % OBJECTS)).unwrap();
                let ok = match store.get(&key).await {
                    Ok(r) => r.bytes().await.map(|b| b == body(i % OBJECTS)).unwrap_or(false),
                    Err(_) => false,
                };
                done.fetch_add(1, Ordering::SeqCst);
                (ok, started.elapsed(), started)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let killed = killed_at.lock().unwrap().expect("the primary was killed during the run");
    let failed = results.iter().filter(|(ok, _, _)| !ok).count();
    let mut before: Vec<Duration> = results.iter().filter(|r| r.2 < killed).map(|r| r.1).collect();
    let mut after: Vec<Duration> = results.iter().filter(|r| r.2 >= killed).map(|r| r.1).collect();
    before.sort();
    after.sort();
    println!(
        "failover: {READS} reads, primary killed after {KILL_AT}; failed reads: {failed}; \
         latency before p50 {:?} p99 {:?}; after p50 {:?} p99 {:?} max {:?}",
        percentile(&before, 0.5),
        percentile(&before, 0.99),
        percentile(&after, 0.5),
        percentile(&after, 0.99),
        after.last().copied().unwrap_or_default(),
    );
    assert!(after.len() > READS / 2, "most reads ran after the kill ({})", after.len());
    assert_eq!(failed, 0, "reads failed or returned wrong bytes while the primary died");
}
