//! The `ObjectStore` trait and its multipart companion (`ObjectStoreExt`, re-exported here,
//! lives in `ext.rs`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::attributes::ObjectLocation;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
pub use crate::ext::ObjectStoreExt;
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PartInfo, PendingUpload,
    PresignMethod, PutOptions, PutResult,
};

/// One bucket (or container, or directory) of objects, whatever the provider.
///
/// The trait is object-safe and is normally used as `Arc<dyn ObjectStore>`. Its required
/// surface is small; [`ObjectStoreExt`] adds the conveniences on top of it for every store.
///
/// Guarantees every implementation keeps (the conformance suite in `ferryboat-testkit` checks
/// them):
/// - `list_opts` yields keys in ascending byte order, each once, and never buffers the whole
///   listing;
/// - `delete` of a missing key succeeds;
/// - a feature the store lacks answers [`Error::NotSupported`] and is marked absent in
///   [`ObjectStore::capabilities`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use std::sync::Arc;
/// use ferryboat_core::{memory::MemoryStore, ObjectStore, ObjectStoreExt, ObjectPath};
///
/// let store: Arc<dyn ObjectStore> = Arc::new(MemoryStore::new());
/// let key = ObjectPath::parse("hello.txt")?;
/// store.put(&key, "bonjour".into()).await?;
/// assert_eq!(store.get(&key).await?.bytes().await?, "bonjour");
/// # Ok(()) }
/// ```
#[async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug + 'static {
    /// Provider, region, endpoint and jurisdiction.
    fn info(&self) -> &StoreInfo;

    /// What this store can do.
    fn capabilities(&self) -> &Capabilities;

    /// Writes `data` at `path` in one request.
    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult>;

    /// Starts a multipart upload. The object appears only when the upload completes.
    ///
    /// `opts.mode` is checked when the upload completes (`Create` fails then if another
    /// writer got there first).
    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>>;

    /// Reads an object, or part of it, as a stream.
    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult>;

    /// Metadata of one object, complete with content type and user metadata.
    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        Ok(self.get_opts(path, GetOptions { head: true, ..Default::default() }).await?.meta)
    }

    /// Deletes an object. Deleting a missing object succeeds.
    async fn delete(&self, path: &ObjectPath) -> Result<()>;

    /// Deletes as `opts` says: the current object (as [`ObjectStore::delete`]), or exactly
    /// one version of it (`opts.version`), leaving every other version as it was.
    ///
    /// The default deletes the current object and answers [`Error::NotSupported`] for a
    /// version; stores that keep versions override it ([`Capabilities::delete_versions`]).
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        match opts.version {
            None => self.delete(path).await,
            Some(_) => Err(Error::not_supported(&self.info().provider, "deleting one version of an object")),
        }
    }

    /// Deletes many objects, yielding each path once it is gone, in batches where the store
    /// has a batch API (see [`Capabilities::batch_delete_max`]).
    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        paths
            .map(move |p| async move {
                let p = p?;
                self.delete(&p).await?;
                Ok(p)
            })
            .buffered(16)
            .boxed()
    }

    /// Lists every object under `opts.prefix` (recursively) after `opts.offset`, in ascending
    /// byte order, page by page as the caller consumes the stream.
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>>;

    /// Lists one level below `prefix`: objects directly in it and the "directories" in it.
    ///
    /// The default walks the recursive listing; backends with a delimiter API override it.
    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let base_len = prefix.map(|p| p.as_str().len() + 1).unwrap_or(0);
        let mut stream = self.list_opts(ListOptions { prefix: prefix.cloned(), ..Default::default() });
        let mut out = ListResult::default();
        while let Some(meta) = stream.try_next().await? {
            let rest = &meta.path.as_str()[base_len..];
            match rest.find('/') {
                None => out.objects.push(meta),
                Some(i) => {
                    let dir =
                        ObjectPath::from_common_prefix(&self.info().provider, &meta.path.as_str()[..base_len + i + 1])?;
                    if out.common_prefixes.last() != Some(&dir) {
                        out.common_prefixes.push(dir);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Copies an object within the store without moving its bytes through the client.
    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let _ = (from, to, opts);
        Err(Error::not_supported(&self.info().provider, "server-side copy"))
    }

    /// Where `path` really lives (service, endpoint, account, bucket, full key), so that
    /// another store can copy from it server-side; `None` where no server can (memory,
    /// local, bridges, client-side encryption).
    ///
    /// Views and layers answer for what they wrap: a [`crate::prefix::PrefixStore`] adds its
    /// prefix to the key.
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        let _ = path;
        None
    }

    /// Copies `from` in the store `src` to `to` in this store, server-side: the body never
    /// passes through this machine. The new object carries exactly what `opts` says
    /// (content type, metadata, attributes, storage class), written in the copy request
    /// itself; `opts.mode` may be `Overwrite` or, where [`Capabilities::copy_if_not_exists`]
    /// says so, `Create`.
    ///
    /// Answers [`Error::NotSupported`] unless both [`ObjectStore::locate`] answers are in
    /// the same service, endpoint and account (see [`ObjectLocation::same_account`]): the
    /// caller then streams the object instead.
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let _ = (src, from, to, opts);
        Err(Error::not_supported(&self.info().provider, "server-side copy from another store"))
    }

    /// Renames an object: cheap where [`Capabilities::rename`] says so, otherwise copy then
    /// delete.
    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.copy_opts(from, to, opts).await?;
        self.delete(from).await
    }

    /// Unfinished multipart uploads under `prefix`, for cleanup after a crash.
    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let _ = prefix;
        Err(Error::not_supported(&self.info().provider, "listing pending multipart uploads"))
    }

    /// Aborts an unfinished multipart upload found by [`ObjectStore::list_pending_uploads`].
    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let _ = upload;
        Err(Error::not_supported(&self.info().provider, "aborting pending multipart uploads"))
    }

    /// A URL that lets anyone holding it make one `method` request for `path`, without
    /// credentials, until `expires_in` has passed. The URL is a bearer credential: never log
    /// it.
    ///
    /// Answers [`Error::NotSupported`] where the store cannot sign (memory, local,
    /// credentials that cannot sign, client-side encryption); [`Capabilities::presign`]
    /// says which. Views and layers answer for what they wrap.
    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        let _ = (method, path, expires_in);
        Err(Error::not_supported(&self.info().provider, "presigned URLs"))
    }
}

/// An upload in progress. Parts may be sent concurrently and in any order; the object
/// appears only on [`MultipartUpload::complete`].
///
/// Dropping an upload without completing or aborting it leaves its parts on the server
/// (where they are billed): call [`MultipartUpload::abort`] on failure. The streaming helper
/// [`ObjectStoreExt::put_stream`] does this for you.
#[async_trait]
pub trait MultipartUpload: Send + Sync + fmt::Debug {
    /// The store's id for this upload (for journals and cleanup).
    fn upload_id(&self) -> &str;

    /// Sends part `number` (1-based). Every part but the last must be at least
    /// [`Capabilities::multipart_min_part_size`] bytes.
    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo>;

    /// Assembles the parts, in part-number order, into the object.
    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult>;

    /// Discards the upload and its parts.
    async fn abort(self: Box<Self>) -> Result<()>;
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<T: ObjectStore + ?Sized> ObjectStore for std::sync::Arc<T> {
    fn info(&self) -> &StoreInfo {
        (**self).info()
    }
    fn capabilities(&self) -> &Capabilities {
        (**self).capabilities()
    }
    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        (**self).put_opts(path, data, opts).await
    }
    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        (**self).put_multipart_opts(path, opts).await
    }
    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        (**self).get_opts(path, opts).await
    }
    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        (**self).head(path).await
    }
    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        (**self).delete(path).await
    }
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        (**self).delete_opts(path, opts).await
    }
    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        (**self).delete_stream(paths)
    }
    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        (**self).list_opts(opts)
    }
    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        (**self).list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        (**self).copy_opts(from, to, opts).await
    }
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        (**self).locate(path)
    }
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        (**self).copy_from(src, from, to, opts).await
    }
    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        (**self).rename_opts(from, to, opts).await
    }
    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        (**self).list_pending_uploads(prefix).await
    }
    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        (**self).abort_pending_upload(upload).await
    }
    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        (**self).presign(method, path, expires_in).await
    }
}
