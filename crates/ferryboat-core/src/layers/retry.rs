//! `RetryStore`: retries what says it is retryable, with exponential backoff and full jitter.

use std::future::Future;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use md5::{Digest, Md5};

use super::rng::SplitMix;
use crate::attributes::ObjectLocation;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::retry::RetryPolicy;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetRange, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo,
    PendingUpload, PresignMethod, PutMode, PutOptions, PutResult,
};

/// How hard [`RetryStore`] tries: the core's one [`RetryPolicy`].
pub type RetryConfig = RetryPolicy;

/// Retries requests that fail with an error whose [`Error::is_retryable`] is true.
///
/// - Reads that break mid-body (an error, or a body that ends short) resume from the last
///   byte received with a ranged read guarded by the object's etag, so an object that changed
///   in between is an error, never a splice of two versions.
/// - Listings that break resume after the last key yielded (listings are sorted, so nothing
///   is repeated or skipped); a versions listing resumes at the key it was in and drops the
///   versions of that key it already yielded.
/// - Multipart parts are retried one by one.
/// - A conditional write (`PutMode::Create` or `Update`) is retried only once its outcome is
///   known: after a retryable failure the object is read back, and if it holds exactly the
///   bytes sent, the write landed and succeeds (a lost response); otherwise it is sent again,
///   so the store's own condition gives the answer (`AlreadyExists`, `Precondition`).
#[derive(Debug, Clone)]
pub struct RetryStore {
    inner: Arc<dyn ObjectStore>,
    policy: Arc<Policy>,
}

#[derive(Debug)]
struct Policy {
    config: RetryConfig,
    rng: SplitMix,
}

impl Policy {
    /// Backoff before retry number `retry` (1-based): uniform in [0, ceiling].
    fn backoff(&self, retry: u32) -> Duration {
        self.config.backoff_ceiling(retry).mul_f64(self.rng.next_f64())
    }

    fn may_retry(&self, error: &Error, attempt: u32, started: Instant) -> bool {
        self.config.should_retry(error, attempt) && self.config.within_budget(started)
    }

    async fn run<T, F, Fut>(&self, mut op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match op().await {
                Err(e) if self.may_retry(&e, attempt, started) => {
                    tracing::debug!(attempt, error = %e, "retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

impl RetryStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>, config: RetryConfig) -> Self {
        RetryStore { inner, policy: Arc::new(Policy { config, rng: SplitMix::from_time() }) }
    }

    /// The object at `path`, if it now holds exactly `data`: by its MD5 etag where the store
    /// gives one, else by reading it back. `None` when it does not, or cannot be told.
    async fn landed(&self, path: &ObjectPath, data: &Bytes) -> Option<PutResult> {
        let meta = self.inner.head(path).await.ok()?;
        if meta.size != data.len() as u64 {
            return None;
        }
        let md5: String = Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect();
        let same = match meta.etag.as_deref() {
            Some(etag) if etag.trim_matches('"') == md5 => true,
            _ => {
                let opts = GetOptions { if_match: meta.etag.clone(), ..Default::default() };
                let stored = self.inner.get_opts(path, opts).await.ok()?.bytes().await.ok()?;
                stored == *data
            }
        };
        same.then_some(PutResult { etag: meta.etag, version: meta.version })
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for RetryStore {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        if opts.mode == PutMode::Overwrite {
            return self.policy.run(|| self.inner.put_opts(path, data.clone(), opts.clone())).await;
        }
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            match self.inner.put_opts(path, data.clone(), opts.clone()).await {
                Err(e) if self.policy.may_retry(&e, attempt, started) => {
                    tracing::debug!(attempt, error = %e, "conditional write failed: checking whether it landed");
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                    attempt += 1;
                    if let Some(landed) = self.landed(path, &data).await {
                        return Ok(landed);
                    }
                }
                other => return other,
            }
        }
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let upload = self.policy.run(|| self.inner.put_multipart_opts(path, opts.clone())).await?;
        Ok(Box::new(RetryUpload { inner: upload, policy: self.policy.clone() }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let first = self.policy.run(|| self.inner.get_opts(path, opts.clone())).await?;
        if opts.head {
            return Ok(first);
        }
        let resume = Resume {
            inner: self.inner.clone(),
            policy: self.policy.clone(),
            path: path.clone(),
            version: opts.version.clone(),
            etag: first.meta.etag.clone(),
            remaining: first.range.clone(),
        };
        let body = resume.body(first.body);
        Ok(GetResult { meta: first.meta, range: first.range, body })
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.policy.run(|| self.inner.head(path)).await
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.policy.run(|| self.inner.delete(path)).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        // Deleting a version twice leaves the same state: safe to repeat.
        self.policy.run(|| self.inner.delete_opts(path, opts.clone())).await
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        // Keep the inner store's batching; retry the keys a batch reported as failed one by one.
        self.inner
            .delete_stream(paths)
            .then(move |r| async move {
                match r {
                    Err(e) if e.is_retryable() => match e.path().map(ObjectPath::parse) {
                        Some(Ok(p)) => self.delete(&p).await.map(|()| p),
                        _ => Err(e),
                    },
                    other => other,
                }
            })
            .boxed()
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        struct State {
            inner: Arc<dyn ObjectStore>,
            policy: Arc<Policy>,
            opts: ListOptions,
            stream: BoxStream<'static, Result<ObjectMeta>>,
            started: Instant,
            attempt: u32,
            done: bool,
            /// A versions listing: the key whose versions are being yielded and the version
            /// ids yielded so far (a resumed listing starts at this key again).
            key: Option<ObjectPath>,
            seen: Vec<Option<String>>,
        }
        let state = State {
            stream: self.inner.list_opts(opts.clone()),
            inner: self.inner.clone(),
            policy: self.policy.clone(),
            opts,
            started: Instant::now(),
            attempt: 1,
            done: false,
            key: None,
            seen: Vec::new(),
        };
        stream::unfold(state, |mut s| async move {
            loop {
                if s.done {
                    return None;
                }
                match s.stream.next().await {
                    None => return None,
                    Some(Ok(meta)) => {
                        if s.opts.versions {
                            // The offset is a key: resume after the last key whose versions
                            // were all yielded, skipping the versions of this one already sent.
                            if s.key.as_ref() == Some(&meta.path) {
                                if s.seen.contains(&meta.version) {
                                    continue;
                                }
                            } else {
                                if let Some(done) = s.key.replace(meta.path.clone()) {
                                    s.opts.offset = Some(done);
                                }
                                s.seen.clear();
                            }
                            s.seen.push(meta.version.clone());
                        } else {
                            s.opts.offset = Some(meta.path.clone());
                        }
                        // Progress: the next failure starts a fresh count from here.
                        s.attempt = 1;
                        s.started = Instant::now();
                        return Some((Ok(meta), s));
                    }
                    Some(Err(e)) if s.policy.may_retry(&e, s.attempt, s.started) => {
                        tracing::debug!(attempt = s.attempt, error = %e, "resuming listing");
                        tokio::time::sleep(s.policy.backoff(s.attempt)).await;
                        s.attempt += 1;
                        s.stream = s.inner.list_opts(s.opts.clone());
                    }
                    Some(Err(e)) => {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                }
            }
        })
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.policy.run(|| self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.policy.run(|| self.inner.copy_opts(from, to, opts.clone())).await
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
        self.policy.run(|| self.inner.copy_from(src, from, to, opts.clone())).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.policy.run(|| self.inner.rename_opts(from, to, opts.clone())).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.policy.run(|| self.inner.list_pending_uploads(prefix)).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.policy.run(|| self.inner.abort_pending_upload(upload)).await
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        // Entra ID signing fetches a delegation key first: that request may be retried.
        self.policy.run(|| self.inner.presign(method, path, expires_in)).await
    }
}

/// What a broken body needs to pick up where it stopped.
struct Resume {
    inner: Arc<dyn ObjectStore>,
    policy: Arc<Policy>,
    path: ObjectPath,
    version: Option<String>,
    etag: Option<String>,
    /// Absolute byte range still to deliver.
    remaining: Range<u64>,
}

impl Resume {
    fn body(self, first: BoxStream<'static, Result<Bytes>>) -> BoxStream<'static, Result<Bytes>> {
        let state = (self, Some(first), Instant::now(), 1u32);
        stream::unfold(state, |(mut r, body, mut started, mut attempt)| async move {
            let mut body = body?;
            loop {
                let failure = match body.next().await {
                    Some(Ok(chunk)) => {
                        let len = chunk.len() as u64;
                        if len > r.remaining.end - r.remaining.start {
                            let e = r.integrity(format!("body is longer than the {} bytes expected", r.total()));
                            return Some((Err(e), (r, None, started, attempt)));
                        }
                        r.remaining.start += len;
                        if len > 0 {
                            started = Instant::now();
                            attempt = 1;
                        }
                        return Some((Ok(chunk), (r, Some(body), started, attempt)));
                    }
                    None if r.remaining.is_empty() => return None,
                    None => Error::unavailable(
                        &r.inner.info().provider,
                        r.path.as_str(),
                        format!("body ended {} bytes early", r.remaining.end - r.remaining.start),
                        None,
                    ),
                    Some(Err(e)) => e,
                };
                if r.etag.is_none() || !r.policy.may_retry(&failure, attempt, started) {
                    return Some((Err(failure), (r, None, started, attempt)));
                }
                tracing::debug!(path = %r.path, offset = r.remaining.start, error = %failure, "resuming read");
                tokio::time::sleep(r.policy.backoff(attempt)).await;
                attempt += 1;
                let opts = GetOptions {
                    range: Some(GetRange::Bounded(r.remaining.clone())),
                    if_match: r.etag.clone(),
                    version: r.version.clone(),
                    ..Default::default()
                };
                match r.inner.get_opts(&r.path, opts).await {
                    Ok(next) => body = next.body,
                    Err(Error::Precondition { .. }) => {
                        let e = r.integrity("the object changed while it was being read".to_string());
                        return Some((Err(e), (r, None, started, attempt)));
                    }
                    Err(e) if r.policy.may_retry(&e, attempt, started) => {
                        body = stream::once(async move { Err(e) }).boxed();
                    }
                    Err(e) => return Some((Err(e), (r, None, started, attempt))),
                }
            }
        })
        .boxed()
    }

    fn total(&self) -> u64 {
        self.remaining.end - self.remaining.start
    }

    fn integrity(&self, message: String) -> Error {
        Error::Integrity {
            provider: self.inner.info().provider.clone(),
            path: self.path.to_string(),
            message,
            details: Default::default(),
        }
    }
}

#[derive(Debug)]
struct RetryUpload {
    inner: Box<dyn MultipartUpload>,
    policy: Arc<Policy>,
}

#[async_trait]
impl MultipartUpload for RetryUpload {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        self.policy.run(|| self.inner.put_part(number, data.clone())).await
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        self.inner.complete(parts).await
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.inner.abort().await
    }
}
