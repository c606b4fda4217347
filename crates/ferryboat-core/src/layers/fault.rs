//! `FaultStore`: injects failures, for tests and chaos drills.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use super::rng::SplitMix;
use crate::attributes::ObjectLocation;
use crate::batch;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo, PendingUpload,
    PresignMethod, PutOptions, PutResult,
};

/// One kind of failure [`FaultStore`] injects.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// The request fails as a 503 would: `Error::Unavailable`, nothing done.
    ServerError,
    /// The connection resets: `Error::Unavailable`, nothing done.
    Reset,
    /// A read's body stops halfway with a transient error (listings: after a few items).
    BrokenBody,
    /// A read's body stops halfway **without** an error: only a size or hash check notices.
    TruncatedBody,
    /// The request succeeds after this delay.
    Latency(Duration),
    /// A write is carried out, then its response is lost (`Error::Unavailable`): the caller
    /// cannot tell whether it landed. Reads and listings are not affected.
    LostResponse,
}

/// What [`FaultStore`] injects and how often.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// Probability in [0, 1] that a request gets a fault (see also [`FaultStore::set_rate`]).
    pub rate: f64,
    /// Faults to choose from, uniformly.
    pub kinds: Vec<FaultKind>,
    /// Seed: the same seed and request order give the same faults.
    pub seed: u64,
}

impl FaultConfig {
    /// Server errors, resets and broken bodies at `rate`.
    pub fn errors(rate: f64, seed: u64) -> Self {
        FaultConfig { rate, kinds: vec![FaultKind::ServerError, FaultKind::Reset, FaultKind::BrokenBody], seed }
    }
}

/// Wraps a store and makes a share of its requests fail.
///
/// Writes fail before reaching the inner store, so a failed write leaves nothing behind,
/// like a request the network dropped. Counters tell a test how many faults it survived.
#[derive(Debug, Clone)]
pub struct FaultStore {
    inner: Arc<dyn ObjectStore>,
    config: Arc<FaultConfig>,
    rng: Arc<SplitMix>,
    injected: Arc<AtomicU64>,
    /// The live fault rate (f64 bits), changeable while the store is in use.
    rate: Arc<AtomicU64>,
}

impl FaultStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>, config: FaultConfig) -> Self {
        let rng = Arc::new(SplitMix::new(config.seed));
        let rate = Arc::new(AtomicU64::new(config.rate.to_bits()));
        FaultStore { inner, config: Arc::new(config), rng, injected: Arc::default(), rate }
    }

    /// Changes the fault rate from now on, for every clone of this store: `1.0` is an
    /// outage, `0.0` the recovery.
    pub fn set_rate(&self, rate: f64) {
        self.rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn draw(&self) -> Option<FaultKind> {
        if self.config.kinds.is_empty() || self.rng.next_f64() >= f64::from_bits(self.rate.load(Ordering::Relaxed)) {
            return None;
        }
        let i = (self.rng.next_u64() % self.config.kinds.len() as u64) as usize;
        self.injected.fetch_add(1, Ordering::Relaxed);
        Some(self.config.kinds[i].clone())
    }

    fn error(&self, path: &str, what: &str) -> Error {
        Error::unavailable(&self.inner.info().provider, path, format!("injected fault: {what}"), None)
    }

    /// Runs a request that has no body under a fault: fail before it, delay it, lose its
    /// answer (writes only), or nothing.
    async fn faulty<T>(&self, path: &str, write: bool, request: impl Future<Output = Result<T>>) -> Result<T> {
        match self.draw() {
            None | Some(FaultKind::BrokenBody) | Some(FaultKind::TruncatedBody) => request.await,
            Some(FaultKind::LostResponse) if !write => request.await,
            Some(FaultKind::ServerError) => Err(self.error(path, "503 service unavailable")),
            Some(FaultKind::Reset) => Err(self.error(path, "connection reset")),
            Some(FaultKind::Latency(d)) => {
                tokio::time::sleep(d).await;
                request.await
            }
            Some(FaultKind::LostResponse) => {
                request.await?;
                Err(self.error(path, "connection reset before the response (the write was done)"))
            }
        }
    }
}

/// Cuts a body after `keep` bytes, then ends it with `tail` (an error, or nothing).
fn cut_body(
    body: BoxStream<'static, Result<Bytes>>,
    keep: u64,
    tail: Option<Error>,
) -> BoxStream<'static, Result<Bytes>> {
    let head = stream::unfold((body, keep), |(mut body, left)| async move {
        if left == 0 {
            return None;
        }
        match body.next().await? {
            Ok(mut chunk) => {
                if chunk.len() as u64 > left {
                    chunk.truncate(left as usize);
                }
                let left = left - chunk.len() as u64;
                Some((Ok(chunk), (body, left)))
            }
            Err(e) => Some((Err(e), (body, 0))),
        }
    });
    head.chain(stream::iter(tail.map(Err))).boxed()
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for FaultStore {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        self.faulty(path.as_str(), true, self.inner.put_opts(path, data, opts)).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let upload = self.faulty(path.as_str(), true, self.inner.put_multipart_opts(path, opts)).await?;
        Ok(Box::new(FaultUpload { inner: upload, store: self.clone() }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let fault = self.draw();
        match fault {
            Some(FaultKind::ServerError) => return Err(self.error(path.as_str(), "503 service unavailable")),
            Some(FaultKind::Reset) => return Err(self.error(path.as_str(), "connection reset")),
            Some(FaultKind::Latency(d)) => tokio::time::sleep(d).await,
            _ => {}
        }
        let mut result = self.inner.get_opts(path, opts).await?;
        let len = result.range.end - result.range.start;
        match fault {
            Some(FaultKind::BrokenBody) if len > 0 => {
                let e = self.error(path.as_str(), "connection reset mid-body");
                result.body = cut_body(result.body, len / 2, Some(e));
            }
            Some(FaultKind::TruncatedBody) if len > 0 => {
                result.body = cut_body(result.body, len / 2, None);
            }
            _ => {}
        }
        Ok(result)
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.faulty(path.as_str(), false, self.inner.head(path)).await
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.faulty(path.as_str(), true, self.inner.delete(path)).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        self.faulty(path.as_str(), true, self.inner.delete_opts(path, opts)).await
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner = self.inner.list_opts(opts);
        match self.draw() {
            Some(FaultKind::ServerError) | Some(FaultKind::Reset) => {
                let e = self.error("", "listing failed");
                stream::once(async move { Err(e) }).boxed()
            }
            Some(FaultKind::BrokenBody) | Some(FaultKind::TruncatedBody) => {
                // A listing cut short must never look complete: always end it with an error.
                let e = self.error("", "listing broke off");
                let keep = (self.rng.next_u64() % 50) as usize;
                inner.take(keep).chain(stream::once(async move { Err(e) })).boxed()
            }
            Some(FaultKind::Latency(d)) => stream::once(async move {
                tokio::time::sleep(d).await;
                inner
            })
            .flatten()
            .boxed(),
            Some(FaultKind::LostResponse) | None => inner,
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.faulty(prefix.map(|p| p.as_str()).unwrap_or(""), false, self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.faulty(to.as_str(), true, self.inner.copy_opts(from, to, opts)).await
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        self.inner.locate(path)
    }

    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.faulty(to.as_str(), true, self.inner.copy_from(src, from, to, opts)).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.faulty(to.as_str(), true, self.inner.rename_opts(from, to, opts)).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.faulty("", false, self.inner.list_pending_uploads(prefix)).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.faulty(upload.path.as_str(), true, self.inner.abort_pending_upload(upload)).await
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        // A fault hits a whole batch, as it would the one request the batch is sent as.
        batch::batches(self.inner.as_ref(), paths)
            .then(move |paths| async move {
                let first = paths.iter().find_map(|p| p.as_ref().ok()).map(|p| p.to_string()).unwrap_or_default();
                let keys = batch::keys(&paths);
                let request = async move { Ok(batch::delete_batch(self.inner.as_ref(), paths).await) };
                match self.faulty(&first, true, request).await {
                    Ok(results) => stream::iter(results),
                    Err(e) => {
                        let keys = keys.into_iter().map(Ok).collect();
                        stream::iter(batch::fail_batch(&self.inner.info().provider, e, keys))
                    }
                }
            })
            .flatten()
            .boxed()
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        // Signing sends no request (or one the backend makes for a key): nothing to fault.
        self.inner.presign(method, path, expires_in).await
    }
}

#[derive(Debug)]
struct FaultUpload {
    inner: Box<dyn MultipartUpload>,
    store: FaultStore,
}

#[async_trait]
impl MultipartUpload for FaultUpload {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        self.store.faulty(&format!("part {number}"), true, self.inner.put_part(number, data)).await
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        self.inner.complete(parts).await
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.inner.abort().await
    }
}
