//! `HookStore`: the one mechanism behind every layer that acts *around* requests
//! (timeouts, concurrency limits, tracing, policy) rather than re-issuing them.
//!
//! A [`Hook`] sees each request as a named future it may bound, delay, refuse, time or
//! count, and each body or listing as a stream it may wrap. `HookStore` does the rest: it
//! forwards every trait method, multipart parts included, through the hook.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};

use crate::attributes::ObjectLocation;
use crate::batch;
use crate::capabilities::Capabilities;
use crate::error::Result;
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo, PendingUpload,
    PresignMethod, PutOptions, PutResult,
};

/// Which request a hook is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op<'a> {
    /// Operation name: `put`, `put_multipart`, `put_part`, `complete`, `abort`, `get`, `head`,
    /// `delete`, `delete_version` (a delete that names one version), `delete_batch` (one batch of a batched delete; `path` is its first key),
    /// `list`, `list_with_delimiter`, `copy`, `copy_from` (a server-side copy from another
    /// store, counted on the destination), `rename`, `list_pending_uploads`,
    /// `abort_pending_upload`, `presign_get`, `presign_head`, `presign_put`,
    /// `presign_delete` (signing a URL; no request is sent, but a URL that writes counts as a
    /// write).
    pub name: &'static str,
    /// The key (or prefix) concerned; empty when there is none.
    pub path: &'a str,
    /// Payload bytes the request sends, where known.
    pub bytes: u64,
}

impl Op<'_> {
    /// Whether the operation writes or deletes data.
    pub fn is_write(&self) -> bool {
        matches!(
            self.name,
            "put"
                | "put_multipart"
                | "put_part"
                | "complete"
                | "delete"
                | "delete_version"
                | "delete_batch"
                | "copy"
                | "copy_from"
                | "rename"
                | "presign_put"
                | "presign_delete"
        )
    }
}

/// Behaviour around requests. Implement `around`; override `body` and `listing` to act on
/// streams too.
pub trait Hook: Send + Sync + fmt::Debug + 'static {
    /// Runs (or refuses, bounds, times, …) one request.
    fn around<'a, T: Send + 'a>(
        &'a self,
        store: &'a StoreInfo,
        op: Op<'a>,
        request: BoxFuture<'a, Result<T>>,
    ) -> BoxFuture<'a, Result<T>>;

    /// Wraps a read's body.
    fn body(
        &self,
        store: &StoreInfo,
        path: &str,
        body: BoxStream<'static, Result<Bytes>>,
    ) -> BoxStream<'static, Result<Bytes>> {
        let _ = (store, path);
        body
    }

    /// Wraps a listing.
    fn listing(
        &self,
        store: &StoreInfo,
        prefix: &str,
        items: BoxStream<'static, Result<ObjectMeta>>,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let _ = (store, prefix);
        items
    }
}

/// A store whose every request passes through a [`Hook`].
pub struct HookStore<H> {
    inner: Arc<dyn ObjectStore>,
    hook: Arc<H>,
}

impl<H> Clone for HookStore<H> {
    fn clone(&self) -> Self {
        HookStore { inner: self.inner.clone(), hook: self.hook.clone() }
    }
}

impl<H: fmt::Debug> fmt::Debug for HookStore<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookStore").field("hook", &self.hook).field("inner", &self.inner).finish()
    }
}

impl<H: Hook> HookStore<H> {
    /// Wraps `inner` with `hook`.
    pub fn new(inner: Arc<dyn ObjectStore>, hook: H) -> Self {
        HookStore { inner, hook: Arc::new(hook) }
    }

    /// The hook.
    pub fn hook(&self) -> &H {
        &self.hook
    }
}

fn op<'a>(name: &'static str, path: &'a str, bytes: u64) -> Op<'a> {
    Op { name, path, bytes }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<H: Hook> ObjectStore for HookStore<H> {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let o = op("put", path.as_str(), data.len() as u64);
        self.hook.around(self.info(), o, self.inner.put_opts(path, data, opts)).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let o = op("put_multipart", path.as_str(), 0);
        let upload = self.hook.around(self.info(), o, self.inner.put_multipart_opts(path, opts)).await?;
        Ok(Box::new(HookUpload { inner: upload, store: self.clone(), path: path.to_string() }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let name = if opts.head { "head" } else { "get" };
        let mut result =
            self.hook.around(self.info(), op(name, path.as_str(), 0), self.inner.get_opts(path, opts)).await?;
        result.body = self.hook.body(self.info(), path.as_str(), result.body);
        Ok(result)
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.hook.around(self.info(), op("head", path.as_str(), 0), self.inner.head(path)).await
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.hook.around(self.info(), op("delete", path.as_str(), 0), self.inner.delete(path)).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        let name = if opts.version.is_some() { "delete_version" } else { "delete" };
        self.hook.around(self.info(), op(name, path.as_str(), 0), self.inner.delete_opts(path, opts)).await
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        // Each batch is one request to the hook (one permit, one timeout, one policy check)
        // and reaches the inner store whole, so batched deletes stay batched.
        batch::batches(self.inner.as_ref(), paths)
            .then(move |paths| async move {
                let first = paths.iter().find_map(|p| p.as_ref().ok()).map(|p| p.to_string()).unwrap_or_default();
                let keys = batch::keys(&paths);
                let request = Box::pin(async move { Ok(batch::delete_batch(self.inner.as_ref(), paths).await) });
                match self.hook.around(self.info(), op("delete_batch", &first, 0), request).await {
                    Ok(results) => stream::iter(results),
                    Err(e) => {
                        let keys = keys.into_iter().map(Ok).collect();
                        stream::iter(batch::fail_batch(&self.info().provider, e, keys))
                    }
                }
            })
            .flatten()
            .boxed()
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let prefix = opts.prefix.as_ref().map(|p| p.to_string()).unwrap_or_default();
        self.hook.listing(self.info(), &prefix, self.inner.list_opts(opts))
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let o = op("list_with_delimiter", prefix.map(|p| p.as_str()).unwrap_or(""), 0);
        self.hook.around(self.info(), o, self.inner.list_with_delimiter(prefix)).await
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.hook.around(self.info(), op("copy", to.as_str(), 0), self.inner.copy_opts(from, to, opts)).await
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
        let o = op("copy_from", to.as_str(), 0);
        self.hook.around(self.info(), o, self.inner.copy_from(src, from, to, opts)).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.hook.around(self.info(), op("rename", to.as_str(), 0), self.inner.rename_opts(from, to, opts)).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let o = op("list_pending_uploads", prefix.map(|p| p.as_str()).unwrap_or(""), 0);
        self.hook.around(self.info(), o, self.inner.list_pending_uploads(prefix)).await
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let o = op("abort_pending_upload", upload.path.as_str(), 0);
        self.hook.around(self.info(), o, self.inner.abort_pending_upload(upload)).await
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        let name = match method {
            PresignMethod::Get => "presign_get",
            PresignMethod::Head => "presign_head",
            PresignMethod::Put => "presign_put",
            PresignMethod::Delete => "presign_delete",
        };
        self.hook.around(self.info(), op(name, path.as_str(), 0), self.inner.presign(method, path, expires_in)).await
    }
}

struct HookUpload<H> {
    inner: Box<dyn MultipartUpload>,
    store: HookStore<H>,
    path: String,
}

impl<H: fmt::Debug> fmt::Debug for HookUpload<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookUpload").field("inner", &self.inner).field("path", &self.path).finish()
    }
}

#[async_trait]
impl<H: Hook> MultipartUpload for HookUpload<H> {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let o = op("put_part", &self.path, data.len() as u64);
        self.store.hook.around(self.store.info(), o, self.inner.put_part(number, data)).await
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let HookUpload { inner, store, path } = *self;
        store.hook.around(store.info(), op("complete", &path, 0), inner.complete(parts)).await
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let HookUpload { inner, store, path } = *self;
        store.hook.around(store.info(), op("abort", &path, 0), inner.abort()).await
    }
}
