//! `PrefixStore`: a view of the part of a store under one key prefix.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};

use crate::attributes::ObjectLocation;
use crate::capabilities::Capabilities;
use crate::error::{Error, Result};
use crate::info::StoreInfo;
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyOptions, DeleteOptions, GetOptions, GetResult, ListOptions, ListResult, ObjectMeta, PendingUpload,
    PresignMethod, PutOptions, PutResult,
};

/// A store that sees only the keys under `prefix/` of an inner store, with the prefix
/// removed: `photos/a.jpg` in the view is `backup/photos/a.jpg` in the inner store.
///
/// What `s3://bucket/backup` opens. Keys outside the prefix cannot be reached through it.
///
/// The folder marker of the prefix itself (`backup/`, which the S3, GCS and Azure consoles
/// create) would have the empty name in the view, which no key can have: like the object
/// `backup`, it is outside the view. Listings leave it out and nothing through the view can
/// read, overwrite or delete it. Every other key under `backup/` is in the view, including
/// `backup//x` (in the view: `/x`) and `backup/x/` (in the view: `x/`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use std::sync::Arc;
/// use ferryboat_core::{memory::MemoryStore, prefix::PrefixStore, ObjectStoreExt, ObjectPath};
/// let inner = Arc::new(MemoryStore::new());
/// let view = PrefixStore::new(inner.clone(), ObjectPath::parse("backup")?);
/// view.put(&ObjectPath::parse("a.txt")?, "x".into()).await?;
/// assert!(inner.exists(&ObjectPath::parse("backup/a.txt")?).await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PrefixStore {
    inner: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    info: StoreInfo,
}

impl PrefixStore {
    /// A view of `inner` under `prefix`.
    pub fn new(inner: Arc<dyn ObjectStore>, prefix: ObjectPath) -> Self {
        let mut info = inner.info().clone();
        info.prefix = Some(match &info.prefix {
            Some(outer) => format!("{outer}/{prefix}"),
            None => prefix.to_string(),
        });
        PrefixStore { inner, prefix, info }
    }

    /// The prefix this view adds.
    pub fn prefix(&self) -> &ObjectPath {
        &self.prefix
    }

    fn full(&self, path: &ObjectPath) -> Result<ObjectPath> {
        self.prefix.join(path.as_str())
    }

    /// Whether `path` is the view's own folder marker `prefix/` (see the type's docs).
    fn is_root_marker(prefix: &ObjectPath, path: &ObjectPath) -> bool {
        path.strip_prefix(prefix) == Some("")
    }

    fn strip(prefix: &ObjectPath, path: &ObjectPath) -> Result<ObjectPath> {
        match path.strip_prefix(prefix) {
            Some(rest) => ObjectPath::parse(rest),
            None => Err(Error::generic(
                "prefix",
                path.as_str(),
                format!("inner store returned a key outside the prefix {prefix}"),
                None,
            )),
        }
    }

    fn strip_meta(prefix: &ObjectPath, mut meta: ObjectMeta) -> Result<ObjectMeta> {
        meta.path = Self::strip(prefix, &meta.path)?;
        Ok(meta)
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for PrefixStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(&self.full(path)?, data, opts).await
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(&self.full(path)?, opts).await
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let mut result = self.inner.get_opts(&self.full(path)?, opts).await?;
        result.meta.path = path.clone();
        Ok(result)
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        let mut meta = self.inner.head(&self.full(path)?).await?;
        meta.path = path.clone();
        Ok(meta)
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.inner.delete(&self.full(path)?).await
    }

    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        self.inner.delete_opts(&self.full(path)?, opts).await
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        let full = paths.map(move |p| p.and_then(|p| self.full(&p))).boxed();
        self.inner.delete_stream(full).map(move |r| r.and_then(|p| Self::strip(&self.prefix, &p))).boxed()
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let inner_opts = (|| {
            Ok::<_, Error>(ListOptions {
                prefix: Some(match &opts.prefix {
                    Some(p) => self.full(p)?,
                    None => self.prefix.clone(),
                }),
                offset: opts.offset.as_ref().map(|o| self.full(o)).transpose()?,
                versions: opts.versions,
            })
        })();
        match inner_opts {
            Ok(inner_opts) => {
                let prefix = self.prefix.clone();
                let prefix_ref = self.prefix.clone();
                self.inner
                    .list_opts(inner_opts)
                    .filter(move |m| {
                        let marker = matches!(m, Ok(m) if Self::is_root_marker(&prefix_ref, &m.path));
                        futures::future::ready(!marker)
                    })
                    .map(move |m| m.and_then(|m| Self::strip_meta(&prefix, m)))
                    .boxed()
            }
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let full = match prefix {
            Some(p) => self.full(p)?,
            None => self.prefix.clone(),
        };
        let result = self.inner.list_with_delimiter(Some(&full)).await?;
        let mut common_prefixes = Vec::with_capacity(result.common_prefixes.len());
        for p in &result.common_prefixes {
            if Self::is_root_marker(&self.prefix, p) {
                // Inner directory `prefix/` holds `prefix//x`: the view's root-level `/x`.
                return Err(crate::path::unnamed_dir(&self.info.provider));
            }
            common_prefixes.push(Self::strip(&self.prefix, p)?);
        }
        let objects = result
            .objects
            .into_iter()
            .filter(|m| !Self::is_root_marker(&self.prefix, &m.path))
            .map(|m| Self::strip_meta(&self.prefix, m))
            .collect::<Result<_>>()?;
        Ok(ListResult { common_prefixes, objects })
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.inner.copy_opts(&self.full(from)?, &self.full(to)?, opts).await
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        self.inner.locate(&self.full(path).ok()?)
    }

    /// `src` is passed on as it is: it locates `from` through its own views.
    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.copy_from(src, from, &self.full(to)?, opts).await
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        self.inner.rename_opts(&self.full(from)?, &self.full(to)?, opts).await
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let full = match prefix {
            Some(p) => self.full(p)?,
            None => self.prefix.clone(),
        };
        self.inner
            .list_pending_uploads(Some(&full))
            .await?
            .into_iter()
            .filter(|u| !Self::is_root_marker(&self.prefix, &u.path))
            .map(|mut u| {
                u.path = Self::strip(&self.prefix, &u.path)?;
                Ok(u)
            })
            .collect()
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let mut full = upload.clone();
        full.path = self.full(&upload.path)?;
        self.inner.abort_pending_upload(&full).await
    }

    async fn presign(&self, method: PresignMethod, path: &ObjectPath, expires_in: Duration) -> Result<url::Url> {
        self.inner.presign(method, &self.full(path)?, expires_in).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryStore;
    use crate::store::ObjectStoreExt;
    use futures::TryStreamExt;

    fn key(s: &str) -> ObjectPath {
        ObjectPath::parse(s).unwrap()
    }

    #[tokio::test]
    async fn the_prefix_folder_marker_is_outside_the_view_and_every_other_key_inside() {
        let inner = Arc::new(MemoryStore::new());
        for k in ["p", "p/", "p//x", "p/a/", "p/a/b", "pa", "p/ "] {
            inner.put(&key(k), k.to_string().into()).await.unwrap();
        }
        let view = PrefixStore::new(inner.clone(), key("p"));
        let listed: Vec<String> = view.list(None).map_ok(|m| m.path.to_string()).try_collect().await.unwrap();
        assert_eq!(listed, [" ", "/x", "a/", "a/b"]);
        assert_eq!(view.get(&key("a/")).await.unwrap().bytes().await.unwrap(), "p/a/");
        let level = view.list_with_delimiter(Some(&key("a"))).await.unwrap();
        let names: Vec<_> = level.objects.iter().map(|m| m.path.to_string()).collect();
        assert_eq!(names, ["a/", "a/b"]);
        // `p//x` is `/x` in the view: its directory has the empty name, which no level names.
        let err = view.list_with_delimiter(None).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotSupported, "{err}");
        // Nothing through the view touches the marker.
        view.delete(&key("/x")).await.unwrap();
        assert!(inner.exists(&key("p/")).await.unwrap());
        let level = view.list_with_delimiter(None).await.unwrap();
        assert_eq!(level.common_prefixes, [key("a")]);
        assert_eq!(level.objects.iter().map(|m| m.path.to_string()).collect::<Vec<_>>(), [" "]);
    }
}
