//! The parallel listing on the memory and local stores: exactly the sequential listing,
//! awkward keys included, and a bounded number of keys held however slowly it is consumed.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::local::LocalStore;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::ranges::{list_parallel, ParallelListing};
use ferryboat_core::{
    Capabilities, GetOptions, GetResult, ListOptions, MultipartUpload, ObjectMeta, ObjectPath, ObjectStore,
    ObjectStoreExt, PutOptions, PutResult, Result, StoreInfo,
};
use ferryboat_testkit::ranges::parallel_listing_matches;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_parallel_listing_is_the_sequential_listing() {
    let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
    let total = parallel_listing_matches(&store, 3000).await;
    assert!(total > 4000, "{total}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_parallel_listing_is_the_sequential_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()).expect("local"));
    let total = parallel_listing_matches(&store, 600).await;
    assert!(total > 800, "{total}");
}

/// A memory store that watches its listings: how many were started, how many keys they
/// have handed out minus the keys the test has consumed (what the parallel listing holds at
/// any moment), and, with `rtt`, one round trip of (virtual) time before each listing's
/// first key, as a remote server's first page costs.
#[derive(Debug, Default)]
struct Probe {
    inner: MemoryStore,
    calls: Arc<AtomicI64>,
    held: Arc<AtomicI64>,
    peak: Arc<AtomicI64>,
    rtt: Option<Duration>,
}

#[async_trait]
impl ObjectStore for Probe {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(path, data, opts).await
    }
    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(path, opts).await
    }
    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(path, opts).await
    }
    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.inner.delete(path).await
    }
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (held, peak) = (self.held.clone(), self.peak.clone());
        let keys = self.inner.list_opts(opts).inspect(move |_| {
            let now = held.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
        });
        match self.rtt {
            Some(rtt) => stream::once(async move {
                tokio::time::sleep(rtt).await;
                keys
            })
            .flatten()
            .boxed(),
            None => keys.boxed(),
        }
    }
}

async fn probe_with(keys: impl Iterator<Item = String>) -> Probe {
    let store = Probe::default();
    for key in keys {
        store.put(&ObjectPath::parse(key).unwrap(), Bytes::new()).await.unwrap();
    }
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_holds_at_most_two_chunks_per_request_in_flight() {
    let n = 20_000usize;
    let store = probe_with((0..n).map(|i| format!("m/{i:06}"))).await;
    let (held, peak) = (store.held.clone(), store.peak.clone());
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let cfg = ParallelListing { concurrency: 8, chunk: 100 };
    let mut listing = list_parallel(store, ListOptions::default(), None, cfg);
    let mut seen = 0usize;
    while let Some(item) = listing.next().await {
        item.unwrap();
        seen += 1;
        held.fetch_sub(1, Ordering::SeqCst);
        if seen.is_multiple_of(100) {
            // Give the listing every chance to run ahead.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    assert_eq!(seen, n);
    // Each range listing reads one key past its end at most (where it learns it is done).
    let bound = (2 * cfg.concurrency * (cfg.chunk + 1)) as i64;
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= bound, "held {peak} keys at once, bound {bound}");
    // And it did run ahead: more than one range was listed at a time.
    assert!(peak > (2 * cfg.chunk) as i64, "held only {peak} keys at once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_stay_within_three_per_page() {
    let n = 50_000usize;
    let store = probe_with((0..n).map(|i| format!("m/{i:06}"))).await;
    let calls = store.calls.clone();
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let cfg = ParallelListing { concurrency: 16, chunk: 1000 };
    let got = list_parallel(store, ListOptions::default(), None, cfg).count().await;
    assert_eq!(got, n);
    // One sequential listing would read 50 pages; the guessed cuts may cost some empty or
    // short ranges, never a request per key.
    let calls = calls.load(Ordering::SeqCst);
    assert!(calls <= 3 * (n / cfg.chunk) as i64, "{calls} listings for {n} keys");
}

/// A bucket of exactly one chunk is listed by one request: the listing's end is seen without
/// another, so no range is cut and listed empty. One key more and the rest is cut as usual.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_bucket_of_exactly_one_chunk_lists_in_one_request() {
    let keys = |n: usize| (0..n).map(|i| format!("k/{i:06}")).collect::<Vec<_>>();
    let (trips, calls) = round_trips(keys(1000)).await;
    assert_eq!(calls, 1, "{calls} listing requests for one page");
    assert!(trips < 1.5, "{trips:.1} round trips");
    let (_, calls) = round_trips(keys(1001)).await;
    assert!(calls > 1, "the 1,001st key needs a range of its own");
}

/// Round trips (of virtual time) the parallel listing of `keys` takes, where one stream
/// takes one per 1,000 keys; and the listing requests it sent.
async fn round_trips(keys: Vec<String>) -> (f64, i64) {
    let n = keys.len();
    let mut store = probe_with(keys.into_iter()).await;
    let rtt = Duration::from_millis(20);
    store.rtt = Some(rtt);
    let calls = store.calls.clone();
    let store: Arc<dyn ObjectStore> = Arc::new(store);
    let started = tokio::time::Instant::now();
    let got = list_parallel(store, ListOptions::default(), None, ParallelListing::default()).count().await;
    assert_eq!(got, n);
    (started.elapsed().as_secs_f64() / rtt.as_secs_f64(), calls.load(Ordering::SeqCst))
}

/// The target, on a model of a remote server (every request one round trip, nothing
/// else costs): 100,000 keys in at most a fifth of the 100 round trips of one stream, for
/// the key shapes real buckets hold, without a flood of requests.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_large_flat_bucket_lists_in_a_fifth_of_the_round_trips() {
    type Shape = Box<dyn Fn(u64) -> String>;
    let shapes: [(&str, Shape); 4] = [
        ("decimal", Box::new(|i| format!("flat/{i:08}"))),
        ("hex hashes", Box::new(|i| format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))),
        (
            "dated paths",
            Box::new(|i| format!("logs/2026/{:02}/{:02}/host-{}.log.gz", 1 + i / 9000, 1 + (i / 300) % 30, i % 300)),
        ),
        (
            "words",
            Box::new(|i| {
                format!(
                    "photos/{}-{}.jpg",
                    ["alpha", "bravo", "delta", "kilo", "zulu"][(i % 5) as usize],
                    i * 7919 % 100_003
                )
            }),
        ),
    ];
    for (shape, key) in shapes {
        let keys: Vec<String> = (0..100_000).map(&key).collect();
        let (trips, calls) = round_trips(keys).await;
        eprintln!("{shape}: {trips:.1} round trips, {calls} requests");
        assert!(trips <= 20.0, "{shape}: {trips:.1} round trips, one stream takes 100");
        assert!(calls <= 400, "{shape}: {calls} requests for 100 pages");
    }
}
