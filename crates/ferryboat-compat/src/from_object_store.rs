//! Any `object_store::ObjectStore` as a ferry store.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use ferryboat_core::{
    Capabilities, CopyMode, CopyOptions, DeleteOptions, Error, GetOptions, GetRange, GetResult, Jurisdiction,
    ListOptions, ListResult, MultipartUpload, ObjectLocation, ObjectMeta, ObjectPath, ObjectStore, PartInfo,
    PendingUpload, PresignMethod, PutMode, PutOptions, PutResult, Result, StoreInfo,
};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore as OsStore, ObjectStoreExt as _};
use tokio::sync::Mutex;

use crate::errors::from_object_store;
use ferryboat_core::walk::{self, Entry, LevelLister};

/// An `object_store` store seen through ferry's trait.
///
/// `object_store` does not promise sorted listings, ferry does: by default listings walk the
/// tree one level at a time with `list_with_delimiter`, sorting each level, which is correct
/// for every store and holds one level in memory. For stores that list in key order (S3,
/// GCS, Azure), [`FromObjectStore::with_sorted_listing`] uses the native recursive listing
/// and checks the order as it streams.
///
/// Capabilities are conservative (copy and multipart only) unless given with
/// [`FromObjectStore::with_capabilities`].
#[derive(Debug, Clone)]
pub struct FromObjectStore {
    inner: Arc<dyn OsStore>,
    info: StoreInfo,
    caps: Capabilities,
    sorted_listing: bool,
}

fn err(e: object_store::Error) -> Error {
    from_object_store("object_store", e)
}

fn os_path(p: &ObjectPath) -> Result<Path> {
    // object_store's `Path::parse` drops a leading and a trailing `/` without a word, which
    // would address another object: a key it would change is refused like one it rejects.
    let refuse = |reason: String| Error::InvalidPath { path: p.to_string(), reason };
    let path = Path::parse(p.as_str()).map_err(|e| refuse(format!("the object_store client cannot carry it: {e}")))?;
    if path.as_ref() != p.as_str() {
        return Err(refuse("the object_store client cannot carry a leading or trailing `/`".into()));
    }
    Ok(path)
}

fn ferry_meta(m: object_store::ObjectMeta) -> Result<ObjectMeta> {
    let mut out = ObjectMeta::new(ObjectPath::parse(m.location.as_ref())?, m.size, m.last_modified.into());
    out.etag = m.e_tag;
    out.version = m.version;
    Ok(out)
}

fn attributes(opts: &PutOptions) -> Attributes {
    let mut out = Attributes::new();
    if let Some(ct) = &opts.content_type {
        out.insert(Attribute::ContentType, ct.clone().into());
    }
    if let Some(sc) = &opts.storage_class {
        out.insert(Attribute::StorageClass, sc.clone().into());
    }
    let a = &opts.attributes;
    let standard = [
        (Attribute::ContentDisposition, &a.content_disposition),
        (Attribute::ContentEncoding, &a.content_encoding),
        (Attribute::ContentLanguage, &a.content_language),
        (Attribute::CacheControl, &a.cache_control),
    ];
    for (attribute, value) in standard {
        if let Some(v) = value {
            out.insert(attribute, v.clone().into());
        }
    }
    for (k, v) in &opts.metadata {
        out.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
    }
    out
}

impl FromObjectStore {
    /// Wraps an `object_store` store.
    pub fn new(inner: Arc<dyn OsStore>) -> Self {
        let info = StoreInfo::new("object_store", inner.to_string(), Jurisdiction::Other("UNKNOWN".into()));
        let mut caps = Capabilities::default();
        caps.copy = true;
        caps.multipart = true;
        FromObjectStore { inner, info, caps, sorted_listing: false }
    }

    /// Says who the provider is and under which law (the wrapped store cannot tell).
    pub fn with_info(mut self, info: StoreInfo) -> Self {
        self.info = info;
        self
    }

    /// Declares what the wrapped store supports.
    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = caps;
        self
    }

    /// Trusts the native listing to be in key order (checked while streaming).
    pub fn with_sorted_listing(mut self, sorted: bool) -> Self {
        self.sorted_listing = sorted;
        self
    }

    fn native_sorted(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        let prefix = match opts.prefix.as_ref().map(os_path).transpose() {
            Ok(p) => p,
            Err(e) => return stream::once(async move { Err(e) }).boxed(),
        };
        let items = match &opts.offset {
            Some(o) => match os_path(o) {
                Ok(o) => self.inner.list_with_offset(prefix.as_ref(), &o),
                Err(e) => return stream::once(async move { Err(e) }).boxed(),
            },
            None => self.inner.list(prefix.as_ref()),
        };
        let mut last: Option<ObjectPath> = None;
        items
            .map(move |m| {
                let m = ferry_meta(m.map_err(err)?)?;
                if last.as_ref().is_some_and(|l| l >= &m.path) {
                    return Err(Error::generic(
                        "object_store",
                        m.path.as_str(),
                        "the wrapped store listed keys out of order; do not use with_sorted_listing with it",
                        None,
                    ));
                }
                last = Some(m.path.clone());
                Ok(m)
            })
            .boxed()
    }

    /// The level-by-level sorted walk, one `list_with_delimiter` per directory.
    fn walk(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        walk::walk(Levels(self.inner.clone()), opts)
    }
}

/// Directory listings of the wrapped store, for the sorted walk.
struct Levels(Arc<dyn OsStore>);

#[async_trait]
impl LevelLister for Levels {
    type Listed = ObjectMeta;

    async fn list_level(&self, dir: Option<&ObjectPath>) -> Result<Vec<Entry<ObjectMeta>>> {
        let path = dir.map(os_path).transpose()?;
        let listed = self.0.list_with_delimiter(path.as_ref()).await.map_err(err)?;
        let mut entries = Vec::with_capacity(listed.objects.len() + listed.common_prefixes.len());
        for m in listed.objects {
            let m = ferry_meta(m)?;
            entries.push(Entry::Object(m.path.clone(), m));
        }
        for p in listed.common_prefixes {
            entries.push(Entry::Dir(Some(ObjectPath::parse(p.as_ref())?)));
        }
        Ok(entries)
    }

    async fn to_meta(&self, _path: ObjectPath, listed: ObjectMeta) -> Result<Option<ObjectMeta>> {
        Ok(Some(listed))
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for FromObjectStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let mode = match &opts.mode {
            PutMode::Overwrite => object_store::PutMode::Overwrite,
            PutMode::Create => object_store::PutMode::Create,
            PutMode::Update(v) => object_store::PutMode::Update(object_store::UpdateVersion {
                e_tag: v.etag.clone(),
                version: v.version.clone(),
            }),
        };
        let os_opts = object_store::PutOptions { mode, attributes: attributes(&opts), ..Default::default() };
        let r = self.inner.put_opts(&os_path(path)?, data.into(), os_opts).await.map_err(err)?;
        Ok(PutResult { etag: r.e_tag, version: r.version })
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        if opts.mode != PutMode::Overwrite {
            return Err(Error::not_supported("object_store", "conditional multipart uploads through object_store"));
        }
        let os_opts = object_store::PutMultipartOptions { attributes: attributes(&opts), ..Default::default() };
        let upload = self.inner.put_multipart_opts(&os_path(path)?, os_opts).await.map_err(err)?;
        Ok(Box::new(Upload {
            id: format!("object_store:{path}"),
            state: Mutex::new(UploadState { inner: upload, next: 1, waiting: BTreeMap::new(), failed: false }),
        }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        let ranged = opts.range.is_some();
        let range = opts.range.map(|r| match r {
            GetRange::Bounded(r) => object_store::GetRange::Bounded(r),
            GetRange::Offset(o) => object_store::GetRange::Offset(o),
            GetRange::Suffix(n) => object_store::GetRange::Suffix(n),
        });
        let os_opts = object_store::GetOptions {
            if_match: opts.if_match,
            if_none_match: opts.if_none_match,
            if_modified_since: opts.if_modified_since.map(DateTime::<Utc>::from),
            if_unmodified_since: opts.if_unmodified_since.map(DateTime::<Utc>::from),
            range,
            version: opts.version,
            head: opts.head,
            ..Default::default()
        };
        let r = self.inner.get_opts(&os_path(path)?, os_opts).await.map_err(|e| match e {
            // object_store has no range error of its own: stores report it as Generic.
            object_store::Error::Generic { source, .. } if source.to_string().to_lowercase().contains("range") => {
                Error::InvalidRange {
                    provider: "object_store".into(),
                    path: path.to_string(),
                    message: source.to_string(),
                    details: Default::default(),
                }
            }
            other => err(other),
        })?;
        if ranged && r.meta.size == 0 {
            // Some object_store stores serve a range of an empty object as empty; no byte of
            // it exists, so ferry answers as HTTP does.
            return Err(Error::InvalidRange {
                provider: "object_store".into(),
                path: path.to_string(),
                message: "range of an empty object".into(),
                details: Default::default(),
            });
        }
        let mut meta = ferry_meta(r.meta.clone())?;
        for (k, v) in &r.attributes {
            match k {
                Attribute::ContentType => meta.content_type = Some(v.as_ref().to_string()),
                Attribute::ContentDisposition => meta.attributes.content_disposition = Some(v.as_ref().to_string()),
                Attribute::ContentEncoding => meta.attributes.content_encoding = Some(v.as_ref().to_string()),
                Attribute::ContentLanguage => meta.attributes.content_language = Some(v.as_ref().to_string()),
                Attribute::CacheControl => meta.attributes.cache_control = Some(v.as_ref().to_string()),
                Attribute::StorageClass => meta.storage_class = Some(v.as_ref().to_string()),
                Attribute::Metadata(name) => {
                    meta.metadata.insert(name.to_string(), v.as_ref().to_string());
                }
                _ => {}
            }
        }
        let range = r.range.clone();
        let body = if opts.head { stream::empty().boxed() } else { r.into_stream().map_err(err).boxed() };
        Ok(GetResult { meta, range, body })
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        match self.inner.delete(&os_path(path)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(err(e)),
        }
    }

    /// `object_store` deletes no single version: a version is `NotSupported`.
    async fn delete_opts(&self, path: &ObjectPath, opts: DeleteOptions) -> Result<()> {
        match opts.version {
            None => self.delete(path).await,
            Some(_) => Err(Error::not_supported(&self.info.provider, "deleting one version through object_store")),
        }
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(refused) = opts.refuse_versions(&self.info.provider) {
            return refused;
        }
        if self.sorted_listing {
            self.native_sorted(opts)
        } else {
            self.walk(opts)
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&ObjectPath>) -> Result<ListResult> {
        let p = prefix.map(os_path).transpose()?;
        let r = self.inner.list_with_delimiter(p.as_ref()).await.map_err(err)?;
        let mut objects = r.objects.into_iter().map(ferry_meta).collect::<Result<Vec<_>>>()?;
        let mut common_prefixes =
            r.common_prefixes.iter().map(|p| ObjectPath::parse(p.as_ref())).collect::<Result<Vec<_>>>()?;
        objects.sort_by(|a, b| a.path.cmp(&b.path));
        common_prefixes.sort();
        Ok(ListResult { common_prefixes, objects })
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let (from, to) = (os_path(from)?, os_path(to)?);
        let r = match opts.mode {
            CopyMode::Overwrite => self.inner.copy(&from, &to).await,
            CopyMode::Create => self.inner.copy_if_not_exists(&from, &to).await,
        };
        r.map_err(err)
    }

    async fn head(&self, path: &ObjectPath) -> Result<ObjectMeta> {
        // Through `get_opts`, so the attributes and metadata a HEAD returns are kept.
        Ok(self.get_opts(path, GetOptions { head: true, ..Default::default() }).await?.meta)
    }

    fn delete_stream<'a>(&'a self, paths: BoxStream<'a, Result<ObjectPath>>) -> BoxStream<'a, Result<ObjectPath>> {
        // object_store batches where its store can, but takes only a `'static` stream: it gets
        // the keys a thousand at a time. A key it cannot carry, or an error in the input,
        // travels through it boxed and comes out as the ferry error it was.
        paths
            .chunks(1000)
            .then(move |batch| async move {
                let input = batch.into_iter().map(|p| {
                    p.and_then(|p| os_path(&p))
                        .map_err(|e| object_store::Error::Generic { store: "ferry", source: Box::new(e) })
                });
                let answers: Vec<_> = self.inner.delete_stream(stream::iter(input).boxed()).collect().await;
                stream::iter(answers.into_iter().map(|r| match r {
                    Ok(p) => ObjectPath::parse(p.as_ref()),
                    Err(object_store::Error::NotFound { path, .. }) => ObjectPath::parse(&path),
                    Err(object_store::Error::Generic { store: "ferry", source }) => match source.downcast::<Error>() {
                        Ok(e) => Err(*e),
                        Err(source) => Err(err(object_store::Error::Generic { store: "ferry", source })),
                    },
                    Err(e) => Err(err(e)),
                }))
            })
            .flatten()
            .boxed()
    }

    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        // object_store does not say which service, endpoint or account it talks to.
        let _ = path;
        None
    }

    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let _ = (src, from, to, opts);
        Err(Error::not_supported("object_store", "server-side copy from another store"))
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let (from, to) = (os_path(from)?, os_path(to)?);
        let r = match opts.mode {
            CopyMode::Overwrite => self.inner.rename(&from, &to).await,
            CopyMode::Create => self.inner.rename_if_not_exists(&from, &to).await,
        };
        r.map_err(err)
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let _ = prefix;
        Err(Error::not_supported("object_store", "listing pending multipart uploads"))
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        let _ = upload;
        Err(Error::not_supported("object_store", "aborting pending multipart uploads"))
    }

    async fn presign(
        &self,
        method: PresignMethod,
        path: &ObjectPath,
        expires_in: std::time::Duration,
    ) -> Result<url::Url> {
        // object_store signs through its own `Signer` trait, which a `dyn ObjectStore` hides.
        let _ = (method, path, expires_in);
        Err(Error::not_supported("object_store", "presigned URLs through the object_store bridge"))
    }
}

/// ferry sends numbered parts in any order; `object_store` takes them in call order. A part
/// that arrives early waits (holding only its own buffer, bounded by the caller's
/// concurrency) until its predecessors arrive; the call that brings the next part in line
/// hands it and every waiting successor to `object_store` and uploads them before it
/// returns. Nothing queues until `complete`, so memory stays at the caller's parts in flight
/// however large the object.
struct Upload {
    id: String,
    state: Mutex<UploadState>,
}

struct UploadState {
    inner: Box<dyn object_store::MultipartUpload>,
    next: u32,
    waiting: BTreeMap<u32, Bytes>,
    /// A part failed: the upload cannot complete and later parts are refused.
    failed: bool,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload").field("id", &self.id).finish_non_exhaustive()
    }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        let size = data.len() as u64;
        let sending = {
            let mut state = self.state.lock().await;
            if state.failed {
                return Err(Error::generic("object_store", &self.id, "an earlier part of this upload failed", None));
            }
            if number < state.next || state.waiting.contains_key(&number) {
                return Err(Error::not_supported(
                    "object_store",
                    format!("re-sending part {number} through object_store"),
                ));
            }
            state.waiting.insert(number, data);
            let mut sending = Vec::new();
            loop {
                let next = state.next;
                let Some(part) = state.waiting.remove(&next) else { break };
                sending.push(state.inner.put_part(part.into()));
                state.next += 1;
            }
            sending
        };
        // Uploaded outside the lock, so later parts can be handed over meanwhile.
        if let Err(e) = futures::future::try_join_all(sending).await {
            self.state.lock().await.failed = true;
            return Err(err(e));
        }
        Ok(PartInfo { number, token: number.to_string(), size })
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let mut state = self.state.into_inner();
        if state.failed || !state.waiting.is_empty() || parts.len() as u32 != state.next - 1 {
            let _ = state.inner.abort().await;
            return Err(Error::generic("object_store", &self.id, "parts missing: they must be numbered 1..=N", None));
        }
        let r = state.inner.complete().await.map_err(err)?;
        Ok(PutResult { etag: r.e_tag, version: r.version })
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        let mut state = self.state.into_inner();
        // Parts still waiting are dropped, not sent.
        state.waiting.clear();
        state.inner.abort().await.map_err(err)
    }
}
