//! `MemoryStore`: a complete in-process store, conditional operations included.
//!
//! For tests, caches, and the demo mirror. Cloning a `MemoryStore` shares its contents.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use md5::{Digest, Md5};

use crate::attributes::ObjectLocation;
use crate::capabilities::Capabilities;
use crate::conditions::{check_get, check_put};
use crate::error::{Error, Result};
use crate::info::{Jurisdiction, StoreInfo};
use crate::path::ObjectPath;
use crate::store::{MultipartUpload, ObjectStore};
use crate::types::{
    CopyMode, CopyOptions, GetOptions, GetResult, ListOptions, ObjectMeta, PartInfo, PendingUpload, PutMode,
    PutOptions, PutResult,
};

const PROVIDER: &str = "memory";
/// Keys fetched per lock acquisition while listing, so a listing never copies the whole map.
const LIST_PAGE: usize = 1000;

#[derive(Debug, Clone)]
struct Entry {
    data: Bytes,
    meta: ObjectMeta,
}

#[derive(Debug)]
struct PendingParts {
    path: ObjectPath,
    opts: PutOptions,
    initiated: SystemTime,
    /// Each part's bytes and raw MD5 digest (hashed once, when the part arrives).
    parts: BTreeMap<u32, (Bytes, [u8; 16])>,
}

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, Entry>,
    uploads: HashMap<String, PendingParts>,
}

/// An in-memory bucket.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> ferryboat_core::Result<()> {
/// use ferryboat_core::{memory::MemoryStore, ObjectStoreExt, ObjectPath};
/// let store = MemoryStore::new();
/// store.put(&ObjectPath::parse("a")?, "x".into()).await?;
/// assert!(store.exists(&ObjectPath::parse("a")?).await?);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStore {
    state: Arc<RwLock<State>>,
    info: Arc<StoreInfo>,
    caps: Arc<Capabilities>,
    next_upload: Arc<AtomicU64>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        let caps = Capabilities {
            put_if_not_exists: true,
            put_if_match: true,
            get_conditions: true,
            copy: true,
            copy_if_not_exists: true,
            rename: true,
            multipart: true,
            pending_uploads: true,
            batch_delete_max: 1000,
            user_metadata: true,
            content_type: true,
            attributes: crate::capabilities::AttributeSupport::ALL,
            storage_class: true,
            list_etags: true,
            list_seeks: true,
            ..Capabilities::default()
        };
        MemoryStore {
            state: Arc::default(),
            info: Arc::new(StoreInfo::new(PROVIDER, "Memory", Jurisdiction::SelfHosted)),
            caps: Arc::new(caps),
            next_upload: Arc::default(),
        }
    }

    /// Replaces the capabilities, e.g. to test how a caller behaves under a provider's limits.
    pub fn with_capabilities(mut self, caps: Capabilities) -> Self {
        self.caps = Arc::new(caps);
        self
    }

    /// Replaces the store's info, e.g. to test a policy against a provider's jurisdiction.
    pub fn with_info(mut self, info: StoreInfo) -> Self {
        self.info = Arc::new(info);
        self
    }

    /// Number of objects stored.
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    /// Whether the store holds no object.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave the map half-updated (every update is a
        // single insert or remove), so a poisoned lock is still consistent.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, path: &ObjectPath, data: Bytes, etag: String, opts: PutOptions) -> Result<PutResult> {
        let mut state = self.write();
        check_put(PROVIDER, path, state.objects.get(path.as_str()).map(|e| &e.meta), &opts.mode)?;
        let meta = ObjectMeta {
            path: path.clone(),
            size: data.len() as u64,
            last_modified: SystemTime::now(),
            etag: Some(etag.clone()),
            version: None,
            version_info: None,
            content_type: opts.content_type,
            metadata: opts.metadata,
            attributes: opts.attributes,
            storage_class: opts.storage_class,
        };
        state.objects.insert(path.as_str().to_string(), Entry { data, meta });
        Ok(PutResult { etag: Some(etag), version: None })
    }
}

fn md5_hex(data: &[u8]) -> String {
    hex_digest(&Md5::digest(data))
}

fn hex_digest(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(digest.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn reject_version(opts: &GetOptions) -> Result<()> {
    match opts.version {
        Some(_) => Err(Error::not_supported(PROVIDER, "reading an object version")),
        None => Ok(()),
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn info(&self) -> &StoreInfo {
        &self.info
    }

    fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    async fn put_opts(&self, path: &ObjectPath, data: Bytes, opts: PutOptions) -> Result<PutResult> {
        let etag = md5_hex(&data);
        self.insert(path, data, etag, opts)
    }

    async fn put_multipart_opts(&self, path: &ObjectPath, opts: PutOptions) -> Result<Box<dyn MultipartUpload>> {
        let id = format!("mem-{}", self.next_upload.fetch_add(1, Ordering::Relaxed));
        let pending = PendingParts { path: path.clone(), opts, initiated: SystemTime::now(), parts: BTreeMap::new() };
        self.write().uploads.insert(id.clone(), pending);
        Ok(Box::new(MemoryUpload { store: self.clone(), id }))
    }

    async fn get_opts(&self, path: &ObjectPath, opts: GetOptions) -> Result<GetResult> {
        reject_version(&opts)?;
        let entry =
            self.read().objects.get(path.as_str()).cloned().ok_or_else(|| Error::not_found(PROVIDER, path.as_str()))?;
        check_get(PROVIDER, &entry.meta, &opts)?;
        let size = entry.meta.size;
        let range = match &opts.range {
            None => 0..size,
            Some(r) => r.resolve(size).map_err(|message| Error::InvalidRange {
                provider: PROVIDER.into(),
                path: path.to_string(),
                message,
                details: Default::default(),
            })?,
        };
        let data = if opts.head { Bytes::new() } else { entry.data.slice(range.start as usize..range.end as usize) };
        let range = if opts.head { 0..0 } else { range };
        Ok(GetResult::from_bytes(entry.meta, range, data))
    }

    async fn delete(&self, path: &ObjectPath) -> Result<()> {
        self.write().objects.remove(path.as_str());
        Ok(())
    }

    fn list_opts(&self, opts: ListOptions) -> BoxStream<'static, Result<ObjectMeta>> {
        if let Some(refused) = opts.refuse_versions(&self.info.provider) {
            return refused;
        }
        let store = self.clone();
        let prefix = opts.prefix.map(|p| format!("{p}/"));
        let start = match (&opts.offset, &prefix) {
            (Some(o), Some(p)) if o.as_str() < p.as_str() => Bound::Included(p.clone()),
            (Some(o), _) => Bound::Excluded(o.as_str().to_string()),
            (None, Some(p)) => Bound::Included(p.clone()),
            (None, None) => Bound::Unbounded,
        };
        stream::unfold(Some(start), move |cursor| {
            let store = store.clone();
            let prefix = prefix.clone();
            async move {
                let cursor = cursor?;
                let page: Vec<ObjectMeta> = store
                    .read()
                    .objects
                    .range((cursor, Bound::Unbounded))
                    .take_while(|(k, _)| prefix.as_ref().is_none_or(|p| k.starts_with(p.as_str())))
                    .take(LIST_PAGE)
                    .map(|(_, e)| e.meta.clone())
                    .collect();
                if page.is_empty() {
                    return None;
                }
                let next =
                    (page.len() == LIST_PAGE).then(|| Bound::Excluded(page[page.len() - 1].path.as_str().to_string()));
                Some((stream::iter(page.into_iter().map(Ok)), next))
            }
        })
        .flatten()
        .boxed()
    }

    async fn copy_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let mut state = self.write();
        let src = state.objects.get(from.as_str()).cloned().ok_or_else(|| Error::not_found(PROVIDER, from.as_str()))?;
        let mode = match opts.mode {
            CopyMode::Overwrite => PutMode::Overwrite,
            CopyMode::Create => PutMode::Create,
        };
        check_put(PROVIDER, to, state.objects.get(to.as_str()).map(|e| &e.meta), &mode)?;
        let mut meta = src.meta;
        meta.path = to.clone();
        meta.last_modified = SystemTime::now();
        state.objects.insert(to.as_str().to_string(), Entry { data: src.data, meta });
        Ok(())
    }

    /// Clones of one store share their contents, and so their location.
    fn locate(&self, path: &ObjectPath) -> Option<ObjectLocation> {
        Some(ObjectLocation {
            service: PROVIDER.into(),
            endpoint: format!("memory:{:p}", Arc::as_ptr(&self.state)),
            account: String::new(),
            bucket: String::new(),
            key: path.to_string(),
        })
    }

    async fn copy_from(
        &self,
        src: &dyn ObjectStore,
        from: &ObjectPath,
        to: &ObjectPath,
        opts: PutOptions,
    ) -> Result<PutResult> {
        let here = self.locate(to);
        let source = src.locate(from).filter(|l| here.as_ref().is_some_and(|h| h.same_account(l)));
        let Some(source) = source else {
            return Err(Error::not_supported(PROVIDER, "server-side copy from another store"));
        };
        let (data, etag) = {
            let state = self.read();
            let entry = state.objects.get(&source.key).ok_or_else(|| Error::not_found(PROVIDER, from.as_str()))?;
            (entry.data.clone(), entry.meta.etag.clone().unwrap_or_else(|| md5_hex(&entry.data)))
        };
        self.insert(to, data, etag, opts)
    }

    async fn rename_opts(&self, from: &ObjectPath, to: &ObjectPath, opts: CopyOptions) -> Result<()> {
        let mut state = self.write();
        let mode = match opts.mode {
            CopyMode::Overwrite => PutMode::Overwrite,
            CopyMode::Create => PutMode::Create,
        };
        if !state.objects.contains_key(from.as_str()) {
            return Err(Error::not_found(PROVIDER, from.as_str()));
        }
        check_put(PROVIDER, to, state.objects.get(to.as_str()).map(|e| &e.meta), &mode)?;
        if let Some(mut entry) = state.objects.remove(from.as_str()) {
            entry.meta.path = to.clone();
            state.objects.insert(to.as_str().to_string(), entry);
        }
        Ok(())
    }

    async fn list_pending_uploads(&self, prefix: Option<&ObjectPath>) -> Result<Vec<PendingUpload>> {
        let mut out: Vec<PendingUpload> = self
            .read()
            .uploads
            .iter()
            .filter(|(_, u)| prefix.is_none_or(|p| u.path.is_under(p)))
            .map(|(id, u)| PendingUpload { path: u.path.clone(), upload_id: id.clone(), initiated: Some(u.initiated) })
            .collect();
        out.sort_by(|a, b| (&a.path, &a.upload_id).cmp(&(&b.path, &b.upload_id)));
        Ok(out)
    }

    async fn abort_pending_upload(&self, upload: &PendingUpload) -> Result<()> {
        self.write().uploads.remove(&upload.upload_id);
        Ok(())
    }
}

#[derive(Debug)]
struct MemoryUpload {
    store: MemoryStore,
    id: String,
}

impl MemoryUpload {
    fn gone(&self) -> Error {
        Error::generic(PROVIDER, &self.id, "multipart upload no longer exists (aborted or completed)", None)
    }
}

#[async_trait]
impl MultipartUpload for MemoryUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    async fn put_part(&self, number: u32, data: Bytes) -> Result<PartInfo> {
        if number == 0 || number > self.store.caps.multipart_max_parts {
            return Err(Error::invalid_config(format!(
                "part number {number} outside 1..={}",
                self.store.caps.multipart_max_parts
            )));
        }
        let digest: [u8; 16] = Md5::digest(&data).into();
        let token = hex_digest(&digest);
        let size = data.len() as u64;
        let mut state = self.store.write();
        let upload = state.uploads.get_mut(&self.id).ok_or_else(|| self.gone())?;
        upload.parts.insert(number, (data, digest));
        Ok(PartInfo { number, token, size })
    }

    async fn complete(self: Box<Self>, parts: Vec<PartInfo>) -> Result<PutResult> {
        let upload = self.store.write().uploads.remove(&self.id).ok_or_else(|| self.gone())?;
        let min = self.store.caps.multipart_min_part_size;
        let total: usize = parts.iter().filter_map(|p| upload.parts.get(&p.number)).map(|(b, _)| b.len()).sum();
        let mut data = Vec::with_capacity(total);
        let mut digests = Vec::with_capacity(parts.len() * 16);
        let mut last = 0;
        for (i, part) in parts.iter().enumerate() {
            if part.number <= last {
                return Err(Error::invalid_config("parts must be listed in ascending part-number order"));
            }
            last = part.number;
            let (bytes, digest) = upload.parts.get(&part.number).ok_or_else(|| {
                Error::generic(PROVIDER, upload.path.as_str(), format!("part {} was never uploaded", part.number), None)
            })?;
            if hex_digest(digest) != part.token {
                return Err(Error::Precondition {
                    provider: PROVIDER.into(),
                    path: upload.path.to_string(),
                    message: format!("part {} token does not match the uploaded part", part.number),
                    details: Default::default(),
                });
            }
            if i + 1 < parts.len() && (bytes.len() as u64) < min {
                return Err(Error::invalid_config(format!(
                    "part {} has {} bytes; every part but the last needs at least {min}",
                    part.number,
                    bytes.len()
                )));
            }
            digests.extend_from_slice(digest);
            data.extend_from_slice(bytes);
        }
        let etag = format!("{}-{}", md5_hex(&digests), parts.len());
        self.store.insert(&upload.path, data.into(), etag, upload.opts)
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.store.write().uploads.remove(&self.id);
        Ok(())
    }
}
