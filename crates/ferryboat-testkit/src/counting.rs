//! [`CountingStore`]: forwards every call to the store it wraps and counts what arrived, so a
//! test can check what a layer above really sent.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ferryboat_core::{
    Capabilities, CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, MultipartUpload,
    ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PartInfo, PendingUpload, PresignMethod, PutOptions, PutResult,
    Result, StoreInfo,
};
use futures::stream::{BoxStream, StreamExt};

/// Calls by trait method name (`put_opts`, `delete_stream`, `put_part`, …), and for
/// `delete_stream` the number of keys that flowed through it (`delete_stream_keys`); a
/// `delete_opts` naming a version is also counted as `delete_opts_version`, a `list_opts`
/// asking for versions as `list_opts_versions`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts(BTreeMap<&'static str, usize>);

impl Counts {
    /// How many times `method` was called (or, for `delete_stream_keys`, keys were sent).
    pub fn get(&self, method: &str) -> usize {
        self.0.get(method).copied().unwrap_or(0)
    }
}

/// Passes every call through unchanged, counting it.
#[derive(Debug, Clone)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counts: Arc<Mutex<Counts>>,
}

impl CountingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore { inner, counts: Arc::default() }
    }

    /// What has arrived so far.
    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn count(&self, method: &'static str, n: usize) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()).0.entry(method).or_default() += n;
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for CountingStore {
    fn info(&self) -> &StoreInfo {
        self.inner.info()
    }
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }
    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        self.count("put_opts", 1);
        self.inner.put_opts(path, data, opts).await
    }
    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        self.count("put_multipart_opts", 1);
        let inner = self.inner.put_multipart_opts(path, opts).await?;
        Ok(Box::new(CountingUpload { inner, store: self.clone() }))
    }
    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        self.count("get_opts", 1);
        self.inner.get_opts(path, opts).await
    }
    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        self.count("head", 1);
        self.inner.head(path).await
    }
    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.count("delete", 1);
        self.inner.delete(path).await
    }
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        self.count("delete_opts", 1);
        if opts.version.is_some() {
            self.count("delete_opts_version", 1);
        }
        self.inner.delete_opts(path, opts).await
    }
    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        self.count("delete_stream", 1);
        let paths = paths.inspect(move |_| self.count("delete_stream_keys", 1)).boxed();
        self.inner.delete_stream(paths)
    }
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        self.count("list_opts", 1);
        if opts.versions {
            self.count("list_opts_versions", 1);
        }
        self.inner.list_opts(opts)
    }
    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        self.count("list_with_delimiter", 1);
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.count("copy_opts", 1);
        self.inner.copy_opts(from, to, opts).await
    }
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        self.count("locate", 1);
        self.inner.locate(path)
    }
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.count("copy_from", 1);
        self.inner.copy_from(src, from, to, opts).await
    }
    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.count("rename_opts", 1);
        self.inner.rename_opts(from, to, opts).await
    }
    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        self.count("list_pending_uploads", 1);
        self.inner.list_pending_uploads(prefix).await
    }
    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.count("abort_pending_upload", 1);
        self.inner.abort_pending_upload(upload).await
    }
    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        self.count("presign", 1);
        self.inner.presign(method, path, expires_in).await
    }
}

#[derive(Debug)]
struct CountingUpload {
    inner: Box<dyn MultipartUpload>,
    store: CountingStore,
}

#[async_trait]
impl MultipartUpload for CountingUpload {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }
    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        self.store.count("put_part", 1);
        self.inner.put_part(number, data).await
    }
    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        self.store.count("complete", 1);
        self.inner.complete(parts).await
    }
    async fn abort(self: Box<Self>) -> Result<()> {
        self.store.count("abort", 1);
        self.inner.abort().await
    }
}
