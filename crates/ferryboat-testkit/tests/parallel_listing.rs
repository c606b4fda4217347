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
use futures::stream::BoxStream;
use futures::StreamExt;

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

/// A memory store whose listings count the keys they have handed out, minus the keys the
/// test has consumed: what the parallel listing holds at any moment.
#[derive(Debug)]
struct Counting {
    inner: MemoryStore,
    held: Arc<AtomicI64>,
    peak: Arc<AtomicI64>,
}

#[async_trait]
impl ObjectStore for Counting {
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
        let (held, peak) = (self.held.clone(), self.peak.clone());
        self.inner
            .list_opts(opts)
            .inspect(move |_| {
                let now = held.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
            })
            .boxed()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_holds_at_most_two_chunks_per_request_in_flight() {
    let store = Counting { inner: MemoryStore::new(), held: Arc::default(), peak: Arc::default() };
    let n = 20_000usize;
    for i in 0..n {
        store.put(&ObjectPath::parse(format!("m/{i:06}")).unwrap(), Bytes::new()).await.unwrap();
    }
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
    let store = MemoryStore::new();
    let n = 50_000usize;
    for i in 0..n {
        store.put(&ObjectPath::parse(format!("m/{i:06}")).unwrap(), Bytes::new()).await.unwrap();
    }
    let calls = Arc::new(AtomicI64::new(0));
    let counted = CountCalls { inner: store, calls: calls.clone() };
    let store: Arc<dyn ObjectStore> = Arc::new(counted);
    let cfg = ParallelListing { concurrency: 16, chunk: 1000 };
    let got = list_parallel(store, ListOptions::default(), None, cfg).count().await;
    assert_eq!(got, n);
    // One sequential listing would read 50 pages; the guessed cuts may cost some empty or
    // short ranges, never a request per key.
    let calls = calls.load(Ordering::SeqCst);
    assert!(calls <= 3 * (n / cfg.chunk) as i64, "{calls} listings for {n} keys");
}

#[derive(Debug)]
struct CountCalls {
    inner: MemoryStore,
    calls: Arc<AtomicI64>,
}

#[async_trait]
impl ObjectStore for CountCalls {
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
        self.inner.list_opts(opts)
    }
}
