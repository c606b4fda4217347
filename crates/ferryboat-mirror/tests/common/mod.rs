//! Test wrappers around `MemoryStore`: counting, fault injection, broken listings.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::memory::MemoryStore;
use ferryboat_core::{
    Capabilities, CopyOptions, Error, GetOptions, GetResult, ListOptions, MultipartUpload, ObjectMeta, ObjectPath,
    ObjectStore, ObjectStoreExt, PendingUpload, PutOptions, PutResult, Result, StoreInfo,
};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};

/// How the wrapper's listing misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Honest,
    /// Swaps two entries after the first few.
    OutOfOrder,
    /// Yields one entry twice.
    Repeat,
}

/// Shared gauge: entries listed from the source minus objects written to the destination.
#[derive(Debug, Default)]
pub struct Window {
    pub listed: AtomicU64,
    pub written: AtomicU64,
    pub max: AtomicU64,
}

impl Window {
    fn observe(&self) {
        let listed = self.listed.load(Ordering::SeqCst);
        let written = self.written.load(Ordering::SeqCst);
        self.max.fetch_max(listed.saturating_sub(written), Ordering::SeqCst);
    }
}

#[derive(Debug)]
pub struct TestStore {
    pub inner: MemoryStore,
    pub puts: Mutex<HashMap<String, u32>>,
    pub put_count: AtomicU64,
    pub fail_puts: Option<(f64, Mutex<u64>)>,
    pub listing: Listing,
    /// Gets whose body silently stops halfway, as a cut connection that looks complete.
    pub truncate_gets: bool,
    pub window: Option<(Arc<Window>, bool)>,
    /// Answers writes without an etag, as stores whose etag is not a content hash do.
    pub forget_etags: bool,
}

impl TestStore {
    pub fn new(inner: MemoryStore) -> Self {
        TestStore {
            inner,
            puts: Mutex::default(),
            put_count: AtomicU64::new(0),
            fail_puts: None,
            listing: Listing::Honest,
            truncate_gets: false,
            window: None,
            forget_etags: false,
        }
    }
    /// Fails this share of puts with a transient error, deterministically from `seed`.
    pub fn failing_puts(mut self, rate: f64, seed: u64) -> Self {
        self.fail_puts = Some((rate, Mutex::new(seed)));
        self
    }
    /// Truncates (silently) the bodies of the share of gets given to `failing_puts`'s roll.
    pub fn truncating_gets(mut self, rate: f64, seed: u64) -> Self {
        self.fail_puts = Some((rate, Mutex::new(seed)));
        self.truncate_gets = true;
        self
    }
    pub fn listing(mut self, listing: Listing) -> Self {
        self.listing = listing;
        self
    }
    /// Counts this store's listed entries (`source = true`) or its writes into `window`.
    pub fn window(mut self, window: Arc<Window>, source: bool) -> Self {
        self.window = Some((window, source));
        self
    }
    fn roll(&self) -> bool {
        let Some((rate, state)) = &self.fail_puts else { return false };
        let mut s = state.lock().unwrap();
        // SplitMix64.
        *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z as f64 / u64::MAX as f64) < *rate
    }
    fn wrote(&self, path: &ObjectPath) {
        self.put_count.fetch_add(1, Ordering::SeqCst);
        *self.puts.lock().unwrap().entry(path.to_string()).or_default() += 1;
        if let Some((w, false)) = &self.window {
            w.written.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[async_trait]
impl ObjectStore for TestStore {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        if !self.truncate_gets && self.roll() {
            return Err(Error::unavailable("test", path.as_str(), "injected 503", None));
        }
        let mut r = self.inner.put_opts(path, data, opts).await?;
        self.wrote(path);
        if self.forget_etags {
            r.etag = None;
        }
        Ok(r)
    }
    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        self.wrote(path);
        self.inner.put_multipart_opts(path, opts).await
    }
    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let mut result = self.inner.get_opts(path, opts).await?;
        if self.truncate_gets && !result.range.is_empty() && self.roll() {
            let chunks: Vec<Bytes> = result.body.try_collect().await?;
            let data: Vec<u8> = chunks.concat();
            let half = Bytes::from(data[..data.len() / 2].to_vec());
            result.body = futures::stream::once(async move { Ok(half) }).boxed();
        }
        Ok(result)
    }
    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.inner.head(path).await
    }
    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.inner.delete(path).await
    }
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner = self.inner.list_opts(opts);
        let window = self.window.as_ref().filter(|(_, src)| *src).map(|(w, _)| w.clone());
        let inner = match window {
            Some(w) => inner
                .inspect(move |_| {
                    w.listed.fetch_add(1, Ordering::SeqCst);
                    w.observe();
                })
                .boxed(),
            None => inner,
        };
        match self.listing {
            Listing::Honest => inner,
            Listing::OutOfOrder => {
                // Entries 0..3 in order, then 4 before 3.
                let mut held: Option<ObjectMeta> = None;
                inner
                    .enumerate()
                    .filter_map(move |(i, item)| {
                        let out = match (i, item) {
                            (3, Ok(m)) => {
                                held = Some(m);
                                None
                            }
                            (4, Ok(m)) => Some(futures::stream::iter(vec![Ok(m), Ok(held.take().unwrap())])),
                            (_, item) => Some(futures::stream::iter(vec![item])),
                        };
                        futures::future::ready(out)
                    })
                    .flatten()
                    .boxed()
            }
            Listing::Repeat => inner
                .enumerate()
                .map(|(i, item)| {
                    let n = if i == 2 { 2 } else { 1 };
                    futures::stream::iter(std::iter::repeat_n(item.map_err(|e| e.to_string()), n))
                })
                .flatten()
                .map(|r| r.map_err(|m| Error::generic("test", "", m, None)))
                .boxed(),
        }
    }
    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, opts).await
    }
    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.inner.list_pending_uploads(prefix).await
    }
    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.inner.abort_pending_upload(upload).await
    }
}

pub fn key(s: &str) -> ObjectPath {
    ObjectPath::parse(s).unwrap()
}

/// Deterministic content of `len` bytes for `seed`.
pub fn content(len: usize, seed: u64) -> Bytes {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// Every key with the SHA-256 of its content, read back through `get`.
pub async fn snapshot(store: &dyn ObjectStore) -> Vec<(String, String)> {
    let metas: Vec<ObjectMeta> = store.list(None).try_collect().await.unwrap();
    let mut out = Vec::new();
    for m in metas {
        let data = store.get(&m.path).await.unwrap().bytes().await.unwrap();
        out.push((m.path.to_string(), format!("{:x}", Sha256::digest(&data))));
    }
    out
}
