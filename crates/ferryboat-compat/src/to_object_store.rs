//! Any ferry store as an `object_store::ObjectStore`, for DataFusion, Polars, delta-rs,
//! Lance and everything else built on `object_store` — ferry's layers included.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use ferryboat_core::{ObjectPath, ObjectStore as FerryStore, ObjectStoreExt as _};
use futures::stream::{BoxStream, StreamExt};
use futures::FutureExt;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, CopyMode, CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult,
    MultipartUpload, ObjectMeta, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions,
    RenameTargetMode, Result, UploadPart,
};

use crate::errors::to_object_store as err;

/// A ferry store seen through `object_store`'s trait.
///
/// ```
/// use std::sync::Arc;
/// use ferryboat_compat::AsObjectStore;
/// let store: Arc<dyn object_store::ObjectStore> =
///     Arc::new(AsObjectStore::new(Arc::new(ferryboat_core::memory::MemoryStore::new())));
/// ```
#[derive(Debug, Clone)]
pub struct AsObjectStore {
    inner: Arc<dyn FerryStore>,
}

impl AsObjectStore {
    /// Wraps a ferry store.
    pub fn new(inner: Arc<dyn FerryStore>) -> Self {
        AsObjectStore { inner }
    }
}

impl fmt::Display for AsObjectStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ferry({})", self.inner.info().provider)
    }
}

fn key(path: &Path) -> Result<ObjectPath> {
    ObjectPath::parse(path.as_ref()).map_err(err)
}

/// The object_store path of a key; one `Path::parse` would change (a leading or trailing
/// `/`, which it drops) is refused rather than reported under another name.
fn path(key: &ObjectPath) -> Result<Path> {
    let p = Path::parse(key.as_str()).map_err(|source| object_store::Error::InvalidPath { source })?;
    if p.as_ref() != key.as_str() {
        return Err(object_store::Error::InvalidPath {
            source: object_store::path::Error::EmptySegment { path: key.to_string() },
        });
    }
    Ok(p)
}

fn meta(m: ferryboat_core::ObjectMeta) -> Result<ObjectMeta> {
    Ok(ObjectMeta {
        location: path(&m.path)?,
        last_modified: DateTime::<Utc>::from(m.last_modified),
        size: m.size,
        e_tag: m.etag,
        version: m.version,
    })
}

fn attributes_to_ferry(attributes: &Attributes, opts: &mut ferryboat_core::PutOptions) {
    for (k, v) in attributes {
        match k {
            Attribute::ContentType => opts.content_type = Some(v.as_ref().to_string()),
            Attribute::StorageClass => opts.storage_class = Some(v.as_ref().to_string()),
            Attribute::ContentDisposition => opts.attributes.content_disposition = Some(v.as_ref().to_string()),
            Attribute::ContentEncoding => opts.attributes.content_encoding = Some(v.as_ref().to_string()),
            Attribute::ContentLanguage => opts.attributes.content_language = Some(v.as_ref().to_string()),
            Attribute::CacheControl => opts.attributes.cache_control = Some(v.as_ref().to_string()),
            Attribute::Metadata(name) => {
                opts.metadata.insert(name.to_string(), v.as_ref().to_string());
            }
            // Attributes object_store may add later are dropped, as its own stores drop what
            // their service lacks.
            _ => {}
        }
    }
}

fn attributes_from_ferry(m: &ferryboat_core::ObjectMeta) -> Attributes {
    let mut out = Attributes::new();
    if let Some(ct) = &m.content_type {
        out.insert(Attribute::ContentType, ct.clone().into());
    }
    for (k, v) in &m.metadata {
        out.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
    }
    let a = &m.attributes;
    let standard = [
        (Attribute::ContentDisposition, &a.content_disposition),
        (Attribute::ContentEncoding, &a.content_encoding),
        (Attribute::ContentLanguage, &a.content_language),
        (Attribute::CacheControl, &a.cache_control),
        (Attribute::StorageClass, &m.storage_class),
    ];
    for (attribute, value) in standard {
        if let Some(v) = value {
            out.insert(attribute, v.clone().into());
        }
    }
    out
}

fn put_options(mode: PutMode, attributes: &Attributes) -> ferryboat_core::PutOptions {
    let mode = match mode {
        PutMode::Overwrite => ferryboat_core::PutMode::Overwrite,
        PutMode::Create => ferryboat_core::PutMode::Create,
        PutMode::Update(v) => {
            ferryboat_core::PutMode::Update(ferryboat_core::UpdateVersion { etag: v.e_tag, version: v.version })
        }
    };
    let mut opts = ferryboat_core::PutOptions::mode(mode);
    attributes_to_ferry(attributes, &mut opts);
    opts
}

fn put_result(r: ferryboat_core::PutResult) -> PutResult {
    PutResult { e_tag: r.etag, version: r.version, extensions: Default::default() }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl object_store::ObjectStore for AsObjectStore {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        let opts_f = put_options(opts.mode, &opts.attributes);
        let data: Bytes = payload.into();
        self.inner.put_opts(&key(location)?, data, opts_f).await.map(put_result).map_err(err)
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        let opts_f = put_options(PutMode::Overwrite, &opts.attributes);
        let upload = self.inner.put_multipart_opts(&key(location)?, opts_f).await.map_err(err)?;
        Ok(Box::new(Upload { inner: Some(Arc::new(upload)), next: 1, parts: Arc::default() }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let range = options.range.map(|r| match r {
            GetRange::Bounded(r) => ferryboat_core::GetRange::Bounded(r),
            GetRange::Offset(o) => ferryboat_core::GetRange::Offset(o),
            GetRange::Suffix(n) => ferryboat_core::GetRange::Suffix(n),
        });
        let opts = ferryboat_core::GetOptions {
            range,
            if_match: options.if_match,
            if_none_match: options.if_none_match,
            if_modified_since: options.if_modified_since.map(Into::into),
            if_unmodified_since: options.if_unmodified_since.map(Into::into),
            version: options.version,
            head: options.head,
        };
        let r = self.inner.get_opts(&key(location)?, opts).await.map_err(err)?;
        let attributes = attributes_from_ferry(&r.meta);
        Ok(GetResult {
            payload: GetResultPayload::Stream(r.body.map(|c| c.map_err(err)).boxed()),
            meta: meta(r.meta)?,
            range: r.range,
            attributes,
            extensions: Default::default(),
        })
    }

    async fn get_ranges(&self, location: &Path, ranges: &[std::ops::Range<u64>]) -> Result<Vec<Bytes>> {
        // object_store's own coalescing (nearby ranges merged into one read, ten at a time),
        // each read a ferry ranged GET.
        let k = key(location)?;
        let fetch = |r: std::ops::Range<u64>| {
            let k = k.clone();
            async move { self.inner.get_range(&k, r).await.map_err(err) }
        };
        object_store::coalesce_ranges(ranges, fetch, object_store::OBJECT_STORE_COALESCE_DEFAULT).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        // Batch by batch into the ferry store's own batched delete, so a store with a batch API
        // gets one request per batch; a key it cannot take is answered on its own.
        let inner = self.inner.clone();
        let max = inner.capabilities().batch_delete_max.max(1);
        locations
            .chunks(max)
            .then(move |batch| {
                let inner = inner.clone();
                async move {
                    let (mut answers, mut keys) = (Vec::new(), Vec::new());
                    for p in batch {
                        match p.and_then(|p| key(&p)) {
                            Ok(k) => keys.push(Ok(k)),
                            Err(e) => answers.push(Err(e)),
                        }
                    }
                    let deleted: Vec<_> = inner.delete_stream(futures::stream::iter(keys).boxed()).collect().await;
                    answers.extend(deleted.into_iter().map(|r| r.map_err(err).and_then(|k| path(&k))));
                    futures::stream::iter(answers)
                }
            })
            .flatten()
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.list_opts(prefix, None)
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        self.list_opts(prefix, Some(offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let prefix = prefix.filter(|p| !p.as_ref().is_empty()).map(key).transpose()?;
        let r = self.inner.list_with_delimiter(prefix.as_ref()).await.map_err(err)?;
        Ok(ListResult {
            common_prefixes: r.common_prefixes.iter().map(path).collect::<Result<_>>()?,
            objects: r.objects.into_iter().map(meta).collect::<Result<_>>()?,
            extensions: Default::default(),
        })
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        let mode = match options.mode {
            CopyMode::Overwrite => ferryboat_core::CopyMode::Overwrite,
            CopyMode::Create => ferryboat_core::CopyMode::Create,
        };
        self.inner.copy_opts(&key(from)?, &key(to)?, ferryboat_core::CopyOptions { mode }).await.map_err(err)
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        let mode = match options.target_mode {
            RenameTargetMode::Overwrite => ferryboat_core::CopyMode::Overwrite,
            RenameTargetMode::Create => ferryboat_core::CopyMode::Create,
        };
        self.inner.rename_opts(&key(from)?, &key(to)?, ferryboat_core::CopyOptions { mode }).await.map_err(err)
    }
}

impl AsObjectStore {
    fn list_opts(&self, prefix: Option<&Path>, offset: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let opts = (|| {
            Ok(ferryboat_core::ListOptions {
                prefix: prefix.filter(|p| !p.as_ref().is_empty()).map(key).transpose()?,
                offset: offset.filter(|p| !p.as_ref().is_empty()).map(key).transpose()?,
                ..Default::default()
            })
        })();
        match opts {
            Ok(opts) => self.inner.list_opts(opts).map(|m| m.map_err(err).and_then(meta)).boxed(),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }
}

/// object_store's upload numbers parts in the order `put_part` is called; ferry's takes the
/// number explicitly, so this counts.
struct Upload {
    inner: Option<Arc<Box<dyn ferryboat_core::MultipartUpload>>>,
    next: u32,
    parts: Arc<Mutex<Vec<ferryboat_core::PartInfo>>>,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload").field("next", &self.next).finish_non_exhaustive()
    }
}

fn finished() -> object_store::Error {
    object_store::Error::Generic { store: "ferry", source: "multipart upload already completed or aborted".into() }
}

#[async_trait]
impl MultipartUpload for Upload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let number = self.next;
        self.next += 1;
        let (inner, parts) = (self.inner.clone(), self.parts.clone());
        async move {
            let inner = inner.ok_or_else(finished)?;
            let info = inner.put_part(number, data.into()).await.map_err(err)?;
            parts.lock().unwrap_or_else(|e| e.into_inner()).push(info);
            Ok(())
        }
        .boxed()
    }

    async fn complete(&mut self) -> Result<PutResult> {
        let inner = self.inner.take().ok_or_else(finished)?;
        let inner = Arc::try_unwrap(inner).map_err(|_| object_store::Error::Generic {
            store: "ferry",
            source: "complete called while parts are still uploading".into(),
        })?;
        let mut parts = std::mem::take(&mut *self.parts.lock().unwrap_or_else(|e| e.into_inner()));
        parts.sort_by_key(|p| p.number);
        inner.complete(parts).await.map(put_result).map_err(err)
    }

    async fn abort(&mut self) -> Result<()> {
        let inner = self.inner.take().ok_or_else(finished)?;
        match Arc::try_unwrap(inner) {
            Ok(inner) => inner.abort().await.map_err(err),
            Err(_) => Err(object_store::Error::Generic {
                store: "ferry",
                source: "abort called while parts are still uploading".into(),
            }),
        }
    }
}
