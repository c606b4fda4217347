//! `RetryStore`: retries what says it is retryable, with exponential backoff and full jitter.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use crate::attributes::ObjectLocation;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::resume;
use crate::retry::{self, Idempotency, RetryPolicy};
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo, PendingUpload,
    PresignMethod, PutMode, PutOptions, PutResult,
};

/// How hard [`RetryStore`] tries: the core's one [`RetryPolicy`].
pub type RetryConfig = RetryPolicy;

/// Retries requests that fail with an error whose [`Error::is_retryable`] is true, on the
/// core's one [`RetryPolicy`]: an error a backend's own retries already spent
/// ([`Error::retries_spent`]) is not sent again, so retries never multiply (give the backend
/// [`RetryPolicy::none`] to have this layer do the retrying).
///
/// - Reads go through [`resume::get`]: one that breaks mid-body (an error, or a body that
///   ends short) resumes from the last byte received with a ranged read pinned to the
///   object's etag (or version), so an object that changed in between is an error, never a
///   splice of two versions.
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
}

impl Policy {
    fn may_retry(&self, error: &Error, attempt: u32, started: Instant) -> bool {
        self.config.should_retry(error, attempt) && self.config.within_budget(started)
    }

    async fn run<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        self.config.run(Idempotency::Idempotent, "layer", op).await
    }
}

impl RetryStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>, config: RetryConfig) -> Self {
        RetryStore { inner, policy: Arc::new(Policy { config }) }
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
        let put = || self.inner.put_opts(path, data.clone(), opts.clone());
        self.policy.config.run_conditional(path.as_str(), put, || retry::landed(self.inner.as_ref(), path, &data)).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let upload = self.policy.run(|| self.inner.put_multipart_opts(path, opts.clone())).await?;
        Ok(Box::new(RetryUpload { inner: upload, policy: self.policy.clone() }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        // The one resuming read of the core: the first request retried, a broken body resumed
        // from the byte it reached, pinned to the etag (or version).
        resume::get(self.inner.clone(), path, opts, &self.policy.config).await
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
                    Err(e) if e.is_retryable() && !e.retries_spent() => match e.path().map(ObjectPath::parse) {
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
                        tokio::time::sleep(s.policy.config.backoff(s.attempt)).await;
                        s.attempt += 1;
                        s.stream = s.inner.list_opts(s.opts.clone());
                    }
                    Some(Err(e)) => {
                        s.done = true;
                        let e = if e.retries_spent() { e } else { s.policy.config.give_up(e) };
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
